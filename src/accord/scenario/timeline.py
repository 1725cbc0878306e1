"""A scenario's events: diplomatic events and acts on items, as model objects in time order.

Whether policy allows an event is for the runner to find out; here every reference must
resolve, and an act on an item cannot be dated before the item exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import (
    AMENDABLE,
    Amendment,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
)
from accord.scenario.articles import ARTICLE_ACTS, check_opened
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.source import show
from accord.scenario.spec import Act, ScenarioEvent


def scenario_events(entries: list[Entry], refs: References) -> tuple[ScenarioEvent, ...]:
    """Every event, sorted by instant; events at the same instant keep their file order."""
    pairs = [(scenario_event(entry, refs), entry) for entry in entries]
    ordered = sorted(pairs, key=lambda pair: pair[0].act.at)
    check_opened(ordered)  # Art. 17: an investigation step needs a report first
    return tuple(event for event, _ in ordered)


def scenario_event(entry: Entry, refs: References) -> ScenarioEvent:
    kind = entry.text("type")
    act = ACTS[kind](entry, refs, entry.instant("at"))
    return ScenarioEvent(
        line=entry.line,
        act=act,
        expect=entry.text("expect", "allow"),
        reason=entry.optional_text("reason"),
    )


# --- diplomatic events --------------------------------------------------------------------------


def _notice(entry: Entry, refs: References, at: datetime) -> Act:
    return TerminationNotice(at, refs.agreement(entry).id, refs.party(entry, "by").code)


def _suspended(entry: Entry, refs: References, at: datetime) -> Act:
    return NoticeSuspended(at, refs.agreement(entry).id, refs.party(entry, "by").code)


def _lifted(entry: Entry, refs: References, at: datetime) -> Act:
    return SuspensionLifted(
        at,
        refs.agreement(entry).id,
        refs.party(entry, "by").code,
        entry.instant("effective_at"),
    )


def _withdrawn(entry: Entry, refs: References, at: datetime) -> Act:
    return NoticeWithdrawn(at, refs.agreement(entry).id, refs.party(entry, "by").code)


def _amendment(entry: Entry, refs: References, at: datetime) -> Act:
    agreement = refs.agreement(entry)
    changes: dict[str, Any] = {}
    if entry.has("parties"):
        changes["parties"] = refs.party_codes(entry, "parties")
    if entry.has("equivalence"):
        table = refs.equivalence(entry, "equivalence")
        with entry.located("equivalence"):
            world = refs.world
            table.validate(agreement.id, frozenset(world.parties), world.parties)
        changes["equivalence"] = table
    if entry.has("topics"):
        changes["topics"] = refs.topic_scope(entry, "topics")
    if entry.has("term"):
        changes["term"] = entry.duration("term")
    if entry.has("notice_period"):
        changes["notice_period"] = entry.duration("notice_period")
    if entry.has("renewal"):
        changes["renewal"] = Renewal(entry.text("renewal"))
    if not changes:
        raise entry.fail(
            f"{entry.where()}: an amendment must change at least one of {', '.join(AMENDABLE)}"
        )
    return Amendment(at, agreement.id, changes)


# --- acts on items ------------------------------------------------------------------------------


def _item_exists(entry: Entry, refs: References, at: datetime) -> str:
    """The item's id; an act dated before the item was created is an error in the file."""
    item = refs.item(entry)
    if at < item.created:
        text = entry.text("at")
        created = item.created.astimezone(datetime.fromisoformat(text).tzinfo)
        raise entry.fail(
            f"{entry.where('at')}: {entry.text('type')} event at {show(text)} is before the item"
            f" exists ({item.id} is created at {created.isoformat()})",
            "at",
        )
    return item.id


def _release(entry: Entry, refs: References, at: datetime) -> Act:
    item = _item_exists(entry, refs, at)
    via = refs.optional_party(entry, "via")
    return Release(
        at,
        item,
        refs.party(entry, "from").code,
        refs.party(entry, "to").code,
        via.code if via is not None else None,
    )


def _consent(granted: bool) -> Callable[[Entry, References, datetime], Act]:
    def build(entry: Entry, refs: References, at: datetime) -> Act:
        item = _item_exists(entry, refs, at)
        return Consent(
            at,
            item,
            refs.party(entry, "by").code,
            refs.party(entry, "holder").code,
            refs.party_codes(entry, "to"),
            granted,
        )

    return build


def _destroy(entry: Entry, refs: References, at: datetime) -> Act:
    item = _item_exists(entry, refs, at)
    return Destruction(at, item, refs.party(entry, "party").code)


def _compromise(entry: Entry, refs: References, at: datetime) -> Act:
    item = _item_exists(entry, refs, at)
    discovered = entry.optional_instant("discovered_at")
    if discovered is not None and discovered > at:
        raise entry.fail(
            f"{entry.where('discovered_at')}: {show(entry.text('discovered_at'))} is after the"
            f" report ({show(entry.text('at'))}); a loss is discovered before it is reported",
            "discovered_at",
        )
    party = refs.party(entry, "party").code
    return Compromise(at, item, party, entry.text("description"), discovered)


def _on_item(
    build: Callable[[Entry, References, datetime], Act],
) -> Callable[[Entry, References, datetime], Act]:
    """An Art. 6(g)/17 act; one on an item cannot be dated before the item exists."""

    def checked(entry: Entry, refs: References, at: datetime) -> Act:
        if entry.has("item"):
            _item_exists(entry, refs, at)
        return build(entry, refs, at)

    return checked


ACTS: dict[str, Callable[[Entry, References, datetime], Act]] = {
    "termination_notice": _notice,
    "notice_suspended": _suspended,
    "suspension_lifted": _lifted,
    "notice_withdrawn": _withdrawn,
    "amendment": _amendment,
    "release": _release,
    "consent": _consent(True),
    "consent_refused": _consent(False),
    "destroy": _destroy,
    "compromise": _compromise,
    **{kind: _on_item(build) for kind, build in ARTICLE_ACTS.items()},
}
