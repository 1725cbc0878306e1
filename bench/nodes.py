"""Signed facts between two nodes on loopback: KOR's node queues a fact for JPN and delivers it
over pinned mutual TLS; JPN's node checks every signature, keeps the fact, witnesses KOR's
checkpoint and answers with a signed receipt, which KOR checks and records. Beside it, the same
delivery with the channel taken away (KOR's message handed to JPN's receiver in the process).

    .venv/bin/python -m bench.nodes [--n 300 --batches 20 --seconds 30 --json PATH]

Both nodes are real node stores (SQLite files, their own master keys), pinned to each other by
their cards; JPN's endpoint (``node_endpoint``) runs in a thread of this process. Figures:

- one fact at a time: p50 and p99 (ms) from the call that queues it to the verified receipt
  recorded on KOR;
- batches of 100: facts per second, from queueing the 100 (one transaction) to the receipt;
- each beside the same without the channel, as a ratio.

Bounded by ``--n`` facts, ``--batches`` batches and ``--seconds`` per measurement. Exit 1 if a
delivery is not a receipt. A benchmark, not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from accord.api.node_server import node_endpoint
from accord.crypto import MasterKey, canonical_json
from accord.crypto.facts import fact_id
from accord.crypto.messages import sign_fact
from accord.model.agreement import TerminationNotice
from accord.model.facts.definition import FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import DeliveryOutcome, WireFact
from accord.service import Exchange, system_clock
from accord.service.node import Node
from accord.service.node_settings import NodeSettings
from accord.service.node_wire import Wire
from accord.store import outbox
from bench.results import save_json

T0 = datetime(2019, 11, 22, 9, 0, tzinfo=UTC)
KIND = FactKind.NOTE.value


def _port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node(folder: Path, party: str) -> Node:
    master = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{folder / party}.db", master=lambda: master)
    node = Node(exchange, clock=system_clock)
    node.init(party, f"https://127.0.0.1:{_port()}")
    return node


class Counter:
    """Fact bodies that never repeat (each a new notice), instants increasing."""

    def __init__(self) -> None:
        self.n = 0

    def fact(self, wire: Wire) -> WireFact:
        self.n += 1
        at = T0 + timedelta(microseconds=self.n)
        body = canonical_json(
            DEFINITIONS[FactKind.NOTE].encode(TerminationNotice(at, f"pact-{self.n}", "KOR"))
        )
        unsigned = WireFact(fact_id(KIND, body.decode()), KIND, "KOR", at, body, b"")
        return sign_fact(wire.identity.key, unsigned)


def _queue(wire: Wire, facts: list[WireFact]) -> None:
    with wire.node.exchange.store.transaction(write=True) as tx:
        for fact in facts:
            outbox.enqueue(tx, "JPN", fact, datetime.now(UTC))


def _deliver(wire: Wire) -> None:
    attempt = wire.deliverer.deliver("JPN", datetime.now(UTC))
    if attempt.outcome is not DeliveryOutcome.DELIVERED:
        sys.exit(f"not delivered: {attempt.outcome.value} {attempt.detail}")


def _single(wire: Wire, counter: Counter, n: int, seconds: float) -> list[float]:
    times: list[float] = []
    stop = time.monotonic() + seconds
    for _ in range(n):
        started = time.perf_counter()
        _queue(wire, [counter.fact(wire)])
        _deliver(wire)
        times.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > stop:
            break
    return times


def _batches(wire: Wire, counter: Counter, batches: int, seconds: float) -> float:
    done, spent = 0, 0.0
    stop = time.monotonic() + seconds
    for _ in range(batches):
        facts = [counter.fact(wire) for _ in range(100)]
        started = time.perf_counter()
        _queue(wire, facts)
        _deliver(wire)
        spent += time.perf_counter() - started
        done += 100
        if time.monotonic() > stop:
            break
    return done / spent


class Direct:
    """The channel taken away: the message handed to the peer's receiver in this process."""

    def __init__(self, handle: Callable[[str, bytes], tuple[int, bytes]]) -> None:
        self.handle = handle

    def send(self, peer: str, body: bytes) -> bytes:
        return self.handle("KOR", body)[1]


def _pair(folder: Path) -> tuple[Node, Node]:
    kor, jpn = _node(folder, "KOR"), _node(folder, "JPN")
    kor.trust(jpn.card_text().encode(), "JPN's card")
    jpn.trust(kor.card_text().encode(), "KOR's card")
    return kor, jpn


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    results: dict[str, object] = {"python": platform.python_version()}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("channel", "direct"):
            (Path(tmp) / name).mkdir()
            kor, jpn = _pair(Path(tmp) / name)
            settings = NodeSettings(batch=100)
            sender, receiver = Wire(kor, settings), Wire(jpn, settings)
            counter = Counter()
            if name == "direct":
                sender.deliverer.transport = Direct(receiver.handle)
                figures = _measure(sender, counter, args)
            else:
                with node_endpoint(jpn, receiver.handle):
                    figures = _measure(sender, counter, args)
            results[name] = figures
    channel, direct = results["channel"], results["direct"]
    assert isinstance(channel, dict) and isinstance(direct, dict)
    print("| measurement | mutual TLS | no channel | ratio |")
    print("|---|---:|---:|---:|")
    for key, unit in (("p50_ms", "ms"), ("p99_ms", "ms"), ("batch_items_per_s", "facts/s")):
        ratio = channel[key] / direct[key]
        print(f"| {key} ({unit}) | {channel[key]:.2f} | {direct[key]:.2f} | {ratio:.2f} |")
    print(f"(one fact: {channel['n']} and {direct['n']} facts; batches of 100)")
    if args.json is not None:
        save_json(args.json, results)
    return 0


def _measure(sender: Wire, counter: Counter, args: argparse.Namespace) -> dict[str, float]:
    _single(sender, counter, 10, args.seconds)  # warm: connections, contexts, caches
    times = _single(sender, counter, args.n, args.seconds)
    rate = _batches(sender, counter, args.batches, args.seconds)
    return {
        "n": len(times),
        "p50_ms": statistics.median(times),
        "p99_ms": _p(times, 0.99),
        "batch_items_per_s": rate,
    }


if __name__ == "__main__":
    sys.exit(main())
