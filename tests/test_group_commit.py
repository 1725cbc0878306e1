"""Group commit on SQLite and PostgreSQL: acts of one group share one transaction and one signed
checkpoint, each keeps its own log entries, a failing act is undone alone. Grouping is forced by
the limits (a group closes only when ``max_acts`` acts are in; ``max_wait`` is an hour), never by
timing luck."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from accord.api import ApiSettings, create_app
from accord.api.context import HOLDINGS, collection_id
from accord.audit import parse_signed_checkpoint
from accord.errors import InvalidInput, StoreError
from accord.model.item import Item
from accord.model.requests import ReadRequest
from accord.service import Exchange, journal
from accord.service.group_commit import GroupCommit, GroupLimits
from accord.service.scenarios import apply_scenario
from accord.store.sql import SealedItem
from tests.stores import BUILTIN
from tests.test_taxii_support import KEY, LATER, Clock, bearer, issue, serving

HOUR = 60.0  # the longest wait: groups here close because they are full


class Boom(Exception):
    pass


@pytest.fixture
def loaded(store_url: str) -> Iterator[Exchange]:
    from accord.scenario import load_scenario

    exchange = Exchange.open(store_url, Clock(LATER), lambda: KEY)
    exchange.init_keys()
    apply_scenario(exchange, load_scenario(BUILTIN), strict=True)
    try:
        yield exchange
    finally:
        exchange.store.close()


def log_size(exchange: Exchange) -> int:
    with exchange.store.transaction() as tx:
        return journal.load_frontier(tx).size


def bodies(exchange: Exchange, start: int) -> list[dict[str, Any]]:
    with exchange.store.transaction() as tx:
        return [journal.decode_entry(leaf, seq) for seq, leaf, _ in tx.entries(start)]


def latest_size(exchange: Exchange) -> int:
    with exchange.store.transaction() as tx:
        note = tx.meta(journal.LATEST)
    assert note is not None
    return parse_signed_checkpoint(note).checkpoint.size


def commits(exchange: Exchange) -> list[int]:
    found: list[int] = []
    event.listen(exchange.store.engine, "commit", lambda conn: found.append(1))
    return found


def kor_items(exchange: Exchange) -> list[str]:
    return sorted(exchange.snapshot().items_held_by["KOR"])


def new_item(exchange: Exchange, n: int) -> Item:
    template = exchange.snapshot().items["kor-kn25-0824"]
    return replace(template, id=f"grouped-{n}", created=LATER, title="t", content="c", stix=None)


def read(exchange: Exchange, item: str) -> Callable[[], Any]:
    return functools.partial(exchange.read, ReadRequest("kor-analyst", item), LATER)


def test_acts_of_one_group_share_one_transaction_and_checkpoint(loaded: Exchange) -> None:
    exchange = loaded
    items = kor_items(exchange)[:4]
    base, committed = log_size(exchange), commits(exchange)
    group = GroupCommit(exchange, GroupLimits(max_acts=4, max_wait=HOUR))
    futures = [group.submit(read(exchange, i)) for i in items]
    outcomes = [f.result(timeout=120) for f in futures]
    group.close()
    assert [o.ok for o in outcomes] == [True] * 4
    assert {o.group for o in outcomes} == {1} and len(committed) == 1
    assert [o.entries for o in outcomes] == [range(base + n, base + n + 1) for n in range(4)]
    assert {o.checkpoint for o in outcomes} == {base + 4} and latest_size(exchange) == base + 4
    logged = bodies(exchange, base)
    assert [(b["kind"], b["subject"]["items"][0]["item"]) for b in logged] == [
        ("read", i) for i in items
    ]
    for item, outcome in zip(items, outcomes, strict=True):
        allowed = exchange.check_read(ReadRequest("kor-analyst", item), LATER).allowed
        assert outcome.result().decision.allowed == allowed
        assert (outcome.result().item is not None) == allowed


def test_a_failing_act_is_undone_alone_and_leaves_no_residue(loaded: Exchange) -> None:
    exchange = loaded
    doomed = new_item(exchange, 1)

    def fails_after_writing() -> None:
        with exchange.batch():
            exchange.add_item(doomed)
            raise Boom("after the write")

    def sees_no_residue() -> bool:
        return doomed.id in exchange.snapshot().items

    acts: list[Callable[[], Any]] = [
        lambda: exchange.add_topic("grouped-a"),
        fails_after_writing,
        read(exchange, kor_items(exchange)[0]),
        functools.partial(
            exchange.read, ReadRequest("kor-analyst", "x"), LATER.replace(tzinfo=None)
        ),
        sees_no_residue,
        lambda: exchange.add_item(new_item(exchange, 2)),
        lambda: exchange.add_topic("grouped-b"),
    ]
    base = log_size(exchange)
    outcomes = GroupCommit(exchange, GroupLimits(8, HOUR)).run(acts)
    assert isinstance(outcomes[1].error, Boom) and outcomes[1].entries == range(base + 1, base + 1)
    assert isinstance(outcomes[3].error, InvalidInput)
    assert outcomes[4].result() is False
    assert [o.ok for o in outcomes] == [True, False, True, False, True, True, True]
    logged = bodies(exchange, base)
    assert [b["kind"] for b in logged] == ["topic", "read", "item", "topic"]
    assert doomed.id not in str(logged)
    assert {o.checkpoint for o in outcomes if o.entries} == {base + 4} == {latest_size(exchange)}
    # in memory and in the store: the failed act left nothing, the others everything
    world = exchange.snapshot()
    assert doomed.id not in world.items and "grouped-2" in world.items
    assert {"grouped-a", "grouped-b"} <= world.topics
    again = Exchange.open(exchange.store.url, Clock(LATER), lambda: KEY)
    try:
        fresh = again.snapshot()
        assert fresh.taints == {}
        assert doomed.id not in fresh.items and "grouped-2" in fresh.items
        with again.store.transaction() as tx:
            assert tx.sealed_items([doomed.id]) == {}
            assert tx.wrapped_keys_for("KOR", [doomed.id]) == {}
        report = again.audit_verify()
        assert report.entries == base + 4
    finally:
        again.store.close()


def test_the_log_is_in_commit_order_across_groups(loaded: Exchange) -> None:
    exchange = loaded
    items = kor_items(exchange)[:3]

    def fails() -> None:
        with exchange.batch():
            exchange.add_topic("never")
            raise Boom("no")

    base = log_size(exchange)
    group = GroupCommit(exchange, GroupLimits(max_acts=2, max_wait=HOUR))
    acts = [read(exchange, items[0]), fails, read(exchange, items[1]), read(exchange, items[2])]
    outcomes = [f.result(timeout=120) for f in [group.submit(a) for a in acts]]
    group.close()
    assert [o.group for o in outcomes] == [1, 1, 2, 2]
    assert [o.entries for o in outcomes] == [
        range(base, base + 1),
        range(base + 1, base + 1),
        range(base + 1, base + 2),
        range(base + 2, base + 3),
    ]
    assert [o.checkpoint for o in outcomes] == [base + 1, None, base + 3, base + 3]
    logged = bodies(exchange, base)
    assert [b["subject"]["items"][0]["item"] for b in logged] == items
    assert [b["seq"] for b in logged] == [base, base + 1, base + 2]
    assert exchange.audit_verify().entries == base + 3
    assert "never" not in exchange.snapshot().topics


def test_a_savepoint_undoes_its_rows_buffer_and_a_failed_statement(loaded: Exchange) -> None:
    store = loaded.store
    with store.transaction(write=True) as tx:
        seq, changes = tx.next_fact_seq(), list(tx.changes)
        with pytest.raises(Boom), tx.savepoint():
            tx.add_item("buffered-only", SealedItem(b"p", b"s", 1))
            raise Boom("undo")
        assert (tx.next_fact_seq(), tx.changes) == (seq, changes)
        with pytest.raises(StoreError), tx.savepoint():
            tx.conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('schema', 'x')")
        tx.set_meta("grouped", "still works")  # the transaction goes on, on PostgreSQL too
    with store.transaction() as tx:
        assert tx.sealed_items(["buffered-only"]) == {} and tx.meta("grouped") == "still works"


def test_a_group_whose_transaction_fails_fails_every_act(loaded: Exchange) -> None:
    exchange = loaded
    items = kor_items(exchange)
    base = log_size(exchange)

    def read_then_break_the_commit() -> None:
        exchange.read(ReadRequest("kor-analyst", items[0]), LATER)
        exchange.current().tx.conn.exec_driver_sql("DROP TABLE audit_nodes")

    group = GroupCommit(exchange, GroupLimits(4, HOUR))
    outcomes = group.run([read_then_break_the_commit, read(exchange, items[1])])
    assert all(isinstance(o.error, StoreError) for o in outcomes)
    assert all(o.entries == range(0) and o.checkpoint is None for o in outcomes)
    assert log_size(exchange) == base
    assert exchange.audit_verify().entries == base


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"max_acts": 0}, "max_acts 0"),
        ({"max_acts": True}, "max_acts True"),
        ({"max_acts": 1.5}, "max_acts 1.5"),
        ({"max_wait": -0.001}, "max_wait -0.001"),
        ({"max_wait": float("nan")}, "max_wait nan"),
        ({"max_wait": 61}, "max_wait 61"),
    ],
)
def test_bad_limits_are_refused_by_name(limits: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        GroupLimits(**limits)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--group-max", "-1"),
        ("--group-max", "10001"),
        ("--group-max", "x"),
        ("--group-wait", "-1"),
        ("--group-wait", "1001"),
        ("--group-wait", "soon"),
    ],
)
def test_bad_serve_flags_exit_2_naming_flag_and_value(flag: str, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "accord", "--db", "sqlite://", "serve", flag, value],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert flag in done.stderr and value in done.stderr


def test_a_real_server_groups_concurrent_requests_and_answers_each_correctly(
    loaded: Exchange,
) -> None:
    exchange = loaded
    kor = issue(exchange, "kor-analyst")
    collection = collection_id(HOLDINGS, "KOR")
    app = create_app(ApiSettings(exchange.store.url, group_max=8, group_wait=HOUR), exchange)
    server = app.state.server
    items = kor_items(exchange)
    allowed = {i: exchange.check_read(ReadRequest("kor-analyst", i), LATER).allowed for i in items}
    stix = {i: server.taxii.delivery("kor-analyst", [i], [], LATER).stix_ids[i] for i in items}
    wanted = [*(items * 8)[:6], "missing-1", "missing-2"]
    base = log_size(exchange)

    def get(base_url: str, item: str) -> httpx.Response:
        sid = stix.get(item, "indicator--00000000-0000-4000-8000-999999999999")
        url = f"{base_url}/taxii2/KOR/collections/{collection}/objects/{sid}/"
        with httpx.Client(timeout=120) as client:
            return client.get(url, headers=bearer(kor))

    with serving(app) as base_url, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(functools.partial(get, base_url), wanted))
        second = list(pool.map(functools.partial(get, base_url), wanted))
    server.workers.close()
    assert server.workers.group.groups == 2
    for item, answer in zip(wanted + wanted, answers + second, strict=True):
        if allowed.get(item, False):
            assert answer.status_code == 200, answer.text
            assert answer.json()["objects"][0]["id"] == stix[item]
        else:
            assert answer.status_code == 404
            assert answer.json()["title"]
    assert log_size(exchange) == base + 16  # every GET logged, found or not
    assert exchange.audit_verify().entries == base + 16
