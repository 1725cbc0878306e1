"""One test class per rule (docs/rules.md): R1–R5, R7–R11, with every reason code they produce."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from accord.errors import InvalidInput, NaiveDatetime, UnknownReference
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import (
    Amendment,
    NoticeSuspended,
    NoticeWithdrawn,
    SuspensionLifted,
    TerminationNotice,
    TopicScope,
)
from accord.model.item import Item
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import parse_instant, require_aware
from accord.model.user import User
from accord.policy.batch import ReadableIndex
from accord.policy.impact import impact
from accord.policy.read import decide_read
from accord.policy.reasons import RULE, SUMMARY, Code, Decision, deny
from accord.policy.release import decide_release
from tests.worlds import (
    JPN2,
    JPN3,
    KOR1,
    KOR2,
    KOR3,
    LAPSE_2019,
    NOTICE_2019,
    US,
    US_S,
    Exchange,
    T,
    agreement,
    gsomia,
    korea_2019,
    tisa,
)

BEFORE = "2019-11-01T09:00:00+09:00"  # GSOMIA in force, report-1 exists
LATER = "2019-11-05T09:00:00+09:00"
LAPSE = T(LAPSE_2019)


def lapsing() -> Exchange:
    """The 2019 world with Seoul's notice and no suspension: GSOMIA ends at LAPSE."""
    ex = korea_2019()
    ex.must(TerminationNotice(T(NOTICE_2019), "gsomia", "KOR"))
    return ex


def add_item(
    ex: Exchange,
    iid: str,
    level: str,
    topics: set[str],
    releasable: set[str],
    originator: str = "KOR",
) -> None:
    ex.world.add_item(
        Item(
            iid,
            originator,
            level,
            frozenset(topics),
            frozenset(releasable),
            T("2019-06-01T00:00:00+09:00"),
        )
    )


def codes(decision: Decision) -> set[str]:
    return set(decision.codes)


class TestR1AgreementInForce:
    def test_allowed_under_an_agreement_in_force(self) -> None:
        d = korea_2019().check_release("report-1", "KOR", "JPN", BEFORE)
        assert d.allowed
        assert d.codes == ("release-allowed",)
        assert d.reasons[0].agreement == "gsomia"
        assert d.reasons[0].rule == "R1"

    def test_not_in_force(self) -> None:
        d = lapsing().check_release("report-1", "KOR", "JPN", LAPSE)
        assert not d.allowed
        assert d.codes == ("agreement-not-in-force",)
        assert d.reasons[0].agreement == "gsomia"

    def test_level_not_in_the_table(self) -> None:
        d = korea_2019().check_release("top-1", "KOR", "JPN", BEFORE)
        assert d.codes == ("level-not-covered",)
        assert d.reasons[0].rule == "R1"

    def test_topic_out_of_scope(self) -> None:
        ex = korea_2019(agreements=[gsomia(topics=("nk-missile", "nk-nuclear"))])
        assert ex.check_release("cyber-1", "KOR", "JPN", BEFORE).codes == ("topic-out-of-scope",)
        assert ex.check_release("report-1", "KOR", "JPN", BEFORE).allowed

    def test_item_with_one_topic_out_of_scope(self) -> None:
        ex = korea_2019(agreements=[gsomia(topics=("nk-missile",))])
        add_item(ex, "mixed", KOR2, {"nk-missile", "cyber"}, {"JPN"})
        assert ex.check_release("mixed", "KOR", "JPN", BEFORE).codes == ("topic-out-of-scope",)

    def test_no_agreement_between_the_parties(self) -> None:
        ex = korea_2019(agreements=[gsomia()])
        d = ex.check_release("report-1", "KOR", "USA", BEFORE)
        assert d.codes == ("no-agreement",)
        assert d.reasons[0].rule == "R1"

    def test_every_coverage_reason_at_once(self) -> None:
        ex = korea_2019(agreements=[gsomia(topics=("nk-missile",))])
        ex.must(TerminationNotice(T(NOTICE_2019), "gsomia", "KOR"))
        add_item(ex, "bad", KOR1, {"cyber"}, {"USA"})
        d = ex.check_release("bad", "KOR", "JPN", LAPSE)
        assert not d.allowed
        assert codes(d) == {
            "not-releasable-to",
            "agreement-not-in-force",
            "level-not-covered",
            "topic-out-of-scope",
        }
        assert len(d.codes) == len(codes(d))

    def test_caveat_and_topic_together(self) -> None:
        ex = korea_2019(agreements=[gsomia(topics=("nk-missile",))])
        add_item(ex, "c", KOR2, {"cyber"}, {"USA"})
        d = ex.check_release("c", "KOR", "JPN", BEFORE)
        assert codes(d) == {"not-releasable-to", "topic-out-of-scope"}

    def test_reasons_from_every_agreement_when_none_covers(self) -> None:
        narrow = gsomia(topics=("cyber",))
        other = gsomia(topics=("nk-missile",), rows=({"KOR": KOR3, "JPN": JPN3},))
        ex = korea_2019(agreements=[narrow, _renamed(other, "gsomia-b")])
        d = ex.check_release("report-1", "KOR", "JPN", BEFORE)
        assert not d.allowed
        assert {(r.code.value, r.agreement) for r in d.reasons} == {
            ("topic-out-of-scope", "gsomia"),
            ("level-not-covered", "gsomia-b"),
        }

    def test_any_one_covering_agreement_suffices(self) -> None:
        narrow = gsomia(topics=("cyber",))
        other = gsomia(topics=("nk-missile",))
        ex = korea_2019(agreements=[narrow, _renamed(other, "gsomia-b")])
        d = ex.check_release("report-1", "KOR", "JPN", BEFORE)
        assert d.allowed
        assert d.reasons[0].agreement == "gsomia-b"

    def test_release_before_the_item_exists_is_not_held(self) -> None:
        ex = korea_2019()
        created = T("2019-10-31T17:00:00+09:00")
        assert ex.check_release("report-1", "KOR", "JPN", created - US).codes == ("not-held",)
        assert ex.check_release("report-1", "KOR", "JPN", created).allowed


