"""TAXII 2.1 workloads, accord beside medallion 3.0.0 (memory backend, its own Flask server), in
one run on the same machine.

    .venv/bin/python -m bench.taxii          # ingest at 1k, 10k, 100k; paged read at 10k
    .venv/bin/python -m bench.taxii --medallion-budget 600   # let medallion run longer
    .venv/bin/python -m bench.taxii --skip-medallion --sizes 1000,10000

Every size is ingested from empty into a fresh server, accord and medallion alike; each
medallion step (an ingest, the paged read) stops after ``--medallion-budget`` seconds and the
table says how many objects it had stored by then.

Each server runs in its own process on 127.0.0.1; the client is one keep-alive httpx client.
accord enforces its read decision on every object and stores durably in SQLite; medallion does
neither. medallion is installed into ``~/.cache/accord-bench/medallion-venv`` (created on first
use; outside the repository, whose files the tests read) so its pins never touch ours. Nothing
is extrapolated: every figure says at which size it was measured. This is a benchmark, not a
test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
MEDALLION_VENV = Path.home() / ".cache" / "accord-bench" / "medallion-venv"
TAXII = "application/taxii+json;version=2.1"
KOR_LEVEL = "군사II급비밀"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, headers: dict[str, str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


# --- the accord server (child process) ------------------------------------------------------


def serve_accord(folder: Path, port: int) -> None:
    """Child: the built-in 2019 world in a SQLite file, a token for kor-analyst, uvicorn."""
    import uvicorn

    from accord.api import ApiSettings, create_app
    from accord.model.time import Duration
    from accord.scenario import builtin_scenario_path, load_scenario
    from accord.service import Exchange
    from accord.service.credentials import Credentials
    from accord.service.scenarios import apply_scenario

    url = f"sqlite:///{folder / 'accord.db'}"
    try:
        from accord.service import MasterKey

        key = MasterKey.generate()
        exchange = Exchange.open(url, master=lambda: key)
        exchange.init_keys()
    except ImportError:
        exchange = Exchange.open(url)
    apply_scenario(exchange, load_scenario(builtin_scenario_path()), strict=True)
    token = Credentials(exchange).issue("kor-analyst", Duration.parse("P1D", "expires")).token
    (folder / "token").write_text(token, encoding="utf-8")
    app = create_app(ApiSettings(url, max_content_length=64 * 1024 * 1024), exchange)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def accord_server(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    from accord.api.context import HOLDINGS, collection_id

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.taxii", "--serve-accord", str(folder), str(port)],
        cwd=HERE.parent,
    )
    try:
        deadline = time.monotonic() + 60
        while not (folder / "token").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("accord did not start")
            time.sleep(0.1)
        headers = {
            "Authorization": f"Bearer {(folder / 'token').read_text(encoding='utf-8')}",
            "Accept": TAXII,
        }
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/taxii2/", headers)
        yield f"{base}/taxii2/KOR/collections/{collection_id(HOLDINGS, 'KOR')}/", headers
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- medallion (child process, its own venv) ------------------------------------------------


def medallion_python() -> Path:
    python = MEDALLION_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {MEDALLION_VENV} with medallion 3.0.0 …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(MEDALLION_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "medallion==3.0.0"], check=True)
    return python


@contextmanager
def medallion_server(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    python = medallion_python()
    port = _free_port()
    collection = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
    data = {
        "/discovery": {
            "title": "bench",
            "default": f"http://127.0.0.1:{port}/bench/",
            "api_roots": [f"http://127.0.0.1:{port}/bench/"],
        },
        "bench": {
            "information": {
                "title": "bench",
                "versions": [TAXII],
                "max_content_length": 64 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (folder / "medallion-data.json").write_text(json.dumps(data), encoding="utf-8")
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / "medallion-data.json"),
        },
        "users": {"bench": "bench-password"},
        "taxii": {"max_page_size": 100},
    }
    (folder / "medallion.json").write_text(json.dumps(config), encoding="utf-8")
    proc = subprocess.Popen(
        [
            str(python.parent / "medallion"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            str(folder / "medallion.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "medallion.log").open("wb"),
    )
    try:
        headers = {"Accept": TAXII, "Authorization": "Basic YmVuY2g6YmVuY2gtcGFzc3dvcmQ="}
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/taxii2/", headers)
        yield f"{base}/bench/collections/{collection}/", headers
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- workloads -------------------------------------------------------------------------------


def indicators(n: int, accord: bool) -> list[dict[str, Any]]:
    from accord.api.markings import EXTENSION_ID, classification_id, releasable_id

    found = []
    for k in range(n):
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "name": f"bench indicator {k}",
            "pattern": f"[ipv4-addr:value = '10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}']",
            "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z",
        }
        if accord:
            obj["object_marking_refs"] = [
                classification_id("KOR", KOR_LEVEL),
                releasable_id("JPN"),
                releasable_id("USA"),
            ]
            obj["extensions"] = {
                EXTENSION_ID: {"extension_type": "property-extension", "topics": ["nk-missile"]}
            }
        found.append(obj)
    return found


def ingest(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    objs: list[dict[str, Any]],
    size: int,
    budget: float | None = None,
) -> dict[str, Any]:
    """POST ``objs`` in envelopes of ``size``; with a ``budget`` (seconds), stop after the first
    envelope that ends past it and report what was stored by then."""
    post = {**headers, "Content-Type": TAXII}
    latencies = []
    sent = 0
    start = time.perf_counter()
    for i in range(0, len(objs), size):
        if budget is not None and sent and time.perf_counter() - start > budget:
            break
        body = json.dumps({"objects": objs[i : i + size]}).encode("utf-8")
        t = time.perf_counter()
        r = client.post(f"{url}objects/", content=body, headers=post)
        latencies.append(time.perf_counter() - t)
        if r.status_code != 202:
            raise RuntimeError(f"POST answered {r.status_code}: {r.text[:300]}")
        sent += len(objs[i : i + size])
    elapsed = time.perf_counter() - start
    return {
        "objects": sent,
        "of": len(objs),
        "seconds": elapsed,
        "objects_per_s": sent / elapsed,
        "first_post_ms": latencies[0] * 1e3,
        "last_post_ms": latencies[-1] * 1e3,
    }


def paged_read(
    client: httpx.Client, url: str, headers: dict[str, str], limit: int = 100, budget: float = 900
) -> dict[str, Any]:
    """Every page in turn until the last or past ``budget`` seconds; a page that takes longer
    than the budget itself is abandoned (``timed_out``)."""
    query = f"?match[type]=indicator&limit={limit}"
    got, pages, first, timed_out = 0, [], None, False
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        try:
            r = client.get(f"{url}objects/{query}", headers=headers, timeout=budget)
        except httpx.TimeoutException:
            timed_out = True
            break
        pages.append(time.perf_counter() - t)
        first = first if first is not None else pages[-1]
        body = r.json()
        got += len(body.get("objects", []))
        if not body.get("more") or time.perf_counter() - start > budget:
            break
        query = f"?match[type]=indicator&limit={limit}&next={body['next']}"
    elapsed = time.perf_counter() - start
    return {
        "objects": got,
        "seconds": elapsed,
        "objects_per_s": got / elapsed,
        "first_page_ms": (first or 0) * 1e3,
        "page_p50_ms": statistics.median(pages) * 1e3 if pages else None,
        "timed_out": timed_out,
        "budget_s": budget,
    }


def single_gets(
    client: httpx.Client, url: str, headers: dict[str, str], ids: list[str], n: int
) -> dict[str, Any]:
    latencies = []
    for k in range(n):
        oid = ids[(k * 7919) % len(ids)]
        t = time.perf_counter()
        r = client.get(f"{url}objects/{oid}/", headers=headers)
        latencies.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise RuntimeError(f"GET answered {r.status_code}")
    latencies.sort()
    return {
        "requests": n,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        "req_per_s": n / sum(latencies),
    }


def page_cost(client: httpx.Client, url: str, headers: dict[str, str], pages: int = 20) -> float:
    """Median ms per page (limit 100, type filter) over ``pages`` consecutive pages."""
    query, costs = "?match[type]=indicator&limit=100", []
    for _ in range(pages):
        t = time.perf_counter()
        body = client.get(f"{url}objects/{query}", headers=headers).json()
        costs.append(time.perf_counter() - t)
        if not body.get("more"):
            break
        query = f"?match[type]=indicator&limit=100&next={body['next']}"
    return statistics.median(costs) * 1e3


def _sizes(args: argparse.Namespace) -> list[int]:
    return sorted(int(s) for s in args.sizes.split(","))


def run_accord(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Per size: a fresh server and store, the ingest from empty, the per-page cost; at
    ``--objects`` also the paged read of everything and single-object GETs."""
    out: dict[str, Any] = {"ingest": {}, "page_cost_ms": {}}
    for size in _sizes(args):
        (folder / str(size)).mkdir()
        with (
            accord_server(folder / str(size)) as (url, headers),
            httpx.Client(timeout=300) as client,
        ):
            objs = indicators(size, accord=True)
            out["ingest"][size] = ingest(client, url, headers, objs, args.envelope)
            out["page_cost_ms"][size] = page_cost(client, url, headers)
            if size == args.objects:
                out["paged_read"] = paged_read(client, url, headers)
                ids = [o["id"] for o in objs]
                out["single_get"] = single_gets(client, url, headers, ids, args.gets)
    return out


