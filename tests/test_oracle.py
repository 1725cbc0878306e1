"""Property test: ``accord.policy`` agrees with the reference oracle in ``tests/oracle.py``.

Hypothesis draws a random world (``tests.worlds.world_specs``), then a random history in time
order — termination notices, suspensions, lifts, withdrawals, release attempts, consents,
destructions and reclassifications (Art. 6(g)), at instants that include the exact term ends, notice deadlines and expiry
instants and the microseconds around them — and records each act in both the production world
and the oracle's log only when both agree it is allowed. Afterwards it asks both, at instants
picked from the same landmarks, for every agreement's status, every release question (direct
and through every possible hub) and every read, and compares allow/deny, the set of reason
codes, the agreement used, the holdings (R2 marking) an allowed release would create, and every
copy's marking (level and not-covered flag) after reclassifications.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accord.model.agreement import (
    AgreementEvent,
    AmendmentAccepted,
    AmendmentProposed,
    AmendmentWithdrawn,
    EquivalenceTable,
    NoticeSuspended,
    NoticeWithdrawn,
    SuspensionLifted,
    TerminationNotice,
    TopicScope,
)
from accord.model.classification import MarkingFlag, Reclassification
from accord.model.matters import Condition, Consequence, ConsequenceKind, Matter, MatterState
from accord.policy.classification import decide_reclassification
from accord.policy.lifecycle import Status
from accord.policy.marking import marking
from accord.policy.matters import decide_matter_state
from accord.policy.reasons import Decision
from tests import oracle
from tests.worlds import (
    NOTICES,
    TOPIC_POOL,
    US,
    D,
    Exchange,
    Route,
    build,
    duration_text,
    routes,
    world_specs,
)

DELTAS = (
    timedelta(0),
    US,
    timedelta(hours=1),
    timedelta(hours=7),
    timedelta(days=1),
    timedelta(days=30),
    timedelta(days=91),
    timedelta(days=200),
    timedelta(days=400),
)
DAY = timedelta(days=1)
KINDS = (
    ("lifecycle",) * 3
    + ("amendment",) * 2
    + ("release",) * 3
    + ("hub-release",) * 2
    + ("consent", "destroy", "reclassify", "reclassify")
)


def landmarks(spec: Mapping[str, Any], acts: list[oracle.Act], after: datetime) -> list[datetime]:
    """Instants that matter for R6 from ``after`` on: term ends, notice deadlines, expiries."""
    found = {after + d for d in DELTAS[:-1]}
    for aid, a in spec["agreements"].items():
        found.update({a["start"], a["start"] - US})
        if a["term"] is not None:
            for end in oracle.term_ends(a):
                if end > after:
                    found.update({end, end - US, end + US})
                    if a["notice"] is not None:
                        last = oracle.deadline(a, end)
                        found.update({last, last - US, last + US, last + timedelta(days=1)})
                    break
        end = oracle.end_as_of(a, aid, acts, after)
        if end is not None:
            found.update({end, end - US})
    for act in acts:
        if act[0] == "accept":
            found.update({act[5], act[5] - US})
    return sorted(t for t in found if t >= after)


def query_instants(spec: Mapping[str, Any], acts: list[oracle.Act]) -> list[datetime]:
    found: set[datetime] = set()
    horizon = max([a[1] for a in acts] + [i["created"] for i in spec["items"].values()])
    horizon += timedelta(days=800)
    for aid, a in spec["agreements"].items():
        found.update({a["start"] - US, a["start"]})
        if a["term"] is not None:
            for k, end in enumerate(oracle.term_ends(a)):
                if end > horizon or k > 40:
                    break
                found.update({end - US, end, end + US})
        end = oracle.end_as_of(a, aid, acts, horizon)
        if end is not None:
            found.update({end - US, end, end + US})
    for act in acts:
        found.update({act[1] - US, act[1], act[1] + US})
        if act[0] in ("lift", "accept"):
            found.update(
                {act[4 if act[0] == "lift" else 5] - US, act[4 if act[0] == "lift" else 5]}
            )
    for item in spec["items"].values():
        found.update({item["created"] - US, item["created"]})
    return sorted(found)


def production_changes(changes: Mapping[str, Any]) -> dict[str, object]:
    """The oracle's amendment changes as the model's amendable fields."""
    out: dict[str, object] = {}
    for name, value in changes.items():
        if name == "notice":
            out["notice_period"] = D(duration_text(value))
        elif name == "rows":
            out["equivalence"] = EquivalenceTable(tuple(dict(r) for r in value))
        else:
            out["topics"] = TopicScope(None if value is None else frozenset(value))
    return out


def production_event(act: oracle.Act) -> AgreementEvent:
    kind, at, aid, by = act[:4]
    if kind == "propose":
        return AmendmentProposed(at, aid, by, act[4], production_changes(act[5]))
    if kind == "accept":
        return AmendmentAccepted(at, aid, by, act[4], act[5])
    if kind == "retract":
        return AmendmentWithdrawn(at, aid, by, act[4])
    if kind == "notice":
        return TerminationNotice(at, aid, by)
    if kind == "suspend":
        return NoticeSuspended(at, aid, by)
    if kind == "lift":
        return SuspensionLifted(at, aid, by, act[4])
    return NoticeWithdrawn(at, aid, by)


def compare_release(
    ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], r: Route, at: datetime
) -> tuple[Decision, oracle.Verdict]:
    got = ex.check_release(r.item, r.frm, r.to, at, r.via)
    want = oracle.decide_release(spec, acts, r.item, r.frm, r.to, r.via, at)
    where = f"release {r} at {at.isoformat()}: production {got.as_dict()}, oracle {want}"
    assert got.allowed == want.allowed, where
    assert set(got.codes) == want.codes, where
    if want.allowed:
        assert got.reasons[0].agreement == want.agreement, where
        made = {(h.party, h.level, h.received_at, h.via) for h in got.holdings}
        assert made == {(c.party, c.level, c.received, c.via) for c in want.copies}, where
        item = spec["items"][r.item]
        level = oracle.classification(spec, acts, r.item, at)[0]  # the level in force (Art. 6(g))
        for h in got.holdings:  # R2: the originator's name and level travel with every copy
            assert (h.originator, h.originator_level) == (item["originator"], level)
    return got, want


def compare_everything(
    ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    for aid, a in spec["agreements"].items():
        state = ex.facts.state(aid, at)
        want = oracle.status(spec, acts, aid, at)
        assert state.status.value == want, f"{aid} at {at.isoformat()}: {state.as_dict()}"
        event(f"queried status {want}")
        if state.status in (Status.IN_FORCE, Status.NOTICE_PENDING):
            assert state.expires_at == oracle.end_as_of(a, aid, acts, at), state.as_dict()
        amended = oracle.terms_as_of(a, aid, acts, at)
        if any(amended[k] != a[k] for k in ("notice", "rows", "topics")):
            event("queried an agreement under a mutual amendment")
    for r in routes(spec):
        compare_release(ex, spec, acts, r, at)
    for iid in spec["items"]:
        compare_markings(ex, spec, acts, iid, at)
    for uid in spec["users"]:
        for iid in spec["items"]:
            got = ex.read(uid, iid, at)
            want = oracle.decide_read(spec, acts, uid, iid, at)
            where = f"read {uid} {iid} at {at.isoformat()}: {got.as_dict()} vs {want}"
            assert got.allowed == want.allowed, where
            assert set(got.codes) == want.codes, where


def compare_markings(
    ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], iid: str, at: datetime
) -> None:
    """Art. 6(g), R2: every party's copy is marked alike at ``at``, flag included."""
    for party in spec["parties"]:
        want = oracle.copy_at(spec, acts, iid, party, at)
        holding = ex.world.holding(iid, party, at)
        assert (holding is None) == (want is None), f"{iid} at {party} at {at.isoformat()}"
        if holding is None or want is None:
            continue
        got = marking(ex.facts, holding, at)
        level, not_covered = oracle.marking(spec, acts, iid, want, at)
        where = f"marking of {iid} at {party} at {at.isoformat()}: {got} vs {level, not_covered}"
        assert (got.level, got.flag is MarkingFlag.NOT_COVERED) == (level, not_covered), where
        event(f"marking {'not-covered' if not_covered else 'covered'}")