def _renamed(agreement: object, aid: str) -> object:
    from dataclasses import replace

    return replace(agreement, id=aid)  # type: ignore[type-var]


class TestR2Remarking:
    def test_recipient_marked_with_its_equivalent_and_originator_level(self) -> None:
        ex = korea_2019()
        d = ex.release("report-1", "KOR", "JPN", BEFORE)
        assert d.allowed
        (copy,) = d.holdings
        assert (copy.party, copy.level) == ("JPN", JPN2)
        assert (copy.originator, copy.originator_level) == ("KOR", KOR2)
        assert copy.agreement == "gsomia"
        assert copy.received_at == T(BEFORE)
        assert copy.via is None
        assert ex.world.holding("report-1", "JPN", T(LATER)) == copy

    def test_lowest_row(self) -> None:
        (copy,) = korea_2019().check_release("low-1", "KOR", "JPN", BEFORE).holdings
        assert (copy.level, copy.originator_level) == (JPN3, KOR3)

    def test_japanese_item_marked_in_korean(self) -> None:
        (copy,) = korea_2019().check_release("jpn-1", "JPN", "KOR", BEFORE).holdings
        assert (copy.party, copy.level, copy.originator, copy.originator_level) == (
            "KOR",
            KOR2,
            "JPN",
            JPN2,
        )

    def test_onward_copy_keeps_the_originator_level(self) -> None:
        ex = korea_2019()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        ex.consent("report-1", "JPN", ["USA"], BEFORE)
        d = ex.check_release("report-1", "JPN", "USA", LATER)  # TISA: USA is the hub itself
        assert d.allowed, d.as_dict()
        (copy,) = d.holdings
        assert (copy.party, copy.level, copy.originator, copy.originator_level) == (
            "USA",
            US_S,
            "KOR",
            KOR2,
        )
        assert copy.agreement == "tisa"