def run_medallion(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """As accord, each size from empty in a fresh server, each step bounded by
    ``--medallion-budget`` seconds (what was measured by then is reported)."""
    out: dict[str, Any] = {"ingest": {}}
    budget = args.medallion_budget
    for size in _sizes(args):
        (folder / str(size)).mkdir()
        with (
            medallion_server(folder / str(size)) as (url, headers),
            httpx.Client(timeout=1200) as client,
        ):
            objs = indicators(size, accord=False)
            out["ingest"][size] = got = ingest(client, url, headers, objs, args.envelope, budget)
            if size == args.objects:
                out["paged_read"] = paged_read(client, url, headers, budget=budget)
                ids = [o["id"] for o in objs[: got["objects"]]]
                out["single_get"] = single_gets(client, url, headers, ids, args.medallion_gets)
    return out


def table(
    accord: dict[str, Any], medallion: dict[str, Any] | None, args: argparse.Namespace
) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:,.1f}×" if b else "-"

    m = medallion or {}
    rows = ["| workload | accord | medallion 3.0.0 | ratio |", "|---|---:|---:|---:|"]
    for size, ai in accord["ingest"].items():
        mi = m.get("ingest", {}).get(size)
        bounded = (
            f" (stopped at {args.medallion_budget:.0f} s)" if mi and mi["objects"] < size else ""
        )
        rows.append(
            f"| ingest {size:,} objects from empty, envelopes of {args.envelope} | "
            f"{ai['objects_per_s']:,.0f} obj/s ({ai['seconds']:.1f} s; POST "
            f"{ai['first_post_ms']:.0f}→{ai['last_post_ms']:.0f} ms) | "
            + (
                f"{mi['objects_per_s']:,.0f} obj/s ({mi['objects']:,} objects in "
                f"{mi['seconds']:.1f} s{bounded}; POST {mi['first_post_ms']:.0f}→"
                f"{mi['last_post_ms']:.0f} ms) | {ratio(ai['objects_per_s'], mi['objects_per_s'])} |"
                if mi
                else "not run | - |"
            )
        )
    ai = accord["ingest"][args.objects]
    mi = m.get("ingest", {}).get(args.objects)
    ap, mp = accord["paged_read"], m.get("paged_read")
    if mp and not mp["objects"]:  # its first page alone outlasted the budget
        rows.append(
            f"| paged GET, type filter, limit 100 | {ap['objects']:,} objects in "
            f"{ap['seconds']:.2f} s ({ap['objects_per_s']:,.0f} obj/s) | no page within "
            f"{mp['budget_s']:.0f} s | not measured (its first page outlasted accord's whole read) |"
        )
    else:
        rows.append(
            f"| paged GET, type filter, limit 100 | {ap['objects']:,} objects in {ap['seconds']:.2f} s "
            f"({ap['objects_per_s']:,.0f} obj/s; first page {ap['first_page_ms']:.1f} ms) | "
            + (
                f"{mp['objects']:,} objects in {mp['seconds']:.2f} s ({mp['objects_per_s']:,.0f} obj/s; "
                f"first page {mp['first_page_ms']:.0f} ms) | {ratio(ap['objects_per_s'], mp['objects_per_s'])} |"
                if mp
                else "not run | - |"
            )
        )
    ag, mg = accord["single_get"], m.get("single_get")
    rows.append(
        f"| single-object GET, keep-alive | {ag['requests']:,} GETs at {ai['objects']:,} objects: p50 "
        f"{ag['p50_ms']:.2f} ms, p99 {ag['p99_ms']:.2f} ms | "
        + (
            f"{mg['requests']:,} GETs at {mi['objects']:,} objects: p50 {mg['p50_ms']:.1f} ms, "
            f"p99 {mg['p99_ms']:.1f} ms | p50 {ratio(mg['p50_ms'], ag['p50_ms'])}, p99 "
            f"{ratio(mg['p99_ms'], ag['p99_ms'])} |"
            if mg and mi
            else "not run | - |"
        )
    )
    costs = ", ".join(f"{size:,}: {ms:.2f} ms" for size, ms in accord["page_cost_ms"].items())
    rows.append(
        f"| accord per-page cost (median of 20 pages) by collection size | {costs} | - | - |"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="ingest sizes, each from empty"
    )
    parser.add_argument(
        "--objects", type=int, default=10_000, help="the size of the paged read and GETs"
    )
    parser.add_argument(
        "--medallion-budget", type=float, default=120, help="seconds per medallion step (120)"
    )
    parser.add_argument("--envelope", type=int, default=100)
    parser.add_argument("--gets", type=int, default=2_000)
    parser.add_argument("--medallion-gets", type=int, default=2_000)
    parser.add_argument("--skip-medallion", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--serve-accord", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.objects not in _sizes(args):
        parser.error("--objects must be one of --sizes")
    if args.serve_accord:
        serve_accord(Path(args.serve_accord[0]), int(args.serve_accord[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "accord").mkdir()
        (folder / "medallion").mkdir()
        accord = run_accord(args, folder / "accord")
        if args.json:  # kept even if medallion's part is stopped
            args.json.write_text(json.dumps({"accord": accord}, indent=2), encoding="utf-8")
        medallion = None if args.skip_medallion else run_medallion(args, folder / "medallion")
    print(table(accord, medallion, args))
    if args.json:
        args.json.write_text(
            json.dumps({"accord": accord, "medallion": medallion}, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
