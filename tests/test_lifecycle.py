"""R6: agreement lifecycle, at and around the instants that matter.

Facts of the 2019 case (public reporting; see docs/rules.md for R6): ROK–Japan GSOMIA in force 2016-11-23 (Seoul),
1-year term, automatic renewal, 90 days' notice; notice 2019-08-23 ~15:25 KST; suspension
2019-11-22 18:00 KST; the lapse that did not happen at 2019-11-23 00:00 KST.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.errors import Refused
from accord.model.agreement import (
    Amendment,
    EquivalenceTable,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
    TopicScope,
)
from accord.model.item import Item
from accord.policy.lifecycle import Status
from tests.worlds import (
    GSOMIA_START,
    JPN1,
    JPN2,
    JPN3,
    KOR1,
    KOR2,
    KOR3,
    LAPSE_2019,
    NOTICE_2019,
    SUSPENSION_2019,
    US,
    D,
    Exchange,
    T,
    agreement,
    gsomia,
    korea_2019,
    two_party,
)

LAPSE = T(LAPSE_2019)
NEXT_LAPSE = T("2020-11-23T00:00:00+09:00")


def notice(at: str, by: str = "KOR", aid: str = "gsomia") -> TerminationNotice:
    return TerminationNotice(T(at), aid, by)


def suspend(at: str, by: str = "KOR", aid: str = "gsomia") -> NoticeSuspended:
    return NoticeSuspended(T(at), aid, by)


def lift(at: str, effective: str, by: str = "KOR", aid: str = "gsomia") -> SuspensionLifted:
    return SuspensionLifted(T(at), aid, by, T(effective))


def withdraw(at: str, by: str = "KOR", aid: str = "gsomia") -> NoticeWithdrawn:
    return NoticeWithdrawn(T(at), aid, by)


def with_notice(at: str = NOTICE_2019) -> Exchange:
    ex = korea_2019()
    ex.must(notice(at))
    return ex


class TestThe2019Case:
    def test_lapse_instant_is_midnight_seoul(self) -> None:
        assert datetime(2019, 11, 22, 15, 0, tzinfo=UTC) == LAPSE

    def test_terminated_exactly_at_the_lapse(self) -> None:
        ex = with_notice()
        assert ex.status("gsomia", LAPSE - US) == "notice_pending"
        assert ex.status("gsomia", LAPSE) == "terminated"
        assert ex.status("gsomia", "2019-11-22T15:00:00Z") == "terminated"
        assert ex.status("gsomia", LAPSE + US) == "terminated"
        state = ex.facts.state("gsomia", LAPSE)
        assert state.expires_at == LAPSE
        assert state.ended_by == "termination-notice"
        assert not state.in_force

    def test_release_stops_at_the_lapse(self) -> None:
        ex = with_notice()
        before = ex.check_release("report-1", "KOR", "JPN", LAPSE - US)
        at = ex.check_release("report-1", "KOR", "JPN", LAPSE)
        assert before.allowed
        assert not at.allowed
        assert at.codes == ("agreement-not-in-force",)

    def test_pending_notice_state_between_notice_and_lapse(self) -> None:
        ex = with_notice()
        state = ex.facts.state("gsomia", T("2019-09-01T00:00:00+09:00"))
        assert state.status is Status.NOTICE_PENDING
        assert state.in_force
        assert state.term_end == LAPSE
        assert state.expires_at == LAPSE
        assert state.notice is not None and state.notice.by == "KOR"
        assert state.time_left == LAPSE - T("2019-09-01T00:00:00+09:00")

    def test_state_ignores_events_after_the_instant(self) -> None:
        ex = with_notice()
        state = ex.facts.state("gsomia", T(NOTICE_2019) - US)
        assert state.status is Status.IN_FORCE
        assert state.expires_at is None
        assert state.notice is None
        assert ex.status("gsomia", NOTICE_2019) == "notice_pending"

    def test_suspension_keeps_it_in_force_and_it_renews(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        assert ex.status("gsomia", T(SUSPENSION_2019) - US) == "notice_pending"
        for at in (T(SUSPENSION_2019), LAPSE - US, LAPSE, LAPSE + US, NEXT_LAPSE):
            assert ex.status("gsomia", at) == "in_force", at
        state = ex.facts.state("gsomia", LAPSE)
        assert state.expires_at is None
        assert state.term_end == NEXT_LAPSE
        assert state.notice is not None and state.notice.suspended
        assert ex.check_release("report-1", "KOR", "JPN", LAPSE + timedelta(seconds=1)).allowed

    def test_withdrawal_2023_makes_it_fully_normal(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        ex.must(withdraw("2023-03-21T10:00:00+09:00"))
        state = ex.facts.state("gsomia", T("2023-03-22T00:00:00+09:00"))
        assert state.status is Status.IN_FORCE
        assert state.notice is None
        assert state.term_end == T("2023-11-23T00:00:00+09:00")
        assert ex.status("gsomia", "2030-01-01T00:00:00+09:00") == "in_force"
        # and a new notice may be given again
        assert ex.event(notice("2024-01-10T00:00:00+09:00")).allowed
        assert ex.status("gsomia", "2024-11-23T00:00:00+09:00") == "terminated"
        assert ex.status("gsomia", T("2024-11-23T00:00:00+09:00") - US) == "notice_pending"

    def test_withdrawn_notice_before_lapse_is_gone(self) -> None:
        ex = with_notice()
        ex.must(withdraw("2019-09-01T00:00:00+09:00"))
        assert ex.status("gsomia", LAPSE) == "in_force"
        assert ex.status("gsomia", "2019-08-30T00:00:00+09:00") == "notice_pending"

    @pytest.mark.parametrize(
        "late",
        [
            "2019-08-25T00:00:00.000001+09:00",  # 1 µs after the deadline
            "2019-08-26T00:00:00+09:00",  # one day after it
            "2019-08-26T15:25:00+09:00",
        ],
    )
    def test_late_notice_means_one_more_term(self, late: str) -> None:
        ex = with_notice(late)
        for at in (LAPSE - US, LAPSE, LAPSE + US, NEXT_LAPSE - US):
            assert ex.status("gsomia", at) == "notice_pending", at
        assert ex.status("gsomia", NEXT_LAPSE) == "terminated"
        assert ex.facts.state("gsomia", LAPSE).expires_at == NEXT_LAPSE
        assert datetime(2020, 11, 22, 15, tzinfo=UTC) == NEXT_LAPSE

    def test_notice_exactly_on_the_deadline_counts(self) -> None:
        # 2019-11-23T00:00 KST − 90 days on the Seoul wall clock
        ex = with_notice("2019-08-25T00:00:00+09:00")
        assert ex.status("gsomia", LAPSE - US) == "notice_pending"
        assert ex.status("gsomia", LAPSE) == "terminated"

    def test_notice_years_later_ends_at_that_years_anniversary(self) -> None:
        ex = with_notice("2025-01-01T00:00:00+09:00")
        end = T("2025-11-23T00:00:00+09:00")
        assert ex.status("gsomia", end - US) == "notice_pending"
        assert ex.status("gsomia", end) == "terminated"

    def test_never_noticed_renews_year_after_year(self) -> None:
        ex = korea_2019()
        assert ex.status("gsomia", "2030-11-22T23:59:59.999999+09:00") == "in_force"
        state = ex.facts.state("gsomia", T("2030-11-23T00:00:00+09:00"))
        assert state.status is Status.IN_FORCE
        assert state.term_end == T("2031-11-23T00:00:00+09:00")


class TestSuspensionLifted:
    def test_lift_ends_it_exactly_at_effective_at(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        ex.must(lift("2019-12-01T09:00:00+09:00", "2019-12-15T00:00:00+09:00"))
        end = T("2019-12-15T00:00:00+09:00")
        assert ex.status("gsomia", "2019-11-30T00:00:00+09:00") == "in_force"
        assert ex.status("gsomia", "2019-12-01T09:00:00+09:00") == "notice_pending"
        assert ex.status("gsomia", end - US) == "notice_pending"
        assert ex.status("gsomia", end) == "terminated"
        state = ex.facts.state("gsomia", end)
        assert state.ended_by == "suspension-lifted"
        assert state.expires_at == end

    def test_lift_effective_at_its_own_instant_ends_it_then(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        at = "2020-02-01T12:00:00+09:00"
        ex.must(lift(at, at))
        assert ex.status("gsomia", T(at) - US) == "in_force"
        assert ex.status("gsomia", at) == "terminated"

    def test_lift_beyond_the_next_term_end_is_honoured(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        ex.must(lift("2019-12-01T00:00:00+09:00", "2021-03-01T00:00:00+09:00"))
        assert ex.status("gsomia", NEXT_LAPSE) == "notice_pending"
        assert ex.status("gsomia", "2021-03-01T00:00:00+09:00") == "terminated"

    def test_suspend_again_after_lift(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        ex.must(lift("2019-12-01T00:00:00+09:00", "2019-12-31T00:00:00+09:00"))
        ex.must(suspend("2019-12-30T00:00:00+09:00"))
        assert ex.status("gsomia", "2019-12-31T00:00:00+09:00") == "in_force"


class TestTermsOnTheWallClock:
    def dst(self, renewal: str) -> Exchange:
        a = agreement(
            "ny",
            ("AA", "BB"),
            "2020-07-01T00:00:00-04:00",
            ({"AA": "AA0", "BB": "BB0"},),
            timezone="America/New_York",
            term="P6M",
            renewal=renewal,
        )
        return two_party(a)

    def test_six_months_across_dst_ends_at_new_york_midnight(self) -> None:
        ex = self.dst("none")
        end = T("2021-01-01T00:00:00-05:00")
        assert end == datetime(2021, 1, 1, 5, tzinfo=UTC)
        assert ex.status("ny", end - US) == "in_force"
        assert ex.status("ny", end) == "terminated"
        # a UTC-day count (or the July offset) would end one hour early, at 04:00Z
        assert ex.status("ny", "2021-01-01T04:00:00Z") == "in_force"
        state = ex.facts.state("ny", T("2020-12-31T12:00:00-05:00"))
        assert state.term_end == end
        assert state.expires_at == end
        assert ex.facts.state("ny", end).ended_by == "term-expired"
        assert ex.check_release("x", "AA", "BB", end - US).allowed
        assert ex.check_release("x", "AA", "BB", end).codes == ("agreement-not-in-force",)

    def test_renewing_term_boundaries_follow_the_offset_back(self) -> None:
        ex = self.dst("automatic")
        state = ex.facts.state("ny", T("2021-01-01T00:00:00-05:00"))
        assert state.status is Status.IN_FORCE
        assert state.term_end == T("2021-07-01T00:00:00-04:00")

    def test_notice_deadline_counted_on_the_wall_clock(self) -> None:
        a = agreement(
            "ny",
            ("AA", "BB"),
            "2020-07-01T00:00:00-04:00",
            ({"AA": "AA0", "BB": "BB0"},),
            timezone="America/New_York",
            term="P6M",
            renewal="automatic",
            notice_period="P3M",
        )
        # term end 2021-01-01T00:00 EST; deadline 2020-10-01T00:00 EDT
        on_time = two_party(a)
        on_time.must(TerminationNotice(T("2020-10-01T00:00:00-04:00"), "ny", "AA"))
        assert on_time.status("ny", "2021-01-01T00:00:00-05:00") == "terminated"
        late = two_party(a)
        late.must(TerminationNotice(T("2020-10-01T00:00:00-04:00") + US, "ny", "BB"))
        assert late.status("ny", "2021-01-01T00:00:00-05:00") == "notice_pending"
        assert late.status("ny", "2021-07-01T00:00:00-04:00") == "terminated"

    def test_leap_day_anchor_counts_years_from_entry_into_force(self) -> None:
        a = agreement(
            "leap",
            ("AA", "BB"),
            "2016-02-29T12:00:00Z",
            ({"AA": "AA0", "BB": "BB0"},),
            timezone="UTC",
            term="P1Y",
            renewal="automatic",
        )
        ex = two_party(a)
        assert ex.facts.state("leap", T("2016-06-01T00:00:00Z")).term_end == T(
            "2017-02-28T12:00:00Z"
        )
        # the k-th end is entry + k years (clamped), not the previous end + 1 year
        assert ex.facts.state("leap", T("2019-06-01T00:00:00Z")).term_end == T(
            "2020-02-29T12:00:00Z"
        )

    def test_not_yet_in_force_before_entry(self) -> None:
        ex = korea_2019()
        start = T(GSOMIA_START)
        assert ex.status("gsomia", start - US) == "not_yet_in_force"
        assert ex.status("gsomia", start) == "in_force"
        ex.world.add_item(
            Item(
                "old",
                "KOR",
                KOR2,
                frozenset({"cyber"}),
                frozenset({"JPN"}),
                T("2016-01-01T00:00:00+09:00"),
            )
        )
        assert ex.check_release("old", "KOR", "JPN", start - US).codes == (
            "agreement-not-in-force",
        )
        assert ex.check_release("old", "KOR", "JPN", start).allowed

    def test_non_renewing_notice_ends_after_its_period_or_at_natural_end(self) -> None:
        a = agreement(
            "fixed",
            ("AA", "BB"),
            "2020-01-01T00:00:00Z",
            ({"AA": "AA0", "BB": "BB0"},),
            timezone="UTC",
            term="P1Y",
            notice_period="P30D",
        )
        early = two_party(a)
        early.must(TerminationNotice(T("2020-03-01T00:00:00Z"), "fixed", "AA"))
        assert early.status("fixed", "2020-03-31T00:00:00Z") == "terminated"
        assert early.status("fixed", T("2020-03-31T00:00:00Z") - US) == "notice_pending"
        late = two_party(a)
        late.must(TerminationNotice(T("2020-12-15T00:00:00Z"), "fixed", "AA"))
        assert late.status("fixed", "2021-01-01T00:00:00Z") == "terminated"
        assert late.facts.state("fixed", T("2021-01-01T00:00:00Z")).ended_by == "term-expired"

    def test_indefinite_without_notice_period_ends_at_delivery(self) -> None:
        a = agreement("open", ("AA", "BB"), "2020-01-01T00:00:00Z", ({"AA": "AA0", "BB": "BB0"},))
        ex = two_party(a)
        at = T("2021-05-05T05:05:05Z")
        ex.must(TerminationNotice(at, "open", "BB"))
        assert ex.status("open", at - US) == "in_force"
        assert ex.status("open", at) == "terminated"


class TestRefusals:
    def codes(self, ex: Exchange, event: object) -> tuple[str, ...]:
        decision = ex.check_event(event)  # type: ignore[arg-type]
        assert not decision.allowed
        return decision.codes

    def test_notice_by_a_non_party(self) -> None:
        assert self.codes(korea_2019(), notice(NOTICE_2019, by="USA")) == ("not-a-party",)

    def test_second_notice(self) -> None:
        ex = with_notice()
        assert self.codes(ex, notice("2019-09-01T00:00:00+09:00", by="JPN")) == (
            "notice-already-given",
        )
        assert self.codes(ex, notice("2019-09-01T00:00:00+09:00")) == ("notice-already-given",)

    def test_second_notice_while_suspended(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        assert self.codes(ex, notice("2020-01-01T00:00:00+09:00")) == ("notice-already-given",)

    def test_suspend_lift_or_withdraw_without_notice(self) -> None:
        ex = korea_2019()
        assert self.codes(ex, suspend(SUSPENSION_2019)) == ("no-notice",)
        assert self.codes(ex, withdraw(SUSPENSION_2019)) == ("no-notice",)
        assert self.codes(ex, lift(SUSPENSION_2019, SUSPENSION_2019)) == ("no-notice",)

    def test_lift_when_not_suspended(self) -> None:
        ex = with_notice()
        assert self.codes(ex, lift(SUSPENSION_2019, LAPSE_2019)) == ("notice-not-suspended",)

    def test_suspend_twice(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        assert self.codes(ex, suspend("2019-11-22T19:00:00+09:00")) == ("notice-already-suspended",)

    @pytest.mark.parametrize("kind", ["suspend", "withdraw", "lift"])
    def test_by_another_party(self, kind: str) -> None:
        ex = with_notice()
        if kind == "lift":
            ex.must(suspend(SUSPENSION_2019))
            event: object = lift("2019-12-01T00:00:00+09:00", "2019-12-02T00:00:00+09:00", "JPN")
        elif kind == "suspend":
            event = suspend(SUSPENSION_2019, by="JPN")
        else:
            event = withdraw(SUSPENSION_2019, by="JPN")
        assert self.codes(ex, event) == ("not-notifying-party",)

    def test_by_a_non_party_on_someone_elses_notice(self) -> None:
        ex = with_notice()
        assert set(self.codes(ex, suspend(SUSPENSION_2019, by="USA"))) == {
            "not-a-party",
            "not-notifying-party",
        }

    def test_effective_at_before_the_lift(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        event = lift("2019-12-01T00:00:00+09:00", "2019-11-30T23:59:59.999999+09:00")
        assert self.codes(ex, event) == ("effective-before-event",)

    def test_event_before_the_latest_recorded_event(self) -> None:
        ex = with_notice()
        ex.must(suspend(SUSPENSION_2019))
        assert self.codes(ex, withdraw("2019-11-01T00:00:00+09:00")) == ("effective-before-event",)

    def test_events_after_termination(self) -> None:
        ex = with_notice()
        for event in (
            withdraw(LAPSE_2019),
            suspend(LAPSE_2019),
            notice("2020-01-01T00:00:00+09:00", by="JPN"),
            Amendment(LAPSE, "gsomia", {"topics": TopicScope(frozenset({"cyber"}))}),
        ):
            assert self.codes(ex, event) == ("agreement-not-in-force",)

    def test_suspension_one_microsecond_before_the_lapse_is_in_time(self) -> None:
        ex = with_notice()
        assert ex.event(NoticeSuspended(LAPSE - US, "gsomia", "KOR")).allowed
        assert ex.status("gsomia", LAPSE) == "in_force"

    def test_event_before_entry_into_force(self) -> None:
        assert self.codes(korea_2019(), notice("2016-11-22T23:59:59+09:00")) == (
            "agreement-not-in-force",
        )

    def test_term_amendment_that_would_already_have_elapsed(self) -> None:
        ex = korea_2019()
        # the current term began 2017-11-23; three months from then is over by 2018-06-01
        event = Amendment(T("2018-06-01T00:00:00+09:00"), "gsomia", {"term": D("P3M")})
        assert self.codes(ex, event) == ("term-already-elapsed",)

    def test_invalid_amendments(self) -> None:
        ex = korea_2019()
        at = T("2018-06-01T00:00:00+09:00")
        crossing = EquivalenceTable(({"KOR": KOR3, "JPN": JPN2}, {"KOR": KOR2, "JPN": JPN3}))
        assert self.codes(ex, Amendment(at, "gsomia", {"equivalence": crossing})) == (
            "invalid-amendment",
        )
        assert self.codes(ex, Amendment(at, "gsomia", {"hub": "USA"})) == ("invalid-amendment",)
        unknown_topic = {"topics": TopicScope(frozenset({"weather"}))}
        assert self.codes(ex, Amendment(at, "gsomia", unknown_topic)) == ("invalid-amendment",)

    def test_apply_raises_refused_with_the_codes(self) -> None:
        ex = korea_2019()
        timeline = ex.facts.timeline("gsomia")
        with pytest.raises(Refused) as caught:
            timeline.apply(
                notice(NOTICE_2019, by="USA"), ex.world.parties, frozenset(ex.world.topics)
            )
        assert caught.value.reasons == ("not-a-party",)
        assert ex.status("gsomia", LAPSE) == "in_force"


class TestAmendments:
    def test_new_equivalence_table_applies_from_its_instant_on(self) -> None:
        ex = korea_2019()
        at = T("2019-07-01T00:00:00+09:00")
        table = EquivalenceTable(
            ({"KOR": KOR1, "JPN": JPN1}, {"KOR": KOR2, "JPN": JPN2}, {"KOR": KOR3, "JPN": JPN3})
        )
        ex.must(Amendment(at, "gsomia", {"equivalence": table}))
        before = ex.check_release("top-1", "KOR", "JPN", at - US)
        assert before.codes == ("level-not-covered",)
        after = ex.check_release("top-1", "KOR", "JPN", at)
        assert after.allowed
        assert [(h.party, h.level) for h in after.holdings] == [("JPN", JPN1)]

    def test_narrowed_topics_apply_from_their_instant_on(self) -> None:
        ex = korea_2019()
        at = T("2019-07-01T00:00:00+09:00")
        ex.must(Amendment(at, "gsomia", {"topics": TopicScope(frozenset({"nk-missile"}))}))
        assert ex.check_release("cyber-1", "KOR", "JPN", at - US).allowed
        assert ex.check_release("cyber-1", "KOR", "JPN", at).codes == ("topic-out-of-scope",)
        assert ex.check_release("low-1", "KOR", "JPN", at).allowed

    def test_longer_term_recounts_from_the_current_terms_start(self) -> None:
        ex = korea_2019()
        ex.must(Amendment(T("2018-06-01T00:00:00+09:00"), "gsomia", {"term": D("P2Y")}))
        state = ex.facts.state("gsomia", T("2018-12-01T00:00:00+09:00"))
        assert state.term_end == T("2019-11-23T00:00:00+09:00")
        assert ex.facts.state("gsomia", T("2018-06-01T00:00:00+09:00") - US).term_end == T(
            "2018-11-23T00:00:00+09:00"
        )

    def test_renewal_none_ends_at_the_current_term_end(self) -> None:
        ex = korea_2019()
        ex.must(
            Amendment(
                T("2019-01-01T00:00:00+09:00"),
                "gsomia",
                {"renewal": Renewal.NONE},
            )
        )
        assert ex.status("gsomia", LAPSE - US) == "in_force"
        assert ex.status("gsomia", LAPSE) == "terminated"
        assert ex.status("gsomia", "2018-12-31T00:00:00+09:00") == "in_force"

    def test_shorter_notice_period_applies_to_later_notices(self) -> None:
        ex = korea_2019()
        ex.must(Amendment(T("2019-01-01T00:00:00+09:00"), "gsomia", {"notice_period": D("P30D")}))
        ex.must(notice("2019-10-24T00:00:00+09:00"))  # exactly 30 days before the lapse
        assert ex.status("gsomia", LAPSE) == "terminated"

    def test_amendment_keeps_an_outstanding_notice(self) -> None:
        ex = with_notice()
        table = EquivalenceTable(({"KOR": KOR2, "JPN": JPN2},))
        ex.must(Amendment(T("2019-10-01T00:00:00+09:00"), "gsomia", {"equivalence": table}))
        assert ex.status("gsomia", LAPSE - US) == "notice_pending"
        assert ex.status("gsomia", LAPSE) == "terminated"
        assert ex.check_release("low-1", "KOR", "JPN", "2019-10-02T00:00:00+09:00").codes == (
            "level-not-covered",
        )


def test_gsomia_builder_defaults_match_the_treaty() -> None:
    g = gsomia()
    assert g.terms.term is not None and g.terms.term.months == 12
    assert g.terms.notice_period is not None and g.terms.notice_period.exact == timedelta(90)
    assert g.terms.equivalence.equivalent("KOR", KOR2, "JPN") == JPN2
    assert g.terms.equivalence.equivalent("KOR", KOR3, "JPN") == JPN3
    assert g.terms.equivalence.equivalent("KOR", KOR1, "JPN") is None