class TestR3EquivalentProtection:
    def released(self) -> Exchange:
        ex = korea_2019()
        assert ex.release("report-1", "KOR", "JPN", BEFORE).allowed
        assert ex.release("low-1", "KOR", "JPN", BEFORE).allowed
        return ex

    def test_cleared_with_need_to_know(self) -> None:
        d = self.released().read("jpn-analyst", "report-1", LATER)
        assert d.allowed
        assert d.codes == ("read-allowed",)
        assert d.reasons[0].rule == "R3"

    def test_clearance_too_low_in_own_scheme(self) -> None:
        ex = self.released()
        assert ex.read("jpn-junior", "report-1", LATER).codes == ("clearance-too-low",)
        assert ex.read("jpn-junior", "low-1", LATER).allowed

    def test_rank_alone_is_never_enough(self) -> None:
        # 機密 is Japan's highest level, but jpn-chief has need-to-know for cyber only
        d = self.released().read("jpn-chief", "report-1", LATER)
        assert d.codes == ("no-need-to-know",)

    def test_both_reasons(self) -> None:
        ex = self.released()
        ex.world.add_user(User("jpn-clerk", "JPN", JPN3, frozenset({"cyber"})))
        assert codes(ex.read("jpn-clerk", "report-1", LATER)) == {
            "clearance-too-low",
            "no-need-to-know",
        }

    def test_need_to_know_for_every_topic(self) -> None:
        ex = korea_2019()
        add_item(ex, "mixed", KOR2, {"nk-missile", "cyber"}, {"JPN"})
        ex.release("mixed", "KOR", "JPN", BEFORE)
        assert ex.read("jpn-analyst", "mixed", LATER).codes == ("no-need-to-know",)
        assert ex.read("jpn-both", "mixed", LATER).allowed

    def test_not_held(self) -> None:
        ex = korea_2019()
        assert ex.read("jpn-analyst", "report-1", LATER).codes == ("not-held",)
        created = T("2019-10-31T17:00:00+09:00")
        assert ex.read("kor-analyst", "report-1", created - US).codes == ("not-held",)
        assert ex.read("kor-analyst", "report-1", created).allowed

    def test_read_before_the_copy_arrived(self) -> None:
        ex = self.released()
        assert ex.read("jpn-analyst", "report-1", T(BEFORE) - US).codes == ("not-held",)
        assert ex.read("jpn-analyst", "report-1", BEFORE).allowed

    def test_not_held_and_no_need_to_know(self) -> None:
        assert codes(korea_2019().read("jpn-chief", "report-1", LATER)) == {
            "not-held",
            "no-need-to-know",
        }

    def test_originator_reads_at_its_own_level(self) -> None:
        ex = korea_2019()
        ex.world.add_user(User("kor-low", "KOR", KOR3, frozenset({"nk-missile"})))
        assert ex.read("kor-low", "report-1", LATER).codes == ("clearance-too-low",)
        assert ex.read("kor-low", "low-1", LATER).allowed

    def test_hub_copy_read_in_the_hubs_scheme(self) -> None:
        ex = korea_2019()
        ex.consent("report-1", "USA", ["JPN"], BEFORE)
        assert ex.release("report-1", "KOR", "JPN", BEFORE, via="USA").allowed
        assert ex.read("usa-analyst", "report-1", LATER).allowed
        ex.world.add_user(User("usa-low", "USA", "CONFIDENTIAL", frozenset({"nk-missile"})))
        assert ex.read("usa-low", "report-1", LATER).codes == ("clearance-too-low",)


class TestR4ThirdParties:
    def held_by_japan(self) -> Exchange:
        ex = korea_2019()
        assert ex.release("report-1", "KOR", "JPN", BEFORE).allowed
        return ex

    def test_holder_needs_consent(self) -> None:
        d = self.held_by_japan().check_release("report-1", "JPN", "USA", LATER)
        assert d.codes == ("no-originator-consent",)
        assert d.reasons[0].rule == "R4"

    def test_consent_allows(self) -> None:
        ex = self.held_by_japan()
        assert ex.consent("report-1", "JPN", ["USA"], "2019-11-03T00:00:00+09:00").allowed
        assert not ex.check_release("report-1", "JPN", "USA", "2019-11-02T23:59:59+09:00").allowed
        assert ex.check_release("report-1", "JPN", "USA", LATER).allowed

    def test_refusal_withdraws_consent_from_its_instant(self) -> None:
        ex = self.held_by_japan()
        ex.consent("report-1", "JPN", ["USA"], "2019-11-03T00:00:00+09:00")
        refused = T("2019-11-04T00:00:00+09:00")
        assert ex.consent("report-1", "JPN", ["USA"], refused, granted=False).allowed
        assert ex.check_release("report-1", "JPN", "USA", refused - US).allowed
        assert ex.check_release("report-1", "JPN", "USA", refused).codes == (
            "no-originator-consent",
        )

    def test_consent_is_for_that_holder_and_recipient_only(self) -> None:
        ex = self.held_by_japan()
        ex.consent("report-1", "USA", ["JPN"], BEFORE)  # another holder
        assert ex.check_release("report-1", "JPN", "USA", LATER).codes == ("no-originator-consent",)

    def test_only_the_originator_answers(self) -> None:
        ex = self.held_by_japan()
        d = ex.consent("report-1", "JPN", ["USA"], LATER, by="JPN")
        assert d.codes == ("not-originator",)
        assert ex.check_release("report-1", "JPN", "USA", LATER).codes == ("no-originator-consent",)

    def test_originator_needs_no_consent(self) -> None:
        ex = korea_2019()
        assert ex.check_release("jpn-1", "JPN", "KOR", BEFORE).allowed


