"""A scenario loaded into a live exchange: what it shares with the store, and what conflicts.

``accord load`` reads a file against the world the store already holds. A file may name what
the store holds without defining it again (the users of an existing party, the events of an
existing agreement). A definition under an id the store already knows must equal the stored
one, field by field: then it is accepted and not added again; otherwise it is refused, naming
the field, the file's value and the store's. An event equal to an act the store has recorded is
recognised and not applied again. Item content is sealed in the store, so its title, content
and STIX object are compared by the service (through the originator's signature), not here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from accord.errors import DefinitionConflict
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import Amendment, EquivalenceTable, TopicScope
from accord.model.classification import Reclassification
from accord.model.investigation import (
    InvestigationConcluded,
    InvestigationStarted,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.matters import MatterState
from accord.model.rules import RuleRevoked
from accord.model.time import Duration
from accord.model.world import ConsentRecord, World
from accord.scenario.entry import Entry
from accord.scenario.source import show
from accord.scenario.spec import Act

Getter = Callable[[Any], object]

FIELDS: dict[str, tuple[tuple[str, Getter], ...]] = {
    "party": (
        ("name", lambda p: p.name),
        ("timezone", lambda p: p.timezone),
        ("levels", lambda p: p.levels),
    ),
    "agreement": (
        ("parties", lambda a: a.terms.parties),
        ("in_force_from", lambda a: a.in_force_from),
        ("timezone", lambda a: a.timezone),
        ("term", lambda a: a.terms.term),
        ("renewal", lambda a: a.terms.renewal),
        ("notice_period", lambda a: a.terms.notice_period),
        ("topics", lambda a: a.terms.topics),
        ("equivalence", lambda a: a.terms.equivalence),
        ("hub", lambda a: a.hub),
        ("title", lambda a: a.title),
    ),
    "user": (
        ("party", lambda u: u.party),
        ("clearance", lambda u: u.clearance),
        ("need_to_know", lambda u: u.need_to_know),
    ),
    # an item's markings; its title, content and STIX object are sealed (see the service)
    "item": (
        ("originator", lambda i: i.originator),
        ("level", lambda i: i.level),
        ("topics", lambda i: i.topics),
        ("releasable_to", lambda i: i.releasable_to),
        ("created", lambda i: i.created),
    ),
    "matter": (
        ("states", lambda m: m.states),
        ("initial", lambda m: m.initial),
    ),
    "standing rule": (
        ("originator", lambda r: r.originator),
        ("topics", lambda r: r.topics),
        ("max_level", lambda r: r.max_level),
        ("to", lambda r: r.recipients),
        ("routes", lambda r: tuple(route.label for route in r.routes)),
        ("from", lambda r: r.window.start),
        ("until", lambda r: r.window.until),
    ),
    "standing consent": (
        ("by", lambda c: c.by),
        ("holder", lambda c: c.holder),
        ("to", lambda c: c.recipients),
        ("topics", lambda c: c.topics),
        ("max_level", lambda c: c.max_level),
        ("from", lambda c: c.window.start),
        ("until", lambda c: c.window.until),
    ),
}


def dry_run_world(stored: World) -> World:
    """A world holding the store's definitions, to resolve and check a file against; adding
    to it never changes ``stored``."""
    return World(
        topics=set(stored.topics),
        parties=dict(stored.parties),
        agreements=dict(stored.agreements),
        agreement_events={k: list(v) for k, v in stored.agreement_events.items()},
        agreements_of=defaultdict(set, {k: set(v) for k, v in stored.agreements_of.items()}),
        users=dict(stored.users),
        items=dict(stored.items),
        matters=dict(stored.matters),
        matter_states=list(stored.matter_states),
        standing_rules=dict(stored.standing_rules),
        standing_consents=dict(stored.standing_consents),
        revoked=dict(stored.revoked),
    )


def check_same(entry: Entry, kind: str, file_value: object, stored_value: object) -> None:
    """Refuse a definition that differs from the stored one under the same id."""
    for name, get in FIELDS[kind]:
        ours, theirs = get(file_value), get(stored_value)
        if _comparable(ours) != _comparable(theirs):
            key = name if entry.has(name) else None
            zone = _written_zone(entry, name)
            raise DefinitionConflict(
                f"{entry.where(name)}: {kind} {show(entry.text(_id_field(kind)))} is already"
                f" in the store with {name} {_shown(theirs, zone)}; this file gives"
                f" {_shown(ours, zone)}",
                file=entry.source.file,
                line=entry.source.line((*entry.path, key) if key else entry.path),
                field=entry.where(name),
            )


def _id_field(kind: str) -> str:
    return "code" if kind == "party" else "id"


def _written_zone(entry: Entry, key: str) -> tzinfo | None:
    text = entry.data.get(key)
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).tzinfo
    except ValueError:
        return None


def _comparable(value: object) -> object:
    """Equal meaning, equal value: rows of a table in any order, ``P1Y`` and ``P12M``."""
    if isinstance(value, EquivalenceTable):
        return frozenset(frozenset(row.items()) for row in value.rows)
    if isinstance(value, Duration):
        return (value.months, value.exact)
    if isinstance(value, TopicScope):
        return value.topics
    return value


def _shown(value: object, zone: tzinfo | None) -> str:
    """A value as a scenario file writes it; instants in the file's own offset."""
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat() if zone else value.isoformat()
    if isinstance(value, Duration):
        return value.text
    if isinstance(value, TopicScope):
        return "all" if value.topics is None else show(sorted(value.topics))
    if isinstance(value, EquivalenceTable):
        return show([dict(row) for row in value.rows])
    if isinstance(value, frozenset):
        return show(sorted(value))
    if isinstance(value, tuple):
        return show(list(value))
    return show(str(value))


# --- events -------------------------------------------------------------------------------------


def recorded(stored: World, act: Act) -> bool:
    """Whether the store has already recorded this very act (same kind, instant and fields)."""
    if isinstance(act, Release):
        fields = (act.at, act.item, act.from_party, act.to_party, act.via)
        return any(
            (r.at, r.item, r.from_party, r.to_party, r.via) == fields for r in stored.releases
        )
    if isinstance(act, Consent):
        record = ConsentRecord(act.at, act.granted)
        return all(
            record in stored.consents.get((act.item, act.holder, recipient), ())
            for recipient in act.recipients
        )
    if isinstance(act, Destruction):
        return act in stored.destructions
    if isinstance(act, Compromise):
        return act in stored.compromises
    if isinstance(act, MatterState):
        return act in stored.matter_states
    if isinstance(act, Reclassification):
        return act in stored.reclassifications.get(act.item, ())
    if isinstance(act, InvestigationStarted | InvestigationConcluded):
        return act in stored.investigation_events.get((act.item, act.party), ())
    if isinstance(act, ReleaseHold | ReleaseHoldLifted):
        return act in stored.release_holds.get((act.by, act.holder), ())
    if isinstance(act, RuleRevoked):
        return stored.revoked.get(act.rule) == act.at
    return any(_same_event(act, e) for e in stored.agreement_events.get(act.agreement, ()))


def _same_event(ours: object, theirs: object) -> bool:
    if isinstance(ours, Amendment) and isinstance(theirs, Amendment):
        return (ours.at, ours.agreement, _changes(ours)) == (
            theirs.at,
            theirs.agreement,
            _changes(theirs),
        )
    return ours == theirs


def _changes(amendment: Amendment) -> dict[str, object]:
    return {key: _comparable(value) for key, value in amendment.changes.items()}
