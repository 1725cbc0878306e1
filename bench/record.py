"""The record through the real service: audit appends, `audit verify` on a big log beside the
SHA-256 floor, inclusion proofs through ``audit_prove``, and ``add_item`` beside raw crypto.

    .venv/bin/python -m bench.record [--entries 1000000] [--json [PATH]]

Everything runs on SQLite files in a temporary directory (``--dir`` to choose one), through
``accord.service.Exchange`` with real keys. Four parts, side by side in one run:

(a) audit appends: entries/s for transactions of one entry (``add_topic`` and one-item reads,
    each its own transaction: the entry, the checkpoint signature, the commit) and of
    ``--batch`` entries (the same acts inside ``exchange.batch()``).
(b) ``audit verify`` on a log of ``--entries`` entries: the built-in world, then entries written
    with ``journal.flush`` in transactions of 50,000 — alternately a topic added (a real row
    insert, which replay must explain) and a read of one to three items (its subject, no rows),
    as an exchange writes them — timed whole (it streams the log, 10,000 entries per query) and
    split into its parts, beside SHA-256 of the same leaf bytes in the same process.
(c) inclusion proofs: ``exchange.audit_prove`` on that log (each call its own transaction,
    O(log n) stored hashes read, the proof checked against the root before it is returned) and
    ``check_proof`` of what it returned, per second.
(d) ``add_item`` per 1 KiB item (encrypt + sign + wrap + store + log), alone and in a batch,
    and ``Vault.seal`` alone, beside one AES-256-GCM encryption and one Ed25519 signature from
    ``cryptography``.

Exit status 1 if a check fails (a verify that does not pass, a proof that does not check, a
count that is wrong). Nothing here asserts a timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accord.crypto import canonical_json
from accord.model.item import Holding, Item
from accord.model.requests import ReadRequest
from accord.scenario import load_scenario
from accord.service import Exchange, MasterKey, auditor, journal
from accord.service.scenarios import apply_scenario
from accord.service.vault import binding, payload_of
from accord.store import log_reads
from bench.crypto import contents
from bench.results import save_json

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ROOT / "src" / "accord" / "scenario" / "builtin" / "gsomia-2019.yaml"
CHUNK = 50_000  # entries per bulk transaction
START = datetime(2024, 1, 1, tzinfo=UTC)  # after every act of the built-in world
READERS = (
    ("jpn-analyst", ("kor-kn25-1031", "kor-slbm-1002", "kor-kn25-0824")),
    ("kor-analyst", ("jpn-radar-1128", "kor-cyber-eve")),
    ("usa-analyst", ("kor-nuclear-test-0909",)),
    ("jpn-junior", ("kor-kn25-1128",)),
)


class Failed(Exception):
    """A check of the benchmark itself failed: its figures would mean nothing."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


