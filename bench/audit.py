"""The audit log: accord.audit's hashing, appends and proofs beside the SHA-256 floor, in one run.

    .venv/bin/python -m bench.audit [--entries 1000000 --proofs 20000 --passes 3 --json PATH]

For ``--entries`` random 256-byte entries (a fixed seed): the floor, SHA-256 of each entry with
hashlib in this process; the RFC 9162 leaf hashes; ``root_of`` over those leaf hashes; a
``Frontier`` appending every leaf hash; building a ``MerkleTree`` over them; inclusion and
consistency proofs generated and verified on that tree, half for its full size and half for
random earlier sizes; and signing and reading back checkpoints. See bench/README.md.

Exit status 1 if two ways of computing a root disagree or a generated proof does not verify.
Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import platform
import random
import ssl
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.audit import (
    Checkpoint,
    Frontier,
    MerkleTree,
    leaf_hash,
    parse_signed_checkpoint,
    root_of,
    sign_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from accord.errors import AccordError
from bench.results import save_json

ENTRY_BYTES = 256


class Mismatch(Exception):
    """Two computations of the same thing disagreed."""


@dataclass
class Figure:
    measure: str
    count: int  # operations in one timed pass
    seconds: float  # one pass (the median pass for bulk work)
    p50_us: float | None = None
    p99_us: float | None = None
    floor: float | None = None  # seconds of the floor pass this is compared with
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "measure": self.measure,
            "count": self.count,
            "seconds": round(self.seconds, 4),
            "per_second": round(self.per_second, 1),
            "p50_us": r(self.p50_us),
            "p99_us": r(self.p99_us),
            "x_floor": None if self.floor is None else round(self.seconds / self.floor, 2),
            "note": self.note,
        }


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bulk(jobs: dict[str, Callable[[], Any]], passes: int) -> dict[str, tuple[float, Any]]:
    """Median seconds of ``passes`` runs of each job, the jobs taking turns pass by pass."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    results: dict[str, Any] = {}
    for _ in range(passes):
        for name, job in jobs.items():
            start = time.perf_counter()
            results[name] = job()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in jobs}


