"""A small reference implementation of accord's rules, written from the rules (docs/rules.md),
not from the code.

It works on the plain-dict world specs of ``tests.worlds.world_specs`` and on a list of recorded
acts (plain tuples), and answers the same questions as ``accord.policy``: an agreement's status
at an instant (R6), whether a release is allowed and why (R1, R2, R4, R5, R8, R10), and whether
a user may read an item and why (R3, R7, R10). It imports nothing from ``accord``; wall-clock
arithmetic is its own (stdlib ``zoneinfo`` and ``calendar`` only). It favours the obvious over
the fast: term ends are enumerated one by one from the entry into force, and every question is
answered by re-reading the whole act log up to the instant asked about.

Acts (all instants aware UTC datetimes; the log is kept in time order):

    ("notice", at, agreement, by)           termination notice
    ("suspend", at, agreement, by)          notice suspended
    ("lift", at, agreement, by, effective)  suspension lifted; the agreement ends at ``effective``
    ("withdraw", at, agreement, by)         notice withdrawn
    ("release", at, item, frm, to, via, copies)  an allowed release and the Copy objects it made
    ("consent", at, item, holder, to, granted)
    ("destroy", at, item, party)
    ("propose", at, agreement, by, pid, changes)   amendment proposed (Art. 21(2)); ``changes``
                                            maps "notice", "rows" or "topics" to new values
    ("accept", at, agreement, by, pid, effective)  accepted by ``by``, in force from ``effective``
    ("retract", at, agreement, by, pid)     proposal withdrawn by its proposer
    ("suspend", at, agreement, by, conditions)  a suspension conditional on matters (R15):
                                            conditions are (matter, states, consequence) with
                                            consequence ("end_after", (months, days)),
                                            ("term_end",) or ("none",)
    ("matter", at, matter, state)           a matter's new state
    ("reclassify", at, item, by, level, releasable)  by the originator; level or releasable None
                                                     when unchanged (Art. 6(g))

Decisions where the rules are silent follow the choices documented in
``accord/policy/lifecycle.py`` (they are choices, not code, and are restated here):

- a notice to an agreement that renews automatically and has a term ends it at the first term
  end E with ``delivered <= E - notice period`` (wall clock); with no notice period, at the first
  term end strictly after delivery (a notice delivered exactly at a term end is in the new term);
- a notice to an indefinite or non-renewing agreement ends it the notice period after delivery
  (at delivery without a period), or at its natural end if that comes first;
- a lifted suspension ends the agreement at ``effective`` (or at its natural end if sooner);
- only one notice at a time; only the notifying party suspends, lifts or withdraws it;
- a release to a party that already holds a live copy is denied (``already-held``);
- when several agreements cover a release, it is made (and marked) under the first of them:
  agreements without a hub before arrangements with one, then by id (docs/semantics.md);
- a hub arrangement covers a direct release only when the hub is the sender or the recipient;
- a notice keeps the notice period in force when it was delivered (docs/semantics.md);
- a conditional suspension is allowed only while its conditions hold; the first later matter
  state outside a condition's states, while the notice is suspended, is its failure: ``end_after``
  ends the agreement that long after it (wall clock), ``term_end`` at the first term end after
  it (the notice period after it without a term), ``none`` keeps the suspension;
- an amendment is in force once every party but its proposer has accepted it, from the latest
  effective instant they gave, unless the agreement had ended by then; it applies to every act
  after its last acceptance dated at or after that instant; a proposal may be withdrawn by its
  proposer only, and neither accepted nor withdrawn once withdrawn or agreed.

Reclassification (Art. 6(g)), restated from docs/semantics.md: from its instant the item's
level and releasable-to list are the new ones (R5 uses the list in force); a change of level
reaches every copy received at or before the change's instant: from then the copy is marked,
under the table of the agreement it was received under, with the party's level equal to the
new one, or, when that table has none, with the party's highest level and flagged not-covered;
the originator's own copy simply takes the new level. A copy received after the change keeps
the marking it was given at its release (from the sender's marking at that instant).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Act = tuple[Any, ...]


# --- wall-clock arithmetic ------------------------------------------------------------------


def shift(instant: datetime, tz: str, months: int, days: int) -> datetime:
    """``instant`` moved by whole months (day clamped to the month's end) and whole days on
    ``tz``'s wall clock, in UTC. A wall time in a gap or overlap takes fold=0 (the offset in
    force before the transition), which is the stdlib's reading of a plain local time."""
    zone = ZoneInfo(tz)
    local = instant.astimezone(zone).replace(tzinfo=None)
    month0 = local.month - 1 + months
    year = local.year + month0 // 12
    month = month0 % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    moved = local.replace(year=year, month=month, day=day) + timedelta(days=days)
    return moved.replace(tzinfo=zone).astimezone(UTC)


