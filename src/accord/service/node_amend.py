"""Amendments across nodes (Art. 21(2): mutual written consent). An amendment is one fact every
party to the agreement vouches for; each party's signature crosses as a ``cosignature`` share.

- ``propose``: this node checks the amendment on its own record at its instant, signs its
  party's share and queues it for every other voucher's pinned node, in one transaction. The
  proposal is kept here (``received_facts``, pending) with that one share.
- A share that arrives (``receive_share``, from the node applier) is checked and kept pending
  beside the proposal; once a share of every voucher is held, each verified under its party's
  pinned key, the amendment is admitted into the world (``Ledger.admit_received``).
- ``countersign``: this node signs its own share of a held proposal, applies the amendment when
  that completes it, and queues the share for the other vouchers. Again, it changes nothing.

A proposal's id is the amendment fact's id: the SHA-256 of its kind and canonical body, the
same on every node. Each share is dated at the amendment's instant (its ``at``), as a note is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from accord.crypto import EXCHANGE, Keyring
from accord.crypto.canonical import canonical_json
from accord.crypto.facts import fact_id
from accord.crypto.messages import sign_fact
from accord.errors import (
    AccordError,
    FactRefused,
    InstantMismatch,
    IntegrityError,
    KindNotAccepted,
    NotAddressed,
    NotANode,
    ProposalChanged,
    ProposalNotHeld,
    ShareNotByParty,
    UnknownPeer,
    UnknownProposal,
)
from accord.model.agreement import Amendment
from accord.model.facts import FactKind, cosignature
from accord.model.facts.cosignature import ProposalState
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import WireFact
from accord.model.taint import SubjectKind
from accord.model.time import iso
from accord.model.world import World
from accord.service import node_log
from accord.service.exchange import Exchange
from accord.service.ledger import ReceivedFact, public_keys
from accord.service.node import pinned_party_keys
from accord.service.node_apply import PinnedKeys, decide_in_time
from accord.service.received_check import check_shares
from accord.store import nodes, outbox, received
from accord.store.sql import StoreTx

log = logging.getLogger("accord.node")

NOTE = FactKind.NOTE


@dataclass(frozen=True, slots=True)
class Proposal:
    """An amendment proposal as this node holds it."""

    id: str
    agreement: str
    at: datetime
    changes: dict[str, object]  # as the fact's body spells them
    signed_by: tuple[str, ...]
    waiting_for: tuple[str, ...]
    state: ProposalState
    sender: str  # the node its latest share came from (this node's own party for its own)
    arrived_at: datetime


def _body(amendment: Amendment) -> str:
    return canonical_json(DEFINITIONS[NOTE].encode(amendment)).decode("utf-8")


def _amendment(body: str) -> Amendment | None:
    try:
        event = DEFINITIONS[NOTE].decode(json.loads(body))
    except (AccordError, KeyError, ValueError, TypeError):
        return None
    return event if isinstance(event, Amendment) else None


def _share(keyring: Keyring, party: str, body: str, at: datetime) -> WireFact:
    text = canonical_json(cosignature.Share(NOTE.value, body, party).encode())
    unsigned = WireFact(
        fact_id(cosignature.KIND, text.decode("utf-8")), cosignature.KIND, party, at, text, b""
    )
    return sign_fact(keyring.current(party).ed25519, unsigned)


def _vouchers(world: World, amendment: Amendment) -> tuple[str, ...]:
    vouchers: tuple[str, ...] = DEFINITIONS[NOTE].vouchers(amendment, world)
    return vouchers


def _sound(world: World, amendment: Amendment) -> None:
    """``IntegrityError`` (logged) when the agreement rests on a fact that failed its check."""
    try:
        world.check_sound(((SubjectKind.AGREEMENT, amendment.agreement),))
    except IntegrityError as error:
        log.error("refused an amendment of %s: %s", amendment.agreement, error.message)
        raise


def _own_party(tx: StoreTx) -> str:
    own = nodes.identities(tx)
    if len(own) != 1:
        raise NotANode("this store is not a node: run `accord node init`")
    return own[0].party


def _trusted(tx: StoreTx, pinned: PinnedKeys) -> dict[str, list[bytes]]:
    """Each party's trusted Ed25519 keys: this node's own key sets, and the pinned cards'."""
    found: dict[str, list[bytes]] = {}
    for (owner, _), public in sorted(public_keys(tx.key_sets()).items()):
        found.setdefault(owner, []).append(public.ed25519)
    for party, values in pinned.items():
        found.setdefault(party, []).extend(values)
    return found