class TestR5Caveats:
    def test_direct_release_outside_the_list(self) -> None:
        d = korea_2019().check_release("kor-only", "KOR", "JPN", BEFORE)
        assert d.codes == ("not-releasable-to",)
        assert d.reasons[0].rule == "R5"

    def test_consent_cannot_reach_past_the_caveat(self) -> None:
        ex = korea_2019()
        add_item(ex, "jp-only", KOR2, {"nk-missile"}, {"JPN"})
        ex.release("jp-only", "KOR", "JPN", BEFORE)
        assert ex.consent("jp-only", "JPN", ["USA"], BEFORE).codes == ("not-releasable-to",)

    def test_onward_release_outside_the_list_even_with_a_recorded_consent(self) -> None:
        ex = korea_2019()
        add_item(ex, "jp-only", KOR2, {"nk-missile"}, {"JPN"})
        ex.release("jp-only", "KOR", "JPN", BEFORE)
        # a consent recorded without policy (e.g. by hand) still cannot lift the caveat
        ex.world.add_consent(
            Consent(T(BEFORE), "jp-only", "KOR", "JPN", frozenset({"USA"}), granted=True)
        )
        assert ex.check_release("jp-only", "JPN", "USA", LATER).codes == ("not-releasable-to",)

    def test_the_hub_must_be_on_the_list(self) -> None:
        ex = korea_2019()
        add_item(ex, "jp-only", KOR2, {"nk-missile"}, {"JPN"})
        d = ex.check_release("jp-only", "KOR", "JPN", BEFORE, via="USA")
        assert codes(d) == {"not-releasable-to", "no-originator-consent"}
        assert {r.message for r in d.reasons if r.code is Code.NOT_RELEASABLE_TO} == {
            "KOR has not made jp-only releasable to USA"
        }


class TestR7PostTermination:
    def test_holdings_stay_readable_after_the_agreement_ends(self) -> None:
        ex = lapsing()
        assert ex.release("report-1", "KOR", "JPN", BEFORE).allowed
        later = "2025-01-01T00:00:00+09:00"
        assert ex.status("gsomia", later) == "terminated"
        d = ex.read("jpn-analyst", "report-1", later)
        assert d.allowed
        assert d.reasons[0].agreement == "gsomia"

    def test_holdings_stay_protected_after_the_agreement_ends(self) -> None:
        ex = lapsing()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        assert ex.read("jpn-junior", "report-1", LAPSE).codes == ("clearance-too-low",)
        assert ex.read("jpn-chief", "report-1", LAPSE).codes == ("no-need-to-know",)
        assert ex.check_release("report-1", "JPN", "USA", LAPSE).codes == ("no-originator-consent",)

    def test_only_new_releases_stop(self) -> None:
        ex = lapsing()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        assert ex.check_release("low-1", "KOR", "JPN", LAPSE).codes == ("agreement-not-in-force",)
        assert ex.world.holding("report-1", "JPN", LAPSE) is not None


