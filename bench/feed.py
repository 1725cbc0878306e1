"""The live feed under load: SSE subscribers on `accord serve`, items published over TAXII.

One run starts the server as its own process (or two processes on one store woken through NATS
JetStream with ``--processes 2``), opens ``--subscribers`` SSE streams spread over three users of
three parties (kor-analyst, jpn-analyst, usa-analyst; with two processes, every other stream on
the second process), then publishes for ``--seconds`` at ``--rate`` items a second: KOR's analyst
creates each item (TAXII POST) and releases it directly to JPN and to USA (two more POSTs).

It reports publish→deliver latency (p50, p99) per route, the deliveries the oracle expected but
no subscriber saw, the ones the oracle did not expect (both must be 0), and the server's
resident memory over the run. The oracle: every KOR stream sees each item created, every JPN
and USA stream each item released to it, once, and nothing else of kind ``available``.

No peer runs here (OpenCTI's live streams need its whole platform); the figures are accord's
alone. This is a benchmark, not a test: nothing asserts a timing.

    .venv/bin/python -m bench.feed                         # 1 process, 30 subscribers, 20/s, 10 s
    .venv/bin/python -m bench.feed --processes 2 --nats nats://127.0.0.1:4222
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

from bench.results import save_json

USERS = (("kor-analyst", "KOR"), ("jpn-analyst", "JPN"), ("usa-analyst", "USA"))
LEVEL = "군사II급비밀"
START_SECONDS = 60


def _prepare(folder: Path, url: str) -> tuple[Path, dict[str, str]]:
    import dataclasses

    from accord.crypto import MasterKey
    from accord.model.time import Duration
    from accord.scenario import builtin_scenario_path, load_scenario
    from accord.service import Exchange
    from accord.service.credentials import Credentials
    from accord.service.scenarios import apply_scenario

    master = MasterKey.generate()
    key_file = folder / "master.key"
    master.write(key_file)
    exchange = Exchange.open(url, lambda: datetime(2018, 1, 1, tzinfo=UTC), lambda: master)
    try:
        exchange.init_keys()
        scenario = dataclasses.replace(
            load_scenario(builtin_scenario_path()), items=(), events=(), expectations=()
        )
        apply_scenario(exchange, scenario, strict=True)
        credentials = Credentials(exchange)
        tokens = {
            user: credentials.issue(user, Duration.parse("P1D", "expires")).token
            for user, _ in USERS
        }
    finally:
        exchange.store.close()
    return key_file, tokens


@contextmanager
def _server(url: str, key_file: Path, nats: str | None, log: Path) -> Iterator[tuple[str, int]]:
    with httpx.Client() as probe:
        port = _free_port()
        command = [sys.executable, "-m", "accord", "--db", url, "--key-file", str(key_file)]
        command += ["serve", "--port", str(port)]
        command += ["--nats", nats] if nats else []
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"accord serve did not start: {log.read_text()}")
                try:
                    probe.get(f"{base}/taxii2/", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Subscriber(threading.Thread):
    def __init__(self, base: str, user: str, party: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base, self.user, self.party, self.token = base, user, party, token
        self.seen: list[tuple[str, float]] = []  # (stix id, when received)
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = httpx.Timeout(10.0, read=30.0)
        try:
            with (
                httpx.Client(base_url=self.base, timeout=timeout) as http,
                connect_sse(http, "GET", f"/feeds/{self.party}/", headers=headers) as source,
            ):
                self.ready.set()
                for event in source.iter_sse():
                    if event.event == "available":
                        data = json.loads(event.data)
                        self.seen.append((str(data["id"]), time.time()))
                    if self.stop.is_set():
                        return
        except httpx.HTTPError as error:
            self.error = type(error).__name__
        finally:
            self.ready.set()


def _indicator(n: int) -> dict[str, Any]:
    from accord.api.markings import EXTENSION_ID, classification_id, releasable_id

    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": f"warning {n}",
        "pattern": f"[ipv4-addr:value = '10.0.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": [
            classification_id("KOR", LEVEL),
            releasable_id("JPN"),
            releasable_id("USA"),
        ],
        "extensions": {
            EXTENSION_ID: {"extension_type": "property-extension", "topics": ["nk-missile"]}
        },
    }


def _objects(party: str) -> str:
    from accord.api.context import HOLDINGS, collection_id

    return f"/taxii2/{party}/collections/{collection_id(HOLDINGS, party)}/objects/"


def _publish(base: str, token: str, rate: float, seconds: float) -> dict[str, dict[str, float]]:
    """Items at ``rate`` a second for ``seconds``; when each was created and released."""
    media = "application/taxii+json;version=2.1"
    headers = {"Authorization": f"Bearer {token}", "Accept": media, "Content-Type": media}
    sent: dict[str, dict[str, float]] = {"KOR": {}, "JPN": {}, "USA": {}}
    started = time.monotonic()
    n = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as http:
        while time.monotonic() - started < seconds:
            n += 1
            obj = _indicator(n)
            sent["KOR"][obj["id"]] = time.time()
            http.post(_objects("KOR"), json={"objects": [obj]}).raise_for_status()
            for party in ("JPN", "USA"):
                sent[party][obj["id"]] = time.time()
                ref = {"objects": [{"type": "indicator", "id": obj["id"]}]}
                http.post(_objects(party), json=ref).raise_for_status()
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    return sent


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        url = args.db or f"sqlite:///{folder / 'feed.db'}"
        key_file, tokens = _prepare(folder, url)
        nats = args.nats if args.processes > 1 else None
        servers = [
            stack.enter_context(_server(url, key_file, nats, folder / f"serve-{i}.log"))
            for i in range(args.processes)
        ]
        subscribers = []
        for i in range(args.subscribers):
            user, party = USERS[i % len(USERS)]
            base = servers[i % len(servers)][0]
            subscribers.append(Subscriber(base, user, party, tokens[user]))
        for s in subscribers:
            s.start()
        for s in subscribers:
            s.ready.wait(30)
        memory: list[int] = []
        pids = [pid for _, pid in servers]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.5):
                memory.append(_rss(pids))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.monotonic()
        sent = _publish(servers[0][0], tokens["kor-analyst"], args.rate, args.seconds)
        published = time.monotonic() - began
        deadline = time.monotonic() + args.drain
        expected = {party: set(ids) for party, ids in sent.items()}
        while time.monotonic() < deadline:
            if all({i for i, _ in s.seen} >= expected[s.party] for s in subscribers):
                break
            time.sleep(0.1)
        sampling.set()
        for s in subscribers:
            s.stop.set()
        return _figures(args, subscribers, sent, expected, memory, published)


def _figures(
    args: argparse.Namespace,
    subscribers: list[Subscriber],
    sent: dict[str, dict[str, float]],
    expected: dict[str, set[str]],
    memory: list[int],
    published: float,
) -> dict[str, Any]:
    latency: dict[str, list[float]] = {"created (KOR)": [], "direct (JPN, USA)": []}
    missed = unexpected = 0
    for s in subscribers:
        ids = [i for i, _ in s.seen]
        missed += len(expected[s.party] - set(ids))
        unexpected += len(ids) - len(set(ids) & expected[s.party])  # repeats and strangers
        route = "created (KOR)" if s.party == "KOR" else "direct (JPN, USA)"
        latency[route] += [(at - sent[s.party][i]) * 1000 for i, at in s.seen if i in sent[s.party]]
    items = len(sent["KOR"])
    return {
        "processes": args.processes,
        "subscribers": args.subscribers,
        "items": items,
        "publish_rate": round(items / published, 1) if published else 0.0,
        "latency_ms": {
            route: {"p50": round(_quantile(v, 0.5), 1), "p99": round(_quantile(v, 0.99), 1)}
            for route, v in latency.items()
        },
        "deliveries": sum(len(s.seen) for s in subscribers),
        "missed": missed,
        "unexpected": unexpected,
        "subscriber_errors": sorted({s.error for s in subscribers if s.error}),
        "server_rss_mb": {
            "first": round(memory[0] / 2**20, 1) if memory else None,
            "max": round(max(memory) / 2**20, 1) if memory else None,
            "last": round(memory[-1] / 2**20, 1) if memory else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=30)
    parser.add_argument("--rate", type=float, default=20.0, help="items a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--db", default=None, help="a store URL (default: a SQLite file)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        save_json(args.json, result)
    return 0 if result["missed"] == 0 and result["unexpected"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
