"""R6: an agreement's state at any instant, as a pure function of its definition and events.

A ``Timeline`` folds the event log into segments that each start at an event instant and carry
the terms, the term schedule, the outstanding notice and the instant the agreement then ends.
Events are checked before they are applied, so a timeline only ever holds a valid history, and
the state at ``t`` depends only on events at or before ``t``.

Decisions where R6 is silent, made here and documented in docs/semantics.md:
- a notice to an agreement with automatic renewal and a term ends it at the first term end that
  lies at least the notice period after delivery (deadline = end - period, on the wall clock);
- a notice to an indefinite agreement, or one that does not renew, ends it the notice period
  after delivery (at delivery when there is no notice period), or at its natural end if sooner;
- at most one notice is outstanding; only the notifying party may suspend, lift or withdraw it;
- a term amendment re-counts terms of the new length from the start of the current term, and is
  refused if the current term would then already be over;
- a notice keeps the notice period in force when it was delivered, whatever a later amendment
  does to the notice period;
- matter states (R15) are applied before agreement events at the same instant; conditions and
  their consequences are in ``accord.policy.conditions``;
- a mutual amendment (Art. 21(2)) takes effect when every party other than the proposer has
  accepted, at the latest ``effective_at`` they gave; until then it changes nothing, and it does
  not take effect if the agreement has ended by then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from accord.errors import AccordError, Refused
from accord.model.agreement import (
    AMENDABLE,
    Agreement,
    AgreementEvent,
    Amendment,
    AmendmentAccepted,
    AmendmentProposed,
    AmendmentWithdrawn,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
    Terms,
)
from accord.model.matters import Matter, MatterState
from accord.model.party import Party
from accord.model.time import (
    BeyondCalendar,
    Duration,
    add_on_wall_clock,
    iso,
    subtract_on_wall_clock,
)
from accord.policy import conditions
from accord.policy.conditions import HeldCondition
from accord.policy.reasons import Code, Decision, Reason, allow, deny


class Status(StrEnum):
    NOT_YET_IN_FORCE = "not_yet_in_force"
    IN_FORCE = "in_force"
    NOTICE_PENDING = "notice_pending"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Term ends at ``anchor + k * term`` (k >= 1) on the reference zone's wall clock."""

    anchor: datetime
    term: Duration | None
    tz: ZoneInfo

    def boundary(self, k: int) -> datetime:
        assert self.term is not None
        return add_on_wall_clock(self.anchor, self.term, self.tz, k) if k else self.anchor

    def index_after(self, t: datetime) -> int:
        """The smallest k >= 1 whose boundary is after ``t``."""
        return self.first(1, lambda end: end > t)

    def first(self, start: int, holds: Callable[[datetime], bool]) -> int:
        """The smallest k >= ``start`` whose boundary satisfies ``holds``, a condition that stays
        true once true (boundaries only move forward). Galloping, then bisection: O(log k)
        boundaries, whatever the ratio of the interval to the term. A boundary beyond the
        calendar counts as satisfying it."""

        def ok(k: int) -> bool:
            try:
                return holds(self.boundary(k))
            except BeyondCalendar:
                return True

        if ok(start):
            return start
        low, step = start, 1
        while not ok(low + step):
            low, step = low + step, step * 2
        high = low + step  # ok(high) and not ok(low)
        while high - low > 1:
            middle = (low + high) // 2
            if ok(middle):
                high = middle
            else:
                low = middle
        return high

    def next_after(self, t: datetime) -> datetime | None:
        return None if self.term is None else self.boundary(self.index_after(t))

    def start_of_term(self, t: datetime) -> datetime:
        """The start of the term that contains ``t`` (the anchor for an indefinite agreement)."""
        return self.anchor if self.term is None else self.boundary(self.index_after(t) - 1)