def term_ends(agreement: Mapping[str, Any]) -> Iterator[datetime]:
    """Entry into force + 1, 2, 3... terms, each counted from the entry into force."""
    months, days = agreement["term"]
    k = 1
    while True:
        yield shift(agreement["start"], agreement["tz"], k * months, k * days)
        k += 1


def deadline(agreement: Mapping[str, Any], end: datetime) -> datetime:
    """The last instant a notice may be delivered to end the agreement at ``end``."""
    months, days = agreement["notice"]
    return shift(end, agreement["tz"], -months, -days)


# --- R6 ---------------------------------------------------------------------------------------


# --- amendments by mutual consent -----------------------------------------------------------


@dataclass
class Proposal:
    by: str
    changes: Mapping[str, Any]
    accepted: dict[str, tuple[datetime, datetime]]  # party -> (accepted at, effective)
    last_index: int = -1  # log index of the latest acceptance
    withdrawn: datetime | None = None


def proposals_in(acts: Sequence[Act], aid: str) -> dict[str, Proposal]:
    """Every proposal on ``aid`` in the log, with its acceptances and withdrawal."""
    found: dict[str, Proposal] = {}
    for index, act in enumerate(acts):
        if act[2] != aid:
            continue
        if act[0] == "propose":
            found[act[4]] = Proposal(act[3], act[5], {})
        elif act[0] == "accept":
            found[act[4]].accepted[act[3]] = (act[1], act[5])
            found[act[4]].last_index = index
        elif act[0] == "retract":
            found[act[4]].withdrawn = act[1]
    return found


def agreed(agreement: Mapping[str, Any], proposal: Proposal) -> bool:
    return proposal.withdrawn is None and set(proposal.accepted) == set(agreement["parties"]) - {
        proposal.by
    }


def terms_as_of(
    agreement: Mapping[str, Any],
    aid: str,
    acts: Sequence[Act],
    at: datetime,
    upto: int | None = None,
) -> dict[str, Any]:
    """The agreement's amendable terms for an act at ``at`` that comes after ``acts[:upto]``:
    the base terms, then each amendment agreed within those acts, effective at or before ``at``
    and not after the agreement ended, in order of effective instant (then of agreement)."""
    prior = acts if upto is None else acts[:upto]
    terms = dict(agreement)
    in_force = []
    for proposal in proposals_in(prior, aid).values():
        if not agreed(agreement, proposal):
            continue
        effective = max(e for _, e in proposal.accepted.values())
        if effective > at or ended_before(agreement, aid, acts, effective, proposal.last_index):
            continue
        in_force.append((effective, proposal.last_index, proposal.changes))
    for _, _, changes in sorted(in_force, key=lambda c: c[:2]):
        terms.update(changes)
    return terms


def ended_before(
    agreement: Mapping[str, Any], aid: str, acts: Sequence[Act], effective: datetime, index: int
) -> bool:
    """Whether the agreement has ended by ``effective``, on the acts that precede the amendment
    agreed by ``acts[index]``: those up to it, and those dated before ``effective``."""
    count = max(index + 1, sum(1 for act in acts if act[1] < effective))
    end = end_as_of(agreement, aid, acts[:count], effective)
    return end is not None and end <= effective


def amendment_allowed(agreement: Mapping[str, Any], acts: Sequence[Act], event: Act) -> bool:
    kind, at, aid, by, pid = event[:5]
    if by not in agreement["parties"]:
        return False
    proposals = proposals_in(acts, aid)
    if kind == "propose":
        return pid not in proposals
    proposal = proposals.get(pid)
    if proposal is None or proposal.withdrawn is not None or agreed(agreement, proposal):
        return False
    if kind == "retract":
        return by == proposal.by
    return by != proposal.by and by not in proposal.accepted and event[5] >= at


# --- R6 ---------------------------------------------------------------------------------------


@dataclass
class Notice:
    by: str
    delivered: datetime
    suspended: bool = False
    effective: datetime | None = None
    index: int = 0  # its place in the log (which amendments came before it)
    conditions: tuple[Any, ...] = ()
    failure: tuple[datetime, Any] | None = None  # when a condition failed, and its consequence


