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
    AmendmentAccepted,
    AmendmentProposed,
    AmendmentWithdrawn,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
)
from accord.model.matters import Condition, Consequence, ConsequenceKind, MatterState
from accord.scenario.articles import ARTICLE_ACTS, check_opened
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.source import show
from accord.scenario.spec import Act, ScenarioEvent
from accord.scenario.standing import rule_revoked


def scenario_events(entries: list[Entry], refs: References) -> tuple[ScenarioEvent, ...]:
    """Every event, sorted by instant; events at the same instant keep their file order."""
    pairs = [(scenario_event(entry, refs), entry) for entry in entries]
    pairs.sort(key=lambda pair: pair[0].act.at)
    check_mutual_amendments(pairs, refs)
    check_opened(pairs)  # Art. 17: an investigation step needs a report first
    return tuple(event for event, _ in pairs)


def scenario_event(entry: Entry, refs: References) -> ScenarioEvent:
    kind = entry.text("type")
    act = ACTS[kind](entry, refs, entry.instant("at"))
    return ScenarioEvent(
        line=entry.line,
        act=act,
        expect=entry.text("expect", "allow"),
        reason=entry.optional_text("reason"),
        written_zone=entry.written_zone("at"),
    )


# --- diplomatic events --------------------------------------------------------------------------


def _notice(entry: Entry, refs: References, at: datetime) -> Act:
    return TerminationNotice(at, refs.agreement(entry).id, refs.party(entry, "by").code)


def _suspended(entry: Entry, refs: References, at: datetime) -> Act:
    conditions = tuple(_condition(child, refs) for child in entry.children("conditions"))
    return NoticeSuspended(
        at, refs.agreement(entry).id, refs.party(entry, "by").code, conditions=conditions
    )


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
    """The one-step amendment: shorthand for a proposal and every acceptance at one instant."""
    agreement = refs.agreement(entry)
    return Amendment(at, agreement.id, _changes(entry, refs, agreement.id))


def _changes(entry: Entry, refs: References, agreement_id: str) -> dict[str, Any]:
    """The amendable fields an entry gives, as model values; at least one is required."""
    changes: dict[str, Any] = {}
    if entry.has("parties"):
        changes["parties"] = refs.party_codes(entry, "parties")
    if entry.has("equivalence"):
        table = refs.equivalence(entry, "equivalence")
        with entry.located("equivalence"):
            world = refs.world
            table.validate(agreement_id, frozenset(world.parties), world.parties)
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
    return changes


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


# --- matters and conditions (R15) ----------------------------------------------------------------


def _condition(entry: Entry, refs: References) -> Condition:
    """``{matter, holds_while: [states], on_failure}``; the matter and its states must exist."""
    matter = refs.matter(entry)
    states = entry.texts("holds_while")
    for index, state in enumerate(states):
        if state not in matter.states:
            raise entry.source.fail(
                f"{entry.where('holds_while')}[{index}]: matter {matter.id} has no state"
                f" {show(state)} (its states: {', '.join(matter.states)})",
                (*entry.path, "holds_while", index),
            )
    return Condition(matter.id, frozenset(states), _consequence(entry))


def _consequence(entry: Entry) -> Consequence:
    value = entry.data.get("on_failure")
    if isinstance(value, dict):
        text = str(value.get("end_after"))
        with entry.located("on_failure"):
            return Consequence.end_after(text, f"{entry.where('on_failure')}.end_after")
    return Consequence(ConsequenceKind(str(value)))


def _matter_state(entry: Entry, refs: References, at: datetime) -> Act:
    matter = refs.matter(entry)
    state = refs.matter_state(entry, "state", matter)
    return MatterState(at, matter.id, state, refs.party(entry, "by").code)


# --- amendments by mutual consent (Art. 21(2)) ---------------------------------------------------


def _proposed(entry: Entry, refs: References, at: datetime) -> Act:
    agreement = refs.agreement(entry)
    by = refs.party(entry, "by").code
    with entry.located("id"):
        return AmendmentProposed(
            at, agreement.id, by, entry.text("id"), _changes(entry, refs, agreement.id)
        )


def _accepted(entry: Entry, refs: References, at: datetime) -> Act:
    return AmendmentAccepted(
        at,
        refs.agreement(entry).id,
        refs.party(entry, "by").code,
        entry.text("amendment"),
        entry.instant("effective_at"),
    )


def _withdrawn_amendment(entry: Entry, refs: References, at: datetime) -> Act:
    return AmendmentWithdrawn(
        at, refs.agreement(entry).id, refs.party(entry, "by").code, entry.text("amendment")
    )


def check_mutual_amendments(pairs: list[tuple[ScenarioEvent, Entry]], refs: References) -> None:
    """In time order, what a file can get wrong about mutual amendments whatever policy
    decides: an id proposed twice, an acceptance or withdrawal of an amendment never proposed or
    already withdrawn, a withdrawal by anyone but the proposer, and an acceptance by a party
    that is not (and was never made) a party to the agreement."""
    proposals: dict[
        tuple[str, str], tuple[str, bool]
    ] = {}  # (agreement, id) -> proposer, withdrawn
    members = {aid: set(a.terms.parties) for aid, a in refs.world.agreements.items()}
    for event, entry in pairs:
        act = event.act
        if isinstance(act, Amendment | AmendmentProposed):
            members[act.agreement] |= set(act.changes.get("parties", ()))  # type: ignore[call-overload]
        if isinstance(act, AmendmentProposed):
            if (act.agreement, act.id) in proposals:
                raise entry.fail(
                    f"{entry.where('id')}: amendment {show(act.id)} of {act.agreement}"
                    " is proposed twice",
                    "id",
                )
            proposals[(act.agreement, act.id)] = (act.by, False)
        elif isinstance(act, AmendmentAccepted | AmendmentWithdrawn):
            _check_answer(act, entry, proposals, members[act.agreement])


def _check_answer(
    act: AmendmentAccepted | AmendmentWithdrawn,
    entry: Entry,
    proposals: dict[tuple[str, str], tuple[str, bool]],
    members: set[str],
) -> None:
    found = proposals.get((act.agreement, act.amendment))
    if found is None:
        raise entry.fail(
            f"{entry.where('amendment')}: no amendment {show(act.amendment)} of {act.agreement}"
            " is proposed before this event",
            "amendment",
        )
    proposer, withdrawn = found
    if withdrawn:
        raise entry.fail(
            f"{entry.where('amendment')}: amendment {show(act.amendment)} of {act.agreement}"
            f" was withdrawn by {proposer} before this event",
            "amendment",
        )
    if isinstance(act, AmendmentWithdrawn):
        if act.by != proposer:
            raise entry.fail(
                f"{entry.where('by')}: {show(act.by)} cannot withdraw amendment"
                f" {act.amendment}: only its proposer {proposer} can",
                "by",
            )
        proposals[(act.agreement, act.amendment)] = (proposer, True)
    elif act.by not in members:
        raise entry.fail(
            f"{entry.where('by')}: {show(act.by)} is not a party to {act.agreement}"
            f" (its parties: {', '.join(sorted(members))}) and cannot accept its amendments",
            "by",
        )


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
    # R15 and Art. 21(2)
    "matter_state": _matter_state,
    "amendment_proposed": _proposed,
    "amendment_accepted": _accepted,
    "amendment_withdrawn": _withdrawn_amendment,
    **{kind: _on_item(build) for kind, build in ARTICLE_ACTS.items()},
    "rule_revoked": rule_revoked,
}
