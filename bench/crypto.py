"""Per-item protection cost: accord.crypto beside the raw floor of the same library, in one run.

    .venv/bin/python -m bench.crypto [--n 2000 --passes 5 --json [PATH]]

For 1 KiB items (slices of the public nagix/CNS North Korean missile test table in
``../shared/data``, or random bytes if it is missing): accord's protect path (``new_data_key`` +
``encrypt`` + ``wrap_for_self`` + ``sign_item`` over ten fields, one of them the SHA-256 of the
content) beside the floor (one AESGCM encrypt of the 1 KiB + one Ed25519 sign of a message as
long as the one ``sign_item`` signs); the read path (``unwrap`` + ``decrypt`` + content hash +
``verify_item``) beside AESGCM decrypt + Ed25519 verify; each part of the protect path alone;
HPKE wrap/unwrap beside the library's HPKE ``Suite`` called directly. See bench/README.md.

Exit status 1 if any path does not give back the content it protected. Nothing here is asserted
as a timing in a test.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accord.crypto import (
    PartyKeys,
    Signature,
    WrappedKey,
    canonical_json,
    decrypt,
    encrypt,
    item_message,
    new_data_key,
    sign_item,
    unwrap,
    verify_item,
    wrap_for,
    wrap_for_self,
)
from bench.results import save_json

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "nk_missile_tests"
    / "nagix_nk_missile_tests_1984-2024-04-01.csv"
)
ITEM_BYTES = 1024
CHUNK = 250  # calls between two looks at the clock
Call = Callable[..., Any]
WRITE = "accord protect (data key + encrypt + wrap_for_self + sign_item)"
WRITE_FLOOR = "floor: AESGCM encrypt 1 KiB + Ed25519 sign"
READ = "accord read (unwrap + decrypt + SHA-256 + verify_item)"
READ_FLOOR = "floor: AESGCM decrypt 1 KiB + Ed25519 verify"
WRAP = "accord wrap_for (HPKE to JPN)"
WRAP_FLOOR = "hpke.Suite.encrypt (library, direct)"
UNWRAP = "accord unwrap (HPKE, as JPN)"
UNWRAP_FLOOR = "hpke.Suite.decrypt (library, direct)"
CANONICAL = "canonical_json(fields) (rfc8785)"
CANONICAL_READ = "canonical_json(fields) (rfc8785), timed with the read path"
# each path and the floor it is measured against
FLOORS = {
    WRITE: WRITE_FLOOR,
    WRITE_FLOOR: WRITE_FLOOR,
    READ: READ_FLOOR,
    READ_FLOOR: READ_FLOOR,
    WRAP: WRAP_FLOOR,
    WRAP_FLOOR: WRAP_FLOOR,
    UNWRAP: UNWRAP_FLOOR,
    UNWRAP_FLOOR: UNWRAP_FLOOR,
}


class Mismatch(Exception):
    """A path did not give back what it protected."""


# --- the items ------------------------------------------------------------------------------


def contents(n: int) -> tuple[list[bytes], str]:
    """``n`` items of exactly 1 KiB: consecutive slices of the public CSV, wrapping around."""
    if DATA.exists():
        text = DATA.read_bytes()
        source = f"slices of {DATA.name}"
    else:
        text = os.urandom(ITEM_BYTES * 64)
        source = "random bytes (the public data set was not found)"
    out = []
    for i in range(n):
        start = (i * 997) % (len(text) - ITEM_BYTES)
        out.append(text[start : start + ITEM_BYTES])
    return out, source


def fields_of(item_id: str, content: bytes) -> dict[str, object]:
    """Eight metadata fields, the size and the SHA-256 of the content: what a holding's signature
    covers."""
    return {
        "item": item_id,
        "originator": "KOR",
        "holder": "KOR",
        "level": "군사II급비밀",
        "topics": ["nk-missile", "nk-nuclear"],
        "releasable_to": ["JPN", "USA"],
        "created": "2019-10-31T08:00:00Z",
        "key_version": 1,
        "size": len(content),
        "content_sha256": hashlib.sha256(content).hexdigest(),
    }


@dataclass
class Protected:
    item_id: str
    aad: bytes
    ciphertext: bytes
    wrapped: WrappedKey
    signature: Signature
    metadata: dict[str, object]  # the fields without the content hash


def protect(keys: PartyKeys, item_id: str, content: bytes) -> Protected:
    """accord's whole per-item cost on the write path."""
    aad = f"item {item_id} at {keys.owner}".encode()
    data_key = new_data_key()
    ciphertext = encrypt(data_key, content, aad)
    wrapped = wrap_for_self(keys, data_key, aad)
    fields = fields_of(item_id, content)
    signature = sign_item(keys, fields)
    del fields["content_sha256"]
    return Protected(item_id, aad, ciphertext, wrapped, signature, fields)