def notice_as_of(acts: Sequence[Act], aid: str, at: datetime) -> Notice | None:
    notice: Notice | None = None
    for index, act in enumerate(acts):
        if act[0] == "matter" and act[1] <= at and notice is not None:
            fail(notice, act)
            continue
        if act[1] > at or act[2] != aid:
            continue
        kind = act[0]
        if kind == "notice":
            notice = Notice(act[3], act[1], index=index)
        elif kind == "suspend" and notice is not None:
            notice.suspended = True
            notice.conditions = act[4] if len(act) > 4 else ()
            notice.failure = None
        elif kind == "lift" and notice is not None:
            notice.suspended = False
            notice.effective = act[4]
        elif kind == "withdraw":
            notice = None
    return notice


def fail(notice: Notice, act: Act) -> None:
    """A matter's new state: a suspended notice whose condition it breaks resumes, unless the
    condition's consequence is none (R15)."""
    if not notice.suspended or notice.failure is not None:
        return
    for matter, states, consequence in notice.conditions:
        if matter == act[2] and act[3] not in states and consequence[0] != "none":
            notice.suspended = False
            notice.failure = (act[1], consequence)
            return


def failure_end(
    agreement: Mapping[str, Any], failed: datetime, consequence: Any, period: Any
) -> datetime:
    if consequence[0] == "end_after":
        months, days = consequence[1]
        return shift(failed, agreement["tz"], months, days)
    if agreement["term"] is not None:
        return next(end for end in term_ends(agreement) if end > failed)
    if period is None:
        return failed
    return shift(failed, agreement["tz"], period[0], period[1])


def notice_end(
    agreement: Mapping[str, Any], notice: Notice, aid: str = "", acts: Sequence[Act] = ()
) -> datetime:
    """Where the notice ends the agreement, under the notice period in force at its delivery."""
    if notice.effective is not None:
        return notice.effective
    period = terms_as_of(agreement, aid, acts, notice.delivered, notice.index)["notice"]
    if notice.failure is not None:
        return failure_end(agreement, notice.failure[0], notice.failure[1], period)
    at_delivery = dict(agreement, notice=period)
    if agreement["term"] is not None and agreement["renewal"]:
        for end in term_ends(agreement):
            if period is None:
                if end > notice.delivered:
                    return end
            elif notice.delivered <= deadline(at_delivery, end):
                return end
    if period is None:
        return notice.delivered
    months, days = period
    return shift(notice.delivered, agreement["tz"], months, days)


def end_as_of(
    agreement: Mapping[str, Any], aid: str, acts: Sequence[Act], at: datetime
) -> datetime | None:
    """When the agreement ends, as far as the acts up to ``at`` say (None: not foreseen)."""
    ends = []
    if agreement["term"] is not None and not agreement["renewal"]:
        ends.append(next(term_ends(agreement)))
    notice = notice_as_of(acts, aid, at)
    if notice is not None and not notice.suspended:
        ends.append(notice_end(agreement, notice, aid, acts))
    return min(ends) if ends else None


def status(spec: Mapping[str, Any], acts: Sequence[Act], aid: str, at: datetime) -> str:
    agreement = spec["agreements"][aid]
    if at < agreement["start"]:
        return "not_yet_in_force"
    end = end_as_of(agreement, aid, acts, at)
    if end is not None and at >= end:
        return "terminated"
    notice = notice_as_of(acts, aid, at)
    if notice is not None and not notice.suspended:
        return "notice_pending"
    return "in_force"


def matter_state(spec: Mapping[str, Any], acts: Sequence[Act], matter: str, at: datetime) -> str:
    state = spec["matters"][matter]["initial"]
    for act in acts:
        if act[0] == "matter" and act[2] == matter and act[1] <= at:
            state = act[3]
    return state


def in_force(spec: Mapping[str, Any], acts: Sequence[Act], aid: str, at: datetime) -> bool:
    return status(spec, acts, aid, at) in ("in_force", "notice_pending")


def event_allowed(spec: Mapping[str, Any], acts: Sequence[Act], event: Act) -> bool:
    """Whether a lifecycle event may happen (acts are all at or before the event)."""
    kind, at, aid, by = event[:4]
    agreement = spec["agreements"][aid]
    if not in_force(spec, acts, aid, at):
        return False
    if kind in ("propose", "accept", "retract"):
        return amendment_allowed(agreement, acts, event)
    notice = notice_as_of(acts, aid, at)
    if kind == "notice":
        return by in agreement["parties"] and notice is None
    if notice is None or by != notice.by:
        return False
    if kind == "suspend":
        conditions = event[4] if len(event) > 4 else ()
        holding = all(matter_state(spec, acts, m, at) in states for m, states, _ in conditions)
        return not notice.suspended and holding
    if kind == "lift":
        return notice.suspended and event[4] >= at
    return kind == "withdraw"


