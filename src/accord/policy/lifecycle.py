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
  refused if the current term would then already be over.
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
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
    Terms,
)
from accord.model.party import Party
from accord.model.time import (
    BeyondCalendar,
    Duration,
    add_on_wall_clock,
    iso,
    subtract_on_wall_clock,
)
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
    period: Duration | None
    suspended: bool = False
    effective_at: datetime | None = None  # set when a suspension is lifted


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
        }


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
        ended_by = "suspension-lifted" if notice.effective_at is not None else "termination-notice"
        ends.append((_notice_end(schedule, terms, notice), ended_by))
    if not ends:
        return None, None
    return min(ends, key=lambda e: e[0])


def _segment(start: datetime, terms: Terms, schedule: Schedule, notice: Notice | None) -> Segment:
    ends_at, ended_by = _end(start, terms, schedule, notice)
    return Segment(start, terms, schedule, notice, ends_at, ended_by)


class Timeline:
    """An agreement's history, checked event by event."""

    def __init__(self, agreement: Agreement) -> None:
        self.agreement = agreement
        self.tz = ZoneInfo(agreement.timezone)
        schedule = Schedule(agreement.in_force_from, agreement.terms.term, self.tz)
        self.segments = [_segment(agreement.in_force_from, agreement.terms, schedule, None)]
        self.starts = [agreement.in_force_from]

    @classmethod
    def compile(
        cls,
        agreement: Agreement,
        events: list[AgreementEvent],
        schemes: Mapping[str, Party],
        topics: frozenset[str],
    ) -> Timeline:
        timeline = cls(agreement)
        for event in events:
            timeline.apply(event, schemes, topics)
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
        if segment is None:
            first = self.segments[0]
            return AgreementState(
                self.agreement.id, at, status, terms, None, first.ends_at, None, None
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
            )
        term_end = segment.schedule.next_after(at)
        return AgreementState(
            self.agreement.id, at, status, terms, term_end, segment.ends_at, segment.notice, None
        )

    @property
    def last(self) -> Segment:
        return self.segments[-1]

    # --- events --------------------------------------------------------------------------------

    def check(
        self, event: AgreementEvent, schemes: Mapping[str, Party], topics: frozenset[str]
    ) -> Decision:
        """Whether ``event`` may happen now; the reasons say why not."""
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
            return self._check_amendment(event, schemes, topics)
        return self._check_notice_event(event, terms)

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

    def _check_amendment(
        self, event: Amendment, schemes: Mapping[str, Party], topics: frozenset[str]
    ) -> Decision:
        aid = self.agreement.id
        unknown = sorted(set(event.changes) - set(AMENDABLE))
        if unknown:
            return deny([Reason(Code.INVALID_AMENDMENT, f"cannot amend {', '.join(unknown)}", aid)])
        new_terms = event.apply(self.last.terms)
        try:
            replace(self.agreement, terms=new_terms).validate(schemes, topics)
            if self.agreement.hub is not None and self.agreement.hub not in new_terms.parties:
                raise AccordError(f"the hub {self.agreement.hub} must stay a party")
        except AccordError as error:
            return deny([Reason(Code.INVALID_AMENDMENT, error.message, aid)])
        if "term" in event.changes and new_terms.term is not None:
            start = self.last.schedule.start_of_term(event.at)
            if add_on_wall_clock(start, new_terms.term, self.tz) <= event.at:
                return deny(
                    [
                        Reason(
                            Code.TERM_ALREADY_ELAPSED,
                            f"a term of {new_terms.term.text} from {iso(start)} is over by {iso(event.at)}",
                            aid,
                        )
                    ]
                )
        return allow(Code.EVENT_ALLOWED, f"amendment of {', '.join(sorted(event.changes))}", aid)

    def apply(
        self, event: AgreementEvent, schemes: Mapping[str, Party], topics: frozenset[str]
    ) -> None:
        decision = self.check(event, schemes, topics)
        if not decision.allowed:
            raise Refused(
                f"{event.kind} on {self.agreement.id} at {iso(event.at)} refused: "
                + "; ".join(r.message for r in decision.reasons),
                decision.codes,
            )
        last = self.last
        terms, schedule, notice = last.terms, last.schedule, last.notice
        if isinstance(event, TerminationNotice):
            notice = Notice(event.at, event.by, terms.notice_period)
        elif isinstance(event, NoticeSuspended):
            assert notice is not None
            notice = replace(notice, suspended=True)
        elif isinstance(event, SuspensionLifted):
            assert notice is not None
            notice = replace(notice, suspended=False, effective_at=event.effective_at)
        elif isinstance(event, NoticeWithdrawn):
            notice = None
        else:
            terms = event.apply(terms)
            if "term" in event.changes:
                schedule = Schedule(schedule.start_of_term(event.at), terms.term, self.tz)
        self.segments.append(_segment(event.at, terms, schedule, notice))
        self.starts.append(event.at)
