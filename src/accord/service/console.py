"""What the web console shows a signed-in principal, scoped to what that principal may see.

A user sees the agreements their party is party to (an admin token sees every agreement), the
items their party holds that they may read at the instant asked about (``Exchange.readable``:
the same rule as ``accord readable``), and the impact of an agreement they are party to. Each
query answers None for what the principal may not see, exactly as for what does not exist, so
the caller can answer both alike. The caller holds the exchange's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from accord.model.console import EdgeState
from accord.model.item import Item
from accord.model.marking import Marking
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import iso, require_aware
from accord.model.world import World
from accord.policy.lifecycle import AgreementState, Status
from accord.policy.reasons import Decision
from accord.service import markings
from accord.service.credentials import Principal
from accord.service.exchange import Exchange

PAGE_SIZE = 50
FEED_LIMIT = 50
SLIDER_MARGIN = timedelta(days=30)
SLIDER_YEAR = timedelta(days=366)
TIMELINE_LEFT, TIMELINE_WIDTH = 20.0, 600.0  # the timeline's drawing, in SVG units


def edge_state(state: AgreementState) -> EdgeState:
    """How an agreement's state is drawn: its status, with a suspended notice told apart."""
    if state.status is Status.IN_FORCE and state.notice is not None and state.notice.suspended:
        return EdgeState.SUSPENDED_NOTICE
    return EdgeState(state.status.value)


def visible_agreements(world: World, principal: Principal) -> list[str]:
    """The agreements the principal may see, sorted."""
    if principal.admin:
        return sorted(world.agreements)
    return sorted(world.agreements_of.get(principal.party, set()))


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """Filters of the items list; empty strings match everything."""

    text: str = ""
    topic: str = ""
    level: str = ""
    originator: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    page: int = 1

    def matches(self, item: Item) -> bool:
        text = self.text.casefold()
        return (
            (not text or text in item.id.casefold() or text in item.title.casefold())
            and (not self.topic or self.topic in item.topics)
            and (not self.level or self.level == item.level)
            and (not self.originator or self.originator == item.originator)
            and (self.created_from is None or item.created >= self.created_from)
            and (self.created_to is None or item.created <= self.created_to)
        )


