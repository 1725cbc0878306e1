"""The server under load: single-object GETs at 10,000 objects from 200 concurrent connections,
alone and beside 20 connections sending bad tokens, with the framework's ceiling (a trivial
Starlette route in the same server) and medallion 3.0.0 in the same run.

    .venv/bin/python -m bench.load                         # defaults: 10,000 objects, 15 s runs
    .venv/bin/python -m bench.load --seconds 10 --skip-medallion
    .venv/bin/python -m bench.load --json load.json
    .venv/bin/python -m bench.load --rounds 3             # (alone, beside the flood) three times
    .venv/bin/python -m bench.load --grouping both        # group commit off, then on, one run

The load comes from ``wrk`` (``apt-get install wrk``), a separate process; each run is bounded in
time (``--seconds``) and each request in its own timeout. The accord server runs in its own
process: uvicorn with accord's connection limits (``accord.api.server``), a SQLite file, every
GET decided by the read rule and logged in the audit log (the bench counts the entries). The
ceiling route answers a constant from the same uvicorn, so the ratio says what the framework
leaves. The legitimate GETs run alone and then beside the bad-token flood ``--rounds`` times in
turn (default 2), so the shared machine's drift touches both. medallion is set up by ``bench.taxii`` (its own venv and Flask server). This is a
benchmark, not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.results import save_json
from bench.taxii import TAXII, _free_port, _wait, indicators, ingest, medallion_server

HERE = Path(__file__).resolve().parent


# --- the accord server (child process) ------------------------------------------------------


def serve(folder: Path, port: int, group_max: int, group_wait: float) -> None:
    """Child: the built-in 2019 world in a SQLite file, a token, the ceiling route, uvicorn."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    from accord.api import ApiSettings, create_app
    from accord.api.server import config
    from accord.model.time import Duration
    from accord.scenario import builtin_scenario_path, load_scenario
    from accord.service import Exchange, MasterKey
    from accord.service.credentials import Credentials
    from accord.service.scenarios import apply_scenario

    url = f"sqlite:///{folder / 'accord.db'}"
    key = MasterKey.generate()
    exchange = Exchange.open(url, master=lambda: key)
    exchange.init_keys()
    apply_scenario(exchange, load_scenario(builtin_scenario_path()), strict=True)
    settings = ApiSettings(
        url, max_content_length=64 * 1024 * 1024, group_max=group_max, group_wait=group_wait
    )
    credentials = Credentials(exchange, cache_limit=settings.token_cache)
    token = credentials.issue("kor-analyst", Duration.parse("P1D", "expires")).token
    accord = create_app(settings, exchange, credentials)

    async def ceiling(request: Request) -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    app = Starlette(routes=[Route("/ceiling", ceiling), Mount("/", accord)])
    (folder / "token").write_text(token, encoding="utf-8")
    uvicorn.Server(config(app, settings, "127.0.0.1", port, access_log=False)).run()