class TestR8Hubs:
    def tisa_only(self) -> Exchange:
        return korea_2019(agreements=[tisa()])

    def test_direct_release_between_members_is_not_covered(self) -> None:
        d = self.tisa_only().check_release("report-1", "KOR", "JPN", BEFORE)
        assert d.codes == ("no-agreement",)
        assert "tisa" in d.reasons[0].message

    def test_through_the_hub_without_consent(self) -> None:
        d = self.tisa_only().check_release("report-1", "KOR", "JPN", BEFORE, via="USA")
        assert d.codes == ("no-originator-consent",)
        assert d.reasons[0].message == "USA has no consent from KOR to pass report-1 to JPN"

    def test_through_the_hub_with_consent(self) -> None:
        ex = self.tisa_only()
        ex.consent("report-1", "USA", ["JPN"], BEFORE)
        d = ex.release("report-1", "KOR", "JPN", LATER, via="USA")
        assert d.allowed
        assert d.reasons[0].agreement == "tisa"
        marks = {(h.party, h.level, h.originator_level, h.agreement, h.via) for h in d.holdings}
        assert marks == {
            ("USA", US_S, KOR2, "tisa", None),
            ("JPN", JPN2, KOR2, "tisa", "USA"),
        }
        assert ex.read("jpn-analyst", "report-1", LATER).allowed
        assert ex.read("usa-analyst", "report-1", LATER).allowed

    def test_hub_that_already_holds_gets_no_second_copy(self) -> None:
        ex = self.tisa_only()
        assert ex.release("report-1", "KOR", "USA", BEFORE).allowed  # the hub is the recipient
        ex.consent("report-1", "USA", ["JPN"], BEFORE)
        d = ex.check_release("report-1", "KOR", "JPN", LATER, via="USA")
        assert d.allowed
        assert [(h.party, h.via) for h in d.holdings] == [("JPN", "USA")]

    def test_hub_passes_on_its_own_copy_only_with_consent(self) -> None:
        ex = self.tisa_only()
        ex.release("report-1", "KOR", "USA", BEFORE)
        assert ex.check_release("report-1", "USA", "JPN", LATER).codes == ("no-originator-consent",)
        ex.consent("report-1", "USA", ["JPN"], LATER)
        assert ex.check_release("report-1", "USA", "JPN", LATER).allowed

    def test_unknown_hub_route(self) -> None:
        ex = korea_2019(agreements=[gsomia()])
        ex.consent("report-1", "USA", ["JPN"], BEFORE)
        assert ex.check_release("report-1", "KOR", "JPN", BEFORE, via="USA").codes == (
            "no-hub-route",
        )
        both = korea_2019()
        both.consent("jpn-1", "KOR", ["USA"], BEFORE)
        d = both.check_release("jpn-1", "JPN", "USA", BEFORE, via="KOR")
        assert d.codes == ("no-hub-route",)
        assert d.reasons[0].rule == "R8"
        # KOR is not TISA's hub; without consent the KOR hop needs one too
        d = korea_2019().check_release("jpn-1", "JPN", "USA", BEFORE, via="KOR")
        assert codes(d) == {"no-hub-route", "no-originator-consent"}

    def test_only_within_the_arrangements_scope(self) -> None:
        ex = self.tisa_only()
        ex.consent("cyber-1", "USA", ["JPN"], BEFORE)
        ex.consent("low-1", "USA", ["JPN"], BEFORE)
        assert ex.check_release("cyber-1", "KOR", "JPN", LATER, via="USA").codes == (
            "topic-out-of-scope",
        )
        assert ex.check_release("low-1", "KOR", "JPN", LATER, via="USA").codes == (
            "level-not-covered",
            "level-not-covered",
        )

    def test_a_bilateral_agreement_is_preferred_to_a_hub_arrangement(self) -> None:
        # docs/semantics.md: agreements without a hub first, then by id ("tisa" < "us-rok")
        us_rok = agreement(
            "us-rok",
            ("USA", "KOR"),
            "2000-01-01T00:00:00Z",
            ({"USA": US_S, "KOR": KOR2},),
            timezone="America/New_York",
        )
        ex = korea_2019(agreements=[tisa(), us_rok])
        d = ex.check_release("report-1", "KOR", "USA", BEFORE)
        assert d.allowed
        assert d.reasons[0].agreement == "us-rok"
        assert [(h.party, h.agreement) for h in d.holdings] == [("USA", "us-rok")]
        # a flow only TISA covers still goes under TISA (the hub is the recipient)
        ex.world.add_item(
            Item("usa-1", "USA", US_S, frozenset({"nk-nuclear"}), frozenset({"KOR"}), T(BEFORE))
        )
        ex.must(Amendment(T(BEFORE), "us-rok", {"topics": TopicScope(frozenset({"nk-missile"}))}))
        assert ex.check_release("usa-1", "USA", "KOR", LATER).reasons[0].agreement == "tisa"

    def test_hub_route_still_flows_when_gsomia_lapses(self) -> None:
        ex = lapsing()
        ex.consent("report-1", "USA", ["JPN"], BEFORE)
        assert ex.check_release("report-1", "KOR", "JPN", LAPSE).codes == (
            "agreement-not-in-force",
        )
        assert ex.check_release("report-1", "KOR", "JPN", LAPSE, via="USA").allowed
        # but nothing outside TISA's topics
        assert codes(ex.check_release("cyber-1", "KOR", "JPN", LAPSE, via="USA")) == {
            "topic-out-of-scope",
            "no-originator-consent",
        }


