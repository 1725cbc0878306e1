"""How fast the ``accord`` command answers, measured from process start.

Every command runs as a new process (``python -m accord ...``, as the console script does), a
bounded number of times (``--runs``, capped by ``--seconds`` per command), on a store loaded from
the built-in scenario. Beside them, in the same run: the interpreter's own start
(``python -c pass``), and a process that imports what every query imported before the imports
were made lazy (``accord.cli.main``, ``accord.service`` and what ``Exchange`` then imported at
once: the vault, the log and the auditor, with the crypto stack). ``-X importtime`` gives the
import cost of ``accord.cli.main`` and ``accord.service`` alone. Nothing here is a test: no
timing is asserted anywhere.

    .venv/bin/python -m bench.cli [--runs 15] [--seconds 20] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import save_json

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ROOT / "src" / "accord" / "scenario" / "builtin" / "gsomia-2019.yaml"
AT = "2019-11-23T00:00:01+09:00"


def environment(store: Path, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    return {**env, "ACCORD_DB": str(store), "ACCORD_MASTER_KEY": key, "COLUMNS": "100"}


def timed(
    argv: list[str], env: dict[str, str], runs: int, seconds: float
) -> tuple[list[float], list[float]]:
    """Wall-clock seconds of each run of ``argv`` (spawn to exit) and its CPU seconds (user +
    system, from the kernel's accounting of the finished child: less disturbed by other load on
    a shared machine than the wall clock)."""
    walls: list[float] = []
    cpus: list[float] = []
    deadline = time.monotonic() + seconds
    while len(walls) < runs and (not walls or time.monotonic() < deadline):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            argv,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=120,
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def import_time(module: str, env: dict[str, str]) -> float:
    """Cumulative import time of ``module`` in seconds, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    pattern = re.compile(rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}$")
    for line in done.stderr.splitlines():
        found = pattern.match(line)
        if found:
            return int(found.group(1)) / 1e6
    raise SystemExit(f"importtime printed no line for {module}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()

    from accord.service import MasterKey

    key = MasterKey.generate().text()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="accord-bench-cli-") as scratch:
        store = Path(scratch) / "demo.db"
        env = environment(store, key)
        accord = [sys.executable, "-m", "accord"]
        for step in (["keys", "init"], ["load", str(BUILTIN)]):
            subprocess.run([*accord, *step], env=env, check=True, capture_output=True, timeout=300)
        release = ["check", "release", "kor-missile-eve", "--from", "KOR", "--to", "JPN"]
        cases = {
            "python -c pass (the interpreter's floor)": [sys.executable, "-c", "pass"],
            "import accord.cli.main, accord.service + vault, log, auditor (the eager imports of"
            " before)": [
                sys.executable,
                "-c",
                "import accord.cli.main, accord.service,"
                " accord.service.vault, accord.service.journal, accord.service.auditor",
            ],
            "accord --help": [*accord, "--help"],
            "accord agreement status rok-japan-gsomia": [
                *accord,
                "agreement",
                "status",
                "rok-japan-gsomia",
                "--at",
                AT,
            ],
            "accord check release (direct)": [*accord, *release, "--at", AT],
            "accord check release --via USA": [*accord, *release, "--via", "USA", "--at", AT],
        }
        rows = []
        floor = None
        for name, argv in cases.items():
            walls, cpus = timed(argv, env, args.runs, args.seconds)
            floor = floor or statistics.median(cpus)
            rows.append(
                {
                    "command": name,
                    "runs": len(walls),
                    "wall_min_s": min(walls),
                    "wall_median_s": statistics.median(walls),
                    "cpu_min_s": min(cpus),
                    "cpu_median_s": statistics.median(cpus),
                }
            )
        imports = {m: import_time(m, env) for m in ("accord.cli.main", "accord.service")}

    print(f"load average before the run: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}")
    print()
    print(
        "| command (a new process each run) | runs | wall min | wall median | CPU min |"
        " CPU median | CPU × python -c pass |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = row["cpu_median_s"] / floor if floor else 0.0
        print(
            f"| {row['command']} | {row['runs']} | {row['wall_min_s'] * 1000:.0f} ms |"
            f" {row['wall_median_s'] * 1000:.0f} ms | {row['cpu_min_s'] * 1000:.0f} ms |"
            f" {row['cpu_median_s'] * 1000:.0f} ms | {ratio:.1f} |"
        )
    print()
    for module, seconds in imports.items():
        print(f"- `python -X importtime -c 'import {module}'`: {seconds * 1000:.0f} ms cumulative")
    if args.json_path:
        save_json(args.json_path, {"load": load, "commands": rows, "import_s": imports})


if __name__ == "__main__":
    main()