# --- holdings -----------------------------------------------------------------------------------


@dataclass
class Copy:
    party: str
    level: str
    received: datetime
    destroyed: datetime | None = None
    via: str | None = None
    agreement: str | None = None


def copies(spec: Mapping[str, Any], acts: Sequence[Act], iid: str, party: str) -> list[Copy]:
    """Every copy ``party`` ever had of ``iid``, oldest first, replaying the whole log."""
    item = spec["items"][iid]
    found: list[Copy] = []
    if party == item["originator"]:
        found.append(Copy(party, item["level"], item["created"]))
    for act in acts:
        if act[0] == "release" and act[2] == iid:
            found.extend(replace(c) for c in act[6] if c.party == party)
        elif act[0] == "destroy" and act[2] == iid and act[3] == party:
            live = [c for c in found if c.received <= act[1] and c.destroyed is None]
            live[-1].destroyed = act[1]
    return sorted(found, key=lambda c: c.received)  # stable: later acts stay later


def copy_at(
    spec: Mapping[str, Any], acts: Sequence[Act], iid: str, party: str, at: datetime
) -> Copy | None:
    """The copy most recently received at or before ``at``, destroyed or not."""
    known = [c for c in copies(spec, acts, iid, party) if c.received <= at]
    return known[-1] if known else None


def live(copy: Copy | None, at: datetime) -> bool:
    return copy is not None and (copy.destroyed is None or at < copy.destroyed)


def classification(
    spec: Mapping[str, Any], acts: Sequence[Act], iid: str, at: datetime
) -> tuple[str, list[str]]:
    """The item's level and releasable-to list at ``at`` (Art. 6(g))."""
    item = spec["items"][iid]
    level, releasable = item["level"], list(item["releasable"])
    for act in acts:
        if act[0] == "reclassify" and act[2] == iid and act[1] <= at:
            level = act[4] if act[4] is not None else level
            releasable = sorted(act[5]) if act[5] is not None else releasable
    return level, releasable


def marking(
    spec: Mapping[str, Any], acts: Sequence[Act], iid: str, copy: Copy, at: datetime
) -> tuple[str, bool]:
    """``copy``'s level at ``at`` and whether it is flagged not-covered."""
    item = spec["items"][iid]
    reached = [
        act
        for act in acts
        if act[0] == "reclassify"
        and act[2] == iid
        and act[4] is not None
        and copy.received <= act[1] <= at
    ]
    if not reached:
        return copy.level, False
    level = classification(spec, acts, iid, at)[0]
    if copy.party == item["originator"]:
        return level, False
    assert copy.agreement is not None
    other = equivalent(spec["agreements"][copy.agreement], item["originator"], level, copy.party)
    if other is None:
        return spec["parties"][copy.party]["levels"][-1], True
    return other, False


def consented(acts: Sequence[Act], iid: str, holder: str, to: str, at: datetime) -> bool:
    answer = False
    for act in acts:
        if act[0] == "consent" and act[1] <= at and act[2:4] == (iid, holder) and to in act[4]:
            answer = act[5]
    return answer


# --- R1, R2, R4, R5, R8, R10: release ---------------------------------------------------------


def equivalent(agreement: Mapping[str, Any], party: str, level: str, other: str) -> str | None:
    for row in agreement["rows"]:
        if row.get(party) == level:
            return row.get(other)
    return None


@dataclass
class Verdict:
    allowed: bool
    codes: set[str]
    agreement: str | None = None
    copies: tuple[Copy, ...] = ()


def holder_codes(
    spec: Mapping[str, Any],
    acts: Sequence[Act],
    iid: str,
    frm: str,
    to: str,
    via: str | None,
    at: datetime,
) -> set[str]:
    """The reasons that do not depend on any agreement: copies held, R4, R5, R10."""
    item = spec["items"][iid]
    origin = item["originator"]
    releasable = classification(spec, acts, iid, at)[1]
    codes: set[str] = set()
    own = copy_at(spec, acts, iid, frm, at)
    if own is None:
        codes.add("not-held")
    elif not live(own, at):
        codes.add("destroyed")
    hops = [(frm, to)] if via is None else [(frm, via), (via, to)]
    for holder, recipient in hops:
        if recipient != origin and recipient not in releasable:  # R5, as reclassified
            codes.add("not-releasable-to")
        # R4: a third party needs the originator's consent; giving it back to the originator does not
        if origin not in (holder, recipient) and not consented(acts, iid, holder, recipient, at):
            codes.add("no-originator-consent")
    if live(copy_at(spec, acts, iid, to, at), at):
        codes.add("already-held")
    return codes


