"""The live feed under load: standing rules distribute launch events to SSE subscribers.

One run starts ``accord serve`` as its own process (or two processes on one store, woken
through NATS JetStream, with ``--processes 2``) on the builtin 2019 world with two standing
rules of KOR and one standing consent:

- ``bench-direct``: KOR's ``nk-missile`` items to JPN and USA, routes ``direct`` then
  ``via USA`` (at today's instant GSOMIA allows ``direct``);
- ``bench-hub``: KOR's ``nk-nuclear`` items to JPN, route ``via USA`` only, with the consent
  ``bench-usa-may-pass`` (USA may pass them on to JPN): KOR → USA → JPN under TISA.

``--subscribers`` SSE streams are spread over four users (kor-analyst, jpn-analyst,
usa-analyst, and jpn-junior, whose clearance is too low to read anything; with two processes,
every other stream on the second process), in a separate client process. ``--publishers``
threads then post launch-event objects as KOR's analyst (TAXII POST, ``--envelope`` objects a
POST) for ``--seconds`` at ``--rate`` items a second in all, alternating ``nk-missile`` and
``nk-nuclear``. Nothing else releases them: the standing rules do, in the POST's transaction.

Reported: publish→deliver latency (p50, p99) per route (``created`` for KOR's own users,
``direct``, ``via USA``), the deliveries the oracle expected but no stream saw, the ones it did
not expect (both must be 0), and the server's resident memory over the run. The oracle,
written here from the rules: every KOR stream sees each item once; every USA stream each
item once (the direct copy, or the hub's copy); every jpn-analyst stream each item once,
``direct`` for nk-missile and ``via USA`` for nk-nuclear; jpn-junior nothing.

``--ingest`` posts as fast as the publishers can, with no subscriber, and reports items/s.
``--profile`` samples the (first) server's threads with py-spy while publishing, and prints the
functions it was busy in.
Every phase is bounded (``--seconds``, ``--drain``). A benchmark, not a test.

    .venv/bin/python -m bench.feed                         # 1 process, 20 subscribers, 50/s, 10 s
    .venv/bin/python -m bench.feed --rate 1000 --seconds 60 --subscribers 100 --envelope 10
    .venv/bin/python -m bench.feed --processes 2 --nats nats://127.0.0.1:4222
    .venv/bin/python -m bench.feed --ingest --envelope 100 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.results import save_json

USERS = (
    ("kor-analyst", "KOR"),
    ("jpn-analyst", "JPN"),
    ("usa-analyst", "USA"),
    ("jpn-junior", "JPN"),
)
LEVEL = "군사II급비밀"
TOPIC_DIRECT, TOPIC_HUB = "nk-missile", "nk-nuclear"
START_SECONDS = 60
RULES_FROM = datetime(2020, 1, 1, tzinfo=UTC)


# --- the world ----------------------------------------------------------------------------------


def _prepare(folder: Path, url: str) -> tuple[Path, dict[str, str]]:
    import dataclasses

    from accord.crypto import MasterKey
    from accord.model.time import Duration
    from accord.scenario import builtin_scenario_path, load_scenario
    from accord.service import Exchange
    from accord.service.credentials import Credentials
    from accord.service.scenarios import apply_scenario
    from accord.service.standing import add_consent, add_rule

    master = MasterKey.generate()
    key_file = folder / "master.key"
    master.write(key_file)
    exchange = Exchange.open(url, lambda: datetime(2020, 1, 1, tzinfo=UTC), lambda: master)
    try:
        exchange.init_keys()
        scenario = dataclasses.replace(
            load_scenario(builtin_scenario_path()), items=(), events=(), expectations=()
        )
        apply_scenario(exchange, scenario, strict=True)
        rules, consent = _standing()
        for rule in rules:
            add_rule(exchange, rule)
        add_consent(exchange, consent)
        credentials = Credentials(exchange)
        tokens = {
            user: credentials.issue(user, Duration.parse("P1D", "expires")).token
            for user, _ in USERS
        }
    finally:
        exchange.store.close()
    return key_file, tokens


def _standing() -> tuple[list[Any], Any]:
    from accord.model.rules import Route, StandingConsent, StandingRule, Window

    window = Window(RULES_FROM)
    direct = StandingRule(
        "bench-direct",
        "KOR",
        frozenset({TOPIC_DIRECT}),
        LEVEL,
        ("JPN", "USA"),
        (Route(None), Route("USA")),
        window,
    )
    hub = StandingRule(
        "bench-hub", "KOR", frozenset({TOPIC_HUB}), LEVEL, ("JPN",), (Route("USA"),), window
    )
    consent = StandingConsent(
        "bench-usa-may-pass",
        "KOR",
        "USA",
        frozenset({"JPN"}),
        frozenset({TOPIC_HUB}),
        LEVEL,
        window,
    )
    return [direct, hub], consent


def _launch_event(n: int, tag: str) -> dict[str, Any]:
    from accord.api.markings import EXTENSION_ID, classification_id, releasable_id
    from accord.scenario.launch_stix import EXTENSION_ID as LAUNCH_EXTENSION

    clock = datetime.now(UTC)
    now = clock.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    topic = TOPIC_DIRECT if n % 2 == 0 else TOPIC_HUB
    return {
        "type": "launch-event",
        "spec_version": "2.1",
        "id": f"launch-event--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": f"bench launch {n}",
        "detected": clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detected_precision": "second",
        "missile_type": "srbm",
        "count": 1,
        "impact_area": "sea-of-japan",
        "outcome": "success",
        "source": "bench",
        "object_marking_refs": [
            classification_id("KOR", LEVEL),
            releasable_id("JPN"),
            releasable_id("USA"),
        ],
        "extensions": {
            LAUNCH_EXTENSION: {"extension_type": "new-sdo"},
            EXTENSION_ID: {"extension_type": "property-extension", "topics": [topic]},
        },
    }


def expected_route(user: str, stix_id: str, topics: dict[str, str]) -> str | None:
    """The oracle: the route by which ``user``'s feed must deliver the item (None: never)."""
    party = dict(USERS)[user]
    if user == "jpn-junior":  # 秘 is below the copy's 極秘
        return None
    if party == "KOR":
        return "created"
    if party == "USA":
        return "direct" if topics[stix_id] == TOPIC_DIRECT else "via USA (hub copy)"
    return "direct" if topics[stix_id] == TOPIC_DIRECT else "via USA"


