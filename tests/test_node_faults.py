"""Faults between two real node stores: any interleaving of drops, lost answers, duplicates,
delays, reorders, corruption and truncation ends with each fact applied exactly once, in order;
and the same protocol over real HTTP on 127.0.0.1."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.model.messages import DeliveryOutcome
from accord.service.node_settings import ChannelTransport, NodeSettings
from tests.node_http import HttpPoster, serve
from tests.node_kit import Clock, Direct, Directory, Fault, Faulty, Node, note

KOR, JPN = "KOR", "JPN"


def _accepted_ids(node: Node) -> list[str]:
    """Every fact id the receiver's audit log says it applied, in log order."""
    ids: list[str] = []
    for body in node.log_bodies("node-message-accepted"):
        ids += [f["id"] for f in body["subject"]["facts"]]  # type: ignore[index]
    return ids


@settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    count=st.integers(1, 8),
    batch=st.integers(1, 3),
    plan=st.lists(st.sampled_from(list(Fault)), max_size=16),
    seed=st.integers(0, 2**32 - 1),
    late=st.integers(0, 8),
)
def test_any_faults_end_with_each_fact_applied_exactly_once_in_order(
    count: int, batch: int, plan: list[Fault], seed: int, late: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock, directory = Clock(), Directory()
        node_settings = NodeSettings(batch=batch)
        kor = Node(Path(tmp) / "kor.db", KOR, clock, directory, node_settings)
        jpn = Node(Path(tmp) / "jpn.db", JPN, clock, directory, node_settings)
        facts = [note(KOR, n, clock()) for n in range(count)]
        faulty = Faulty(Direct(KOR, {JPN: jpn}), iter(plan), random.Random(seed))
        deliverer = kor.deliverer(faulty)
        kor.enqueue(JPN, *facts[: min(late, count)])
        for step, _fault in enumerate(plan):
            if step == len(plan) // 2:
                kor.enqueue(JPN, *facts[min(late, count) :])  # the rest arrive mid-way
            deliverer.deliver(JPN, clock.tick())
        kor.enqueue(JPN, *facts[min(late, count) :])
        outcomes = []  # faults left unused (nothing was waiting) still apply: retry, bounded
        for _ in range(count + len(plan) + 3):
            outcomes.append(deliverer.deliver(JPN, clock.tick()).outcome)
            if outcomes[-1] is DeliveryOutcome.IDLE:
                break
        assert outcomes[-1] is DeliveryOutcome.IDLE, outcomes
        expected = [f.fact_id for f in facts]
        assert [r.fact.fact_id for r in jpn.received()] == expected
        assert [r.fact for r in jpn.received()] == facts
        assert _accepted_ids(jpn) == expected  # applied once each: the log says so too
        assert all(q.delivered_at is not None for q in kor.queued(JPN))


def test_over_real_http_on_loopback_including_a_peer_that_goes_away(tmp_path: Path) -> None:
    clock, directory = Clock(), Directory()
    kor = Node(tmp_path / "kor.db", KOR, clock, directory)
    jpn = Node(tmp_path / "jpn.db", JPN, clock, directory)
    server = serve(jpn.receiver.handle)
    port = server.server_address[1]
    try:
        posters = {JPN: HttpPoster(f"http://127.0.0.1:{port}", KOR)}
        deliverer = kor.deliverer(ChannelTransport(posters.__getitem__, timeout=10.0))
        kor.enqueue(JPN, note(KOR, 1, clock()), note(KOR, 2, clock()))
        assert deliverer.drain(JPN, attempts=3)[0].outcome is DeliveryOutcome.DELIVERED
    finally:
        server.shutdown()
        server.server_close()
    kor.enqueue(JPN, note(KOR, 3, clock()))
    attempt = deliverer.deliver(JPN, clock.tick())
    assert attempt.outcome is DeliveryOutcome.UNAVAILABLE
    server = serve(jpn.receiver.handle, port)
    try:
        assert deliverer.drain(JPN, attempts=3)[0].outcome is DeliveryOutcome.DELIVERED
        # a refusal crosses HTTP as its status and document
        garbage = posters[JPN].post("/node/v1/messages", b"{", 10.0)
        assert b'"refused":"malformed"' in garbage
    finally:
        server.shutdown()
        server.server_close()
    assert [r.fact.fact_id for r in jpn.received()] == ["KOR-note-1", "KOR-note-2", "KOR-note-3"]