def routes_for(spec: Mapping[str, Any], frm: str, to: str, via: str | None) -> list[str]:
    """Agreements that could carry the release at all (R1 direct, R8 through a hub), in the
    order they are tried: agreements without a hub first, then by id."""
    found = []
    for aid, a in spec["agreements"].items():
        members = set(a["parties"])
        direct = via is None and {frm, to} <= members and a["hub"] in (None, frm, to)
        routed = via is not None and a["hub"] == via and {frm, via, to} <= members
        if direct or routed:
            found.append(aid)
    return sorted(found, key=lambda aid: (spec["agreements"][aid]["hub"] is not None, aid))


def coverage_problems(
    spec: Mapping[str, Any],
    acts: Sequence[Act],
    aid: str,
    item: Mapping[str, Any],
    frm: str,
    level: str | None,
    targets: Sequence[str],
    at: datetime,
) -> set[str]:
    """R1 for one agreement, with its terms as amended by then: why it does not cover the
    release (empty when it does)."""
    a = terms_as_of(spec["agreements"][aid], aid, acts, at)
    problems = set()
    if not in_force(spec, acts, aid, at):
        problems.add("agreement-not-in-force")
    if level is not None and any(equivalent(a, frm, level, t) is None for t in targets):
        problems.add("level-not-covered")
    if a["topics"] is not None and not set(item["topics"]) <= set(a["topics"]):
        problems.add("topic-out-of-scope")
    return problems


def decide_release(
    spec: Mapping[str, Any],
    acts: Sequence[Act],
    iid: str,
    frm: str,
    to: str,
    via: str | None,
    at: datetime,
) -> Verdict:
    item = spec["items"][iid]
    codes = holder_codes(spec, acts, iid, frm, to, via, at)
    own = copy_at(spec, acts, iid, frm, at)
    # the sender's own marking; the item's level for an originator that has no copy yet
    level = marking(spec, acts, iid, own, at)[0] if own is not None else None
    if own is None and frm == item["originator"]:
        level = item["level"]
    targets = [to] if via is None else [via, to]
    candidates = routes_for(spec, frm, to, via)
    if not candidates:
        return Verdict(False, codes | {"no-agreement" if via is None else "no-hub-route"})
    route_codes: set[str] = set()
    for aid in candidates:  # the first agreement that covers is the one used
        problems = coverage_problems(spec, acts, aid, item, frm, level, targets, at)
        if problems:
            route_codes |= problems
            continue
        if codes:  # an agreement covers, but something else forbids it
            return Verdict(False, codes)
        a = terms_as_of(spec["agreements"][aid], aid, acts, at)
        assert level is not None
        made = []
        if via is not None and not live(copy_at(spec, acts, iid, via, at), at):
            made.append(Copy(via, equivalent(a, frm, level, via) or "?", at, agreement=aid))
        made.append(Copy(to, equivalent(a, frm, level, to) or "?", at, via=via, agreement=aid))
        return Verdict(True, {"release-allowed"}, aid, tuple(made))
    return Verdict(False, codes | route_codes)


# --- R3, R7, R10: read ------------------------------------------------------------------------


def decide_read(
    spec: Mapping[str, Any], acts: Sequence[Act], uid: str, iid: str, at: datetime
) -> Verdict:
    """Agreements play no part: a copy stays readable (and protected) after they end (R7)."""
    user = spec["users"][uid]
    item = spec["items"][iid]
    party = user["party"]
    levels = spec["parties"][party]["levels"]
    codes = set()
    copy = copy_at(spec, acts, iid, party, at)
    if copy is None:
        codes.add("not-held")
    elif not live(copy, at):
        codes.add("destroyed")
    elif levels.index(user["clearance"]) < levels.index(marking(spec, acts, iid, copy, at)[0]):
        # Intentional: for a destroyed copy the oracle, like production, reports ``destroyed``
        # alone; whether clearance-too-low also "applies" to an unreadable copy is left open.
        codes.add("clearance-too-low")
    if not set(item["topics"]) <= set(user["ntk"]):
        codes.add("no-need-to-know")
    if codes:
        return Verdict(False, codes)
    return Verdict(True, {"read-allowed"})