@dataclass
class Figure:
    part: str
    measure: str
    count: int  # operations timed
    seconds: float
    unit: str = "entries"
    floor: str | None = None  # the measure this one is compared with
    x_floor: float | None = None
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "measure": self.measure,
            "count": self.count,
            "unit": self.unit,
            "seconds": round(self.seconds, 6),
            "per_second": float(f"{self.per_second:.4g}")
            if self.per_second < 1000
            else round(self.per_second),
            "mean_us": round(self.seconds / self.count * 1e6, 2) if self.count else None,
            "floor": self.floor,
            "x_floor": None if self.x_floor is None else round(self.x_floor, 2),
            "note": self.note,
        }


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the seconds spent."""
    spent: list[float] = []
    gc.collect()
    start = time.perf_counter()
    try:
        yield spent
    finally:
        spent.append(time.perf_counter() - start)


def new_exchange(path: Path, master: MasterKey, world: bool = True) -> Exchange:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    exchange = Exchange.open(f"sqlite:///{path}", master=lambda: master)
    exchange.init_keys()
    if world:
        apply_scenario(exchange, load_scenario(BUILTIN), strict=True)
    return exchange


def entry_count(exchange: Exchange) -> int:
    with exchange.store.transaction() as tx:
        return tx.entry_count()


# --- (a) appends -----------------------------------------------------------------------------


def appends(
    directory: Path, master: MasterKey, singles: int, batch: int, batches: int
) -> list[Figure]:
    exchange = new_exchange(directory / "appends.db", master)
    at = START
    figures = []
    try:
        before = entry_count(exchange)
        with timer() as t:
            for n in range(singles):
                exchange.add_topic(f"single-{n}")
        figures.append(Figure("a", "add_topic, 1 entry per transaction", singles, t[0]))
        user, items = READERS[0]
        with timer() as t:
            for n in range(singles):
                exchange.read(ReadRequest(user, items[n % len(items)]), at)
        figures.append(
            Figure("a", "read (decrypt + verify), 1 entry per transaction", singles, t[0])
        )
        with timer() as t:
            for b in range(batches):
                with exchange.batch():
                    for n in range(batch):
                        exchange.add_topic(f"batch-{b}-{n}")
        figures.append(
            Figure("a", f"add_topic, {batch:,} entries per transaction", batch * batches, t[0])
        )
        with timer() as t:
            for _ in range(batches):
                with exchange.batch():
                    for n in range(batch):
                        exchange.read(ReadRequest(user, items[n % len(items)]), at)
        figures.append(
            Figure(
                "a",
                f"read (decrypt + verify), {batch:,} entries per transaction",
                batch * batches,
                t[0],
            )
        )
        check(
            entry_count(exchange) == before + 2 * singles + 2 * batch * batches,
            "appends: not one entry per act and per read",
        )
        exchange.audit_verify()
    finally:
        exchange.store.close()
    return figures


# --- (b) a big log, and verifying it --------------------------------------------------------


def read_subject(n: int) -> dict[str, Any]:
    user, items = READERS[n % len(READERS)]
    chosen = items[: 1 + n % len(items)]
    allowed = user != "jpn-junior"
    return {
        "user": user,
        "items": [
            {
                "item": item,
                "allowed": allowed,
                "reasons": ["read-allowed"] if allowed else ["clearance-too-low"],
            }
            for item in chosen
        ],
    }


def build_log(exchange: Exchange, total: int) -> float:
    """Entries appended until the log holds ``total``; returns the seconds spent. Each chunk
    is half topics added by ``add_topic`` in one ``exchange.batch()`` (a signed fact the replay
    must find in the store) and half reads, as ``read_many`` logs them, through
    ``journal.flush``."""
    start = time.perf_counter()
    n = entry_count(exchange)
    while n < total:
        size = min(total - n, CHUNK)
        with exchange.batch():
            for seq in range(n, n + size // 2):
                exchange.add_topic(f"bulk-{seq}")
        n = entry_count(exchange)
        with exchange.store.transaction() as tx:
            keyring = exchange.vault.keyring(tx, tx.revision())
            pending = journal.Pending()
            for seq in range(n, min(total, n + size - size // 2)):
                at = START + timedelta(seconds=seq)
                body = journal.entry_body("read", at, at, read_subject(seq), None, [])
                pending.bodies.append(body)
            n += len(pending.bodies)
            journal.flush(tx, pending, keyring)
            tx.bump_revision()
    return time.perf_counter() - start


def verify_parts(exchange: Exchange, figures: list[Figure], floor: Figure) -> dict[str, Any]:
    """``auditor.verify`` split into the steps it takes, each timed on its own (the entries read
    a chunk at a time as verify reads them)."""
    parts: dict[str, float] = {}
    with exchange.store.transaction() as tx:
        total = journal.load_frontier(tx).size
        chunks = []
        with timer() as t:
            start = 0
            while start < total:
                chunk = log_reads.entries_page(tx.conn, start, auditor.CHUNK)
                chunks.append(chunk)
                start += len(chunk)
        parts["reading entries (chunks of 10,000)"] = t[0]
        with timer() as t:
            start = 0
            for chunk in chunks:
                check(auditor._first_unhashed(start, chunk) is None, "an entry does not hash")
                start += len(chunk)
        parts["the cheap check: place and leaf hash of each entry"] = t[0]
        with timer() as t:
            walk = auditor._Walk(frozenset())
            for chunk in chunks:
                walk._grow([h for _, _, h in chunk])
        parts["frontier (nodes closed, roots)"] = t[0]
        with timer() as t:
            for chunk in chunks:
                log_reads.nodes_between(tx.conn, chunk[0][0] << 6, (chunk[-1][0] + 1) << 6)
        parts["reading the stored nodes"] = t[0]
        with timer() as t:
            for chunk in chunks:
                for seq, leaf, _ in chunk:
                    journal.decode_entry(leaf, seq)
        decode = t[0]
        with timer() as t:
            walk = auditor._Walk(frozenset())
            for chunk in chunks:
                for seq, leaf, _ in chunk:
                    walk._entry(seq, leaf)
        parts["JSON decode of each entry"] = decode
        parts["replay of the changes (decode + replay − decode)"] = max(t[0] - decode, 0.0)
        del chunks
        with timer() as t:
            rows = auditor._compare(tx, walk.replay, None)
        parts["comparing the store's rows"] = t[0]
        from accord.service.ledger import Ledger

        with timer() as t:
            Ledger().load(tx)  # every fact decoded and its signatures checked, cold
        world_load = t[0]
    for name, seconds in parts.items():
        figures.append(
            Figure(
                "b",
                f"– part: {name}",
                total,
                seconds,
                floor=floor.measure,
                x_floor=seconds / floor.seconds,
            )
        )
    figures.append(
        Figure(
            "b",
            "– for comparison: loading the world (neither verify does)",
            total,
            world_load,
            floor=floor.measure,
            x_floor=world_load / floor.seconds,
        )
    )
    return {"rows_explained": rows, "parts_seconds": round(sum(parts.values()), 3)}


def verification(
    directory: Path, master: MasterKey, total: int, proofs: int, seconds: float
) -> tuple[list[Figure], dict[str, Any]]:
    path = directory / "log.db"
    exchange = new_exchange(path, master)
    built = build_log(exchange, total)
    exchange.store.close()
    figures: list[Figure] = []
    info: dict[str, Any] = {
        "build_seconds": round(built, 1),
        "file_mb": round(path.stat().st_size / 2**20, 1),
    }

    exchange = Exchange.open(f"sqlite:///{path}", master=lambda: master)
    try:
        with exchange.store.transaction() as tx:
            leaves = [leaf for _, leaf, _ in tx.entries()]
        check(len(leaves) == total, f"the log holds {len(leaves)} entries, not {total}")
        info["leaf_bytes_mean"] = round(sum(map(len, leaves)) / len(leaves), 1)
        sha256 = hashlib.sha256
        with timer() as t:
            for leaf in leaves:
                sha256(leaf).digest()
        floor = Figure(
            "b",
            "floor: SHA-256 of each stored leaf (in memory)",
            total,
            t[0],
            floor="itself",
            x_floor=1.0,
        )
        del leaves
        figures.append(floor)

        with timer() as t, exchange.store.transaction() as tx:
            report = auditor.verify(tx)
        check(report.entries == total, "verify did not cover every entry")
        figures.append(
            Figure(
                "b",
                "auditor.verify (the log, checkpoints, replay)",
                total,
                t[0],
                floor=floor.measure,
                x_floor=t[0] / floor.seconds,
            )
        )
        with timer() as t:
            whole = (
                exchange.audit_verify()
            )  # a fresh exchange: loads the world first, as the CLI does
        check(whole.root == report.root, "two verifies disagree on the root")
        figures.append(
            Figure(
                "b",
                "Exchange.audit_verify (= accord audit verify)",
                total,
                t[0],
                floor=floor.measure,
                x_floor=t[0] / floor.seconds,
            )
        )
        info.update(verify_parts(exchange, figures, floor))
        info["root"] = report.root.hex()

        # (c) inclusion proofs through the service, and their offline check
        key = exchange.verifier_key()
        rng = random.Random(9162)
        docs = []
        spent = []
        deadline = time.perf_counter() + seconds
        while len(docs) < proofs and (len(docs) < 2 or time.perf_counter() < deadline):
            seq = rng.randrange(total)
            start = time.perf_counter()
            docs.append(exchange.audit_prove(seq))
            spent.append(time.perf_counter() - start)
        figures.append(
            Figure(
                "c",
                "audit_prove (a transaction per call: the head, then every hash in one statement)",
                len(docs),
                sum(spent),
                unit="proofs",
                note=f"p50 {statistics.median(spent) * 1e6:.0f} µs",
            )
        )
        batch = [rng.randrange(total) for _ in range(proofs)]
        with timer() as t:
            many = exchange.audit_prove_many(batch)
        check([d["index"] for d in many] == batch, "a batch of proofs is not the one asked for")
        figures.append(
            Figure(
                "c",
                "audit_prove_many (one transaction, one statement for every hash they need)",
                len(many),
                t[0],
                unit="proofs",
            )
        )
        docs += many[: len(docs)]
        with timer() as t:
            for doc in docs:
                check_lines = auditor.check_proof(doc, key)
                check(
                    check_lines[-1] == "tree: checkpoint signed by accord-exchange",
                    "a proof did not check",
                )
        figures.append(
            Figure(
                "c",
                "check_proof (inclusion + checkpoint signature)",
                len(docs),
                t[0],
                unit="proofs",
            )
        )
    finally:
        exchange.store.close()
    return figures, info


# --- (d) add_item beside raw AES-GCM + Ed25519 ------------------------------------------------


def items_for(texts: list[bytes], prefix: str, start: datetime) -> list[Item]:
    return [
        Item(
            f"{prefix}-{n}",
            "KOR",
            "군사II급비밀",
            frozenset({"nk-missile"}),
            frozenset({"JPN", "USA"}),
            start + timedelta(seconds=n),
            f"Report {n}",
            text.decode("utf-8", "replace"),
        )
        for n, text in enumerate(texts)
    ]


def item_cost(
    directory: Path, master: MasterKey, count: int
) -> tuple[list[Figure], dict[str, Any]]:
    texts, source = contents(count)
    exchange = new_exchange(directory / "items.db", master)
    figures = []
    try:
        # the floor first: one AES-256-GCM encryption of the payload, one Ed25519 signature of a
        # message as long as the one accord signs
        sample = items_for(texts[:1], "probe", START)[0]
        fields = {**binding(sample), "payload_sha256": "0" * 64}
        message = b"accord item signature v1\n" + canonical_json(fields)
        aead, signer = AESGCM(AESGCM.generate_key(256)), Ed25519PrivateKey.generate()
        payloads = [payload_of(item) for item in items_for(texts, "floor", START)]
        with timer() as t:
            for payload in payloads:
                nonce = os.urandom(12)
                aead.encrypt(nonce, payload, b"aad")
                signer.sign(message)
        floor = Figure(
            "d",
            "floor: AESGCM encrypt + Ed25519 sign",
            count,
            t[0],
            unit="items",
            floor="itself",
            x_floor=1.0,
        )
        figures.append(floor)

        sealed = items_for(texts, "sealed", START)
        spent: list[float] = []
        try:
            with exchange.store.transaction() as tx:  # Vault.seal alone, then rolled back
                keyring = exchange.vault.keyring(tx, tx.revision())
                with timer() as t:
                    for item in sealed:
                        own = Holding(item.id, "KOR", item.level, "KOR", item.level, item.created)
                        exchange.vault.seal(tx, keyring, item, own)
                spent = t
                raise _RolledBack
        except _RolledBack:
            pass
        figures.append(
            Figure(
                "d",
                "Vault.seal (payload, encrypt, sign, wrap, 2 inserts)",
                count,
                spent[0],
                unit="items",
                floor=floor.measure,
                x_floor=spent[0] / floor.seconds,
            )
        )

        singles = items_for(texts, "single", START)
        with timer() as t:
            for item in singles:
                exchange.add_item(item)
        figures.append(
            Figure(
                "d",
                "add_item, 1 per transaction (+ entry, checkpoint, commit)",
                count,
                t[0],
                unit="items",
                floor=floor.measure,
                x_floor=t[0] / floor.seconds,
            )
        )
        batched = items_for(texts, "batched", START + timedelta(days=1))
        with timer() as t, exchange.batch():
            for item in batched:
                exchange.add_item(item)
        figures.append(
            Figure(
                "d",
                f"add_item, {count:,} in one batch",
                count,
                t[0],
                unit="items",
                floor=floor.measure,
                x_floor=t[0] / floor.seconds,
            )
        )
        read = exchange.read(ReadRequest("kor-analyst", batched[-1].id), START + timedelta(days=2))
        check(
            read.item is not None and read.item.content == batched[-1].content,
            "an added item does not read back",
        )
        exchange.audit_verify()
    finally:
        exchange.store.close()
    return figures, {"item_source": source, "payload_bytes": len(payloads[0])}


class _RolledBack(Exception):
    """Ends a transaction whose writes were only there to be timed."""


# --- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    master = MasterKey.generate()
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        directory = Path(scratch)
        figures = appends(directory, master, args.appends, args.batch, args.batches)
        logged, info = verification(directory, master, args.entries, args.proofs, args.seconds)
        figures += logged
        costs, item_info = item_cost(directory, master, args.items)
        figures += costs
    return {
        "python": platform.python_version(),
        "cryptography": version("cryptography"),
        "sqlalchemy": version("sqlalchemy"),
        "sqlite": __import__("sqlite3").sqlite_version,
        "entries": args.entries,
        **info,
        **item_info,
        "figures": [f.as_dict() for f in figures],
        "seconds": round(time.perf_counter() - started, 1),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "| part | measure | count | seconds | per second | mean | × floor |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for f in result["figures"]:
        mean = f["mean_us"]
        shown = (
            f"{mean / 1e6:.2f} s"
            if mean >= 1e6
            else f"{mean / 1e3:.2f} ms"
            if mean >= 1e3
            else f"{mean:.1f} µs"
        )
        ratio = "" if f["x_floor"] is None else f"{f['x_floor']:.2f}"
        rate = f["count"] / f["seconds"] if f["seconds"] else float("inf")
        per = f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}"
        lines.append(
            f"| {f['part']} | {f['measure']} | {f['count']:,} {f['unit']} | {f['seconds']:.3f}"
            f" | {per} | {shown} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--entries", type=int, default=1_000_000, help="log size for verify and proofs"
    )
    parser.add_argument(
        "--appends", type=int, default=2_000, help="one-entry transactions of each kind"
    )
    parser.add_argument("--batch", type=int, default=1_000, help="entries per batched transaction")
    parser.add_argument("--batches", type=int, default=3, help="batched transactions of each kind")
    parser.add_argument("--items", type=int, default=500, help="items added (1 KiB each), per way")
    parser.add_argument("--proofs", type=int, default=20_000, help="most audit_prove calls")
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="time cap for audit_prove calls"
    )
    parser.add_argument(
        "--dir", default=None, help="where the SQLite files go (default: a temp dir)"
    )
    parser.add_argument(
        "--json", nargs="?", const="-", metavar="PATH", help="figures as JSON (stdout, or PATH)"
    )
    args = parser.parse_args(argv)
    if (
        args.entries < 100
        or min(args.appends, args.batch, args.batches, args.items, args.proofs) < 1
    ):
        parser.error("--entries at least 100; the counts at least 1")
    try:
        result = run(args)
    except Failed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(table(result))
    print()
    rows = {f["measure"]: f for f in result["figures"]}
    verify = rows["Exchange.audit_verify (= accord audit verify)"]
    core = rows["auditor.verify (the log, checkpoints, replay)"]
    print(
        f"{args.entries:,} entries (mean leaf {result['leaf_bytes_mean']} bytes, file {result['file_mb']} MB,"
        f" built in {result['build_seconds']} s); audit verify ×{verify['x_floor']} of the SHA-256 floor"
        f" (auditor.verify alone ×{core['x_floor']}, its parts timed apart {result['parts_seconds']} s);"
        f" total {result['seconds']} s"
    )
    if args.json:
        save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