def reclassify_step(
    data: st.DataObject, ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    """A change of level and/or REL TO, mostly by the originator (only it may)."""
    shared = [i for i in sorted(spec["items"]) if len(holders(spec, acts, i, at)) > 1]
    iid = data.draw(st.sampled_from(shared * 3 + sorted(spec["items"])))  # copies to re-mark
    item = spec["items"][iid]
    if at < item["created"]:
        return
    origin = item["originator"]
    by = data.draw(st.sampled_from([origin] * 4 + list(spec["parties"])))
    scheme = spec["parties"][origin]["levels"]
    uncovered = [
        x
        for x in scheme
        if all(row.get(origin) != x for a in spec["agreements"].values() for row in a["rows"])
    ]
    level = data.draw(st.none() | st.sampled_from(scheme + uncovered * 2))
    others = [c for c in spec["parties"] if c != origin]
    releasable = data.draw(st.none() | st.sets(st.sampled_from(others)).map(frozenset))
    if level is None and releasable is None:
        level = item["level"]
    change = Reclassification(at, iid, by, level, releasable)
    got = decide_reclassification(ex.facts, change)
    assert got.allowed == (by == origin), got.as_dict()  # Art. 6(g): the originator only
    event(f"reclassify {'recorded' if got.allowed else 'refused'}")
    if got.allowed:
        ex.world.add_reclassification(change)
        acts.append(("reclassify", at, iid, by, level, releasable))


def holders(spec: Mapping[str, Any], acts: list[oracle.Act], iid: str, at: datetime) -> list[str]:
    return [c for c in spec["parties"] if oracle.live(oracle.copy_at(spec, acts, iid, c, at), at)]


def lifecycle_step(
    data: st.DataObject, ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    aid = data.draw(st.sampled_from(sorted(spec["agreements"])))
    notice = oracle.notice_as_of(acts, aid, at)
    # mostly the events that make sense now, sometimes any (to see both sides refuse)
    if notice is None:
        likely = ["notice"] * 4
    elif notice.suspended:
        likely = ["lift", "lift", "withdraw"]
    else:
        likely = ["suspend", "suspend", "withdraw"]
    kind = data.draw(st.sampled_from([*likely, "notice", "suspend", "lift", "withdraw"]))
    codes = list(spec["parties"])
    by = data.draw(st.sampled_from([notice.by] * 3 + codes if notice else codes))
    act: oracle.Act = (kind, at, aid, by)
    if kind == "lift":
        act += (at + data.draw(st.sampled_from(DELTAS)),)
    production = production_event(act)
    allowed = oracle.event_allowed(spec, acts, act)
    got = ex.check_event(production)
    assert got.allowed == allowed, f"{act}: production {got.as_dict()}"
    event(f"{kind} {'recorded' if allowed else 'refused'}")
    if allowed:
        ex.world.add_agreement_event(production)
        acts.append(act)


def draw_changes(data: st.DataObject, a: Mapping[str, Any]) -> dict[str, Any]:
    """New values for one amendable term: the notice period, a sub-table, or the topics."""
    field = data.draw(st.sampled_from(["notice", "rows", "topics"]))
    if field == "notice":
        return {"notice": data.draw(st.sampled_from(NOTICES))}
    if field == "rows":
        keep = data.draw(st.lists(st.sampled_from(range(len(a["rows"]))), min_size=1, unique=True))
        return {"rows": [a["rows"][i] for i in sorted(keep)]}
    topics = st.lists(st.sampled_from(TOPIC_POOL), min_size=1, unique=True).map(sorted)
    return {"topics": data.draw(st.none() | topics)}


def amendment_step(
    data: st.DataObject, ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    """Propose, accept or withdraw an amendment of the notice period, the table or the topics
    (Art. 21(2)); mostly acts that make sense now, sometimes any (to see both sides refuse)."""
    aid = data.draw(st.sampled_from(sorted(spec["agreements"])))
    a = spec["agreements"][aid]
    proposals = oracle.proposals_in(acts, aid)
    known = sorted(proposals)
    parties = list(a["parties"])
    open_ = [pid for pid, p in proposals.items() if p.withdrawn is None and not oracle.agreed(a, p)]
    if open_:
        likely = ["accept"] * 4 + ["retract", "propose"]
    else:
        likely = ["propose"] * 3 + ["accept", "retract"]
    kind = data.draw(st.sampled_from(likely))
    if kind != "propose" and not known:
        kind = "propose"
    act: oracle.Act
    if kind == "propose":
        pid = data.draw(st.sampled_from([f"p{len(known)}"] * 5 + (known or ["p0"])))
        by = data.draw(st.sampled_from(parties * 3 + list(spec["parties"])))
        act = ("propose", at, aid, by, pid, draw_changes(data, a))
    else:
        pid = data.draw(st.sampled_from(open_ * 4 + known + ["nope"]))
        proposal = proposals.get(pid)
        if kind == "retract":
            proposer = [proposal.by] * 3 if proposal is not None else []
            by = data.draw(st.sampled_from([*proposer, *spec["parties"]]))
            act = ("retract", at, aid, by, pid)
        else:
            waiting = [
                p
                for p in parties
                if proposal is not None and p != proposal.by and p not in proposal.accepted
            ]
            by = data.draw(st.sampled_from(waiting * 4 + list(spec["parties"])))
            act = ("accept", at, aid, by, pid, at + data.draw(st.sampled_from(DELTAS)))
    production = production_event(act)
    allowed = oracle.event_allowed(spec, acts, act)
    got = ex.check_event(production)
    assert got.allowed == allowed, f"{act}: production {got.as_dict()}"
    event(f"{kind} {'recorded' if allowed else 'refused'}")
    if allowed:
        ex.world.add_agreement_event(production)
        acts.append(act)


def random_route(
    data: st.DataObject, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> Route:
    """A release question leaning towards ones that could be allowed."""
    codes = list(spec["parties"])
    iid = data.draw(st.sampled_from(sorted(spec["items"])))
    item = spec["items"][iid]
    frm = data.draw(st.sampled_from(holders(spec, acts, iid, at) * 6 + codes))
    partners = [
        c
        for a in spec["agreements"].values()
        if frm in a["parties"]
        for c in a["parties"]
        if c != frm and (c in item["releasable"] or c == item["originator"])
    ]
    to = data.draw(st.sampled_from(partners * 2 + [c for c in codes if c != frm]))
    others = [c for c in codes if c not in (frm, to)]
    return Route(iid, frm, to, data.draw(st.sampled_from([None, None, *others])))


def hub_routes(spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime) -> list[Route]:
    """Releases through a hub by a party that holds the item to another member (R8)."""
    found = []
    for a in spec["agreements"].values():
        if a["hub"] is None:
            continue
        for iid in spec["items"]:
            for frm in holders(spec, acts, iid, at):
                if frm == a["hub"] or frm not in a["parties"]:
                    continue
                found.extend(
                    Route(iid, frm, to, a["hub"])
                    for to in a["parties"]
                    if to not in (frm, a["hub"])
                )
    return found


def release_step(
    data: st.DataObject,
    ex: Exchange,
    spec: Mapping[str, Any],
    acts: list[oracle.Act],
    at: datetime,
    through_hub: bool,
) -> None:
    candidates = hub_routes(spec, acts, at) if through_hub else []
    r = data.draw(st.sampled_from(candidates)) if candidates else random_route(data, spec, acts, at)
    item = spec["items"][r.item]
    if r.via is not None and r.to in item["releasable"] and data.draw(st.booleans()):
        # the originator's consent for the hub's hop, given just before (R4, R8)
        assert ex.consent(r.item, r.via, [r.to], at).allowed
        acts.append(("consent", at, r.item, r.via, frozenset({r.to}), True))
    got, want = compare_release(ex, spec, acts, r, at)
    event(f"release {'through a hub ' if r.via else ''}{'recorded' if got.allowed else 'denied'}")
    if got.allowed:
        for holding in got.holdings:
            ex.world.add_holding(holding)
        acts.append(("release", at, r.item, r.frm, r.to, r.via, want.copies))


def consent_step(
    data: st.DataObject, ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    iid = data.draw(st.sampled_from(sorted(spec["items"])))
    item = spec["items"][iid]
    hubs = [a["hub"] for a in spec["agreements"].values() if a["hub"] is not None]
    candidates = [c for c in [*spec["parties"], *hubs, *hubs] if c != item["originator"]]
    holder = data.draw(st.sampled_from(candidates))
    targets = [c for c in item["releasable"] if c != holder]
    if targets:
        to = frozenset(data.draw(st.lists(st.sampled_from(targets), min_size=1, unique=True)))
        granted = data.draw(st.sampled_from([True, True, True, False]))
        got = ex.consent(iid, holder, sorted(to), at, granted=granted)
        assert got.allowed, got.as_dict()
        acts.append(("consent", at, iid, holder, to, granted))


def destroy_step(
    data: st.DataObject, ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    iid = data.draw(st.sampled_from(sorted(spec["items"])))
    keepers = [c for c in holders(spec, acts, iid, at) if c != spec["items"][iid]["originator"]]
    party = data.draw(st.sampled_from(keepers * 3 + list(spec["parties"])))
    allowed = oracle.live(oracle.copy_at(spec, acts, iid, party, at), at)
    got = ex.destroy(iid, party, at)
    assert got.allowed == allowed, f"destroy {iid} {party} at {at}: {got.as_dict()}"
    event(f"destroy {'recorded' if allowed else 'refused'}")
    if allowed:
        acts.append(("destroy", at, iid, party))


def step(
    data: st.DataObject, ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], at: datetime
) -> None:
    """Attempt one random act at ``at``; record it on both sides when both allow it."""
    kind = data.draw(st.sampled_from(KINDS))
    if kind == "lifecycle":
        lifecycle_step(data, ex, spec, acts, at)
    elif kind == "amendment":
        amendment_step(data, ex, spec, acts, at)
    elif kind in ("release", "hub-release"):
        release_step(data, ex, spec, acts, at, kind == "hub-release")
    elif kind == "consent":
        consent_step(data, ex, spec, acts, at)
    elif kind == "reclassify":
        reclassify_step(data, ex, spec, acts, at)
    else:
        destroy_step(data, ex, spec, acts, at)


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=world_specs() | world_specs(hub=True), data=st.data())
def test_policy_agrees_with_the_oracle(spec: dict[str, Any], data: st.DataObject) -> None:
    ex = build(spec)
    acts: list[oracle.Act] = []
    first = min(a["start"] for a in spec["agreements"].values())
    at = first - timedelta(days=data.draw(st.integers(0, 60)))
    for _ in range(data.draw(st.integers(6, 24))):
        at = data.draw(st.sampled_from(landmarks(spec, acts, at)))
        step(data, ex, spec, acts, at)
    event(f"history of {len(acts) // 4 * 4}+ acts")
    instants = query_instants(spec, acts)
    chosen = data.draw(st.lists(st.sampled_from(instants), min_size=1, max_size=5, unique=True))
    # and the instants an agreed amendment takes effect, and a day after (Art. 21(2))
    chosen += sorted({t for act in acts if act[0] == "accept" for t in (act[5], act[5] + DAY)})
    for at in chosen:
        compare_everything(ex, spec, acts, at)


def test_oracle_reads_the_2019_case_like_design_md() -> None:
    """The oracle itself, on the facts of the 2019 case and the rules as docs/rules.md states them (so it is
    checked against text too)."""
    from tests.worlds import T

    gsomia = {
        "parties": ["JPN", "KOR"],
        "hub": None,
        "tz": "Asia/Seoul",
        "start": T("2016-11-23T00:00:00+09:00"),
        "term": (12, 0),
        "renewal": True,
        "notice": (0, 90),
        "topics": None,
        "rows": [{"KOR": "K2", "JPN": "J2"}],
    }
    spec = {"agreements": {"g": gsomia}}
    lapse = T("2019-11-23T00:00:00+09:00")
    notice: oracle.Act = ("notice", T("2019-08-23T15:25:00+09:00"), "g", "KOR")
    assert oracle.status(spec, [notice], "g", lapse - US) == "notice_pending"
    assert oracle.status(spec, [notice], "g", lapse) == "terminated"
    suspended = [notice, ("suspend", T("2019-11-22T18:00:00+09:00"), "g", "KOR")]
    assert oracle.status(spec, suspended, "g", lapse) == "in_force"
    late: oracle.Act = ("notice", T("2019-08-26T00:00:00+09:00"), "g", "KOR")
    assert oracle.status(spec, [late], "g", lapse) == "notice_pending"
    assert oracle.status(spec, [late], "g", T("2020-11-23T00:00:00+09:00")) == "terminated"
    assert oracle.deadline(gsomia, lapse) == T("2019-08-25T00:00:00+09:00")
    ny = dict(gsomia, tz="America/New_York", start=T("2020-07-01T00:00:00-04:00"), term=(6, 0))
    assert next(oracle.term_ends(ny)) == T("2021-01-01T00:00:00-05:00")


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=world_specs(), data=st.data())
def test_mutual_amendments_agree_with_the_oracle(spec: dict[str, Any], data: st.DataObject) -> None:
    """A narrower history that always reaches an agreed amendment: a notice (or not), a
    proposal of a new notice period, table or topics, every acceptance, maybe a second notice
    afterwards; then statuses, expiries and releases around the effective instant."""
    ex = build(spec)
    acts: list[oracle.Act] = []
    aid = data.draw(st.sampled_from(sorted(spec["agreements"])))
    a = spec["agreements"][aid]
    at = a["start"] + timedelta(days=data.draw(st.integers(0, 500)))

    def record(act: oracle.Act) -> None:
        production = production_event(act)
        allowed = oracle.event_allowed(spec, acts, act)
        got = ex.check_event(production)
        assert got.allowed == allowed, f"{act}: production {got.as_dict()}"
        if allowed:
            ex.world.add_agreement_event(production)
            acts.append(act)

    if data.draw(st.booleans()):
        record(("notice", at, aid, data.draw(st.sampled_from(a["parties"]))))
    at += data.draw(st.sampled_from(DELTAS))
    proposer = data.draw(st.sampled_from(a["parties"]))
    changes = data.draw(st.sampled_from([{"notice": n} for n in NOTICES]) | st.builds(dict))
    record(("propose", at, aid, proposer, "p0", changes or draw_changes(data, a)))
    for party in a["parties"]:
        if party != proposer:
            at += data.draw(st.sampled_from(DELTAS[:4]))
            record(("accept", at, aid, party, "p0", at + data.draw(st.sampled_from(DELTAS))))
    if data.draw(st.booleans()):
        record(("notice", at + data.draw(st.sampled_from(DELTAS)), aid, proposer))
    event(f"{len(acts)} acts recorded")
    instants = {t for act in acts for t in (act[1], act[1] - US)}
    instants |= {act[5] + d for act in acts if act[0] == "accept" for d in (-US, timedelta(0), DAY)}
    instants |= set(query_instants(spec, acts))
    chosen = data.draw(st.lists(st.sampled_from(sorted(instants)), min_size=3, max_size=8))
    for t in chosen:
        compare_everything(ex, spec, acts, t)


CONSEQUENCES: tuple[tuple[Any, ...], ...] = (
    ("end_after", (0, 0)),
    ("end_after", (0, 30)),
    ("end_after", (1, 0)),
    ("term_end",),
    ("none",),
)
MATTER_STATES = ("s0", "s1", "s2", "s3")


def production_condition(condition: tuple[Any, ...]) -> Condition:
    matter, states, consequence = condition
    if consequence[0] == "end_after":
        months, days = consequence[1]
        text = "P0D" if (months, days) == (0, 0) else duration_text((months, days))
        assert text is not None
        on_failure = Consequence.end_after(text, "test")
    elif consequence[0] == "term_end":
        on_failure = Consequence(ConsequenceKind.END_AT_TERM_END)
    else:
        on_failure = Consequence(ConsequenceKind.NONE)
    return Condition(matter, frozenset(states), on_failure)


def record_conditional(
    ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], aid: str, act: oracle.Act
) -> None:
    """Record an act of the conditional-suspension history on both sides when both allow it."""
    if act[0] == "matter":
        fact = MatterState(act[1], act[2], act[3], spec["agreements"][aid]["parties"][0])
        assert decide_matter_state(ex.facts, fact).allowed
        ex.world.add_matter_state(fact)
        acts.append(act)
        return
    production = production_event(act)
    if act[0] == "suspend":
        conditions = tuple(production_condition(c) for c in act[4])
        production = NoticeSuspended(act[1], aid, act[3], conditions=conditions)
    allowed = oracle.event_allowed(spec, acts, act)
    got = ex.check_event(production)
    assert got.allowed == allowed, f"{act}: production {got.as_dict()}"
    event(f"{act[0]} {'recorded' if allowed else 'refused'}")
    if allowed:
        ex.world.add_agreement_event(production)
        acts.append(act)


def compare_conditional(
    ex: Exchange, spec: Mapping[str, Any], acts: list[oracle.Act], aid: str
) -> None:
    """Status and expiry at every act, every end, and a microsecond either side."""
    a = spec["agreements"][aid]
    instants = {t for act in acts for t in (act[1] - US, act[1], act[1] + US)}
    for t in sorted(instants):
        end = oracle.end_as_of(a, aid, acts, t)
        if end is not None:
            instants |= {end - US, end}
    for t in sorted(instants):
        state = ex.facts.state(aid, t)
        want = oracle.status(spec, acts, aid, t)
        assert state.status.value == want, f"{aid} at {t.isoformat()}: {state.as_dict()} {acts}"
        if state.status in (Status.IN_FORCE, Status.NOTICE_PENDING):
            assert state.expires_at == oracle.end_as_of(a, aid, acts, t), state.as_dict()
        if state.ended_by == "condition-failed":
            event("ended by a failed condition")


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=world_specs(), data=st.data())
def test_conditional_suspensions_agree_with_the_oracle(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    """R15: a notice, a suspension conditional on matter ``m``, then random states of ``m``
    (and sometimes a lift, a withdrawal or a new suspension); statuses and expiries compared."""
    spec["matters"] = {"m": {"states": list(MATTER_STATES), "initial": "s0"}}
    ex = build(spec)
    ex.world.add_matter(Matter("m", MATTER_STATES, "s0"))
    acts: list[oracle.Act] = []
    aid = data.draw(st.sampled_from(sorted(spec["agreements"])))
    a = spec["agreements"][aid]
    at = a["start"] + timedelta(days=data.draw(st.integers(0, 400)), hours=1)
    by = data.draw(st.sampled_from(a["parties"]))
    record_conditional(ex, spec, acts, aid, ("notice", at, aid, by))
    if data.draw(st.integers(0, 3)):  # mostly suspend at once, on a condition that holds now
        at += data.draw(st.sampled_from(DELTAS[1:4]))
        holds = frozenset(data.draw(st.sets(st.sampled_from(MATTER_STATES))) | {"s0"})
        condition = ("m", holds, data.draw(st.sampled_from(CONSEQUENCES)))
        record_conditional(ex, spec, acts, aid, ("suspend", at, aid, by, (condition,)))
    for _ in range(data.draw(st.integers(2, 8))):
        at += data.draw(st.sampled_from(DELTAS[1:]))  # never two acts at one instant
        choice = data.draw(st.sampled_from(["matter"] * 4 + ["suspend"] * 2 + ["lift", "withdraw"]))
        act: oracle.Act
        if choice == "matter":
            act = ("matter", at, "m", data.draw(st.sampled_from(MATTER_STATES)))
        elif choice == "suspend":
            now = oracle.matter_state(spec, acts, "m", at)
            drawn = data.draw(st.sets(st.sampled_from(MATTER_STATES), min_size=1))
            holds = frozenset(drawn | ({now} if data.draw(st.integers(0, 3)) else set()))
            act = (
                "suspend",
                at,
                aid,
                by,
                (("m", holds, data.draw(st.sampled_from(CONSEQUENCES))),),
            )
        elif choice == "lift":
            act = ("lift", at, aid, by, at + data.draw(st.sampled_from(DELTAS)))
        else:
            act = ("withdraw", at, aid, by)
        record_conditional(ex, spec, acts, aid, act)
    event(f"{sum(1 for act in acts if act[0] == 'matter')} matter states")
    compare_conditional(ex, spec, acts, aid)
