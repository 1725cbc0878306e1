"""policy.batch: ``ReadableIndex.readable`` answers R3/R10 for many items exactly as
``decide_read`` does for each one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.policy.batch import ReadableIndex
from tests.worlds import US, Exchange, T, build, korea_2019, world_specs

BEFORE = "2019-11-01T09:00:00+09:00"


def one_by_one(ex: Exchange, user: str, at: datetime) -> list[str]:
    return [iid for iid in ex.world.items if ex.read(user, iid, at).allowed]


def assert_same(ex: Exchange, index: ReadableIndex, at: datetime) -> None:
    for user in ex.world.users:
        batch = index.readable(user, at)
        assert len(batch) == len(set(batch)), (user, at, batch)
        assert sorted(batch) == sorted(one_by_one(ex, user, at)), (user, at)


def test_2019_world() -> None:
    ex = korea_2019()
    index = ReadableIndex(ex.world)
    assert index.readable("jpn-analyst", T(BEFORE)) == ["jpn-1"]  # Japan's own item
    assert sorted(index.readable("kor-analyst", T(BEFORE))) == ["kor-only", "low-1", "report-1"]
    for item in ("report-1", "low-1", "cyber-1"):
        assert ex.release(item, "KOR", "JPN", BEFORE).allowed
    at = T("2019-11-02T00:00:00+09:00")
    assert sorted(index.readable("jpn-analyst", at)) == ["jpn-1", "low-1", "report-1"]
    assert sorted(index.readable("jpn-junior", at)) == ["low-1"]
    assert sorted(index.readable("jpn-both", at)) == ["cyber-1", "jpn-1", "low-1", "report-1"]
    assert sorted(index.readable("jpn-chief", at)) == ["cyber-1"]
    ex.destroy("low-1", "JPN", at)
    assert sorted(index.readable("jpn-analyst", at)) == ["jpn-1", "report-1"]
    assert sorted(index.readable("jpn-analyst", at - US)) == ["jpn-1", "low-1", "report-1"]
    assert index.readable("jpn-analyst", T(BEFORE) - US) == ["jpn-1"]
    for moment in (T(BEFORE) - US, T(BEFORE), at - US, at, at + US):
        assert_same(ex, index, moment)


def test_index_follows_a_new_copy_after_destruction() -> None:
    ex = korea_2019()
    index = ReadableIndex(ex.world)
    ex.release("report-1", "KOR", "JPN", BEFORE)
    gone = T("2019-11-02T00:00:00+09:00")
    ex.destroy("report-1", "JPN", gone)
    assert index.readable("jpn-analyst", gone) == ["jpn-1"]
    again = T("2019-11-03T00:00:00+09:00")
    assert ex.release("report-1", "KOR", "JPN", again).allowed
    assert sorted(index.readable("jpn-analyst", again)) == ["jpn-1", "report-1"]
    assert index.readable("jpn-analyst", gone) == ["jpn-1"]
    for moment in (gone - US, gone, again - US, again):
        assert_same(ex, index, moment)


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=world_specs() | world_specs(hub=True), data=st.data())
def test_batch_equals_decide_read(spec: dict[str, Any], data: st.DataObject) -> None:
    ex = build(spec)
    index = ReadableIndex(ex.world)  # built before the acts: it must notice every change
    codes = list(spec["parties"])
    items = sorted(spec["items"])
    at = min(a["start"] for a in spec["agreements"].values())
    moments: set[datetime] = set()
    for _ in range(data.draw(st.integers(4, 20))):
        at += data.draw(st.sampled_from([timedelta(0), US, timedelta(hours=5), timedelta(30)]))
        iid = data.draw(st.sampled_from(items))
        kind = data.draw(st.sampled_from(["release", "release", "consent", "destroy", "ask"]))
        if kind == "release":
            frm = data.draw(st.sampled_from(codes))
            to = data.draw(st.sampled_from([c for c in codes if c != frm]))
            via = data.draw(st.sampled_from([None, *[c for c in codes if c not in (frm, to)]]))
            ex.release(iid, frm, to, at, via)
        elif kind == "consent":
            item = spec["items"][iid]
            holder = data.draw(st.sampled_from([c for c in codes if c != item["originator"]]))
            if item["releasable"]:
                ex.consent(iid, holder, item["releasable"], at)
        elif kind == "destroy":
            ex.destroy(iid, data.draw(st.sampled_from(codes)), at)
        else:
            assert_same(ex, index, at)
        moments.update({at - US, at, at + US})
    for item in spec["items"].values():
        moments.update({item["created"] - US, item["created"]})
    for moment in data.draw(
        st.lists(st.sampled_from(sorted(moments)), min_size=1, max_size=6, unique=True)
    ):
        assert_same(ex, index, moment)
