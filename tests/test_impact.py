"""policy.impact: what a lapse stops, what still has a lawful route, what stays protected (R7, R8)."""

from __future__ import annotations

from accord.model.agreement import NoticeSuspended, TerminationNotice
from accord.model.item import Item
from accord.policy.impact import ImpactReport, impact
from accord.policy.lifecycle import Status
from tests.worlds import (
    KOR2,
    KOR3,
    LAPSE_2019,
    NOTICE_2019,
    SUSPENSION_2019,
    US,
    Exchange,
    T,
    korea_2019,
)

BEFORE = "2019-11-01T09:00:00+09:00"
LAPSE = T(LAPSE_2019)


def shared() -> Exchange:
    """GSOMIA with Seoul's notice; report-1, cyber-1 and low-1 released KOR→JPN before the lapse."""
    ex = korea_2019()
    ex.must(TerminationNotice(T(NOTICE_2019), "gsomia", "KOR"))
    for item in ("report-1", "cyber-1", "low-1"):
        assert ex.release(item, "KOR", "JPN", BEFORE).allowed
    return ex


def by_item(report: ImpactReport) -> dict[str, tuple[str, str | None, str | None, str]]:
    found = {}
    for flow in report.flows:
        for item in flow.items:
            o = flow.outcome
            found[item] = (o.verdict, o.agreement, o.via, o.detail)
    return found


def test_what_stops_at_midnight_2019() -> None:
    report = impact(shared().facts, "gsomia", LAPSE)
    assert report.agreement == "gsomia"
    assert report.state.status is Status.TERMINATED
    flows = by_item(report)
    assert set(flows) == {"report-1", "cyber-1", "low-1"}
    verdict, agreement, via, detail = flows["report-1"]
    assert (verdict, agreement, via) == ("needs-consent", "tisa", "USA")
    assert detail == "through USA under tisa, with KOR's consent for USA to pass it to JPN"
    assert flows["cyber-1"][0] == "blocked"  # outside TISA's topics
    assert "agreement-not-in-force" in flows["cyber-1"][3]
    assert flows["low-1"][0] == "blocked"  # TISA covers only the SECRET row
    for flow in report.flows:
        assert (flow.originator, flow.sender, flow.recipient) == ("KOR", "KOR", "JPN")
    levels = {flow.items[0]: flow.level for flow in report.flows if len(flow.items) == 1}
    assert levels["low-1"] == KOR3
    assert levels["report-1"] == KOR2


def test_consent_through_the_hub_keeps_it_flowing() -> None:
    ex = shared()
    ex.consent("report-1", "USA", ["JPN"], BEFORE)
    verdict, agreement, via, _ = by_item(impact(ex.facts, "gsomia", LAPSE))["report-1"]
    assert (verdict, agreement, via) == ("still-flows", "tisa", "USA")


def test_holdings_stay_protected() -> None:
    report = impact(shared().facts, "gsomia", LAPSE)
    protected = {(h.item, h.party, h.agreement) for h in report.protected}
    assert protected == {
        ("report-1", "JPN", "gsomia"),
        ("cyber-1", "JPN", "gsomia"),
        ("low-1", "JPN", "gsomia"),
    }


def test_destroyed_holdings_are_not_listed_as_protected() -> None:
    ex = shared()
    ex.destroy("cyber-1", "JPN", "2019-11-10T00:00:00+09:00")
    report = impact(ex.facts, "gsomia", LAPSE)
    assert {h.item for h in report.protected} == {"report-1", "low-1"}


def test_hypothetical_lapse_of_an_agreement_still_in_force() -> None:
    ex = shared()
    ex.must(NoticeSuspended(T(SUSPENSION_2019), "gsomia", "KOR"))
    report = impact(ex.facts, "gsomia", LAPSE)
    assert report.state.status is Status.IN_FORCE  # the real state is reported beside the what-if
    assert by_item(report)["report-1"][0] == "needs-consent"
    # and the what-if did not leak into real decisions
    assert ex.check_release("top-1", "KOR", "JPN", LAPSE).codes == ("level-not-covered",)
    assert ex.check_release("jpn-1", "JPN", "KOR", LAPSE).allowed


def test_only_releases_before_the_instant_count() -> None:
    ex = shared()
    assert impact(ex.facts, "gsomia", T(BEFORE) - US).protected == ()
    report = impact(ex.facts, "gsomia", T(BEFORE))
    assert report.flows == ()  # a release at the lapse instant itself is not a past flow
    report = impact(ex.facts, "gsomia", T(BEFORE) + US)
    assert {i for f in report.flows for i in f.items} == {"report-1", "cyber-1", "low-1"}


def test_flows_under_other_agreements_are_not_listed() -> None:
    ex = korea_2019()
    ex.consent("report-1", "USA", ["JPN"], BEFORE)
    assert ex.release("report-1", "KOR", "JPN", BEFORE, via="USA").allowed
    assert impact(ex.facts, "gsomia", LAPSE).flows == ()
    report = impact(ex.facts, "tisa", LAPSE)
    assert {(h.party, h.agreement) for h in report.protected} == {
        ("USA", "tisa"),
        ("JPN", "tisa"),
    }
    (flow,) = report.flows
    # GSOMIA is still in force: the flow keeps a direct route
    assert (flow.sender, flow.recipient, flow.outcome.verdict) == ("KOR", "JPN", "still-flows")
    assert flow.outcome.via is None


def test_flows_are_grouped_by_originator_sender_recipient_level_and_topics() -> None:
    ex = korea_2019()
    ex.must(TerminationNotice(T(NOTICE_2019), "gsomia", "KOR"))
    ex.world.add_item(
        Item(
            "report-2",
            "KOR",
            KOR2,
            frozenset({"nk-missile"}),
            frozenset({"JPN", "USA"}),
            T("2019-10-01T00:00:00+09:00"),
        )
    )
    ex.release("report-1", "KOR", "JPN", BEFORE)
    ex.release("report-2", "KOR", "JPN", BEFORE)
    report = impact(ex.facts, "gsomia", LAPSE)
    (flow,) = report.flows
    assert sorted(flow.items) == ["report-1", "report-2"]
    assert flow.outcome.verdict == "needs-consent"


def test_impact_names_the_agreement_a_direct_flow_still_uses() -> None:
    ex = korea_2019()
    ex.consent("report-1", "USA", ["JPN"], BEFORE)
    ex.release("report-1", "KOR", "JPN", BEFORE, via="USA")
    (flow,) = impact(ex.facts, "tisa", LAPSE).flows
    assert flow.outcome.agreement == "gsomia"
