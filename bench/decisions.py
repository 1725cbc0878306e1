"""Decisions per second: accord's read and release decisions beside cedarpy, in one run.

    .venv/bin/python -m bench.decisions [--users 1000 --items 10000 --seconds 10 --json out.json]

See bench/README.md for what each workload measures and why the comparison is fair. Every loop
is bounded by a count and by ``--seconds``. Exit status 1 when cedarpy and accord disagree on
any sampled read, or when the batch index disagrees with ``decide_read``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import cedarpy

from accord.model.requests import ReadRequest
from accord.model.world import World
from accord.policy.batch import ReadableIndex
from accord.policy.read import decide_read
from accord.policy.release import decide_release
from bench.results import save_json
from bench.world import BenchWorld, build, read_requests, release_requests

CEDAR_POLICY = """\
permit (principal, action == Action::"read", resource)
when {
  principal.party == resource.party &&
  principal.clearance >= resource.level &&
  principal.ntk.containsAll(resource.topics)
};
"""

CHUNK = 500  # calls between two looks at the clock
Call = Callable[..., Any]
Args = Sequence[tuple[Any, ...]]


class Mismatch(Exception):
    """Two engines (or accord's two paths) answered the same question differently."""


@dataclass
class Figure:
    workload: str
    engine: str
    decisions: int  # decisions in the timed passes
    per_second: float
    p50_us: float | None = None
    p99_us: float | None = None
    unit: str = "decision"  # what p50/p99 time: one decision, or one batch
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "workload": self.workload,
            "engine": self.engine,
            "decisions": self.decisions,
            "per_second": round(self.per_second, 1),
            "p50_us": r(self.p50_us),
            "p99_us": r(self.p99_us),
            "latency_of": self.unit,
            "note": self.note,
        }


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- timing loops: bounded in count (the sample) and in time (``seconds``) ---------------------
# Every engine is timed by the same loops calling ``fn(*args)`` with prebuilt arguments, so the
# loop's own cost is the same for all of them. Engines compared with each other take turns, pass
# by pass, so that a change in the machine's load touches all of them alike; a pass is long
# enough (a whole sample) that one engine does not run on caches another has just emptied.


@dataclass
class Engine:
    workload: str
    name: str
    fn: Call
    args: Args
    note: str = ""


def latencies(engines: list[Engine], seconds: float) -> tuple[list[list[float]], list[list[Any]]]:
    """Per-call latency in µs (``perf_counter_ns`` around each call) and each call's result."""
    clock = time.perf_counter_ns
    times: list[list[float]] = []
    results: list[list[Any]] = []
    for engine in engines:
        deadline = clock() + int(seconds * 1e9 / len(engines))
        fn, args = engine.fn, engine.args
        spent: list[float] = []
        got: list[Any] = []
        for offset in range(0, len(args), CHUNK):
            for a in args[offset : offset + CHUNK]:
                start = clock()
                result = fn(*a)
                end = clock()
                spent.append((end - start) / 1000)
                got.append(result)
            if clock() > deadline:
                break
        times.append(spent)
        results.append(got)
    return times, results


def throughputs(engines: list[Engine], seconds: float, passes: int) -> list[tuple[int, float]]:
    """Decisions timed and decisions per second (the median pass) for each engine."""
    clock = time.perf_counter
    rates: list[list[float]] = [[] for _ in engines]
    counts = [0 for _ in engines]
    budget = seconds / (passes * len(engines))
    for _ in range(passes):
        for n, engine in enumerate(engines):
            fn, args = engine.fn, engine.args
            done = 0
            start = clock()
            deadline = start + budget
            for offset in range(0, len(args), CHUNK):
                chunk = args[offset : offset + CHUNK]
                for a in chunk:
                    fn(*a)
                done += len(chunk)
                if clock() > deadline:
                    break
            rates[n].append(done / (clock() - start))
            counts[n] += done
    return [(counts[n], statistics.median(rates[n])) for n in range(len(engines))]


