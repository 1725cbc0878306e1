"""The web console's speed in Debian's Chromium: first render of the network view, slider to
redraw, and page weight, on a world of ``--agreements`` agreements and ``--items`` items.

```sh
.venv/bin/python -m bench.console                       # 100 agreements, 10,000 items
.venv/bin/python -m bench.console --agreements 100 --items 10000 --moves 30 --json console.json
```

The world: JPN and ``agreements - 1`` other parties; JPN has a bilateral agreement with each
(every fifth with a termination notice, every seventh of those suspended, every eleventh not yet
in force) and one hub arrangement; ``items`` items originated by the others, each released to
JPN. The console is served in this process by the app ``accord serve`` builds (uvicorn on
127.0.0.1) and driven by Playwright. First render is the browser's own clock from navigation
start to the moment the network is drawn; slider to redraw is from the slider's ``input``
event to the end of the redraw (including the request for the new instant); each is the median
of ``--loads`` and ``--moves`` runs. There is no peer console to run beside it: the figures are
against the goals (first render under 300 ms, redraw under 100 ms, whole console under 300 KB).
This is a benchmark, not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.results import save_json

CHROMIUM = "/usr/bin/chromium"


def _world(exchange: Any, agreements: int, items: int) -> None:
    from accord.model.agreement import (
        Agreement,
        EquivalenceTable,
        NoticeSuspended,
        Renewal,
        TerminationNotice,
        Terms,
        TopicScope,
    )
    from accord.model.item import Item
    from accord.model.party import Party
    from accord.model.requests import ReleaseRequest
    from accord.model.time import Duration, parse_instant
    from accord.model.user import User

    start = parse_instant("2016-11-23T00:00:00+09:00", "bench")
    levels = ("C", "S", "TS")
    others = [f"P{n:03d}" for n in range(1, agreements)]
    exchange.init_keys()
    exchange.add_topic("nk-missile")
    for code in ["JPN", *others]:
        exchange.add_party(Party(code, f"party {code}", "Asia/Tokyo", levels))
    year, notice = Duration.parse("P1Y", "bench"), Duration.parse("P90D", "bench")
    for n, code in enumerate(others):
        rows = EquivalenceTable(({"JPN": "S", code: "S"}, {"JPN": "C", code: "C"}))
        begins = start + timedelta(days=3650) if n % 11 == 10 else start
        terms = Terms(
            frozenset({"JPN", code}), rows, TopicScope(None), year, Renewal.AUTOMATIC, notice
        )
        exchange.add_agreement(Agreement(f"a-{code}", begins, "Asia/Seoul", terms))
    hub = Terms(
        frozenset({"JPN", others[0], others[1]}),
        EquivalenceTable(({"JPN": "S", others[0]: "S", others[1]: "S"},)),
        TopicScope(None),
        None,
        Renewal.NONE,
        None,
    )
    exchange.add_agreement(Agreement("hub-arrangement", start, "Asia/Seoul", hub, hub=others[0]))
    exchange.add_user(User("jpn-analyst", "JPN", "TS", frozenset({"nk-missile"})))
    noticed = parse_instant("2019-08-23T15:25:00+09:00", "bench")
    for n, code in enumerate(others):
        if n % 5 == 0 and n % 11 != 10:
            exchange.record(TerminationNotice(noticed, f"a-{code}", code))
    created = parse_instant("2019-09-01T00:00:00+09:00", "bench")
    with exchange.batch():
        for n in range(items):
            code = others[n % len(others)]
            if n % len(others) % 11 == 10:
                code = others[0]
            at = created + timedelta(minutes=n)
            item = Item(
                f"item-{n:05d}",
                code,
                "S",
                frozenset({"nk-missile"}),
                frozenset({"JPN"}),
                at,
                title=f"report {n}",
                content=f"content {n}",
            )
            exchange.add_item(item)
            exchange.release(ReleaseRequest(item.id, code, "JPN"), at + timedelta(seconds=30))
    for n, code in enumerate(others):
        if n % 35 == 0 and n % 11 != 10:
            exchange.record(NoticeSuspended(noticed + timedelta(days=80), f"a-{code}", code))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=100)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from accord.api.app import create_app
    from accord.api.settings import ApiSettings
    from accord.cli.serve import with_console
    from accord.model.time import Duration
    from accord.service import Exchange, MasterKey
    from accord.service.credentials import Credentials
    from tests.test_taxii_support import serving

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        master = MasterKey.generate()
        exchange = Exchange.open(url, master=lambda: master, create=True)
        began = time.monotonic()
        _world(exchange, args.agreements, args.items)
        print(
            f"world: {args.agreements} agreements, {args.items} items in {time.monotonic() - began:.1f} s",
            file=sys.stderr,
        )
        credentials = Credentials(exchange)
        token = credentials.issue("jpn-analyst", Duration.parse("P1D", "bench")).token
        app = with_console(create_app(ApiSettings(url), exchange, credentials), credentials)
        with serving(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            weights: dict[str, int] = {}

            def weigh(response: Any) -> None:
                if response.url.startswith(base) and "/api/" not in response.url:
                    try:
                        weights[response.url] = len(response.body())
                    except Exception:  # a redirect or a response navigated away from: no body
                        weights[response.url] = 0

            page.on("response", weigh)
            page.goto(f"{base}/console/signin")
            page.fill("#user", "jpn-analyst")
            page.fill("#token", token)
            page.click("form.signin button[type=submit]")
            page.wait_for_url(f"{base}/console/")
            at = "?at=2019-11-22T23:59:59%2B09:00"
            renders = []
            for _ in range(args.loads):
                weights.clear()
                page.goto(f"{base}/console/{at}")
                page.wait_for_selector("body[data-drawn]")
                renders.append(float(page.evaluate("Number(document.body.dataset.drawnAt)")))
            edges = page.evaluate("document.querySelectorAll('#network g.edge').length")
            moves = []
            slider = page.locator("#slider")
            for n in range(args.moves):
                before = page.evaluate("document.body.dataset.drawn")
                start = float(
                    page.evaluate(
                        """step => { const s = document.getElementById('slider');
                    s.value = String(Number(s.value) + step * 3600);
                    const t = performance.now(); s.dispatchEvent(new Event('input')); return t; }""",
                        (1 if n % 2 == 0 else -1) * 24,
                    )
                )
                page.wait_for_function("b => document.body.dataset.drawn !== b", arg=before)
                moves.append(float(page.evaluate("Number(document.body.dataset.drawnAt)")) - start)
            del slider
            browser.close()
        exchange.store.close()
    files = {u: b for u, b in weights.items() if b}
    total = sum(files.values())
    web = Path(__file__).resolve().parents[1] / "src" / "accord" / "web"
    shipped = sum(f.stat().st_size for d in ("static", "templates") for f in (web / d).iterdir())
    figures = {
        "agreements": args.agreements,
        "items": args.items,
        "edges_drawn": edges,
        "first_render_ms_median": round(statistics.median(renders), 1),
        "first_render_ms_max": round(max(renders), 1),
        "slider_to_redraw_ms_median": round(statistics.median(moves), 1),
        "slider_to_redraw_ms_p90": round(sorted(moves)[int(0.9 * (len(moves) - 1))], 1),
        "network_page_bytes": total,
        "console_files_bytes": shipped,
        "network_page_files": {u.split("/console", 1)[1]: b for u, b in sorted(files.items())},
    }
    print("| figure | value |\n|---|---|")
    for name, value in figures.items():
        if name != "network_page_files":
            print(f"| {name} | {value} |")
    for name, size in figures["network_page_files"].items():  # type: ignore[union-attr]
        print(f"| {name} | {size} B |")
    if args.json is not None:
        save_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