@dataclass(frozen=True, slots=True)
class Notice:
    delivered_at: datetime
    by: str
    period: Duration | None  # the notice period in force at delivery
    suspended: bool = False
    effective_at: datetime | None = None  # set when a suspension is lifted or its condition fails
    conditions: tuple[HeldCondition, ...] = ()  # of the latest suspension (R15)
    failed_condition: str | None = None  # the matter whose condition's failure resumed it


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed amendment and what has happened to it: acceptances as (party, accepted at,
    effective at), withdrawal, and the instant it takes effect once every other party accepted."""

    id: str
    by: str
    at: datetime
    changes: Mapping[str, object]
    accepted: tuple[tuple[str, datetime, datetime], ...] = ()
    withdrawn_at: datetime | None = None
    in_force_at: datetime | None = None
    agreed_at: datetime | None = None  # the instant of the last acceptance

    def status(self, at: datetime) -> str:
        """``proposed``, ``agreed`` (accepted by all, not yet effective), ``in_force`` or
        ``withdrawn``, as of ``at``."""
        if self.withdrawn_at is not None and self.withdrawn_at <= at:
            return "withdrawn"
        if self.agreed_at is not None and self.agreed_at <= at:
            assert self.in_force_at is not None
            return "in_force" if self.in_force_at <= at else "agreed"
        return "proposed"

    def as_dict(self, at: datetime) -> dict[str, object]:
        return {
            "id": self.id,
            "by": self.by,
            "proposed_at": iso(self.at),
            "changes": sorted(self.changes),
            "status": self.status(at),
            "accepted_by": [
                {"party": p, "at": iso(when), "effective_at": iso(eff)}
                for p, when, eff in self.accepted
                if when <= at
            ],
            "effective_at": (
                iso(self.in_force_at)
                if self.in_force_at and self.agreed_at and self.agreed_at <= at
                else None
            ),
        }


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime
    terms: Terms
    schedule: Schedule
    notice: Notice | None
    ends_at: datetime | None
    ended_by: str | None


@dataclass(frozen=True, slots=True)
class AgreementState:
    """What an agreement is at one instant, with the instants a user asks about."""

    agreement: str
    at: datetime
    status: Status
    terms: Terms
    term_end: datetime | None
    expires_at: datetime | None
    notice: Notice | None
    ended_by: str | None
    proposals: tuple[Proposal, ...] = ()  # amendments proposed by ``at``, not yet in force

    @property
    def conditions(self) -> tuple[HeldCondition, ...]:
        """The conditions of the outstanding notice's suspension (R15), if any."""
        return () if self.notice is None else self.notice.conditions

    @property
    def in_force(self) -> bool:
        return self.status in (Status.IN_FORCE, Status.NOTICE_PENDING)

    @property
    def time_left(self) -> timedelta | None:
        return None if self.expires_at is None or not self.in_force else self.expires_at - self.at

    def as_dict(self) -> dict[str, object]:
        notice = None
        if self.notice is not None:
            notice = {
                "delivered_at": iso(self.notice.delivered_at),
                "by": self.notice.by,
                "suspended": self.notice.suspended,
                "effective_at": iso(self.notice.effective_at) if self.notice.effective_at else None,
                "conditions": [self._condition_dict(hc) for hc in self.notice.conditions],
            }
        left = self.time_left
        return {
            "agreement": self.agreement,
            "at": iso(self.at),
            "status": self.status.value,
            "in_force": self.in_force,
            "term_end": iso(self.term_end) if self.term_end else None,
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "time_left_seconds": left.total_seconds() if left is not None else None,
            "notice": notice,
            "ended_by": self.ended_by,
            "amendments": [p.as_dict(self.at) for p in self.proposals],
        }

    def _condition_dict(self, hc: HeldCondition) -> dict[str, object]:
        """A condition, with the end instant that its failure caused (when it did)."""
        caused = self.notice is not None and self.notice.failed_condition == hc.condition.matter
        return hc.as_dict(self.expires_at if caused and hc.failed_at is not None else None)


def _notice_end(schedule: Schedule, terms: Terms, notice: Notice) -> datetime:
    if notice.effective_at is not None:
        return notice.effective_at
    if terms.term is None or terms.renewal is Renewal.NONE:
        if notice.period is None:
            return notice.delivered_at
        return add_on_wall_clock(notice.delivered_at, notice.period, schedule.tz)
    k = schedule.index_after(notice.delivered_at)
    period = notice.period
    if period is not None:
        delivered, tz = notice.delivered_at, schedule.tz
        k = schedule.first(k, lambda end: delivered <= subtract_on_wall_clock(end, period, tz))
    return schedule.boundary(k)