def read_back(keys: PartyKeys, p: Protected) -> bytes:
    """accord's whole per-item cost on the read path: the content, checked."""
    what = f"item {p.item_id} at {keys.owner}"
    data_key = unwrap(keys, p.wrapped, p.aad, what=what)
    content = decrypt(data_key, p.ciphertext, p.aad, what=what)
    fields = {**p.metadata, "content_sha256": hashlib.sha256(content).hexdigest()}
    verify_item(keys.public(), fields, p.signature, what=what)
    return content


def floor_protect(
    aead: AESGCM, signer: Ed25519PrivateKey, content: bytes, aad: bytes, message: bytes
) -> tuple[bytes, bytes]:
    """The floor: one AES-GCM encryption of the content, one Ed25519 signature."""
    nonce = os.urandom(12)
    return nonce + aead.encrypt(nonce, content, aad), signer.sign(message)


def floor_read(
    aead: AESGCM,
    public: Any,
    blob: bytes,
    aad: bytes,
    signature: bytes,
    message: bytes,
) -> bytes:
    content = aead.decrypt(blob[:12], blob[12:], aad)
    public.verify(signature, message)
    return content


# --- timing: the same loop for every path; paths compared take turns, pass by pass -------------


@dataclass
class Path_:
    group: str
    name: str
    fn: Call
    args: Sequence[tuple[Any, ...]]


@dataclass
class Figure:
    group: str
    name: str
    calls: int
    per_second: float
    p50_us: float
    p99_us: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "path": self.name,
            "calls": self.calls,
            "per_second": round(self.per_second, 1),
            "mean_us": round(1e6 / self.per_second, 2),
            "p50_us": round(self.p50_us, 2),
            "p99_us": round(self.p99_us, 2),
        }


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    paths: list[Path_], passes: int, seconds: float
) -> tuple[list[Figure], list[list[Any]]]:
    """Every call timed alone (``perf_counter_ns``), in ``passes`` passes; the paths of one
    comparison take turns pass by pass, so a change in the machine's load touches them alike.

    Per second is the median over passes of calls / time spent in the calls; p50/p99 are over
    every call of every pass. The results of the first pass are returned for checking.
    """
    clock = time.perf_counter_ns
    results: list[list[Any]] = [[] for _ in paths]
    spent: list[list[float]] = [[] for _ in paths]
    rates: list[list[float]] = [[] for _ in paths]
    budget_ns = seconds * 1e9 / (passes * len(paths))
    for number in range(passes):
        for n, path in enumerate(paths):
            fn, args, times = path.fn, path.args, spent[n]
            first = len(times)
            total = 0
            for offset in range(0, len(args), CHUNK):
                for a in args[offset : offset + CHUNK]:
                    t0 = clock()
                    result = fn(*a)
                    t1 = clock()
                    total += t1 - t0
                    times.append((t1 - t0) / 1000)
                    if number == 0:
                        results[n].append(result)
                if total > budget_ns:
                    break
            rates[n].append((len(times) - first) / (total / 1e9))
    figures = [
        Figure(
            p.group,
            p.name,
            len(spent[n]),
            statistics.median(rates[n]),
            percentile(spent[n], 0.5),
            percentile(spent[n], 0.99),
        )
        for n, p in enumerate(paths)
    ]
    return figures, results


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


