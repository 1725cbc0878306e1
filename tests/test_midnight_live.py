"""The midnight switch-over live: a real server on 127.0.0.1 (the app ``accord serve`` runs,
under uvicorn), KOR's analyst posting a warning over TAXII every 10 s from 23:59:00 to
00:01:00 KST on 23 November 2019 (the server's clock is set to each instant), and JPN's
analyst following the live feed with a real SSE client: the 13 warnings arrive in order, each
by the route the standing rule took at its instant, in both worlds."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from httpx_sse import connect_sse

from accord.scenario import load_scenario
from accord.service import Exchange
from accord.service.scenarios import apply_scenario
from tests.test_feed_sse import auth, client, objects_path, post, serving, take
from tests.test_taxii_support import KEY, Clock, indicator, issue, open_exchange

SCENARIOS = Path(__file__).parent / "scenarios"
FIRST = datetime(2019, 11, 22, 14, 59, tzinfo=UTC)  # 2019-11-22T23:59:00+09:00
MIDNIGHT = datetime(2019, 11, 22, 15, tzinfo=UTC)  # 2019-11-23T00:00:00+09:00
INSTANTS = [FIRST + timedelta(seconds=10 * n) for n in range(13)]  # to 00:01:00 KST


@pytest.fixture(params=["midnight-switch-over-2019", "midnight-switch-over-no-suspension"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Exchange, Clock]]:
    if KEY is None:
        pytest.skip("no crypto layer")
    clock = Clock(FIRST - timedelta(hours=1))
    exchange = open_exchange(f"sqlite:///{tmp_path / 'accord.db'}", clock)
    exchange.init_keys()
    scenario = load_scenario(SCENARIOS / f"{request.param}.yaml")
    apply_scenario(exchange, dataclasses.replace(scenario, items=(), expectations=()), strict=True)
    try:
        yield request.param, exchange, clock
    finally:
        exchange.store.close()


def test_every_warning_reaches_japan_in_order_by_the_lawful_route(
    world: tuple[str, Exchange, Clock],
) -> None:
    name, exchange, clock = world
    tokens = {u: issue(exchange, u, expires="P9999D") for u in ("kor-analyst", "jpn-analyst")}
    sent = [indicator(n + 1, "KOR") for n in range(len(INSTANTS))]
    with serving(exchange) as running, client(running.base) as http:
        headers = auth(tokens["jpn-analyst"], Accept="text/event-stream")
        with connect_sse(http, "GET", "/feeds/JPN/", headers=headers) as source:
            for at, obj in zip(INSTANTS, sent, strict=True):
                clock.now = at
                post(running.base, tokens["kor-analyst"], "KOR", obj)
            events = take(source.iter_sse(), len(INSTANTS))
        held = http.get(
            objects_path("JPN"),
            headers=auth(tokens["jpn-analyst"], Accept="application/taxii+json;version=2.1"),
        )
    assert [e["id"] for e in events] == [o["id"] for o in sent]  # in order, none lost
    assert all(e["kind"] == "available" and e["object"]["id"] == e["id"] for e in events)
    switched = name.endswith("no-suspension")
    expected = ["USA" if switched and at >= MIDNIGHT else None for at in INSTANTS]
    assert [e["via"] for e in events] == expected
    assert [e["from"] for e in events] == ["KOR"] * len(INSTANTS)
    assert held.status_code == 200
    assert {o["id"] for o in held.json()["objects"]} >= {o["id"] for o in sent}