class ConsoleQueries:
    """The console's questions to one exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def instant(self, at: datetime | None) -> datetime:
        """``at``, or the exchange's now (its frozen clock under ``accord serve --at``)."""
        return self.exchange.instant(at)

    def network(self, principal: Principal, at: datetime, now: datetime) -> dict[str, object]:
        """Parties and the principal's agreements with their state at ``at``, and the span of
        instants worth a slider (from before the first agreement to a year past ``now`` or the
        last event)."""
        at = require_aware(at, "at")
        with self.exchange.session(
            write=False
        ) as s:  # one read of the store for every agreement's state
            world = s.world
            ids = visible_agreements(world, principal)
            states = [s.facts.state(agreement_id, at) for agreement_id in ids]
        agreements = []
        parties: set[str] = {principal.party}
        for agreement_id, state in zip(ids, states, strict=True):
            agreement = world.agreements[agreement_id]
            parties |= agreement.terms.parties
            agreements.append(
                {
                    "id": agreement_id,
                    "title": agreement.title,
                    "parties": sorted(agreement.terms.parties),
                    "hub": agreement.hub,
                    "timezone": agreement.timezone,
                    "status": state.status.value,
                    "edge": edge_state(state).value,
                    "expires_at": iso(state.expires_at) if state.expires_at else None,
                    "term_end": iso(state.term_end) if state.term_end else None,
                    "notice_by": state.notice.by if state.notice else None,
                }
            )
        starts = [world.agreements[str(a["id"])].in_force_from for a in agreements]
        ends = [now, at] + [
            e.at for a in agreements for e in world.agreement_events.get(str(a["id"]), [])
        ]
        return {
            "at": iso(at),
            "span": [iso(min([*starts, at]) - SLIDER_MARGIN), iso(max(ends) + SLIDER_YEAR)],
            "party": principal.party,
            "parties": [
                {
                    "code": code,
                    "name": world.parties[code].name,
                    "timezone": world.parties[code].timezone,
                }
                for code in sorted(parties)
                if code in world.parties
            ],
            "agreements": agreements,
        }

    def zones(self, principal: Principal) -> list[str]:
        """The time zones of the agreements the principal sees and of their parties, sorted."""
        world = self.exchange.snapshot()
        found = set()
        for agreement_id in visible_agreements(world, principal):
            agreement = world.agreements[agreement_id]
            found.add(agreement.timezone)
            found |= {
                world.parties[p].timezone for p in agreement.terms.parties if p in world.parties
            }
        return sorted(found - {"UTC"})

    def agreement(
        self, principal: Principal, agreement_id: str, at: datetime
    ) -> dict[str, object] | None:
        """An agreement's state and dated events, or None when the principal may not see it."""
        world = self.exchange.snapshot()
        if agreement_id not in visible_agreements(world, principal):
            return None
        agreement = world.agreements[agreement_id]
        state = self.exchange.agreement_state(agreement_id, at)
        tz = ZoneInfo(agreement.timezone)
        dated = world.agreement_events.get(agreement_id, [])
        marks = [agreement.in_force_from, at, *(e.at for e in dated)]
        if state.expires_at is not None:
            marks.append(state.expires_at)
        start, end = min(marks), max(marks)
        width = (end - start).total_seconds() or 1.0

        def x(instant: datetime) -> float:
            return round(
                TIMELINE_LEFT + TIMELINE_WIDTH * (instant - start).total_seconds() / width, 1
            )

        events = [
            {"at": iso(e.at, tz), "kind": e.kind, "by": getattr(e, "by", None), "x": x(e.at)}
            for e in dated
        ]
        terms = state.terms  # as amended by ``at``
        equivalence = [dict(sorted(row.items())) for row in terms.equivalence.rows]
        return {
            "id": agreement_id,
            "title": agreement.title,
            "timezone": agreement.timezone,
            "in_force_from": iso(agreement.in_force_from, tz),
            "at": iso(at, tz),
            "at_x": x(at),
            "start_x": x(agreement.in_force_from),
            "expires": iso(state.expires_at, tz) if state.expires_at else None,
            "expires_x": x(state.expires_at) if state.expires_at else None,
            "term_end": iso(state.term_end, tz) if state.term_end else None,
            "hub": agreement.hub,
            "state": state.as_dict(),
            "edge": edge_state(state).value,
            "terms": {
                "parties": ", ".join(sorted(terms.parties)),
                "topics": terms.topics.describe(),
                "term": terms.term.text if terms.term else "none",
                "renewal": terms.renewal.value,
                "notice period": terms.notice_period.text if terms.notice_period else "none",
            },
            "events": events,
            "equivalence": equivalence,
        }

    def impact(
        self, principal: Principal, agreement_id: str, at: datetime
    ) -> dict[str, object] | None:
        """``accord impact --json`` of an agreement the principal may see, else None."""
        world = self.exchange.snapshot()
        if agreement_id not in visible_agreements(world, principal):
            return None
        return self.exchange.impact(agreement_id, at).as_dict()

    def readable_items(self, principal: Principal, at: datetime) -> list[str]:
        return self.exchange.readable(principal.user, require_aware(at, "at"))

    def items(self, principal: Principal, at: datetime, query: ItemQuery) -> tuple[list[Item], int]:
        """One page of the principal's readable items matching ``query``, and how many match."""
        world = self.exchange.snapshot()
        found = [
            world.items[i]
            for i in self.readable_items(principal, at)
            if query.matches(world.items[i])
        ]
        found.sort(key=lambda item: (item.created, item.id), reverse=True)
        start = (max(1, query.page) - 1) * PAGE_SIZE
        return found[start : start + PAGE_SIZE], len(found)

    def item(self, principal: Principal, item_id: str, at: datetime) -> dict[str, Any] | None:
        """A readable item's marking, route, history and read decision, else None (no content)."""
        at = require_aware(at, "at")
        if item_id not in set(self.readable_items(principal, at)):
            return None
        world = self.exchange.snapshot()
        item = world.item(item_id)
        checked = markings.check(self.exchange, ReadRequest(principal.user, item_id), at)
        holding = world.holding(item_id, principal.party, at)
        return {
            "item": item,
            "check": checked,
            "holding": holding,
            "history": _history(world, item_id, principal.party),
            "launch_map": None,
        }

    def read(self, principal: Principal, item_id: str, at: datetime) -> markings.MarkedRead | None:
        """The logged read of a readable item (content between banners), else None."""
        at = require_aware(at, "at")
        if item_id not in set(self.readable_items(principal, at)):
            return None
        return markings.read(self.exchange, ReadRequest(principal.user, item_id), at)

    def feed(
        self, principal: Principal, at: datetime, since: datetime | None, limit: int = FEED_LIMIT
    ) -> list[dict[str, object]]:
        """The ``limit`` newest readable copies that reached the principal's party after
        ``since`` (inclusive: the page drops what it has), newest first, each with its banner (the copy's marking) and route."""
        world = self.exchange.snapshot()
        arrived = []
        for item_id in self.readable_items(principal, at):
            holding = world.holding(item_id, principal.party, at)
            if holding is not None and (since is None or holding.received_at >= since):
                arrived.append(holding)
        arrived.sort(key=lambda h: (h.received_at, h.item), reverse=True)
        return [
            {
                "id": h.item,
                "received_at": iso(h.received_at),
                "banner": Marking.of(h, world.items[h.item]).banner(),
                "agreement": h.agreement,
                "via": h.via,
            }
            for h in arrived[:limit]
        ]