# --- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    items, source = contents(args.n)
    ids = [f"report-{i:05d}" for i in range(args.n)]
    kor, jpn = PartyKeys.generate("KOR"), PartyKeys.generate("JPN")
    floor_aead = AESGCM(new_data_key())
    signer = kor.ed25519
    protected = [protect(kor, i, c) for i, c in zip(ids, items, strict=True)]
    messages = [
        item_message({**p.metadata, "content_sha256": hashlib.sha256(c).hexdigest()})
        for p, c in zip(protected, items, strict=True)
    ]
    floor_blobs = [
        floor_protect(floor_aead, signer, c, p.aad, m)
        for c, p, m in zip(items, protected, messages, strict=True)
    ]
    data_keys = [new_data_key() for _ in ids]
    fields = [fields_of(i, c) for i, c in zip(ids, items, strict=True)]
    hpke_wrapped = [
        wrap_for(jpn.public(), k, p.aad) for k, p in zip(data_keys, protected, strict=True)
    ]
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    jpn_public = jpn.public().x25519_key
    raw_hpke = [
        suite.encrypt(k, jpn_public, p.aad) for k, p in zip(data_keys, protected, strict=True)
    ]
    gc.collect()
    gc.freeze()

    write = [
        Path_(
            "write",
            WRITE,
            protect,
            [(kor, i, c) for i, c in zip(ids, items, strict=True)],
        ),
        Path_(
            "write",
            WRITE_FLOOR,
            floor_protect,
            [
                (floor_aead, signer, c, p.aad, m)
                for c, p, m in zip(items, protected, messages, strict=True)
            ],
        ),
    ]
    read = [
        Path_(
            "read",
            READ,
            read_back,
            [(kor, p) for p in protected],
        ),
        Path_(
            "read",
            READ_FLOOR,
            floor_read,
            [
                (floor_aead, kor.public().ed25519_key, b, p.aad, s, m)
                for (b, s), p, m in zip(floor_blobs, protected, messages, strict=True)
            ],
        ),
        Path_("read: part", CANONICAL_READ, canonical_json, [(f,) for f in fields]),
    ]
    parts = [
        Path_("write: part", "new_data_key", new_data_key, [() for _ in ids]),
        Path_(
            "write: part",
            "encrypt 1 KiB (AESGCM object per data key)",
            encrypt,
            [(k, c, p.aad) for k, c, p in zip(data_keys, items, protected, strict=True)],
        ),
        Path_(
            "write: part",
            "wrap_for_self",
            wrap_for_self,
            [(kor, k, p.aad) for k, p in zip(data_keys, protected, strict=True)],
        ),
        Path_(
            "write: part",
            "fields dict + SHA-256 of 1 KiB",
            fields_of,
            [(i, c) for i, c in zip(ids, items, strict=True)],
        ),
        Path_("write: part", CANONICAL, canonical_json, [(f,) for f in fields]),
        Path_(
            "write: part", "Ed25519 sign of the item message", signer.sign, [(m,) for m in messages]
        ),
    ]
    wraps = [
        Path_(
            "hpke",
            WRAP,
            wrap_for,
            [(jpn.public(), k, p.aad) for k, p in zip(data_keys, protected, strict=True)],
        ),
        Path_(
            "hpke",
            WRAP_FLOOR,
            suite.encrypt,
            [(k, jpn_public, p.aad) for k, p in zip(data_keys, protected, strict=True)],
        ),
        Path_(
            "hpke",
            UNWRAP,
            unwrap_as,
            [(jpn, w, p.aad) for w, p in zip(hpke_wrapped, protected, strict=True)],
        ),
        Path_(
            "hpke",
            UNWRAP_FLOOR,
            suite.decrypt,
            [(b, jpn.x25519, p.aad) for b, p in zip(raw_hpke, protected, strict=True)],
        ),
    ]
    figures: list[Figure] = []
    for group in (write + parts, read, wraps):
        measured, results = measure(group, args.passes, args.seconds)
        figures.extend(measured)
        if group[0].name == READ:
            check(results[0] == items, "accord's read path did not give back the content")
            check(results[1] == items, "the floor's read path did not give back the content")
        if group[0].name == WRAP:
            check(results[2] == data_keys, "HPKE unwrap did not give back the data key")
            check(results[3] == data_keys, "the library's HPKE did not give back the data key")
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {"cryptography": version("cryptography"), "rfc8785": version("rfc8785")},
        "arguments": {k: v for k, v in vars(args).items() if k != "json"},
        "items": {"count": args.n, "bytes": ITEM_BYTES, "source": source},
        "signed_message_bytes": round(statistics.mean(len(m) for m in messages), 1),
        "figures": [f.as_dict() for f in figures],
        "ratios": ratios(figures),
        "seconds": round(time.perf_counter() - started, 1),
    }