class TestR9Compromise:
    def test_holder_reports_compromise_as_a_recorded_fact(self) -> None:
        ex = korea_2019()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        d = ex.compromise("report-1", "JPN", LATER, "lost in transit")
        assert d.allowed
        assert d.codes == ("compromise-recorded",)
        assert d.reasons[0].rule == "R9"
        (report,) = ex.world.compromises
        assert (report.item, report.party, report.at) == ("report-1", "JPN", T(LATER))
        assert report.description == "lost in transit"

    def test_a_party_without_a_copy_cannot_report(self) -> None:
        ex = korea_2019()
        assert ex.compromise("report-1", "JPN", LATER, "?").codes == ("not-held",)
        assert ex.world.compromises == []


class TestR10Destruction:
    def destroyed(self) -> tuple[Exchange, datetime]:
        ex = korea_2019()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        ex.consent("report-1", "JPN", ["USA"], BEFORE)
        at = T(LATER)
        assert ex.destroy("report-1", "JPN", at).allowed
        return ex, at

    def test_destroyed_copy_is_unreadable_from_then_on(self) -> None:
        ex, at = self.destroyed()
        assert ex.read("jpn-analyst", "report-1", at - US).allowed
        d = ex.read("jpn-analyst", "report-1", at)
        assert d.codes == ("destroyed",)
        assert d.reasons[0].rule == "R10"
        assert ex.read("jpn-analyst", "report-1", "2030-01-01T00:00:00Z").codes == ("destroyed",)

    def test_destroyed_copy_cannot_be_released_onward(self) -> None:
        ex, at = self.destroyed()
        assert ex.check_release("report-1", "JPN", "USA", at - US).allowed
        assert ex.check_release("report-1", "JPN", "USA", at).codes == ("destroyed",)

    def test_destroy_twice_or_without_a_copy(self) -> None:
        ex, at = self.destroyed()
        assert ex.destroy("report-1", "JPN", at).codes == ("destroyed",)
        assert ex.destroy("report-1", "USA", at).codes == ("not-held",)

    def test_originator_destroying_its_own_copy(self) -> None:
        ex = korea_2019()
        ex.destroy("low-1", "KOR", BEFORE)
        assert ex.check_release("low-1", "KOR", "JPN", LATER).codes == ("destroyed",)
        assert ex.read("kor-analyst", "low-1", LATER).codes == ("destroyed",)

    def test_a_new_copy_after_destruction(self) -> None:
        ex, at = self.destroyed()
        assert ex.check_release("report-1", "KOR", "JPN", at - US).codes == ("already-held",)
        again = "2019-11-06T00:00:00+09:00"
        assert ex.release("report-1", "KOR", "JPN", again).allowed
        assert ex.read("jpn-analyst", "report-1", again).allowed
        assert ex.read("jpn-analyst", "report-1", at).codes == ("destroyed",)