def compare(engines: list[Engine], seconds: float, passes: int) -> list[tuple[Figure, list[Any]]]:
    """Latency (one pass) then throughput (up to ``passes``), all engines interleaved."""
    times, results = latencies(engines, seconds)
    rates = throughputs(engines, seconds, passes)
    out = []
    for n, engine in enumerate(engines):
        count, per_second = rates[n]
        figure = Figure(
            engine.workload,
            engine.name,
            count,
            per_second,
            percentile(times[n], 0.5),
            percentile(times[n], 0.99),
            note=engine.note,
        )
        out.append((figure, results[n]))
    return out


def latency(fn: Call, args: Args, seconds: float) -> tuple[list[float], list[Any]]:
    """``latencies`` for one engine."""
    times, results = latencies([Engine("", "", fn, args)], seconds)
    return times[0], results[0]


# --- cedarpy: the same world as Cedar entities ------------------------------------------------


def cedar_entities(bench: BenchWorld) -> list[dict[str, Any]]:
    """Users and the holdings live at ``read_at``, ranks in each party's own scheme."""
    world, at = bench.world, bench.read_at
    entities: list[dict[str, Any]] = []
    for user in world.users.values():
        entities.append(
            {
                "uid": {"type": "User", "id": user.id},
                "attrs": {
                    "party": user.party,
                    "clearance": world.parties[user.party].rank(user.clearance),
                    "ntk": sorted(user.need_to_know),
                },
                "parents": [],
            }
        )
    for party, item_ids in bench.held_by.items():
        scheme = world.parties[party]
        for item_id in item_ids:
            holding = world.holding(item_id, party, at)
            assert holding is not None and holding.held_at(at)
            entities.append(
                {
                    "uid": {"type": "Holding", "id": holding_id(item_id, party)},
                    "attrs": {
                        "party": party,
                        "level": scheme.rank(holding.level),
                        "topics": sorted(world.items[item_id].topics),
                    },
                    "parents": [],
                }
            )
    return entities


def holding_id(item_id: str, party: str) -> str:
    return f"{item_id}@{party}"


def cedar_request(world: World, request: ReadRequest) -> dict[str, Any]:
    """The Cedar request for (user, item): the user's party's copy. No ``context`` key: cedarpy
    copies the request and JSON-encodes a context on every call (~20 % of a call)."""
    party = world.users[request.user].party
    return {
        "principal": {"type": "User", "id": request.user},
        "action": {"type": "Action", "id": "read"},
        "resource": {"type": "Holding", "id": holding_id(request.item, party)},
    }


def cedar_uid_strings(request: dict[str, Any]) -> dict[str, Any]:
    """The same request with uids in Cedar's text form."""

    def text(uid: dict[str, str]) -> str:
        return f'{uid["type"]}::"{uid["id"]}"'

    return {
        "principal": text(request["principal"]),
        "action": text(request["action"]),
        "resource": text(request["resource"]),
    }


def _cedar_allowed(result: cedarpy.AuthzResult) -> bool:
    return bool(result.allowed)


# --- bare Python: only the R3 comparisons --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BareUser:
    party: str
    clearance: int
    ntk: frozenset[str]


@dataclass(frozen=True, slots=True)
class BareHolding:
    item: str
    party: str
    level: int
    topics: frozenset[str]


def bare_read(user: BareUser, holding: BareHolding | None) -> bool:
    return (
        holding is not None
        and user.party == holding.party
        and user.clearance >= holding.level
        and holding.topics <= user.ntk
    )


def bare_readable(user: BareUser, holdings: list[BareHolding]) -> list[str]:
    party, clearance, ntk = user.party, user.clearance, user.ntk
    return [
        h.item for h in holdings if h.party == party and clearance >= h.level and h.topics <= ntk
    ]


def bare_world(bench: BenchWorld) -> tuple[dict[str, BareUser], dict[str, dict[str, BareHolding]]]:
    world = bench.world
    users = {
        u.id: BareUser(u.party, world.parties[u.party].rank(u.clearance), u.need_to_know)
        for u in world.users.values()
    }
    holdings: dict[str, dict[str, BareHolding]] = {}
    for party, item_ids in bench.held_by.items():
        scheme = world.parties[party]
        holdings[party] = {}
        for item_id in item_ids:
            holding = world.holding(item_id, party, bench.read_at)
            assert holding is not None
            holdings[party][item_id] = BareHolding(
                item_id, party, scheme.rank(holding.level), world.items[item_id].topics
            )
    return users, holdings


