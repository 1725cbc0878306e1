"""Faults between two real node stores: any interleaving of drops, lost answers, duplicates,
delays, reorders, corruption and truncation ends with each fact applied exactly once, in order;
and the same protocol over the mutual-TLS node channel on 127.0.0.1."""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.api.node_server import NodeServerSettings, node_endpoint
from accord.model.agreement import TerminationNotice
from accord.model.facts.definition import FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import DeliveryOutcome
from accord.service.node_settings import MESSAGES_PATH, NodeSettings
from accord.service.node_wire import PinnedClients, Wire
from accord.store import inbox
from tests.node_kit import Clock, Direct, Directory, Fault, Faulty, Node, note
from tests.nodes import make_node

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


def _notice(n: int) -> object:
    at = datetime(2019, 11, 22, 9, 0, tzinfo=UTC) + timedelta(seconds=n)
    return DEFINITIONS[FactKind.NOTE].encode(TerminationNotice(at, f"pact-{n}", KOR)), at


def test_over_mutual_tls_on_loopback_including_a_peer_that_goes_away(tmp_path: Path) -> None:
    kor, jpn = make_node(tmp_path / KOR, KOR), make_node(tmp_path / JPN, JPN)
    kor.node.trust(jpn.node.card_text().encode(), "JPN's card")
    jpn.node.trust(kor.node.card_text().encode(), "KOR's card")
    receiving, sending = Wire(jpn.node), Wire(kor.node)
    where = NodeServerSettings("127.0.0.1", jpn.port)
    sent = []
    for n in (1, 2):
        body, at = _notice(n)
        sent.append(sending.enqueue(JPN, FactKind.NOTE.value, body, at).fact_id)
    with node_endpoint(jpn.node, receiving.handle, where):
        done = sending.deliverer.drain(JPN, attempts=3)
        assert done[0].outcome is DeliveryOutcome.DELIVERED
    body, at = _notice(3)
    sent.append(sending.enqueue(JPN, FactKind.NOTE.value, body, at).fact_id)
    attempt = sending.deliverer.deliver(JPN, datetime.now(UTC))
    assert attempt.outcome is DeliveryOutcome.UNAVAILABLE
    with node_endpoint(jpn.node, receiving.handle, where):
        assert sending.deliverer.drain(JPN, attempts=3)[0].outcome is DeliveryOutcome.DELIVERED
        # a refusal crosses the channel as its status and document
        clients = PinnedClients(kor.node, 10.0)
        try:
            garbage = clients(JPN).post(MESSAGES_PATH, b"{", 10.0)
        finally:
            clients.close()
        assert b'"refused":"malformed"' in garbage
    sending.close()
    with jpn.node.exchange.store.transaction() as tx:
        assert [r.fact.fact_id for r in inbox.received(tx)] == sent