class TestR11DefaultDenyAndErrors:
    def test_every_code_cites_a_rule_and_has_a_summary(self) -> None:
        for code in Code:
            assert RULE[code].startswith("R"), code
            assert SUMMARY[code], code

    def test_default_deny_still_says_why(self) -> None:
        d = deny([])
        assert not d.allowed
        assert d.codes == ("no-agreement",)
        assert d.reasons[0].message

    def test_decisions_explain_themselves(self) -> None:
        d = lapsing().check_release("top-1", "KOR", "JPN", LAPSE)
        data = d.as_dict()
        assert data["decision"] == "deny"
        reasons = data["reasons"]
        assert isinstance(reasons, list)
        assert {r["code"] for r in reasons} == {"agreement-not-in-force", "level-not-covered"}
        assert all(r["rule"] == "R1" and r["message"] for r in reasons)

    def test_already_held(self) -> None:
        ex = korea_2019()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        d = ex.check_release("report-1", "KOR", "JPN", LATER)
        assert d.codes == ("already-held",)

    @pytest.mark.parametrize(
        "produce",
        [
            lambda ex: ex.check_release("report-1", "KOR", "JPN", BEFORE),
            lambda ex: ex.read("kor-analyst", "report-1", BEFORE),
            lambda ex: korea_2019(agreements=[gsomia()]).check_release(
                "report-1", "KOR", "USA", BEFORE
            ),
            lambda ex: lapsing().check_release("report-1", "KOR", "JPN", LAPSE),
            lambda ex: ex.check_release("top-1", "KOR", "JPN", BEFORE),
            lambda ex: ex.check_release("cyber-1", "KOR", "JPN", BEFORE, via="USA"),
            lambda ex: ex.check_release("kor-only", "KOR", "JPN", BEFORE),
            lambda ex: ex.check_release("report-1", "KOR", "JPN", BEFORE, via="USA"),
            lambda ex: ex.read("jpn-analyst", "report-1", BEFORE),
            lambda ex: ex.read("jpn-chief", "report-1", BEFORE),
            lambda ex: ex.check_release("jpn-1", "JPN", "USA", BEFORE, via="KOR"),
        ],
    )
    def test_reason_codes_are_stable_strings(self, produce: Callable[[Exchange], Decision]) -> None:
        d = produce(korea_2019())
        assert d.codes
        assert all(c in {code.value for code in Code} for c in d.codes)

    def test_every_release_and_read_code_is_reachable(self) -> None:
        ex = lapsing()
        ex.release("report-1", "KOR", "JPN", BEFORE)
        ex.destroy("low-1", "KOR", BEFORE)
        seen: set[str] = set()
        for d in (
            ex.check_release("report-1", "KOR", "JPN", LATER),  # already-held
            ex.check_release("cyber-1", "KOR", "JPN", LATER),  # allowed
            ex.check_release("top-1", "KOR", "JPN", LAPSE),  # not in force, level
            ex.check_release("cyber-1", "KOR", "JPN", LAPSE, via="USA"),  # topic, consent
            ex.check_release("kor-only", "KOR", "JPN", LATER),  # caveat
            ex.check_release("jpn-1", "JPN", "USA", LATER, via="KOR"),  # hub route
            ex.check_release("low-1", "KOR", "JPN", LATER),  # destroyed
            ex.check_release("report-1", "USA", "JPN", LATER),  # not held
            korea_2019(agreements=[gsomia()]).check_release("report-1", "KOR", "USA", BEFORE),
            ex.read("jpn-analyst", "report-1", LATER),
            ex.read("jpn-junior", "report-1", LATER),
            ex.read("jpn-chief", "report-1", LATER),
        ):
            seen.update(d.codes)
        produced = {
            Code.RELEASE_ALLOWED,
            Code.READ_ALLOWED,
            Code.NO_AGREEMENT,
            Code.AGREEMENT_NOT_IN_FORCE,
            Code.LEVEL_NOT_COVERED,
            Code.TOPIC_OUT_OF_SCOPE,
            Code.NOT_RELEASABLE_TO,
            Code.NO_ORIGINATOR_CONSENT,
            Code.NOT_HELD,
            Code.DESTROYED,
            Code.CLEARANCE_TOO_LOW,
            Code.NO_NEED_TO_KNOW,
            Code.NO_HUB_ROUTE,
            Code.ALREADY_HELD,
        }
        assert seen == {c.value for c in produced}

    # errors, not decisions

    def test_naive_datetimes_are_refused_by_the_time_functions(self) -> None:
        with pytest.raises(NaiveDatetime):
            require_aware(datetime(2019, 11, 23), "at")
        with pytest.raises(NaiveDatetime):
            parse_instant("2019-11-23T00:00:00", "at")
        with pytest.raises(InvalidInput) as caught:
            parse_instant("23/11/2019", "at")
        assert not isinstance(caught.value, NaiveDatetime)
        assert parse_instant("2019-11-23T00:00:00+09:00", "at") == datetime(
            2019, 11, 22, 15, tzinfo=UTC
        )

    @pytest.mark.parametrize(
        "make",
        [
            lambda naive: gsomia(start=naive),
            lambda naive: Item("n", "KOR", KOR2, frozenset({"cyber"}), frozenset(), naive),
            lambda naive: TerminationNotice(naive, "gsomia", "KOR"),
            lambda naive: NoticeSuspended(naive, "gsomia", "KOR"),
            lambda naive: NoticeWithdrawn(naive, "gsomia", "KOR"),
            lambda naive: SuspensionLifted(naive, "gsomia", "KOR", T(LAPSE_2019)),
            lambda naive: SuspensionLifted(T(LAPSE_2019), "gsomia", "KOR", naive),
            lambda naive: Amendment(naive, "gsomia", {}),
            lambda naive: Release(naive, "report-1", "KOR", "JPN"),
            lambda naive: Consent(naive, "report-1", "KOR", "JPN", frozenset({"USA"})),
            lambda naive: Destruction(naive, "report-1", "JPN"),
            lambda naive: Compromise(naive, "report-1", "JPN", "lost"),
        ],
    )
    def test_naive_datetimes_are_refused_by_the_model(
        self, make: Callable[[datetime], object]
    ) -> None:
        with pytest.raises(NaiveDatetime):
            make(datetime(2019, 11, 1, 9))

    @pytest.mark.parametrize(
        "call",
        [
            lambda ex, at: decide_release(ex.facts, ReleaseRequest("report-1", "KOR", "JPN"), at),
            lambda ex, at: decide_read(ex.facts, ReadRequest("jpn-analyst", "report-1"), at),
            lambda ex, at: decide_read(ex.facts, ReadRequest("kor-analyst", "report-1"), at),
            lambda ex, at: ex.facts.state("gsomia", at),
            lambda ex, at: ReadableIndex(ex.world).readable("kor-analyst", at),
            lambda ex, at: impact(ex.facts, "gsomia", at),
        ],
        ids=["release", "read-not-held", "read", "state", "batch", "impact"],
    )
    def test_naive_datetimes_are_refused_by_policy(
        self, call: Callable[[Exchange, datetime], object]
    ) -> None:
        with pytest.raises(NaiveDatetime):
            call(korea_2019(), datetime(2019, 11, 1, 9))

    @pytest.mark.parametrize(
        "call",
        [
            lambda ex: ex.check_release("nope", "KOR", "JPN", BEFORE),
            lambda ex: ex.check_release("report-1", "KOR", "XXX", BEFORE),
            lambda ex: ex.check_release("report-1", "XXX", "JPN", BEFORE),
            lambda ex: ex.check_release("report-1", "KOR", "JPN", BEFORE, via="XXX"),
            lambda ex: ex.read("nobody", "report-1", BEFORE),
            lambda ex: ex.read("jpn-analyst", "nope", BEFORE),
            lambda ex: ex.consent("nope", "JPN", ["USA"], BEFORE),
            lambda ex: ex.consent("report-1", "JPN", ["XXX"], BEFORE),
            lambda ex: ex.destroy("report-1", "XXX", BEFORE),
            lambda ex: ex.compromise("nope", "JPN", BEFORE, "?"),
            lambda ex: impact(ex.facts, "nope", T(BEFORE)),
            lambda ex: ReadableIndex(ex.world).readable("nobody", T(BEFORE)),
        ],
    )
    def test_unknown_references_raise(self, call: Callable[[Exchange], object]) -> None:
        with pytest.raises(UnknownReference):
            call(korea_2019())

    def test_unknown_agreement_state_raises_unknown_reference(self) -> None:
        with pytest.raises(UnknownReference):
            korea_2019().facts.state("nope", T(BEFORE))

    @pytest.mark.parametrize(("frm", "to", "via"), [("KOR", "KOR", None), ("KOR", "JPN", "KOR")])
    def test_same_party_twice_is_invalid_input(self, frm: str, to: str, via: str | None) -> None:
        with pytest.raises(InvalidInput):
            korea_2019().check_release("report-1", frm, to, BEFORE, via)


def test_a_holder_may_return_an_item_to_its_originator_without_consent() -> None:
    """R4 asks the originator's consent for third parties; the originator is not one."""
    ex = korea_2019()
    assert ex.release("report-1", "KOR", "JPN", "2019-11-01T09:00:00+09:00").allowed
    assert ex.destroy("report-1", "KOR", "2019-11-02T09:00:00+09:00").allowed
    back = ex.check_release("report-1", "JPN", "KOR", "2019-11-03T09:00:00+09:00")
    assert back.allowed, back.codes
    onward = ex.check_release("report-1", "JPN", "USA", "2019-11-03T09:00:00+09:00")
    assert "no-originator-consent" in onward.codes