# --- the run -------------------------------------------------------------------------------------


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def per_unit(
    workload: str, engine: str, times: list[float], decisions: int, unit: str, note: str = ""
) -> Figure:
    """A figure for calls that each decide ``decisions`` questions (a batch, or a user's items)."""
    return Figure(
        workload,
        engine,
        len(times) * decisions,
        len(times) * decisions / (sum(times) / 1e6),
        percentile(times, 0.5),
        percentile(times, 0.99),
        unit=unit,
        note=note,
    )


class Run:
    """One world, every engine, the same samples; ``figures`` in the order they were measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seconds, self.passes = args.seconds, args.passes
        self.figures: list[Figure] = []
        self.facts_out: dict[str, Any] = {}
        t0 = time.perf_counter()
        self.bench = build(args.users, args.items, args.seed)
        self.facts_out["build_seconds"] = round(time.perf_counter() - t0, 3)
        self.world = self.bench.world
        self.reads = read_requests(self.bench, args.sample, args.seed + 1)
        self.releases = release_requests(self.bench, args.sample, args.seed + 2)
        self.policies = cedarpy.PolicySet.from_str(CEDAR_POLICY)
        self.entity_list = cedar_entities(self.bench)
        t0 = time.perf_counter()
        self.entities = cedarpy.Entities.from_json_str(json.dumps(self.entity_list))
        self.facts_out["cedar_entities"] = len(self.entity_list)
        self.facts_out["cedar_entities_parse_seconds"] = round(time.perf_counter() - t0, 3)
        self.cedar_reqs = [cedar_request(self.world, r) for r in self.reads]
        self.bare_users, self.bare_holdings = bare_world(self.bench)
        self.allowed: list[bool] = []

    def single_decisions(self) -> None:
        """accord's read and release, cedarpy three ways and bare Python, interleaved."""
        bench, world, reads = self.bench, self.world, self.reads
        policies, entities = self.policies, self.entities
        read = "read, one at a time"
        by_uid = {(e["uid"]["type"], e["uid"]["id"]): e for e in self.entity_list}
        small = []
        for q in self.cedar_reqs[: self.args.sample // 4]:
            needed = [by_uid[("User", q["principal"]["id"])]]
            resource = by_uid.get(("Holding", q["resource"]["id"]))
            if resource is not None:
                needed.append(resource)
            small.append((q, policies, needed))
        engines = [
            Engine(
                read,
                "accord decide_read",
                decide_read,
                [(bench.facts, r, bench.read_at) for r in reads],
            ),
            Engine(
                read,
                "cedarpy is_authorized",
                cedarpy.is_authorized,
                [(q, policies, entities) for q in self.cedar_reqs],
                note="PolicySet and Entities parsed once",
            ),
            Engine(
                read,
                "cedarpy is_authorized, 2 entities",
                cedarpy.is_authorized,
                small,
                note="entity list of the principal and resource only, per call",
            ),
            Engine(
                read,
                "cedarpy is_authorized, string uids",
                cedarpy.is_authorized,
                [(cedar_uid_strings(q), policies, entities) for q in self.cedar_reqs],
                note='uids as Cedar text (User::"id"), which cedarpy parses per call',
            ),
            Engine(
                read,
                "bare Python",
                bare_read,
                [
                    (
                        self.bare_users[r.user],
                        self.bare_holdings[world.users[r.user].party].get(r.item),
                    )
                    for r in reads
                ],
                note="only the R3 comparisons, over prebuilt dataclasses",
            ),
            Engine(
                "release, one at a time",
                "accord decide_release",
                decide_release,
                [(bench.facts, r, t) for r, t in self.releases],
                note="agreement state at each instant, all rules, reasons",
            ),
        ]
        measured = compare(engines, self.seconds, self.passes)
        self.figures.extend(figure for figure, _ in measured)
        decisions = measured[0][1]
        self.allowed = allowed = [d.allowed for d in decisions]
        self.facts_out["read_allowed_share"] = round(sum(allowed) / len(allowed), 4)
        for engine, (_, results) in zip(engines[1:4], measured[1:4], strict=True):
            for n, result in enumerate(results):
                check(
                    _cedar_allowed(result) == allowed[n],
                    f"{engine.name} and accord disagree on {reads[n]}:"
                    f" cedar {_cedar_allowed(result)}, accord {decisions[n].as_dict()}",
                )
        self.facts_out["cedar_pairs_checked"] = len(measured[1][1])
        for n, result in enumerate(measured[4][1]):
            check(result == allowed[n], f"bare Python disagrees on {reads[n]}")
        released = measured[5][1]
        share = sum(d.allowed for d in released) / len(released)
        self.facts_out["release_allowed_share"] = round(share, 4)
        for name, made in (("read_outcomes", decisions), ("release_outcomes", released)):
            outcomes = Counter(" + ".join(d.codes) for d in made)
            self.facts_out[name] = dict(outcomes.most_common(12))

    def cedar_batches(self, size: int = 1000) -> None:
        batches = [
            (self.cedar_reqs[i : i + size], self.policies, self.entities)
            for i in range(0, len(self.cedar_reqs) - size + 1, size)
        ]
        times, results = latency(cedarpy.is_authorized_batch, batches, self.seconds)
        for n, batch in enumerate(results):
            for k, result in enumerate(batch):
                check(
                    _cedar_allowed(result) == self.allowed[n * size + k],
                    "cedarpy batch and accord disagree",
                )
        self.figures.append(
            per_unit(
                f"read, batch of {size:,} pairs",
                "cedarpy is_authorized_batch",
                times,
                size,
                "batch",
            )
        )

    def user_batches(self) -> None:
        """Which of all the items may one user read: accord's index, bare Python, cedarpy."""
        args, bench, world, at = self.args, self.bench, self.world, self.bench.read_at
        index = ReadableIndex(world)
        t0 = time.perf_counter()
        for party in sorted(world.parties):
            index.index(party)
        build_ms = (time.perf_counter() - t0) * 1000
        self.facts_out["index_build_ms"] = round(build_ms, 1)
        rng = random.Random(args.seed + 3)
        users = [rng.choice(bench.user_ids) for _ in range(args.batch_users)]
        count = len(bench.item_ids)
        workload = f"read, one user × all {count:,} items"
        times, readable = latency(index.readable, [(u, at) for u in users], self.seconds)
        self.figures.append(
            per_unit(
                workload,
                "accord ReadableIndex.readable",
                times,
                count,
                "user",
                note=f"index built in {build_ms:.0f} ms for {len(world.parties)} parties",
            )
        )
        for user_id, got in list(zip(users, readable, strict=False))[: args.verify_users]:
            expected = [
                i
                for i in bench.item_ids
                if decide_read(bench.facts, ReadRequest(user_id, i), at).allowed
            ]
            check(sorted(got) == expected, f"ReadableIndex and decide_read disagree for {user_id}")
        bare = [
            (self.bare_users[u], list(self.bare_holdings[world.users[u].party].values()))
            for u in users
        ]
        times, _ = latency(bare_readable, bare, self.seconds)
        self.figures.append(
            per_unit(
                workload,
                "bare Python",
                times,
                count,
                "user",
                note="a list comprehension over the party's holdings",
            )
        )
        cedar = []
        for user_id in users[: args.cedar_users]:
            held = bench.held_by[world.users[user_id].party]
            reqs = [cedar_request(world, ReadRequest(user_id, i)) for i in held]
            cedar.append((reqs, self.policies, self.entities))
        times, results = latency(cedarpy.is_authorized_batch, cedar, self.seconds)
        for user_id, got, answers in zip(users, readable, results, strict=False):
            held = bench.held_by[world.users[user_id].party]
            ids = [i for i, r in zip(held, answers, strict=True) if _cedar_allowed(r)]
            check(sorted(got) == ids, f"cedarpy batch and ReadableIndex disagree for {user_id}")
        self.figures.append(
            per_unit(
                workload,
                "cedarpy is_authorized_batch",
                times,
                count,
                "user",
                note=f"{len(times)} users; one request per holding of the user's party",
            )
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    r = Run(args)
    world, stats = r.world, r.bench.stats
    print(
        f"world: {len(world.parties)} parties, {len(world.agreements)} agreements,"
        f" {len(world.users):,} users, {len(world.items):,} items, {stats['holdings']:,} holdings"
        f" (built in {r.facts_out['build_seconds']:.2f} s); {r.facts_out['cedar_entities']:,}"
        f" Cedar entities (parsed in {r.facts_out['cedar_entities_parse_seconds']:.2f} s)"
    )
    gc.collect()
    gc.freeze()  # the world is long-lived; collections need not walk it (same for every engine)
    r.single_decisions()
    r.cedar_batches()
    r.user_batches()
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {"cedarpy": version("cedarpy"), "numpy": version("numpy")},
        "arguments": vars(args),
        "world": stats | {"users": len(world.users), "items": len(world.items)},
        **r.facts_out,
        "figures": [f.as_dict() for f in r.figures],
        "ratios": ratios(r.figures),
        "seconds": round(time.perf_counter() - started, 1),
    }


def ratios(figures: list[Figure]) -> dict[str, float]:
    """accord's decisions per second over cedarpy's, in this run."""
    rate = {(f.workload, f.engine): f.per_second for f in figures}
    single = "read, one at a time"
    cedar = rate[(single, "cedarpy is_authorized")]
    users = [f for f in figures if f.unit == "user"]
    out = {
        "read_vs_cedarpy": rate[(single, "accord decide_read")] / cedar,
        "read_vs_cedarpy_string_uids": rate[(single, "accord decide_read")]
        / rate[(single, "cedarpy is_authorized, string uids")],
        "release_vs_cedarpy_read": rate[("release, one at a time", "accord decide_release")]
        / cedar,
        "user_batch_vs_cedarpy_batch": next(
            f for f in users if f.engine.startswith("accord")
        ).per_second
        / next(f for f in users if f.engine.startswith("cedarpy")).per_second,
    }
    return {k: round(v, 2) for k, v in out.items()}


def table(result: dict[str, Any]) -> str:
    figures = result["figures"]
    cedar = next(
        f
        for f in figures
        if f["workload"] == "read, one at a time" and f["engine"] == "cedarpy is_authorized"
    )
    cedar_user = next(
        f for f in figures if f["latency_of"] == "user" and f["engine"].startswith("cedarpy")
    )
    head = (
        "| workload | engine | decisions/s | p50 | p99 | × cedarpy |",
        "|---|---|---:|---:|---:|---:|",
    )
    rows = list(head)
    for f in figures:
        base = cedar_user if f["latency_of"] == "user" else cedar
        ratio = f["per_second"] / base["per_second"]
        rows.append(
            f"| {f['workload']} | {f['engine']} | {f['per_second']:,.0f} |"
            f" {_span(f['p50_us'], f['latency_of'])} | {_span(f['p99_us'], f['latency_of'])} |"
            f" {ratio:.2f} |"
        )
    return "\n".join(rows)


def _span(us: float | None, unit: str) -> str:
    if us is None:
        return "–"
    text = f"{us:.2f} µs" if us < 1000 else f"{us / 1000:.2f} ms"
    return text if unit == "decision" else f"{text} per {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--sample", type=int, default=20_000, help="sampled decisions per loop")
    parser.add_argument("--passes", type=int, default=5, help="throughput passes per engine")
    parser.add_argument("--seconds", type=float, default=30.0, help="time cap per comparison")
    parser.add_argument("--batch-users", type=int, default=200)
    parser.add_argument("--cedar-users", type=int, default=3, help="users for cedarpy × items")
    parser.add_argument("--verify-users", type=int, default=10, help="batch checked item by item")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    try:
        result = run(args)
    except Mismatch as error:
        print(f"MISMATCH: {error}", file=sys.stderr)
        return 1
    print()
    print(table(result))
    print()
    r = result["ratios"]
    print(
        f"read allowed {result['read_allowed_share']:.1%}, release allowed"
        f" {result['release_allowed_share']:.1%}; cedarpy agreed on"
        f" {result['cedar_pairs_checked']:,} sampled pairs and every batch."
    )
    print(
        f"accord/cedarpy: read ×{r['read_vs_cedarpy']}, release ×{r['release_vs_cedarpy_read']}"
        f" (vs cedarpy read), one user × all items ×{r['user_batch_vs_cedarpy_batch']};"
        f" total {result['seconds']} s"
    )
    if args.json:
        save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