@contextmanager
def accord_server(
    folder: Path, group_max: int, group_wait: float
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(base URL, KOR holdings collection URL, headers) of a child accord server."""
    from accord.api.context import HOLDINGS, collection_id

    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--serve",
            str(folder),
            str(port),
            str(group_max),
            str(group_wait),
        ],
        cwd=HERE.parent,
    )
    try:
        deadline = time.monotonic() + 60
        while not (folder / "token").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("accord did not start")
            time.sleep(0.1)
        token = (folder / "token").read_text(encoding="utf-8")
        headers = {"Authorization": f"Bearer {token}", "Accept": TAXII}
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/taxii2/", headers)
        yield base, f"{base}/taxii2/KOR/collections/{collection_id(HOLDINGS, 'KOR')}/", headers
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- wrk --------------------------------------------------------------------------------------

_LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n * 7919) %% #paths + 1], %(headers)s)
end
"""


def _lua(folder: Path, name: str, paths: list[str], headers: dict[str, str]) -> Path:
    listing = folder / f"{name}.paths"
    listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
    table = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    script = folder / f"{name}.lua"
    script.write_text(_LUA % {"paths": listing, "headers": table}, encoding="utf-8")
    return script


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def parse_wrk(text: str) -> dict[str, Any]:
    """Requests/s, p50/p90/p99 and error counts from ``wrk --latency`` output."""
    found: dict[str, Any] = {}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    found["req_per_s"] = float(rate.group(1)) if rate else 0.0
    total = re.search(r"(\d+) requests in", text)
    found["requests"] = int(total.group(1)) if total else 0
    for pct, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        found[f"p{pct}_ms"] = _ms(value, unit)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    found["non_2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    found["socket_errors"] = sum(int(g) for g in errors.groups()) if errors else 0
    return found


def wrk(
    url: str, connections: int, seconds: float, script: Path | None = None, threads: int = 2
) -> subprocess.Popen[str]:
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s"]
    command += ["--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    return subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)


def run_wrk(
    url: str, connections: int, seconds: float, script: Path | None = None
) -> dict[str, Any]:
    proc = wrk(url, connections, seconds, script)
    out, _ = proc.communicate(timeout=seconds + 60)
    return parse_wrk(out)


def log_size(folder: Path) -> int:
    with sqlite3.connect(f"file:{folder / 'accord.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM audit_entries").fetchone()[0])


# --- runs --------------------------------------------------------------------------------------


def run_accord(args: argparse.Namespace, folder: Path, group_max: int) -> dict[str, Any]:
    with (
        accord_server(folder, group_max, args.group_wait / 1000) as (base, url, headers),
        httpx.Client(timeout=600) as client,
    ):
        objs = indicators(args.objects, accord=True)
        loaded = ingest(client, url, headers, objs, 500)
        prefix = url.removeprefix(base)
        paths = [f"{prefix}objects/{o['id']}/" for o in objs]
        good = _lua(folder, "good", paths, headers)
        bad_headers = {**headers, "Authorization": "Bearer 0123456789abcdef." + "A" * 43}
        bad = _lua(folder, "bad", paths, bad_headers)
        result: dict[str, Any] = {"objects": args.objects, "ingest": loaded, "group_max": group_max}
        result["ceiling"] = run_wrk(f"{base}/ceiling", args.connections, args.seconds)
        rounds = []
        for _ in range(args.rounds):  # alone, then beside the flood: drift touches both alike
            this: dict[str, Any] = {}
            before = log_size(folder)
            this["get"] = run_wrk(base, args.connections, args.seconds, good)
            this["get"]["log_entries"] = log_size(folder) - before
            before = log_size(folder)
            flood = wrk(base, args.flood, args.seconds, bad, threads=1)
            legit = run_wrk(base, args.connections, args.seconds, good)
            out, _ = flood.communicate(timeout=args.seconds + 60)
            legit["log_entries"] = log_size(folder) - before
            this["get_with_flood"] = legit
            this["flood"] = parse_wrk(out)
            rounds.append(this)
        result["rounds"] = rounds
        result.update(rounds[-1])  # the last round is the one the summary names
    return result


def run_medallion(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    with medallion_server(folder) as (url, headers), httpx.Client(timeout=1200) as client:
        objs = indicators(args.medallion_objects, accord=False)
        loaded = ingest(client, url, headers, objs, 100)
        prefix = "/" + url.split("/", 3)[3]
        paths = [f"{prefix}objects/{o['id']}/" for o in objs]
        script = _lua(folder, "medallion", paths, headers)
        base = url.split("/bench/")[0]
        get = run_wrk(base, args.connections, args.seconds, script)
    log = (folder / "medallion.log").read_text(encoding="utf-8", errors="replace").splitlines()
    errors = sorted({line.strip()[:120] for line in log if "Error" in line or " 50" in line})
    return {"objects": args.medallion_objects, "ingest": loaded, "get": get, "errors": errors[:5]}


def _row(name: str, r: dict[str, Any]) -> str:
    return (
        f"| {name} | {r.get('req_per_s', 0):,.0f} | {r.get('p50_ms', 0):.1f} ms "
        f"| {r.get('p99_ms', 0):.1f} ms | {r.get('requests', 0):,} | {r.get('non_2xx', 0):,} "
        f"| {r.get('socket_errors', 0):,} |"
    )


def report(result: dict[str, Any]) -> str:
    a = result["accord"]
    grouping = f"group commit of up to {a['group_max']}" if a["group_max"] > 1 else "no grouping"
    lines = [
        f"single-object GET at {a['objects']:,} objects, {result['connections']} connections, "
        f"{result['seconds']:g} s each (wrk), {grouping}",
        "",
        "| run | requests/s | p50 | p99 | requests | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _row("Starlette ceiling (same uvicorn)", a["ceiling"]),
    ]
    rounds = a.get("rounds", [a])
    for n, r in enumerate(rounds, 1):
        tag = f" (round {n})" if len(rounds) > 1 else ""
        lines += [
            _row(f"accord GET{tag}", r["get"]),
            _row(
                f"accord GET, beside {result['flood']} bad-token connections{tag}",
                r["get_with_flood"],
            ),
            _row(f"the bad-token connections{tag}", r["flood"]),
        ]
    if "medallion" in result:
        m = result["medallion"]
        lines.append(_row(f"medallion 3.0.0 GET at {m['objects']:,} objects", m["get"]))
    get = a["get"]
    lines += [
        "",
        f"accord ÷ ceiling: {get['req_per_s'] / max(a['ceiling']['req_per_s'], 1e-9):.3f}; "
        "p99 with the flood ÷ without: "
        + ", ".join(
            f"{r['get_with_flood'].get('p99_ms', 0) / max(r['get'].get('p99_ms', 0), 1e-9):.2f}"
            for r in rounds
        )
        + "; "
        f"log entries per answered GET: "
        f"{get['log_entries'] / max(get['requests'] - get['non_2xx'], 1):.3f}",
    ]
    if "medallion" in result:
        m = result["medallion"]["get"]
        lines.append(
            f"accord ÷ medallion, requests/s: {get['req_per_s'] / max(m['req_per_s'], 1e-9):.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--medallion-objects", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--flood", type=int, default=20, help="bad-token connections")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of (alone, beside the flood), in turn"
    )
    parser.add_argument("--skip-medallion", action="store_true")
    parser.add_argument("--group-max", type=int, default=64, help="group commit's most acts")
    parser.add_argument("--group-wait", type=float, default=2.0, help="its wait, ms")
    parser.add_argument(
        "--grouping",
        choices=["on", "off", "both"],
        default="both",
        help="group commit on, off (--group-max 0), or off then on in one run",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.serve:
        folder, port, group_max, group_wait = args.serve
        serve(Path(folder), int(port), int(group_max), float(group_wait))
        return 0
    if shutil.which("wrk") is None:
        print(
            "bench.load needs wrk, the HTTP load generator: the Debian/Ubuntu package is"
            " `wrk` (apt-get install -y wrk)",
            file=sys.stderr,
        )
        return 2
    result: dict[str, Any] = {
        "connections": args.connections,
        "flood": args.flood,
        "seconds": args.seconds,
    }
    settings = {"off": [0], "on": [args.group_max], "both": [0, args.group_max]}[args.grouping]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = []
        for group_max in settings:  # one after the other, in this one run
            here = folder / f"accord-{group_max}"
            here.mkdir()
            runs.append(run_accord(args, here, group_max))
        result["accord"] = runs[-1]
        result["accord_runs"] = runs
        if not args.skip_medallion:
            (folder / "medallion").mkdir()
            result["medallion"] = run_medallion(args, folder / "medallion")
    for run in runs:
        print(report({**result, "accord": run}))
        print()
    if args.json:
        save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