def _end(
    start: datetime, terms: Terms, schedule: Schedule, notice: Notice | None
) -> tuple[datetime | None, str | None]:
    ends: list[tuple[datetime, str]] = []
    if terms.term is not None and terms.renewal is Renewal.NONE:
        natural = schedule.next_after(start)
        if natural is not None:
            ends.append((natural, "term-expired"))
    if notice is not None and not notice.suspended:
        if notice.failed_condition is not None:
            ended_by = conditions.CONDITION_FAILED
        elif notice.effective_at is not None:
            ended_by = "suspension-lifted"
        else:
            ended_by = "termination-notice"
        ends.append((_notice_end(schedule, terms, notice), ended_by))
    if not ends:
        return None, None
    return min(ends, key=lambda e: e[0])


def _segment(start: datetime, terms: Terms, schedule: Schedule, notice: Notice | None) -> Segment:
    ends_at, ended_by = _end(start, terms, schedule, notice)
    return Segment(start, terms, schedule, notice, ends_at, ended_by)


class Timeline:
    """An agreement's history, checked event by event.

    ``segments`` holds the committed history (events applied so far) followed by projected
    segments: mutual amendments agreed to take effect at a later instant. Every new fact first
    drops the projections, commits the amendments due by its instant, and projects the rest again
    afterwards, so a later event can still come before an agreed amendment's effective instant.
    """

    def __init__(self, agreement: Agreement, matters: Mapping[str, Matter] | None = None) -> None:
        self.agreement = agreement
        self.tz = ZoneInfo(agreement.timezone)
        schedule = Schedule(agreement.in_force_from, agreement.terms.term, self.tz)
        self.segments = [_segment(agreement.in_force_from, agreement.terms, schedule, None)]
        self.starts = [agreement.in_force_from]
        self._committed = 1
        self.matter_now = {m.id: m.initial for m in (matters or {}).values()}
        self.proposals: dict[str, Proposal] = {}
        self._scheduled: list[str] = []  # agreed proposals not yet committed, by effective instant

    @classmethod
    def compile(
        cls,
        agreement: Agreement,
        events: list[AgreementEvent],
        schemes: Mapping[str, Party],
        topics: frozenset[str],
        matters: Mapping[str, Matter] | None = None,
        matter_states: list[MatterState] | None = None,
        *,
        tolerant: bool = False,
    ) -> Timeline:
        """The timeline of ``events`` and ``matter_states`` merged in time order (matter states
        first at equal instants). With ``tolerant``, events the merged history refuses are left
        out instead of raising (a hypothetical world, where later events may no longer be
        possible)."""
        timeline = cls(agreement, matters)
        merged: list[tuple[datetime, int, int, AgreementEvent | MatterState]] = []
        merged += [(m.at, 0, n, m) for n, m in enumerate(matter_states or ())]
        merged += [(e.at, 1, n, e) for n, e in enumerate(events)]
        for *_, fact in sorted(merged, key=lambda m: m[:3]):
            try:
                timeline.apply(fact, schemes, topics)
            except Refused:
                if not tolerant:
                    raise
        return timeline

    # --- queries -------------------------------------------------------------------------------

    def _segment_at(self, at: datetime) -> Segment | None:
        index = bisect_right(self.starts, at) - 1
        return self.segments[index] if index >= 0 else None

    def status_terms(self, at: datetime) -> tuple[Status, Terms]:
        """The fast question decisions ask: status and terms at ``at``."""
        segment = self._segment_at(at)
        if segment is None:
            return Status.NOT_YET_IN_FORCE, self.agreement.terms
        if segment.ends_at is not None and at >= segment.ends_at:
            return Status.TERMINATED, segment.terms
        if segment.notice is not None and not segment.notice.suspended:
            return Status.NOTICE_PENDING, segment.terms
        return Status.IN_FORCE, segment.terms

    def state(self, at: datetime) -> AgreementState:
        status, terms = self.status_terms(at)
        segment = self._segment_at(at)
        proposals = tuple(
            p
            for p in self.proposals.values()
            if p.at <= at and p.status(at) in ("proposed", "agreed")
        )
        if segment is None:
            first = self.segments[0]
            return AgreementState(
                self.agreement.id, at, status, terms, None, first.ends_at, None, None, proposals
            )
        if status is Status.TERMINATED:
            return AgreementState(
                self.agreement.id,
                at,
                status,
                terms,
                None,
                segment.ends_at,
                segment.notice,
                segment.ended_by,
                proposals,
            )
        term_end = segment.schedule.next_after(at)
        return AgreementState(
            self.agreement.id,
            at,
            status,
            terms,
            term_end,
            segment.ends_at,
            segment.notice,
            None,
            proposals,
        )

    @property
    def last(self) -> Segment:
        """The latest committed segment (projected amendments are not yet part of the record)."""
        return self.segments[self._committed - 1]

    # --- committed and projected segments --------------------------------------------------------

    def _commit(self, segment: Segment) -> None:
        self._truncate()
        self.segments.append(segment)
        self.starts.append(segment.start)
        self._committed += 1

    def _truncate(self) -> None:
        del self.segments[self._committed :]
        del self.starts[self._committed :]

    def _settle(self, at: datetime) -> None:
        """Drop projections; commit every agreed amendment in force by ``at``."""
        self._truncate()
        while self._scheduled:
            proposal = self.proposals[self._scheduled[0]]
            assert proposal.in_force_at is not None
            if proposal.in_force_at > at:
                break
            self._scheduled.pop(0)
            segment = self._amended(proposal)
            if segment is not None:
                self._commit(segment)

    def _project(self) -> None:
        """Append the agreed amendments still to come as projected segments."""
        self._truncate()
        for pid in self._scheduled:
            segment = self._amended(self.proposals[pid])
            if segment is not None:
                self.segments.append(segment)
                self.starts.append(segment.start)

    def _amended(self, proposal: Proposal) -> Segment | None:
        """The segment a proposal in force starts, after the current last one; None when the
        agreement has ended by then (the amendment then changes nothing)."""
        last = self.segments[-1]
        at = proposal.in_force_at
        assert at is not None
        if last.ends_at is not None and at >= last.ends_at:
            return None
        terms = replace(last.terms, **dict(proposal.changes))  # type: ignore[arg-type]
        schedule = last.schedule
        if "term" in proposal.changes:
            schedule = Schedule(schedule.start_of_term(at), terms.term, self.tz)
            if (
                terms.term is not None
                and add_on_wall_clock(schedule.anchor, terms.term, self.tz) <= at
            ):
                return None  # the amended term would already be over: it cannot take effect
        return _segment(at, terms, schedule, last.notice)

    # --- events --------------------------------------------------------------------------------

    def check(
        self, event: AgreementEvent, schemes: Mapping[str, Party], topics: frozenset[str]
    ) -> Decision:
        """Whether ``event`` may happen now; the reasons say why not."""
        self._settle(event.at)
        try:
            return self._decide(event, schemes, topics)
        finally:
            self._project()

    def _decide(
        self, event: AgreementEvent, schemes: Mapping[str, Party], topics: frozenset[str]
    ) -> Decision:
        at = event.at
        status, terms = self.status_terms(at)
        aid = self.agreement.id
        if status in (Status.NOT_YET_IN_FORCE, Status.TERMINATED):
            return deny(
                [Reason(Code.AGREEMENT_NOT_IN_FORCE, f"{aid} is {status.value} at {iso(at)}", aid)]
            )
        if at < self.starts[-1]:
            return deny(
                [Reason(Code.EFFECTIVE_BEFORE_EVENT, f"{aid} has events after {iso(at)}", aid)]
            )
        if isinstance(event, Amendment):
            return self._check_changes(event.changes, at, schemes, topics)
        if isinstance(event, AmendmentProposed | AmendmentAccepted | AmendmentWithdrawn):
            return self._check_mutual(event, terms, schemes, topics)
        decision = self._check_notice_event(event, terms)
        if decision.allowed and isinstance(event, NoticeSuspended) and event.conditions:
            return self._check_conditions(event)
        return decision

    def _check_conditions(self, event: NoticeSuspended) -> Decision:
        aid = self.agreement.id
        reasons: list[Reason] = []
        for condition in event.conditions:
            if condition.matter not in self.matter_now:
                reasons.append(
                    Reason(
                        Code.INVALID_CONDITION, f"no matter {condition.matter!r} is defined", aid
                    )
                )
        if reasons:
            return deny(reasons)
        for condition in conditions.failing(event.conditions, self.matter_now):
            state = self.matter_now[condition.matter]
            reasons.append(
                Reason(
                    Code.CONDITION_FAILS,
                    f"{condition.matter} is {state} at {iso(event.at)}, not one of"
                    f" {', '.join(sorted(condition.holds_while))}",
                    aid,
                )
            )
        if reasons:
            return deny(reasons)
        matters = ", ".join(c.matter for c in event.conditions)
        return allow(
            Code.EVENT_ALLOWED, f"notice_suspended on {aid}, conditional on {matters}", aid
        )

    def _check_notice_event(
        self,
        event: TerminationNotice | NoticeSuspended | SuspensionLifted | NoticeWithdrawn,
        terms: Terms,
    ) -> Decision:
        aid = self.agreement.id
        notice = self.last.notice
        reasons: list[Reason] = []
        if event.by not in terms.parties:
            reasons.append(Reason(Code.NOT_A_PARTY, f"{event.by} is not a party to {aid}", aid))
        if isinstance(event, TerminationNotice):
            if notice is not None:
                reasons.append(
                    Reason(
                        Code.NOTICE_ALREADY_GIVEN,
                        f"{notice.by} gave notice on {iso(notice.delivered_at)}",
                        aid,
                    )
                )
            return (
                deny(reasons)
                if reasons
                else allow(Code.EVENT_ALLOWED, f"{event.by} gives notice to end {aid}", aid)
            )
        if notice is None:
            reasons.append(
                Reason(Code.NO_NOTICE, f"{aid} has no outstanding termination notice", aid)
            )
            return deny(reasons)
        if event.by != notice.by:
            reasons.append(
                Reason(Code.NOT_NOTIFYING_PARTY, f"the notice was given by {notice.by}", aid)
            )
        if isinstance(event, NoticeSuspended) and notice.suspended:
            reasons.append(
                Reason(Code.NOTICE_ALREADY_SUSPENDED, "the notice is already suspended", aid)
            )
        if isinstance(event, SuspensionLifted):
            if not notice.suspended:
                reasons.append(
                    Reason(Code.NOTICE_NOT_SUSPENDED, "the notice is not suspended", aid)
                )
            if event.effective_at < event.at:
                reasons.append(
                    Reason(
                        Code.EFFECTIVE_BEFORE_EVENT,
                        f"effective_at {iso(event.effective_at)} is before the lifting",
                        aid,
                    )
                )
        return (
            deny(reasons) if reasons else allow(Code.EVENT_ALLOWED, f"{event.kind} on {aid}", aid)
        )

    def _check_changes(
        self,
        changes: Mapping[str, object],
        at: datetime,
        schemes: Mapping[str, Party],
        topics: frozenset[str],
    ) -> Decision:
        """Whether new values for some terms are valid from ``at`` on."""
        aid = self.agreement.id
        unknown = sorted(set(changes) - set(AMENDABLE))
        if unknown:
            return deny([Reason(Code.INVALID_AMENDMENT, f"cannot amend {', '.join(unknown)}", aid)])
        if not changes:
            return deny([Reason(Code.INVALID_AMENDMENT, "the amendment changes nothing", aid)])
        new_terms = replace(self.last.terms, **dict(changes))  # type: ignore[arg-type]
        try:
            replace(self.agreement, terms=new_terms).validate(schemes, topics)
            if self.agreement.hub is not None and self.agreement.hub not in new_terms.parties:
                raise AccordError(f"the hub {self.agreement.hub} must stay a party")
        except AccordError as error:
            return deny([Reason(Code.INVALID_AMENDMENT, error.message, aid)])
        if "term" in changes and new_terms.term is not None:
            start = self.last.schedule.start_of_term(at)
            if add_on_wall_clock(start, new_terms.term, self.tz) <= at:
                return deny(
                    [
                        Reason(
                            Code.TERM_ALREADY_ELAPSED,
                            f"a term of {new_terms.term.text} from {iso(start)} is over by {iso(at)}",
                            aid,
                        )
                    ]
                )
        return allow(Code.EVENT_ALLOWED, f"amendment of {', '.join(sorted(changes))}", aid)

    def _check_mutual(
        self,
        event: AmendmentProposed | AmendmentAccepted | AmendmentWithdrawn,
        terms: Terms,
        schemes: Mapping[str, Party],
        topics: frozenset[str],
    ) -> Decision:
        """Art. 21(2): a proposal by a party; acceptance by each other party; withdrawal by the
        proposer while the amendment is not yet agreed."""
        aid = self.agreement.id
        if event.by not in terms.parties:
            return deny([Reason(Code.NOT_A_PARTY, f"{event.by} is not a party to {aid}", aid)])
        if isinstance(event, AmendmentProposed):
            if event.id in self.proposals:
                return deny(
                    [
                        Reason(
                            Code.INVALID_AMENDMENT,
                            f"an amendment {event.id} was already proposed on {aid}",
                            aid,
                        )
                    ]
                )
            decision = self._check_changes(event.changes, event.at, schemes, topics)
            if not decision.allowed:
                return decision
            return allow(
                Code.EVENT_ALLOWED,
                f"{event.by} proposes amendment {event.id} of {', '.join(sorted(event.changes))}"
                f" to {aid}; it changes nothing until every other party accepts",
                aid,
            )
        proposal = self.proposals.get(event.amendment)
        if proposal is None:
            return deny(
                [
                    Reason(
                        Code.UNKNOWN_AMENDMENT, f"no amendment {event.amendment} was proposed", aid
                    )
                ]
            )
        if proposal.withdrawn_at is not None:
            return deny(
                [
                    Reason(
                        Code.AMENDMENT_WITHDRAWN,
                        f"{proposal.by} withdrew amendment {proposal.id} on {iso(proposal.withdrawn_at)}",
                        aid,
                    )
                ]
            )
        if proposal.agreed_at is not None:
            return deny(
                [
                    Reason(
                        Code.AMENDMENT_AGREED,
                        f"every party accepted amendment {proposal.id} by {iso(proposal.agreed_at)}",
                        aid,
                    )
                ]
            )
        if isinstance(event, AmendmentWithdrawn):
            if event.by != proposal.by:
                return deny(
                    [
                        Reason(
                            Code.NOT_PROPOSER,
                            f"amendment {proposal.id} was proposed by {proposal.by}",
                            aid,
                        )
                    ]
                )
            return allow(Code.EVENT_ALLOWED, f"{event.by} withdraws amendment {proposal.id}", aid)
        return self._check_acceptance(event, proposal, terms, schemes, topics)

    def _check_acceptance(
        self,
        event: AmendmentAccepted,
        proposal: Proposal,
        terms: Terms,
        schemes: Mapping[str, Party],
        topics: frozenset[str],
    ) -> Decision:
        aid = self.agreement.id
        reasons: list[Reason] = []
        if event.by == proposal.by:
            reasons.append(
                Reason(Code.OWN_PROPOSAL, f"{event.by} proposed amendment {proposal.id}", aid)
            )
        if any(party == event.by for party, _, _ in proposal.accepted):
            reasons.append(
                Reason(Code.ALREADY_ACCEPTED, f"{event.by} already accepted {proposal.id}", aid)
            )
        if event.effective_at < event.at:
            reasons.append(
                Reason(
                    Code.EFFECTIVE_BEFORE_EVENT,
                    f"effective_at {iso(event.effective_at)} is before the acceptance",
                    aid,
                )
            )
        if reasons:
            return deny(reasons)
        waiting = self._still_to_accept(proposal, terms) - {event.by}
        if waiting:
            return allow(
                Code.EVENT_ALLOWED,
                f"{event.by} accepts amendment {proposal.id}; still to accept:"
                f" {', '.join(sorted(waiting))}",
                aid,
            )
        effective = max([event.effective_at, *(eff for _, _, eff in proposal.accepted)])
        decision = self._check_changes(proposal.changes, effective, schemes, topics)
        if not decision.allowed:
            return decision
        return allow(
            Code.EVENT_ALLOWED,
            f"every party has accepted amendment {proposal.id} of {aid};"
            f" it is in force from {iso(effective)}",
            aid,
        )

    @staticmethod
    def _still_to_accept(proposal: Proposal, terms: Terms) -> set[str]:
        accepted = {party for party, _, _ in proposal.accepted}
        return set(terms.parties) - {proposal.by} - accepted

    def apply(
        self,
        event: AgreementEvent | MatterState,
        schemes: Mapping[str, Party],
        topics: frozenset[str],
    ) -> None:
        if isinstance(event, MatterState):
            self.observe(event)
            return
        self._settle(event.at)
        try:
            self._apply(event, schemes, topics)
        finally:
            self._project()

    def _apply(
        self, event: AgreementEvent, schemes: Mapping[str, Party], topics: frozenset[str]
    ) -> None:
        decision = self._decide(event, schemes, topics)
        if not decision.allowed:
            raise Refused(
                f"{event.kind} on {self.agreement.id} at {iso(event.at)} refused: "
                + "; ".join(r.message for r in decision.reasons),
                decision.codes,
            )
        if isinstance(event, AmendmentProposed | AmendmentAccepted | AmendmentWithdrawn):
            self._apply_mutual(event)
            return
        last = self.last
        terms, schedule, notice = last.terms, last.schedule, last.notice
        if isinstance(event, TerminationNotice):
            notice = Notice(event.at, event.by, terms.notice_period)
        elif isinstance(event, NoticeSuspended):
            assert notice is not None
            held = conditions.noted(event.conditions, self.matter_now)
            notice = replace(notice, suspended=True, conditions=held, failed_condition=None)
        elif isinstance(event, SuspensionLifted):
            assert notice is not None
            notice = replace(
                notice,
                suspended=False,
                effective_at=event.effective_at,
                conditions=(),
                failed_condition=None,
            )
        elif isinstance(event, NoticeWithdrawn):
            notice = None
        else:
            terms = event.apply(terms)
            if "term" in event.changes:
                schedule = Schedule(schedule.start_of_term(event.at), terms.term, self.tz)
        self._commit(_segment(event.at, terms, schedule, notice))

    def _apply_mutual(
        self, event: AmendmentProposed | AmendmentAccepted | AmendmentWithdrawn
    ) -> None:
        if isinstance(event, AmendmentProposed):
            self.proposals[event.id] = Proposal(event.id, event.by, event.at, event.changes)
            return
        proposal = self.proposals[event.amendment]
        if isinstance(event, AmendmentWithdrawn):
            self.proposals[proposal.id] = replace(proposal, withdrawn_at=event.at)
            return
        proposal = replace(
            proposal, accepted=(*proposal.accepted, (event.by, event.at, event.effective_at))
        )
        if not self._still_to_accept(proposal, self.last.terms):
            effective = max(eff for _, _, eff in proposal.accepted)
            proposal = replace(proposal, agreed_at=event.at, in_force_at=effective)
            self._scheduled.append(proposal.id)
        self.proposals[proposal.id] = proposal
        self._scheduled.sort(key=self._effective_instant)
        self._settle(event.at)  # an amendment in force at once is committed now

    def _effective_instant(self, pid: str) -> datetime:
        instant = self.proposals[pid].in_force_at
        assert instant is not None
        return instant

    # --- matters (R15) ---------------------------------------------------------------------------

    def observe(self, fact: MatterState) -> None:
        """A matter takes a new state: the outstanding notice's conditions on it follow."""
        self._settle(fact.at)
        try:
            self.matter_now[fact.matter] = fact.state
            last = self.last
            notice = last.notice
            if notice is None or not any(
                hc.condition.matter == fact.matter for hc in notice.conditions
            ):
                return
            if last.ends_at is not None and fact.at >= last.ends_at:
                return
            if fact.at < last.start:
                raise Refused(
                    f"matter_state of {fact.matter} at {iso(fact.at)} is before the latest event"
                    f" of {self.agreement.id}",
                    (Code.EFFECTIVE_BEFORE_EVENT.value,),
                )
            changed = conditions.observe(notice, fact, self.tz, last.schedule.next_after)
            self._commit(_segment(fact.at, last.terms, last.schedule, changed))
        finally:
            self._project()