def each(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> tuple[list[float], list[Any]]:
    """Per-call latency in µs (``perf_counter_ns`` around each call) and each call's result."""
    clock = time.perf_counter_ns
    spent: list[float] = []
    got: list[Any] = []
    for a in args:
        start = clock()
        result = fn(*a)
        end = clock()
        spent.append((end - start) / 1000)
        got.append(result)
    return spent, got


def per_call(measure: str, spent: list[float], note: str = "") -> Figure:
    return Figure(
        measure,
        len(spent),
        sum(spent) / 1e6,
        percentile(spent, 0.5),
        percentile(spent, 0.99),
        note=note,
    )


# --- the workloads ---------------------------------------------------------------------------


def make_entries(n: int, seed: int) -> list[bytes]:
    blob = random.Random(seed).randbytes(n * ENTRY_BYTES)
    return [blob[i : i + ENTRY_BYTES] for i in range(0, len(blob), ENTRY_BYTES)]


def sha256_each(entries: list[bytes]) -> list[bytes]:
    sha256 = hashlib.sha256
    return [sha256(e).digest() for e in entries]


def leaf_hashes(entries: list[bytes]) -> list[bytes]:
    return [leaf_hash(e) for e in entries]


def frontier_of(leaves: list[bytes]) -> Frontier:
    frontier = Frontier()
    append = frontier.append
    for h in leaves:
        append(h)
    return frontier


def hashing(entries: list[bytes], passes: int) -> tuple[list[Figure], list[bytes], bytes]:
    """The floor, leaf hashing and root_of, taking turns; then Frontier appends."""
    n = len(entries)
    leaves = leaf_hashes(entries)
    runs = bulk(
        {
            "floor": lambda: sha256_each(entries),
            "leaves": lambda: leaf_hashes(entries),
            "root_of": lambda: root_of(leaves),
        },
        passes,
    )
    floor, root = runs["floor"][0], runs["root_of"][1]
    check(runs["leaves"][1] == leaves, "leaf hashes differ between passes")
    start = time.perf_counter()
    frontier = frontier_of(leaves)
    appended = time.perf_counter() - start
    check(frontier.root() == root, "Frontier and root_of give different roots")
    size = f"{n * ENTRY_BYTES / 1e6:,.0f} MB"
    figures = [
        Figure(
            f"floor: SHA-256 of each {ENTRY_BYTES}-byte entry", n, floor, floor=floor, note=size
        ),
        Figure(
            "leaf_hash of each entry",
            n,
            runs["leaves"][0],
            floor=floor,
            note="SHA-256 of 0x00 and the entry",
        ),
        Figure(
            "root_of over the leaf hashes",
            n,
            runs["root_of"][0],
            floor=floor,
            note=f"{n - 1:,} node hashes",
        ),
        Figure(
            "leaf_hash + root_of",
            n,
            runs["leaves"][0] + runs["root_of"][0],
            floor=floor,
            note="entries to root",
        ),
        Figure("Frontier.append of each leaf hash", n, appended, floor=floor, note="one pass"),
    ]
    return figures, leaves, root


def proof_samples(rng: random.Random, n: int, count: int) -> list[tuple[int, int]]:
    """(index or old size, size) pairs: half at the full size, half at a random earlier size."""
    out = []
    for k in range(count):
        size = n if k % 2 == 0 else rng.randint(1, n)
        out.append((rng.randrange(size), size))
    return out


def proofs(tree: MerkleTree, leaves: list[bytes], count: int, seed: int) -> list[Figure]:
    """Inclusion and consistency proofs generated, then verified, each call timed."""
    rng = random.Random(seed)
    n = tree.size
    inclusion = proof_samples(rng, n, count)
    consistency = [(max(1, m), s) for m, s in proof_samples(rng, n, count) if s > 1]
    sizes = {s for _, s in inclusion} | {m for m, _ in consistency} | {s for _, s in consistency}
    roots = {s: tree.root(s) for s in sizes}
    spent, made = each(tree.inclusion_proof, inclusion)
    figures = [per_call("inclusion_proof (MerkleTree)", spent, "half full size, half earlier")]
    args = [(leaves[i], i, s, p, roots[s]) for (i, s), p in zip(inclusion, made, strict=True)]
    figures.append(per_call("verify_inclusion", verifying(verify_inclusion, args), "same proofs"))
    spent, made = each(tree.consistency_proof, consistency)
    figures.append(per_call("consistency_proof (MerkleTree)", spent, "random old < new"))
    pairs = [(m, s, roots[m], roots[s], p) for (m, s), p in zip(consistency, made, strict=True)]
    figures.append(
        per_call("verify_consistency", verifying(verify_consistency, pairs), "same proofs")
    )
    hashes = sum(len(p) for p in made) / len(made)
    figures[-1].note += f"; {hashes:.1f} hashes per proof"
    return figures


def verifying(fn: Callable[..., None], args: list[tuple[Any, ...]]) -> list[float]:
    try:
        spent, _ = each(fn, args)
    except AccordError as error:
        raise Mismatch(f"a generated proof does not verify: {error}") from None
    return spent


def checkpoints(root: bytes, size: int, count: int) -> list[Figure]:
    """sign_checkpoint, and parse_signed_checkpoint + verify of what it wrote."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public, name = key.public_key(), "accord.example/bench-log"
    checkpoint = Checkpoint(name, size, root)
    spent, signed = each(sign_checkpoint, [(checkpoint, name, key)] * count)
    texts = [(s.text(),) for s in signed]

    def read(text: str) -> None:
        parse_signed_checkpoint(text).verify(name, public)

    read_spent = verifying(read, texts)
    return [
        per_call("sign_checkpoint", spent, "Ed25519"),
        per_call("parse_signed_checkpoint + verify", read_spent, "Ed25519"),
    ]


# --- the run -------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    entries = make_entries(args.entries, args.seed)
    made = time.perf_counter() - started
    gc.collect()
    gc.freeze()
    figures, leaves, root = hashing(entries, args.passes)
    start = time.perf_counter()
    tree = MerkleTree(leaves)
    built = time.perf_counter() - start
    check(tree.root() == root, "MerkleTree and root_of give different roots")
    floor = figures[0].seconds
    figures.append(
        Figure("MerkleTree(leaf hashes)", len(leaves), built, floor=floor, note="all levels kept")
    )
    figures += proofs(tree, leaves, args.proofs, args.seed + 1)
    figures += checkpoints(root, tree.size, args.checkpoints)
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {"cryptography": version("cryptography")},
        "openssl": ssl.OPENSSL_VERSION,
        "arguments": vars(args),
        "entry_bytes": ENTRY_BYTES,
        "setup_seconds": round(made, 2),
        "root": root.hex(),
        "figures": [f.as_dict() for f in figures],
        "seconds": round(time.perf_counter() - started, 1),
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        "| measure | count | per second | p50 | p99 | × floor | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in result["figures"]:
        ratio = "" if f["x_floor"] is None else f"{f['x_floor']:.2f}"
        rows.append(
            f"| {f['measure']} | {f['count']:,} | {f['per_second']:,.0f} | {_us(f['p50_us'])} |"
            f" {_us(f['p99_us'])} | {ratio} | {f['note']} |"
        )
    return "\n".join(rows)


def _us(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} µs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000, help="log entries (256 bytes)")
    parser.add_argument("--proofs", type=int, default=20_000, help="proofs of each kind")
    parser.add_argument("--checkpoints", type=int, default=2_000, help="checkpoints signed")
    parser.add_argument("--passes", type=int, default=3, help="passes of the bulk hashing")
    parser.add_argument("--seed", type=int, default=9162)
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    if args.entries < 2 or min(args.proofs, args.checkpoints, args.passes) < 1:
        parser.error("--entries must be at least 2; --proofs, --checkpoints, --passes at least 1")
    try:
        result = run(args)
    except Mismatch as error:
        print(f"MISMATCH: {error}", file=sys.stderr)
        return 1
    print(table(result))
    print()
    hashing_rows = {f["measure"]: f for f in result["figures"]}
    root_ratio = hashing_rows["root_of over the leaf hashes"]["x_floor"]
    print(
        f"{args.entries:,} entries of {ENTRY_BYTES} bytes; root {result['root'][:16]}…;"
        f" root_of at ×{root_ratio} of the SHA-256 floor (median of {args.passes} passes);"
        f" total {result['seconds']} s"
    )
    if args.json:
        save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
