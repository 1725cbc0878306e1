"""Art. 21(2): amendments by mutual written consent — proposal, acceptance, withdrawal — and
the notice period that governs a notice already delivered when the period is amended (R6, R13).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from accord.crypto import MasterKey
from accord.model.agreement import (
    Amendment,
    AmendmentAccepted,
    AmendmentProposed,
    AmendmentWithdrawn,
    EquivalenceTable,
    TerminationNotice,
    TopicScope,
)
from accord.policy.facts import Facts
from accord.service import Exchange as Service
from accord.store.sql import SqlStore
from tests.worlds import (
    JPN1,
    JPN2,
    JPN3,
    KOR1,
    KOR2,
    KOR3,
    NOTICE_2019,
    US,
    D,
    Exchange,
    T,
    korea_2019,
)

WIDER = EquivalenceTable(
    ({"KOR": KOR1, "JPN": JPN1}, {"KOR": KOR2, "JPN": JPN2}, {"KOR": KOR3, "JPN": JPN3})
)
PROPOSED = "2019-06-10T09:00:00+09:00"
ACCEPTED = "2019-07-01T09:00:00+09:00"
EFFECTIVE = "2019-08-01T00:00:00+09:00"


def propose(
    at: str = PROPOSED, by: str = "KOR", aid: str = "am-1", **changes: object
) -> AmendmentProposed:
    return AmendmentProposed(T(at), "gsomia", by, aid, changes or {"equivalence": WIDER})


def accept(
    at: str = ACCEPTED, by: str = "JPN", aid: str = "am-1", effective: str = EFFECTIVE
) -> AmendmentAccepted:
    return AmendmentAccepted(T(at), "gsomia", by, aid, T(effective))


def withdraw(at: str, by: str = "KOR", aid: str = "am-1") -> AmendmentWithdrawn:
    return AmendmentWithdrawn(T(at), "gsomia", by, aid)


def top_covered(ex: Exchange, at: str | datetime) -> bool:
    return bool(ex.check_release("top-1", "KOR", "JPN", at).allowed)


class TestProposalAndAcceptance:
    def test_a_proposal_alone_changes_nothing(self) -> None:
        ex = korea_2019()
        ex.must(propose())
        assert not top_covered(ex, "2030-01-01T00:00:00+09:00")
        state = ex.facts.state("gsomia", T(ACCEPTED))
        assert [p.id for p in state.proposals] == ["am-1"]
        assert state.proposals[0].status(T(ACCEPTED)) == "proposed"

    def test_accepted_it_is_in_force_from_the_effective_instant(self) -> None:
        ex = korea_2019()
        ex.must(propose())
        ex.must(accept())
        assert not top_covered(ex, T(EFFECTIVE) - US)
        assert top_covered(ex, EFFECTIVE)
        state = ex.facts.state("gsomia", T(EFFECTIVE) - US)
        assert state.proposals[0].status(T(EFFECTIVE) - US) == "agreed"
        assert ex.facts.state("gsomia", T(EFFECTIVE)).proposals == ()

    def test_events_before_the_effective_instant_are_still_possible(self) -> None:
        ex = korea_2019()
        ex.must(propose())
        ex.must(accept())
        ex.must(TerminationNotice(T("2019-07-15T00:00:00+09:00"), "gsomia", "KOR"))
        assert not top_covered(ex, T(EFFECTIVE) - US)
        assert top_covered(ex, EFFECTIVE)
        assert ex.status("gsomia", "2019-11-23T00:00:00+09:00") == "terminated"
        fresh = Facts(ex.world)
        for at in (T(EFFECTIVE) - US, T(EFFECTIVE), T("2019-11-23T00:00:00+09:00")):
            assert fresh.state("gsomia", at).as_dict() == ex.facts.state("gsomia", at).as_dict()

    def test_an_agreement_that_ended_before_the_effective_instant_is_not_amended(self) -> None:
        ex = korea_2019()
        ex.must(TerminationNotice(T(NOTICE_2019), "gsomia", "KOR"))
        ex.must(propose(at="2019-10-01T00:00:00+09:00"))
        ex.must(accept(at="2019-10-02T00:00:00+09:00", effective="2019-12-01T00:00:00+09:00"))
        assert ex.status("gsomia", "2019-12-01T00:00:00+09:00") == "terminated"
        assert not top_covered(ex, "2019-12-01T00:00:00+09:00")

    def test_every_other_party_must_accept_at_the_latest_effective_instant(self) -> None:
        ex = korea_2019()
        topics = {"topics": TopicScope(None)}
        ex.must(AmendmentProposed(T(PROPOSED), "tisa", "USA", "t-1", topics))
        first = AmendmentAccepted(T(ACCEPTED), "tisa", "KOR", "t-1", T(EFFECTIVE))
        decision = ex.event(first)
        assert decision.allowed and "still to accept: JPN" in decision.reasons[0].message
        assert not ex.check_release("cyber-1", "KOR", "USA", "2019-07-15T00:00:00+09:00").allowed
        later = "2019-09-01T00:00:00+09:00"
        ex.must(AmendmentAccepted(T("2019-07-02T00:00:00+09:00"), "tisa", "JPN", "t-1", T(later)))
        cyber_via = ex.check_release("cyber-1", "KOR", "JPN", later, via="USA")
        before = ex.check_release("cyber-1", "KOR", "JPN", T(later) - US, via="USA")
        assert "topic-out-of-scope" in before.codes
        assert "topic-out-of-scope" not in cyber_via.codes

    def test_the_one_step_amendment_is_a_proposal_with_every_acceptance(self) -> None:
        one, two = korea_2019(), korea_2019()
        one.must(Amendment(T(EFFECTIVE), "gsomia", {"equivalence": WIDER}))
        two.must(propose(at=EFFECTIVE))
        two.must(accept(at=EFFECTIVE, effective=EFFECTIVE))
        for at in (T(EFFECTIVE) - US, T(EFFECTIVE), T("2025-01-01T00:00:00Z")):
            a, b = one.facts.state("gsomia", at), two.facts.state("gsomia", at)
            assert (a.status, a.terms, a.expires_at) == (b.status, b.terms, b.expires_at)


class TestRefusals:
    def test_withdrawn_then_accepted_is_refused(self) -> None:
        ex = korea_2019()
        ex.must(propose())
        ex.must(withdraw("2019-06-20T00:00:00+09:00"))
        decision = ex.event(accept())
        assert decision.codes == ("amendment-withdrawn",)
        assert not top_covered(ex, "2030-01-01T00:00:00+09:00")
        assert ex.facts.state("gsomia", T(ACCEPTED)).proposals == ()

    def test_only_the_proposer_may_withdraw(self) -> None:
        ex = korea_2019()
        ex.must(propose())
        assert ex.event(withdraw("2019-06-20T00:00:00+09:00", by="JPN")).codes == ("not-proposer",)

    @pytest.mark.parametrize(
        ("event", "code"),
        [
            (accept(by="USA"), "not-a-party"),
            (accept(by="KOR"), "own-proposal"),
            (accept(aid="am-9"), "unknown-amendment"),
            (accept(effective="2019-06-30T00:00:00+09:00"), "effective-before-event"),
            (withdraw(ACCEPTED, aid="am-9"), "unknown-amendment"),
            (propose(at=ACCEPTED), "invalid-amendment"),  # the id is taken
            (propose(at=ACCEPTED, aid="am-2", parties=frozenset({"KOR"})), "invalid-amendment"),
        ],
    )
    def test_refused_events_change_nothing(self, event: object, code: str) -> None:
        ex = korea_2019()
        ex.must(propose())
        decision = ex.event(event)  # type: ignore[arg-type]
        assert not decision.allowed and code in decision.codes
        assert len(ex.world.agreement_events["gsomia"]) == 1

    def test_accepting_twice_or_after_it_was_agreed(self) -> None:
        ex = korea_2019()
        ex.must(propose())
        ex.must(accept())
        assert ex.event(accept(at="2019-07-02T00:00:00+09:00")).codes == ("amendment-agreed",)
        assert ex.event(withdraw("2019-07-02T00:00:00+09:00")).codes == ("amendment-agreed",)


class TestNoticePeriodRule:
    """A notice keeps the notice period in force at its delivery."""

    def test_a_delivered_notice_keeps_its_period_when_the_period_is_shortened(self) -> None:
        ex = korea_2019()
        ex.must(TerminationNotice(T(NOTICE_2019), "gsomia", "KOR"))
        ex.must(propose(at="2019-09-01T00:00:00+09:00", notice_period=D("P180D")))
        ex.must(accept(at="2019-09-02T00:00:00+09:00", effective="2019-09-02T00:00:00+09:00"))
        state = ex.facts.state("gsomia", T("2019-09-03T00:00:00+09:00"))
        assert state.terms.notice_period == D("P180D")
        assert state.expires_at == T("2019-11-23T00:00:00+09:00")  # 90 days still govern
        assert ex.status("gsomia", "2019-11-23T00:00:00+09:00") == "terminated"

    def test_a_notice_delivered_after_the_amendment_uses_the_new_period(self) -> None:
        ex = korea_2019()
        ex.must(propose(at="2019-09-01T00:00:00+09:00", notice_period=D("P30D")))
        ex.must(accept(at="2019-09-02T00:00:00+09:00", effective="2019-09-02T00:00:00+09:00"))
        ex.must(TerminationNotice(T("2019-10-01T00:00:00+09:00"), "gsomia", "KOR"))
        # with 90 days it would have meant one more term (2020-11-23); with 30 days it is in time
        assert ex.facts.state("gsomia", T("2019-10-02T00:00:00Z")).expires_at == T(
            "2019-11-23T00:00:00+09:00"
        )


class TestStoredAndReloaded:
    def test_the_service_stores_mutual_amendments_and_reloads_them(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'x.db'}"
        key = MasterKey.generate()
        first = Service(SqlStore(url), master=lambda: key)
        first.init_keys()
        world = korea_2019().world
        for topic in sorted(world.topics):
            first.add_topic(topic)
        for party in world.parties.values():
            first.add_party(party)
        first.add_agreement(world.agreements["gsomia"])
        assert first.record(propose()).allowed
        assert first.record(accept()).allowed
        assert not first.record(withdraw("2019-07-02T00:00:00+09:00")).allowed
        first.store.close()
        again = Service(SqlStore(url), master=lambda: key)
        before = again.agreement_state("gsomia", T(EFFECTIVE) - US)
        after = again.agreement_state("gsomia", T(EFFECTIVE))
        assert before.terms.equivalence != WIDER and after.terms.equivalence == WIDER
        events = again.snapshot().agreement_events["gsomia"]
        assert [e.kind for e in events] == ["amendment_proposed", "amendment_accepted"]
        again.store.close()
