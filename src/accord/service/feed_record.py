"""The live feed's recorder: the exchange's act observer, which writes each user's events in
the act's own transaction, with the world as that act left it.

- ``available`` when an item becomes readable for the user: their party creates it, a copy
  reaches their party (a release, directly or through a hub), or a classification change opens
  it; each decided by the read decision at the act's instant;
- ``withdrawn`` when a classification change closes an item the feed had opened for the user;
- ``destroyed`` when their party destroys a copy the feed had opened for the user;
- ``routing`` to the originator's users who may read the item: each release of it, allowed or
  refused, with its route and reason codes; a standing rule's outcome adds the rule, the route
  taken, the instant evaluated and the trigger.

Whether an item is open for a user is the feed's own record (its last opening or closing event
for that user), so openings and closings alternate. A user's feed starts when the user exists;
what their party held before is read through TAXII. Imports nothing heavy: every exchange
records its feed, the CLI's included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.model.feed import CLOSING, OPENING, FeedKind
from accord.model.item import Holding
from accord.model.requests import ReadRequest
from accord.model.world import World
from accord.policy.facts import Facts
from accord.policy.read import decide_read
from accord.policy.reasons import Decision
from accord.store import feed as store
from accord.store.sql import StoreTx

_STATE_KINDS = (OPENING.value, *sorted(k.value for k in CLOSING))


@dataclass(frozen=True, slots=True)
class _Pending:
    user: str
    kind: FeedKind
    item: str
    body: dict[str, Any]


class FeedRecorder:
    """The exchange's act observer that writes the feed (see the module). ``notify`` hears the
    users that got events, from inside the act's transaction (it may still roll back): a
    wake-up, never the truth."""

    def __init__(self, notify: Callable[[frozenset[str]], None] | None = None) -> None:
        self.notify = notify

    def __call__(
        self,
        tx: StoreTx,
        facts: Facts,
        kind: str,
        at: datetime,
        subject: Mapping[str, object],
        decision: Decision | None,
    ) -> None:
        handler = _HANDLERS.get(kind)
        if handler is None:
            return
        pending = handler(_Act(tx, facts, at, subject, decision))
        if not pending:
            return
        users = sorted({p.user for p in pending})
        # numbered and written with the transaction's other events, in one statement
        store.append_numbered(
            tx, [store.EventRow(p.user, 0, p.kind.value, p.item, at, p.body) for p in pending]
        )
        if self.notify is not None:
            self.notify(frozenset(users))


@dataclass(frozen=True, slots=True)
class _Act:
    tx: StoreTx
    facts: Facts
    at: datetime
    subject: Mapping[str, object]
    decision: Decision | None

    @property
    def world(self) -> World:
        return self.facts.world

    @property
    def item(self) -> str:
        return str(self.subject["item"])

    def users_of(self, party: str) -> list[str]:
        return sorted(u.id for u in self.world.users.values() if u.party == party)

    def readable(self, user: str) -> bool:
        return decide_read(self.facts, ReadRequest(user, self.item), self.at).allowed

    def is_open(self, user: str) -> bool:
        return store.last_kinds(self.tx, user, self.item, _STATE_KINDS) == OPENING.value


def _created(act: _Act) -> list[_Pending]:
    party = act.world.items[act.item].originator
    body = {"party": party, "cause": "created"}
    return [
        _Pending(u, FeedKind.AVAILABLE, act.item, body)
        for u in act.users_of(party)
        if act.readable(u)
    ]


def _released(act: _Act) -> list[_Pending]:
    decision = act.decision
    assert decision is not None
    item = act.world.items[act.item]
    route = {
        "from": act.subject["from"],
        "to": act.subject["to"],
        "via": act.subject["via"],
    }
    outcome = {**route, "allowed": decision.allowed, "reasons": list(decision.codes)}
    outcome |= _rule_outcome(act.subject)
    found = [
        _Pending(u, FeedKind.ROUTING, act.item, outcome)
        for u in act.users_of(item.originator)
        if act.readable(u)
    ]
    if decision.allowed:
        for holding in _new_copies(decision.holdings):
            body = {"party": holding.party, "cause": "released", **route}
            found += [
                _Pending(u, FeedKind.AVAILABLE, act.item, body)
                for u in act.users_of(holding.party)
                if act.readable(u) and not act.is_open(u)
            ]
    return found


def _rule_outcome(subject: Mapping[str, object]) -> dict[str, object]:
    """What a standing rule's outcome adds, as ``accord rule log`` shows it: the rule, the
    route taken (``direct``, ``via CODE`` or ``none``), the instant the rules were evaluated
    at and what made them evaluate (``created`` or ``agreement:<id>``). Nothing for a hand
    release."""
    if "trigger" not in subject:
        return {}
    return {key: subject[key] for key in ("rule", "route", "evaluated", "trigger")}


def _new_copies(holdings: Iterable[Holding]) -> list[Holding]:
    seen: dict[str, Holding] = {}
    for holding in holdings:
        seen.setdefault(holding.party, holding)
    return [seen[p] for p in sorted(seen)]


def _reclassified(act: _Act) -> list[_Pending]:
    if act.decision is None or not act.decision.allowed:
        return []
    found = []
    parties = sorted(p for (i, p) in act.world.holdings if i == act.item)
    for party in parties:
        for user in act.users_of(party):
            now, before = act.readable(user), act.is_open(user)
            if now and not before:
                body = {"party": party, "cause": "reclassified"}
                found.append(_Pending(user, FeedKind.AVAILABLE, act.item, body))
            elif before and not now:
                body = {"party": party, "cause": "reclassified"}
                found.append(_Pending(user, FeedKind.WITHDRAWN, act.item, body))
    return found


def _destroyed(act: _Act) -> list[_Pending]:
    if act.decision is None or not act.decision.allowed:
        return []
    party = str(act.subject["party"])
    body = {"party": party, "cause": "destroyed"}
    return [
        _Pending(u, FeedKind.DESTROYED, act.item, body)
        for u in act.users_of(party)
        if act.is_open(u)
    ]


_HANDLERS: dict[str, Callable[[_Act], list[_Pending]]] = {
    "item": _created,
    "release": _released,
    "rule-release": _released,
    "reclassify": _reclassified,
    "destruction": _destroyed,
}