def unwrap_as(keys: PartyKeys, wrapped: WrappedKey, aad: bytes) -> bytes:
    return unwrap(keys, wrapped, aad, what="a benchmark item")


def ratios(figures: list[Figure]) -> dict[str, float]:
    """Time per item of accord over the floor (so 2.0 means accord costs twice the floor)."""
    us = {f.name: 1e6 / f.per_second for f in figures}
    write, read, canonical = us[WRITE], us[READ], us[CANONICAL]
    canonical_read = us[CANONICAL_READ]
    return {
        "write_vs_floor": round(write / us[WRITE_FLOOR], 2),
        "read_vs_floor": round(read / us[READ_FLOOR], 2),
        "wrap_vs_library_hpke": round(us[WRAP] / us[WRAP_FLOOR], 2),
        "unwrap_vs_library_hpke": round(us[UNWRAP] / us[UNWRAP_FLOOR], 2),
        "canonical_json_share_of_write": round(canonical / write, 3),
        "write_minus_canonical_json_vs_floor": round((write - canonical) / us[WRITE_FLOOR], 2),
        "read_minus_canonical_json_vs_floor": round((read - canonical_read) / us[READ_FLOOR], 2),
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        "| group | path | per second | mean | p50 | p99 | × floor |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    figures = result["figures"]
    mean = {f["path"]: f["mean_us"] for f in figures}
    for f in figures:
        floor = FLOORS.get(f["path"])
        ratio = f"{f['mean_us'] / mean[floor]:.2f}" if floor else "–"
        rows.append(
            f"| {f['group']} | {f['path']} | {f['per_second']:,.0f} | {f['mean_us']:.2f} µs |"
            f" {f['p50_us']:.2f} µs | {f['p99_us']:.2f} µs | {ratio} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="items (calls per pass), default 2000")
    parser.add_argument("--passes", type=int, default=5, help="timed passes per path")
    parser.add_argument("--seconds", type=float, default=6.0, help="time cap per group of paths")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the figures as JSON (- or no PATH: stdout)",
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.passes < 1:
        parser.error("--n and --passes must be at least 1")
    try:
        result = run(args)
    except Mismatch as error:
        print(f"MISMATCH: {error}", file=sys.stderr)
        return 1
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    r = result["ratios"]
    print(
        f"{args.n:,} items of {ITEM_BYTES} bytes ({result['items']['source']}); signed message"
        f" {result['signed_message_bytes']:.0f} bytes; cryptography"
        f" {result['versions']['cryptography']}, rfc8785 {result['versions']['rfc8785']},"
        f" Python {result['python']}"
    )
    print()
    print(table(result))
    print()
    print(
        f"accord/floor per item: write ×{r['write_vs_floor']}, read ×{r['read_vs_floor']};"
        f" canonical_json is {r['canonical_json_share_of_write']:.0%} of the write path"
        f" (without it: write ×{r['write_minus_canonical_json_vs_floor']},"
        f" read ×{r['read_minus_canonical_json_vs_floor']}); total {result['seconds']} s"
    )
    if args.json:
        save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