class Amendments:
    """The amendment proposals of one node (over its exchange store)."""

    def __init__(self, exchange: Exchange, now: datetime) -> None:
        self.exchange = exchange
        self.now = now  # the instant the acts are recorded (the log's)

    # --- the operator's acts ------------------------------------------------------------------

    def propose(self, amendment: Amendment) -> Proposal:
        """Sign this node's share of ``amendment`` and queue it for the other vouchers' nodes;
        the same proposal again changes nothing and gives the same answer."""
        ex = self.exchange
        with ex.store.transaction(write=True) as tx:
            party, keyring, _, world = self._open(tx)
            _sound(world, amendment)
            if amendment.agreement not in world.agreements:
                world.agreement(amendment.agreement)  # UnknownReference, exit 2
            vouchers = _vouchers(world, amendment)
            if party not in vouchers:
                raise NotAddressed(f"{party} is not a party to {amendment.agreement}")
            body = _body(amendment)
            pid = fact_id(NOTE.value, body)
            held = received.get(tx, pid)
            if held is not None:
                return self._proposal(world, party, held)
            decide_in_time(world, amendment)  # FactNotAllowed, with the lifecycle's reasons
            peers = self._peers(tx, party, vouchers)
            share = _share(keyring, party, body, amendment.at)
            for peer in peers:
                outbox.enqueue(tx, peer, share, self.now)
            row = received.ReceivedRow(
                received.next_position(tx),
                pid,
                NOTE.value,
                body,
                amendment.at,
                party,
                self.now,
                tx.last_fact_seq(),
                received.ReceivedState.PENDING,
                (share,),
            )
            received.add(tx, row)
            subject = {"proposal": pid, "agreement": amendment.agreement, "to": peers}
            node_log.log(tx, ex.vault, "node-amendment-proposed", amendment.at, self.now, subject)
            return self._proposal(world, party, row)

    def countersign(self, proposal_id: str) -> Proposal:
        """Sign this node's share of the held proposal, apply the amendment once every share is
        held (each verified), and queue the share for the other vouchers. Countersigning again
        changes nothing and gives the same answer. A refusal is logged and changes nothing."""
        try:
            return self._countersign(proposal_id)
        except (FactRefused, UnknownProposal, IntegrityError) as refusal:
            with self.exchange.store.transaction(write=True) as tx:
                subject = {"proposal": proposal_id[:200], "code": refusal.code}
                node_log.log(
                    tx, self.exchange.vault, "node-countersign-refused", self.now, self.now, subject
                )
            raise

    def _countersign(self, proposal_id: str) -> Proposal:
        ex = self.exchange
        with ex.store.transaction(write=True) as tx:
            party, keyring, keys, world = self._open(tx)
            row = received.get(tx, proposal_id)
            amendment = None if row is None or row.kind != NOTE.value else _amendment(row.body)
            if row is None or amendment is None:
                raise UnknownProposal(f"PROPOSAL_ID: no amendment proposal {proposal_id[:80]!r}")
            if party in {s.party for s in row.signatures}:
                return self._proposal(world, party, row)
            _sound(world, amendment)
            if amendment.agreement not in world.agreements:
                raise ProposalNotHeld(f"this node holds no agreement {amendment.agreement!r}")
            vouchers = _vouchers(world, amendment)
            if party not in vouchers:
                raise NotAddressed(f"{party} is not a party to {amendment.agreement}")
            what = f"proposal {proposal_id}"
            if not row.signatures:  # a row edited in the store: its shares do not read
                raise IntegrityError(f"{what}: its shares cannot be read")
            check_shares(what, NOTE.value, row.body, vouchers, row.signatures, keys)
            decide_in_time(world, amendment)
            peers = self._peers(tx, party, vouchers)
            share = _share(keyring, party, row.body, amendment.at)
            kept = self._add(
                tx,
                keyring,
                world,
                row,
                share,
                vouchers,
                keys,
                new=False,
                sender=row.sender,
                arrived=row.arrived_at,
            )
            for peer in peers:
                outbox.enqueue(tx, peer, share, self.now)
            subject = {"proposal": proposal_id, "agreement": amendment.agreement, "to": peers}
            node_log.log(
                tx, ex.vault, "node-amendment-countersigned", amendment.at, self.now, subject
            )
            return self._proposal(world, party, kept)

    def proposals(self) -> list[Proposal]:
        """Every amendment proposal this node holds, its own and its peers', in order."""
        with self.exchange.store.transaction(write=False) as tx:
            party = _own_party(tx)
            world = self.exchange.ledger.load(tx, pinned=self._keys(tx))
            return [
                self._proposal(world, party, row)
                for row in received.rows(tx)
                if row.kind == NOTE.value and _amendment(row.body) is not None
            ]

    # --- what arrives from a peer ------------------------------------------------------------

    def receive_share(
        self,
        tx: StoreTx,
        keyring: Keyring,
        world: World,
        party: str,
        sender: str,
        fact: WireFact,
        keys: PinnedKeys,
    ) -> None:
        """Keep a share from ``sender``'s node beside its proposal, and apply the amendment
        when it completes it; ``FactRefused`` (nothing kept) when the rules do not allow it."""
        text = fact.body.decode("utf-8")
        share = cosignature.decode(json.loads(text))
        amendment = _amendment(share.body) if share.kind == NOTE.value else None
        if amendment is None:
            raise KindNotAccepted("a node takes shares of amendments to its agreements only")
        if fact.fact_id != fact_id(cosignature.KIND, text) or share.body != _body(amendment):
            raise ProposalChanged(f"share {fact.fact_id}: its id names another body")
        if fact.instant != amendment.at:
            raise InstantMismatch(
                f"share {fact.fact_id} claims {iso(fact.instant)}; its amendment is at"
                f" {iso(amendment.at)}"
            )
        pid = fact_id(NOTE.value, share.body)
        if amendment.agreement not in world.agreements:
            raise ProposalNotHeld(
                f"proposal {pid}: this node holds no agreement {amendment.agreement!r}"
            )
        vouchers = _vouchers(world, amendment)
        if share.by not in vouchers or fact.party != share.by:
            raise ShareNotByParty(
                f"proposal {pid}: {share.by} is not a party to {amendment.agreement}"
            )
        if party not in vouchers:
            raise NotAddressed(f"{party} is not a party to {amendment.agreement}")
        row = received.get(tx, pid)
        if row is not None and (row.kind != NOTE.value or row.body != share.body):
            raise ProposalChanged(f"proposal {pid} is held here with another body")
        if row is not None and (
            row.state is received.ReceivedState.APPLIED
            or share.by in {s.party for s in row.signatures}
        ):
            return  # already held: nothing changes
        decide_in_time(world, amendment)
        new = row is None
        if row is None:
            row = received.ReceivedRow(
                received.next_position(tx),
                pid,
                NOTE.value,
                share.body,
                amendment.at,
                sender,
                self.now,
                tx.last_fact_seq(),
                received.ReceivedState.PENDING,
                (),
            )
        self._add(
            tx,
            keyring,
            world,
            row,
            fact,
            vouchers,
            _trusted(tx, keys),
            new=new,
            sender=sender,
            arrived=self.now,
        )

    # --- helpers -----------------------------------------------------------------------------

    def _add(
        self,
        tx: StoreTx,
        keyring: Keyring,
        world: World,
        row: received.ReceivedRow,
        share: WireFact,
        vouchers: tuple[str, ...],
        keys: PinnedKeys,
        *,
        new: bool,
        sender: str,
        arrived: datetime,
    ) -> received.ReceivedRow:
        """``row`` with ``share`` added (each share verified first): kept pending, or applied
        through the ledger once it holds every voucher's share. ``new``: not stored yet."""
        shares = tuple(sorted((*row.signatures, share), key=lambda s: s.party))
        check_shares(f"proposal {row.fact_id}", NOTE.value, row.body, vouchers, shares, keys)
        if {s.party for s in shares} != set(vouchers):
            kept = replace(row, signatures=shares)
            (received.add if new else received.replace)(tx, kept)
            return kept
        fact = ReceivedFact(row.fact_id, NOTE.value, row.body, row.instant, shares)
        ledger = self.exchange.ledger
        ledger.admit_received(tx, keyring, world, fact, sender, arrived, keys)
        tx.bump_revision()
        applied = received.get(tx, row.fact_id)
        assert applied is not None
        log.info("amendment %s applied with the shares of %s", row.fact_id, ", ".join(vouchers))
        return applied

    def _open(self, tx: StoreTx) -> tuple[str, Keyring, PinnedKeys, World]:
        party = _own_party(tx)
        keyring = self.exchange.vault.keyring(tx, tx.revision())
        keys = self._keys(tx, keyring)
        world = self.exchange.ledger.load(tx, pinned=keys)
        return party, keyring, _trusted(tx, keys), world

    def _keys(self, tx: StoreTx, keyring: Keyring | None = None) -> dict[str, list[bytes]]:
        own = None if keyring is None else keyring.get(EXCHANGE, 1)
        return pinned_party_keys(tx, own)

    @staticmethod
    def _peers(tx: StoreTx, party: str, vouchers: tuple[str, ...]) -> list[str]:
        pinned = {row.party for row in nodes.peers(tx)}
        others = [v for v in vouchers if v != party]
        missing = [v for v in others if v not in pinned]
        if missing:
            raise UnknownPeer(f"peer: {', '.join(missing)} must sign too and is not pinned here")
        return others

    @staticmethod
    def _proposal(world: World, party: str, row: received.ReceivedRow) -> Proposal:
        amendment = _amendment(row.body)
        assert amendment is not None
        signed = tuple(sorted(s.party for s in row.signatures))
        try:
            vouchers = _vouchers(world, amendment)
        except AccordError:
            vouchers = signed
        if row.state is received.ReceivedState.APPLIED:
            state = ProposalState.APPLIED
        elif party in signed:
            state = ProposalState.AWAITING
        else:
            state = ProposalState.TO_COUNTERSIGN
        changes = json.loads(row.body).get("changes", {})
        return Proposal(
            row.fact_id,
            amendment.agreement,
            amendment.at,
            changes,
            signed,
            tuple(v for v in vouchers if v not in signed),
            state,
            row.sender,
            row.arrived_at,
        )
