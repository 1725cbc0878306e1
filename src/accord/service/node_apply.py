"""A node applies the facts it receives: each kind a node takes from a peer has one handler,
which decides from this node's own world (its facts verified under the pinned keys) whether the
fact may enter it. A fact the handler refuses is kept in the inbox, logged and named in the
receipt with its code; nothing of it is applied.

- a note (notice, suspension, lift, withdrawal, proposal, acceptance) must be by a party to an
  agreement this node holds, this node's party must be a party to it at the note's instant
  (``AgreementNotHeld``, ``NotAParty``, ``NotAddressed``), its instant must be the body's, and
  this node's record of the agreement must allow it at that instant, with every later event
  still allowed after it (``FactNotAllowed`` with the decision's reason codes);
- a user's clearance and need-to-know only from the node of the user's own party
  (``ForeignClearance``);
- a consent only by the item's originator, on an item this node holds, with this node's party
  its holder or a recipient (``NotFactOriginator``, ``NotAddressed``);
- a ``cosignature`` share of an amendment is kept beside its proposal, and the amendment applied
  once every party's share is held (``accord.service.node_amend``);
- any other kind is ``KindNotAccepted``.

Facts are judged by their own instants: one that arrives late (its peer was down) is placed in
the agreement's history at its instant, not at its arrival.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from accord.crypto import Keyring
from accord.errors import (
    AccordError,
    AgreementNotHeld,
    FactNotAllowed,
    FactRefused,
    ForeignClearance,
    InstantMismatch,
    KindNotAccepted,
    NotAddressed,
    NotAParty,
    NotFactOriginator,
)
from accord.model.acts import Consent
from accord.model.agreement import AgreementEvent, Amendment
from accord.model.facts import FactKind, cosignature
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import FactRefusal, Message, WireFact
from accord.model.time import iso
from accord.model.user import User
from accord.model.world import World
from accord.policy.facts import Facts
from accord.policy.lifecycle import Timeline
from accord.service.exchange import Exchange
from accord.service.ledger import ReceivedFact
from accord.store.sql import StoreTx

log = logging.getLogger("accord.node")

PinnedKeys = Mapping[str, Sequence[bytes]]


@dataclass(frozen=True, slots=True)
class Context:
    world: World
    party: str  # this node's
    sender: str  # the node the fact came from


def _note(ctx: Context, fact: WireFact, event: object) -> None:
    assert isinstance(event, AgreementEvent)
    if isinstance(event, Amendment):
        raise KindNotAccepted("an amendment needs both parties' signatures, not one")
    _same_instant(fact, event.at)
    world = ctx.world
    agreement = world.agreements.get(event.agreement)
    if agreement is None:
        raise AgreementNotHeld(f"this node holds no agreement {event.agreement!r}")
    _, terms = Facts(world).status_terms(event.agreement, event.at)
    parties = terms.parties | agreement.terms.parties
    if event.by not in parties:
        raise NotAParty(f"{event.by} is not a party to {event.agreement}")
    if ctx.party not in parties:
        raise NotAddressed(f"{ctx.party} is not a party to {event.agreement}")
    decide_in_time(world, event)


def decide_in_time(world: World, event: AgreementEvent) -> None:
    """``FactNotAllowed`` unless the agreement's history allows ``event`` at its own instant,
    and every event recorded after that instant still holds with it."""
    aid = event.agreement
    agreement = world.agreement(aid)
    events = world.agreement_events[aid]
    states = [m for m in world.matter_states if m.at <= event.at]
    topics = frozenset(world.topics)
    earlier = [e for e in events if e.at <= event.at]
    timeline = Timeline.compile(agreement, earlier, world.parties, topics, world.matters, states)
    decision = timeline.check(event, world.parties, topics)
    if not decision.allowed:
        raise FactNotAllowed(
            f"{event.kind} on {aid} at {iso(event.at)}: "
            + "; ".join(r.message for r in decision.reasons),
            decision.codes,
        )
    try:
        Timeline.compile(
            agreement, [*events, event], world.parties, topics, world.matters, world.matter_states
        )
    except AccordError as error:
        raise FactNotAllowed(
            f"{event.kind} on {aid} at {iso(event.at)}: a later event no longer holds"
            f" ({error.message})"
        ) from None


def _user(ctx: Context, _fact: WireFact, user: object) -> None:
    assert isinstance(user, User)
    if user.party != ctx.sender or user.party == ctx.party:
        raise ForeignClearance(
            f"user {user.id} is of {user.party}: only {user.party}'s own node vouches for it,"
            f" not {ctx.sender}'s"
        )


def _consent(ctx: Context, fact: WireFact, consent: object) -> None:
    assert isinstance(consent, Consent)
    _same_instant(fact, consent.at)
    item = ctx.world.items.get(consent.item)
    if item is None or item.originator != consent.by:
        raise NotFactOriginator(
            f"{consent.by} is not the originator of an item {consent.item!r} this node holds"
        )
    if ctx.party != consent.holder and ctx.party not in consent.recipients:
        raise NotAddressed(f"the consent on {consent.item} is not addressed to {ctx.party}")


def _same_instant(fact: WireFact, at: datetime) -> None:
    if fact.instant != at:
        raise InstantMismatch(
            f"fact {fact.fact_id} claims {iso(fact.instant)}; its body is at {iso(at)}"
        )


HANDLERS: Mapping[FactKind, Callable[[Context, WireFact, object], None]] = {
    FactKind.NOTE: _note,
    FactKind.USER: _user,
    FactKind.CONSENT: _consent,
}


ACCEPTED = frozenset({*(kind.value for kind in HANDLERS), cosignature.KIND})


def _not_accepted(kind: str) -> str:
    return f"a node does not take {kind} facts from a peer"


class Applier:
    """Applies a message's new facts to this node's world, inside the receiver's transaction."""

    def __init__(self, exchange: Exchange, party: str, keys: Callable[[], PinnedKeys]) -> None:
        self.exchange = exchange
        self.party = party
        self.keys = keys

    def __call__(
        self, tx: StoreTx, message: Message, facts: Sequence[WireFact], arrived: datetime
    ) -> tuple[FactRefusal, ...]:
        if not any(f.kind in ACCEPTED for f in facts):  # nothing to apply: no world to load
            return tuple(
                FactRefusal(f.fact_id, KindNotAccepted.code, _not_accepted(f.kind)) for f in facts
            )
        keys = self.keys()
        ledger = self.exchange.ledger
        world = ledger.load(tx, pinned=keys)
        keyring = self.exchange.vault.keyring(tx, tx.revision())
        refused: list[FactRefusal] = []
        applied = 0
        for fact in facts:
            try:
                self._one(tx, keyring, world, message.sender, fact, arrived, keys)
                applied += 1
            except FactRefused as refusal:
                log.warning("refused fact %s from %s: %s", fact.fact_id, message.sender, refusal)
                refused.append(FactRefusal(fact.fact_id, refusal.code, refusal.message))
                world = ledger.load(tx, pinned=keys)  # a refused fact leaves nothing behind
        if applied:
            tx.bump_revision()
        return tuple(refused)

    def _one(
        self,
        tx: StoreTx,
        keyring: Keyring,
        world: World,
        sender: str,
        fact: WireFact,
        arrived: datetime,
        keys: PinnedKeys,
    ) -> None:
        if fact.kind == cosignature.KIND:  # one party's share of an amendment
            from accord.service.node_amend import Amendments  # noqa: PLC0415

            shares = Amendments(self.exchange, arrived)
            try:
                shares.receive_share(tx, keyring, world, self.party, sender, fact, keys)
            except FactRefused:
                raise
            except AccordError as error:  # a share held here fails its check, say
                raise FactNotAllowed(f"fact {fact.fact_id}: {error.message}") from None
            return
        try:
            kind = FactKind(fact.kind)
            handler = HANDLERS[kind]
        except (ValueError, KeyError):
            raise KindNotAccepted(_not_accepted(fact.kind)) from None
        body = fact.body.decode("utf-8")
        decoded = DEFINITIONS[kind].decode(json.loads(body))
        handler(Context(world, self.party, sender), fact, decoded)
        received = ReceivedFact(fact.fact_id, fact.kind, body, fact.instant, (fact,))
        try:
            self.exchange.ledger.admit_received(tx, keyring, world, received, sender, arrived, keys)
        except FactRefused:
            raise
        except AccordError as error:
            raise FactNotAllowed(f"fact {fact.fact_id}: {error.message}") from None
