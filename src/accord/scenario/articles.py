"""A scenario's Art. 6(g), 6(h) and 17 parts: reclassifications, investigation steps, release
holds, an item's retention, an agreement's deadlines, and the checks on markings, duties and
investigations. Every failure names the file, line, field and value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from accord.model.acts import Compromise
from accord.model.classification import Reclassification
from accord.model.duties import DutyKind, DutyState
from accord.model.investigation import (
    DEFAULT_DEADLINES,
    Deadlines,
    InvestigationConcluded,
    InvestigationResult,
    InvestigationStarted,
    InvestigationState,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.time import iso
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.source import show
from accord.scenario.spec import (
    Act,
    DutyCheck,
    InvestigationCheck,
    MarkingCheck,
    ScenarioEvent,
)

NO_FLAG = "none"
NO_INVESTIGATION = "none"

# --- definitions --------------------------------------------------------------------------------


def deadlines(entry: Entry) -> Deadlines:
    """An agreement's ``report_within``, ``conclude_within`` and ``return_within`` (defaults
    P1D, P30D, P30D)."""
    found = {
        key: entry.duration(key)
        for key in ("report_within", "conclude_within", "return_within")
        if entry.has(key)
    }
    if not found:
        return DEFAULT_DEADLINES
    return Deadlines(
        found.get("report_within") or DEFAULT_DEADLINES.report_within,
        found.get("conclude_within") or DEFAULT_DEADLINES.conclude_within,
        found.get("return_within") or DEFAULT_DEADLINES.return_within,
    )


def retention(entry: Entry, created: datetime) -> tuple[str | None, datetime | None]:
    """An item's ``purpose`` and ``retain_until``; ``retain_until`` cannot precede ``created``."""
    until = entry.optional_instant("retain_until")
    if until is not None and until < created:
        raise entry.fail(
            f"{entry.where('retain_until')}: {show(entry.text('retain_until'))} is before the"
            f" item is created ({show(entry.text('created'))}); a copy cannot be due for return"
            " before the item exists",
            "retain_until",
        )
    return entry.optional_text("purpose"), until


# --- events -------------------------------------------------------------------------------------


def reclassify(entry: Entry, refs: References, at: datetime) -> Act:
    """Only the originator reclassifies, and only to a level of its own scheme."""
    item = refs.item(entry)
    by = refs.party(entry, "by")
    if by.code != item.originator:
        raise entry.fail(
            f"{entry.where('by')}: {show(by.code)} is not the originator of {item.id}"
            f" ({item.originator} is); only the originator changes its classification",
            "by",
        )
    originator = refs.world.parties[item.originator]
    level = refs.level(entry, "level", originator) if entry.has("level") else None
    releasable = refs.party_codes(entry, "releasable_to") if entry.has("releasable_to") else None
    return Reclassification(at, item.id, by.code, level, releasable)


def investigation_started(entry: Entry, refs: References, at: datetime) -> Act:
    return InvestigationStarted(at, refs.item(entry).id, refs.party(entry, "party").code)


def investigation_concluded(entry: Entry, refs: References, at: datetime) -> Act:
    return InvestigationConcluded(
        at,
        refs.item(entry).id,
        refs.party(entry, "party").code,
        InvestigationResult(entry.text("result")),
        entry.text("measures"),
    )


def release_hold(entry: Entry, refs: References, at: datetime) -> Act:
    return ReleaseHold(at, refs.party(entry, "by").code, refs.party(entry, "holder").code)


def release_hold_lifted(entry: Entry, refs: References, at: datetime) -> Act:
    return ReleaseHoldLifted(at, refs.party(entry, "by").code, refs.party(entry, "holder").code)


ARTICLE_ACTS: dict[str, Callable[[Entry, References, datetime], Act]] = {
    "reclassify": reclassify,
    "investigation_started": investigation_started,
    "investigation_concluded": investigation_concluded,
    "release_hold": release_hold,
    "release_hold_lifted": release_hold_lifted,
}


def check_opened(events: Sequence[tuple[ScenarioEvent, Entry]]) -> None:
    """An investigation step needs a compromise report of that copy at or before it
    (``events`` in time order, each with its entry)."""
    reported: set[tuple[str, str]] = set()
    for event, entry in events:
        act = event.act
        if isinstance(act, Compromise):
            reported.add((act.item, act.party))
        elif (
            isinstance(act, InvestigationStarted | InvestigationConcluded)
            and (act.item, act.party) not in reported
        ):
            raise entry.fail(
                f"{entry.where('type')}: {act.kind} of {act.item} by {act.party} at {iso(act.at)}:"
                f" no investigation was opened (no compromise of {act.party}'s copy of {act.item}"
                " is reported at or before it)",
                "type",
            )


# --- checks -------------------------------------------------------------------------------------


def marking_check(entry: Entry, refs: References) -> MarkingCheck:
    party = refs.party(entry, "party")
    flag = entry.optional_text("flag")
    return MarkingCheck(
        line=entry.line,
        at=entry.instant("at"),
        item=refs.item(entry).id,
        party=party.code,
        level=refs.level(entry, "level", party),
        flag=None if flag is None else ("" if flag == NO_FLAG else flag),
    )


def duty_check(entry: Entry, refs: References) -> DutyCheck:
    state = entry.optional_text("state")
    late = entry.data.get("late")
    return DutyCheck(
        line=entry.line,
        at=entry.instant("at"),
        party=refs.party(entry, "party").code,
        kind=DutyKind(entry.text("kind")),
        due=entry.instant("due"),
        item=refs.item(entry).id if entry.has("item") else None,
        agreement=refs.agreement(entry).id if entry.has("agreement") else None,
        state=DutyState(state) if state is not None else None,
        late=bool(late) if late is not None else None,
    )


def investigation_check(entry: Entry, refs: References) -> InvestigationCheck:
    state = entry.text("state")
    result = entry.optional_text("result")
    flags = {k: bool(entry.data[k]) for k in ("reported_late", "concluded_late") if entry.has(k)}
    return InvestigationCheck(
        line=entry.line,
        at=entry.instant("at"),
        item=refs.item(entry).id,
        party=refs.party(entry, "party").code,
        state=None if state == NO_INVESTIGATION else InvestigationState(state),
        result=InvestigationResult(result) if result is not None else None,
        reported_late=flags.get("reported_late"),
        concluded_late=flags.get("concluded_late"),
    )


ARTICLE_CHECKS: dict[
    str, Callable[[Entry, References], MarkingCheck | DutyCheck | InvestigationCheck]
] = {
    "marking": marking_check,
    "duty": duty_check,
    "investigation": investigation_check,
}
