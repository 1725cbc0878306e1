"""What an exchange holds, listed: users, copies of items, topics, tokens and agreements.

Every listing reads the exchange's world (``Exchange.snapshot``) and its questions; none shows
content, a token's secret or its hash. Each row has a typed JSON form (lists as lists, instants
as ISO 8601 in UTC), shared by the CLI and, later, the admin API.

``copies`` lists items as each holding party sees them: one row per copy, with the copy's
marking (R2). ``level`` filters on the holder's level in the holder's own scheme; with
``party`` it must be one of that party's levels, without it one of some party's levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.errors import UnknownReference
from accord.model.agreement import (
    Agreement,
    AgreementEvent,
    Amendment,
    EquivalenceTable,
    Renewal,
    SuspensionLifted,
    Terms,
    TopicScope,
)
from accord.model.item import Holding, Item
from accord.model.marking import Marking
from accord.model.party import Party
from accord.model.time import Duration, iso, require_aware
from accord.model.user import User
from accord.model.world import World
from accord.policy.lifecycle import AgreementState
from accord.service.credentials import Credentials, TokenInfo
from accord.service.exchange import Exchange

# --- JSON forms ---------------------------------------------------------------------------------


def _instant(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def topics_form(scope: TopicScope) -> str | list[str]:
    """``"all"`` or the sorted topics, as a scenario file writes them."""
    return "all" if scope.topics is None else sorted(scope.topics)


def equivalence_form(table: EquivalenceTable) -> list[dict[str, str]]:
    return [dict(row) for row in table.rows]


def _term_value(name: str, value: object) -> object:
    """One term of an agreement (or of an amendment's changes) in its JSON form."""
    if isinstance(value, EquivalenceTable):
        return equivalence_form(value)
    if isinstance(value, TopicScope):
        return topics_form(value)
    if isinstance(value, Duration):
        return value.text
    if isinstance(value, Renewal):
        return value.value
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    if value is None:
        return None
    raise TypeError(f"term {name}: no JSON form for {type(value).__name__}")  # a defect


def terms_form(terms: Terms) -> dict[str, object]:
    return {
        "parties": sorted(terms.parties),
        "equivalence": equivalence_form(terms.equivalence),
        "topics": topics_form(terms.topics),
        "term": terms.term.text if terms.term is not None else None,
        "renewal": terms.renewal.value,
        "notice_period": terms.notice_period.text if terms.notice_period is not None else None,
    }


def party_form(party: Party) -> dict[str, object]:
    return {
        "code": party.code,
        "name": party.name,
        "timezone": party.timezone,
        "levels": list(party.levels),
    }


def user_form(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "party": user.party,
        "clearance": user.clearance,
        "need_to_know": sorted(user.need_to_know),
    }


def item_form(item: Item) -> dict[str, object]:
    """An item's metadata as its originator marked it (never its title or content)."""
    return {
        "id": item.id,
        "originator": item.originator,
        "level": item.level,
        "topics": sorted(item.topics),
        "releasable_to": sorted(item.releasable_to),
        "created": iso(item.created),
    }


@dataclass(frozen=True, slots=True)
class Token:
    """An API token without its secret or hash; ``expired`` is measured on the real clock."""

    info: TokenInfo
    expired: bool

    @classmethod
    def of(cls, info: TokenInfo, now: datetime) -> Token:
        return cls(info, info.expires_at is not None and now >= info.expires_at)

    def as_dict(self) -> dict[str, object]:
        info = self.info
        return {
            "id": info.token_id,
            "user": info.user,
            "admin": info.admin,
            "issued_at": iso(info.issued_at),
            "expires_at": _instant(info.expires_at),
            "expired": self.expired,
            "revoked": info.revoked_at is not None,
            "revoked_at": _instant(info.revoked_at),
        }


@dataclass(frozen=True, slots=True)
class Copy:
    """One party's copy of an item, as that party sees it (never its content)."""

    item: Item
    holding: Holding
    at: datetime  # the instant the listing describes

    @property
    def marking(self) -> Marking:
        return Marking.of(self.holding, self.item)

    @property
    def destroyed(self) -> bool:
        return self.holding.destroyed_at is not None and self.holding.destroyed_at <= self.at

    def as_dict(self) -> dict[str, object]:
        h = self.holding
        return {
            "item": self.item.id,
            **self.marking.as_dict(),
            "topics": sorted(self.item.topics),
            "created": iso(self.item.created),
            "received_at": iso(h.received_at),
            "agreement": h.agreement,
            "via": h.via,
            "destroyed": self.destroyed,
            "destroyed_at": _instant(h.destroyed_at) if self.destroyed else None,
        }


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A diplomatic note or amendment, with who sent it: a note by its sender, an amendment by
    every party to the agreement when it was made (R13)."""

    event: AgreementEvent
    by: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        event = self.event
        data: dict[str, object] = {"at": iso(event.at), "kind": event.kind, "by": list(self.by)}
        if isinstance(event, SuspensionLifted):
            data["effective_at"] = iso(event.effective_at)
        if isinstance(event, Amendment):
            data["changes"] = {k: _term_value(k, v) for k, v in sorted(event.changes.items())}
        return data


@dataclass(frozen=True, slots=True)
class AgreementView:
    """An agreement at an instant: its definition, its terms and state then, and its history of
    notes and amendments up to then."""

    agreement: Agreement
    state: AgreementState
    history: tuple[HistoryEntry, ...]
    events: int  # every recorded event, including any after the instant

    def as_dict(self) -> dict[str, object]:
        a, state = self.agreement, self.state
        return {
            "id": a.id,
            "title": a.title,
            "in_force_from": iso(a.in_force_from),
            "timezone": a.timezone,
            "hub": a.hub,
            **terms_form(state.terms),
            "state": state.as_dict(),
            "events": self.events,
            "history": [entry.as_dict() for entry in self.history],
        }


def history(agreement: Agreement, events: list[AgreementEvent], at: datetime) -> list[HistoryEntry]:
    """The events at or before ``at``, each with the parties that sent it."""
    entries: list[HistoryEntry] = []
    terms = agreement.terms
    for event in events:
        if event.at > at:
            break
        if isinstance(event, Amendment):
            entries.append(HistoryEntry(event, tuple(sorted(terms.parties))))
            terms = event.apply(terms)
        else:
            entries.append(HistoryEntry(event, (event.by,)))
    return entries


# --- listings -----------------------------------------------------------------------------------


class Inventory:
    """Listings of one exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def _world(self) -> World:
        return self.exchange.snapshot()

    def parties(self) -> list[Party]:
        return sorted(self._world().parties.values(), key=lambda p: p.code)

    def users(self, party: str | None = None) -> list[User]:
        world = self._world()
        if party is not None:
            world.party(party)
        users = (u for u in world.users.values() if party is None or u.party == party)
        return sorted(users, key=lambda u: (u.party, u.id))

    def topics(self) -> list[dict[str, object]]:
        """Each topic with the number of items on it and of users with need-to-know for it."""
        world = self._world()
        return [
            {
                "topic": topic,
                "items": sum(topic in i.topics for i in world.items.values()),
                "users": sum(topic in u.need_to_know for u in world.users.values()),
            }
            for topic in sorted(world.topics)
        ]

    def copies(
        self,
        at: datetime,
        party: str | None = None,
        topic: str | None = None,
        level: str | None = None,
    ) -> list[Copy]:
        """Every copy received at or before ``at``, by holder then item; filtered by holder,
        topic and the holder's level."""
        at = require_aware(at, "at")
        world = self._world()
        _check_filters(world, party, topic, level)
        found = [
            Copy(world.items[item_id], copy, at)
            for (item_id, holder), copies in world.holdings.items()
            if party is None or holder == party
            for copy in copies
            if copy.received_at <= at
            and (topic is None or topic in world.items[item_id].topics)
            and (level is None or copy.level == level)
        ]
        return sorted(found, key=lambda c: (c.holding.party, c.item.id, c.holding.received_at))

    def tokens(self, user: str | None = None) -> list[Token]:
        if user is not None:
            self._world().user(user)
        credentials = Credentials(self.exchange)
        now = credentials.now()
        return [Token.of(info, now) for info in credentials.tokens(user)]

    def agreement(self, agreement_id: str, at: datetime) -> AgreementView:
        state = self.exchange.agreement_state(agreement_id, at)
        world = self._world()
        agreement = world.agreement(agreement_id)
        events = world.agreement_events[agreement_id]
        return AgreementView(
            agreement, state, tuple(history(agreement, events, state.at)), len(events)
        )

    def agreements(self, at: datetime) -> list[AgreementView]:
        return [self.agreement(aid, at) for aid in sorted(self._world().agreements)]


def _check_filters(world: World, party: str | None, topic: str | None, level: str | None) -> None:
    """Unknown filter values are bad input naming the value (never an empty answer)."""
    if party is not None:
        world.party(party)
    if topic is not None and topic not in world.topics:
        known = ", ".join(sorted(world.topics)) or "none"
        raise UnknownReference(f"unknown topic {topic!r} (topics: {known})")
    if level is None:
        return
    if party is not None:
        world.parties[party].rank(level)  # raises UnknownReference naming the party's levels
    elif not any(p.has_level(level) for p in world.parties.values()):
        raise UnknownReference(f"no party has a level {level!r}")