def _history(world: World, item_id: str, party: str) -> list[dict[str, object]]:
    """Releases, consents and destructions of the item that concern ``party``, in time order."""
    history: list[dict[str, object]] = []
    for r in world.releases:
        if r.item == item_id and party in (r.from_party, r.to_party, r.via):
            route = (
                f"{r.from_party} → {r.via} → {r.to_party}"
                if r.via
                else f"{r.from_party} → {r.to_party}"
            )
            history.append(
                {"at": r.at, "what": "release", "detail": f"{route} under {r.agreement or '—'}"}
            )
    for (item, holder, recipient), records in world.consents.items():
        if item == item_id and party in (holder, recipient):
            for c in records:
                word = "granted" if c.granted else "refused"
                history.append(
                    {"at": c.at, "what": "consent", "detail": f"{word}: {holder} → {recipient}"}
                )
    for d in world.destructions:
        if d.item == item_id and d.party == party:
            history.append(
                {"at": d.at, "what": "destruction", "detail": f"{d.party} destroyed its copy"}
            )
    history.sort(key=lambda h: h["at"])  # type: ignore[arg-type,return-value]
    return history


def record_summary(exchange: Exchange) -> dict[str, object]:
    """The log's size, its latest signed checkpoint and the published ones with their
    countersignatures (the signature lines of each note)."""
    from accord.service import journal  # noqa: PLC0415

    with exchange.store.transaction(write=False) as tx:
        size = journal.load_frontier(tx).size
        latest = tx.meta(journal.LATEST)
        published = [(n, note) for n, note in tx.published_checkpoints()]
    return {
        "size": size,
        "latest": latest,
        "published": [
            {"size": n, "note": note, "signatures": _signers(note)} for n, note in published
        ],
    }


def _signers(note: str) -> list[str]:
    """The key names of a signed note's signature lines (``— name signature``)."""
    _, _, signatures = note.partition("\n\n")
    return [line.split(" ")[1] for line in signatures.splitlines() if line.startswith("— ")]


def decide_release(
    queries: ConsoleQueries, principal: Principal, request: ReleaseRequest, at: datetime
) -> Decision | None:
    """May the item go from A to B (via H) at ``at``? None when the principal may not ask: a
    user asks only about items they may read at ``at`` (an admin about any item)."""
    if not principal.admin and request.item not in set(queries.readable_items(principal, at)):
        return None
    world = queries.exchange.snapshot()
    if request.item not in world.items:
        return None
    return queries.exchange.check_release(request, at)


def decide_read(
    queries: ConsoleQueries, principal: Principal, request: ReadRequest, at: datetime
) -> Decision | None:
    """May the user read the item at ``at``? None when the principal may not ask: a user asks
    only about users of their own party and items they may read themselves at ``at``."""
    world = queries.exchange.snapshot()
    user = world.users.get(request.user)
    if request.item not in world.items or user is None:
        return None
    if not principal.admin and (
        user.party != principal.party
        or request.item not in set(queries.readable_items(principal, at))
    ):
        return None
    return queries.exchange.check_read(request, at)