# --- the servers --------------------------------------------------------------------------------


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
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the subscribers (their own process, one event loop) ---------------------------------------

_ID = re.compile(rb'"id":"([^"]+)"')
_VIA = re.compile(rb'"via":(?:null|"([A-Z]+)")')


async def _follow(
    base: str, party: str, token: str, seen: list[tuple[str, str | None, float]], ready: Any
) -> str | None:
    """One SSE stream: (stix id, via, when) of each ``available`` event, until cancelled."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    timeout = httpx.Timeout(10.0, read=None)
    try:
        async with (
            httpx.AsyncClient(base_url=base, timeout=timeout) as http,
            http.stream("GET", f"/feeds/{party}/", headers=headers) as response,
        ):
            response.raise_for_status()
            ready()
            rest = b""
            async for chunk in response.aiter_bytes():
                now = time.time()
                *events, rest = (rest + chunk).split(b"\n\n")
                for event in events:
                    if b"\nevent: available\n" not in b"\n" + event:
                        continue
                    found, via = _ID.search(event), _VIA.search(event)
                    if found is not None:
                        hub = None if via is None or via[1] is None else via[1].decode()
                        seen.append((found[1].decode(), hub, now))
    except httpx.HTTPError as error:
        ready()
        return type(error).__name__
    return None


def _subscribe(streams: list[tuple[str, str, str, str]], conn: Any) -> None:
    """The client process: follow every stream, say when all are open, stop when told."""

    async def main() -> None:
        seen: list[list[tuple[str, str | None, float]]] = [[] for _ in streams]
        opened = 0

        def ready() -> None:
            nonlocal opened
            opened += 1
            if opened == len(streams):
                conn.send("ready")

        tasks = [
            asyncio.create_task(_follow(base, party, token, seen[n], ready))
            for n, (base, _user, party, token) in enumerate(streams)
        ]
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # "stop"
        for task in tasks:
            task.cancel()
        errors = []
        for task in tasks:
            try:
                error = await task
            except asyncio.CancelledError:
                error = None
            errors.append(error)
        conn.send((seen, errors))

    asyncio.run(main())


# --- publishing ---------------------------------------------------------------------------------


def _objects(party: str) -> str:
    from accord.api.context import HOLDINGS, collection_id

    return f"/taxii2/{party}/collections/{collection_id(HOLDINGS, party)}/objects/"


class Publisher(threading.Thread):
    """Posts envelopes of ``envelope`` launch events at ``rate`` items a second (0: at once)."""

    def __init__(
        self, base: str, token: str, n: int, args: argparse.Namespace, share: float
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.n, self.args, self.rate = base, token, n, args, share
        self.sent: dict[str, float] = {}
        self.topics: dict[str, str] = {}
        self.posts: list[float] = []  # seconds each POST took
        self.failed = 0

    def run(self) -> None:
        media = "application/taxii+json;version=2.1"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": media}
        headers["Content-Type"] = media
        envelope, seconds, count = self.args.envelope, self.args.seconds, 0
        started = time.monotonic()
        with httpx.Client(base_url=self.base, headers=headers, timeout=60.0) as http:
            while time.monotonic() - started < seconds:
                objects = []
                for _ in range(envelope):
                    obj = _launch_event(count * self.args.publishers + self.n, self.args.tag)
                    count += 1
                    objects.append(obj)
                    self.topics[obj["id"]] = obj["extensions"][_classification()]["topics"][0]
                posted = time.time()
                response = http.post(_objects("KOR"), json={"objects": objects})
                self.posts.append(time.time() - posted)
                if response.status_code >= 300 or response.json().get("failure_count"):
                    self.failed += len(objects)
                    if self.failed == len(objects):
                        print(f"POST refused: {response.text[:600]}", file=sys.stderr)
                    continue
                for obj in objects:
                    self.sent[obj["id"]] = posted
                if self.rate > 0:
                    pause = started + count / self.rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)


def _classification() -> str:
    from accord.api.markings import EXTENSION_ID

    return EXTENSION_ID


def _publish(base: str, token: str, args: argparse.Namespace) -> list[Publisher]:
    share = args.rate / args.publishers if not args.ingest else 0.0
    publishers = [Publisher(base, token, n, args, share) for n in range(args.publishers)]
    for p in publishers:
        p.start()
    for p in publishers:
        p.join(args.seconds + 120)
    return publishers


# --- a run --------------------------------------------------------------------------------------


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for child in [pid, *_children(pid)]:
            try:
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
    return total


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


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
        subscribers = 0 if args.ingest else args.subscribers
        streams = [
            (servers[i % len(servers)][0], *USERS[i % len(USERS)], tokens[USERS[i % len(USERS)][0]])
            for i in range(subscribers)
        ]
        conn = None
        if streams:
            conn, theirs = multiprocessing.Pipe()
            client = multiprocessing.get_context("spawn").Process(
                target=_subscribe, args=(streams, theirs), daemon=True
            )
            client.start()
            if not conn.poll(60) or conn.recv() != "ready":
                raise SystemExit("the subscribers did not connect")
        memory: list[int] = []
        pids = [pid for _, pid in servers]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.5):
                memory.append(_rss(pids))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.monotonic()
        with _profiled(servers[0][1], args.profile_to):
            publishers = _publish(servers[0][0], tokens["kor-analyst"], args)
        published = time.monotonic() - began
        sent = {k: v for p in publishers for k, v in p.sent.items()}
        topics = {k: v for p in publishers for k, v in p.topics.items()}
        seen: list[list[tuple[str, str | None, float]]] = []
        errors: list[str | None] = []
        if conn is not None:
            time.sleep(min(args.drain, 2.0 + published / 10))  # let the feeds catch up
            deadline = time.monotonic() + args.drain
            conn.send("stop")
            if conn.poll(max(1.0, deadline - time.monotonic())):
                seen, errors = conn.recv()
        sampling.set()
    result = _figures(args, streams, seen, errors, sent, topics, memory, published)
    result["post_ms"] = _post_figures(publishers)
    result["failed_items"] = sum(p.failed for p in publishers)
    return result


def _post_figures(publishers: list[Publisher]) -> dict[str, float]:
    posts = [t * 1000 for p in publishers for t in p.posts]
    return {"p50": round(_quantile(posts, 0.5), 1), "p99": round(_quantile(posts, 0.99), 1)}


def _figures(
    args: argparse.Namespace,
    streams: list[tuple[str, str, str, str]],
    seen: list[list[tuple[str, str | None, float]]],
    errors: list[str | None],
    sent: dict[str, float],
    topics: dict[str, str],
    memory: list[int],
    published: float,
) -> dict[str, Any]:
    latency: dict[str, list[float]] = {}
    missed = unexpected = 0
    for (_, user, _, _), events in zip(streams, seen, strict=False):
        got: dict[str, str | None] = {}
        for stix_id, via, at in events:
            route = expected_route(user, stix_id, topics) if stix_id in sent else None
            if route is None or stix_id in got or (via == "USA") != route.startswith("via"):
                unexpected += 1  # a stranger, a repeat, or the wrong route
                continue
            got[stix_id] = via
            latency.setdefault(route, []).append((at - sent[stix_id]) * 1000)
        missed += sum(
            1 for i in sent if expected_route(user, i, topics) is not None and i not in got
        )
    items = len(sent)
    return {
        "processes": args.processes,
        "subscribers": len(streams),
        "publishers": args.publishers,
        "envelope": args.envelope,
        "items": items,
        "publish_rate": round(items / published, 1) if published else 0.0,
        "latency_ms": {
            route: {
                "n": len(v),
                "p50": round(_quantile(v, 0.5), 1),
                "p99": round(_quantile(v, 0.99), 1),
            }
            for route, v in sorted(latency.items())
        },
        "deliveries": sum(len(s) for s in seen),
        "missed": missed,
        "unexpected": unexpected,
        "subscriber_errors": sorted({e for e in errors if e}),
        "server_rss_mb": {
            "first": round(memory[0] / 2**20, 1) if memory else None,
            "max": round(max(memory) / 2**20, 1) if memory else None,
            "last": round(memory[-1] / 2**20, 1) if memory else None,
        },
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--rate", type=float, default=50.0, help="items a second, in all")
    parser.add_argument("--seconds", type=float, default=10.0, help="at most 600")
    parser.add_argument("--envelope", type=int, default=1, help="items a POST")
    parser.add_argument("--publishers", type=int, default=1, help="posting threads")
    parser.add_argument("--ingest", action="store_true", help="no subscribers, post at once")
    parser.add_argument("--profile", action="store_true", help="py-spy the first server")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--db", default=None, help="a store URL (default: a SQLite file)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 600.0)
    args.envelope = max(1, args.envelope)
    args.publishers = max(1, args.publishers)
    args.tag = uuid.uuid4().hex
    args.profile_to = Path(tempfile.mkdtemp()) / "serve.raw" if args.profile else None
    result = run(args)
    if args.profile_to is not None:
        _print_profile(args.profile_to)
        result["profile"] = str(args.profile_to)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        save_json(args.json, result)
    return 0 if result["missed"] == 0 and result["unexpected"] == 0 else 1


@contextmanager
def _profiled(pid: int, out: Path | None) -> Iterator[None]:
    """Sample every thread of the server with py-spy while publishing (``--profile``)."""
    if out is None:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
    command += ["--output", str(out), "--nonblocking"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _print_profile(path: Path, top: int = 40) -> None:
    """The server's costliest functions: the share of samples they were on the stack in
    (inclusive) and at its top (self), from py-spy's collapsed stacks; idle waits left out."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines() if path.exists() else []:
        stack, _, count = line.rpartition(" ")
        frames = [
            f.split(" (")[0] + " " + f.rsplit("/", 1)[-1].rstrip(")") for f in stack.split(";")
        ]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames or any(w in frames[-1] for w in _IDLE):
            continue
        n = int(count)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames):
            inclusive[f] = inclusive.get(f, 0) + n
    print(f"busy samples: {total}", file=sys.stderr)
    for name, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        print(
            f"{100 * n / total:5.1f}% {100 * own.get(name, 0) / total:5.1f}%  {name}",
            file=sys.stderr,
        )


_IDLE = ("select ", "wait ", "_worker ", "poll ", "acquire ", "sleep ")


if __name__ == "__main__":
    sys.exit(main())
