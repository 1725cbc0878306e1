"""Helpers for the TAXII and API tests (no tests here): exchanges on SQLite files with a clock
the test controls, tokens, STIX objects marked for accord, and a real uvicorn server on
127.0.0.1 in a thread."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn

from accord.api import ApiSettings, create_app
from accord.api.markings import EXTENSION_ID, classification_id, releasable_id
from accord.model.time import Duration
from accord.scenario import builtin_scenario_path, load_scenario
from accord.service import Exchange
from accord.service.credentials import Credentials
from accord.service.scenarios import apply_scenario

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette warns that it prefers httpx2 for its TestClient
    from starlette.testclient import TestClient

try:
    from accord.service import MasterKey

    KEY: Any = MasterKey.generate()
except ImportError:  # before the crypto layer lands
    KEY = None

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TAXII = "application/taxii+json;version=2.1"
LATER = datetime.fromisoformat("2024-06-01T09:00:00+09:00")  # after every act of the scenario
BEFORE = datetime.fromisoformat("2019-11-22T23:59:59+09:00")
AFTER = datetime.fromisoformat("2019-11-23T00:00:00+09:00")
__all__ = ["TestClient"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def open_exchange(url: str, clock: Callable[[], datetime]) -> Exchange:
    if KEY is None:
        return Exchange.open(url, clock)
    return Exchange.open(url, clock, lambda: KEY)


def scenario_exchange(
    tmp: Path,
    clock: Callable[[], datetime],
    *,
    scenario: Path | None = None,
    until: datetime | None = None,
) -> tuple[str, Exchange]:
    """A file-backed exchange with a scenario loaded (its acts up to ``until``, if given)."""
    url = f"sqlite:///{tmp / 'accord.db'}"
    exchange = open_exchange(url, clock)
    if hasattr(exchange, "init_keys") and KEY is not None:
        exchange.init_keys()
    loaded = load_scenario(scenario or builtin_scenario_path())
    if until is not None:
        loaded = dataclasses.replace(
            loaded,
            items=tuple(i for i in loaded.items if i.created <= until),
            events=tuple(e for e in loaded.events if e.act.at <= until),
        )
    apply_scenario(exchange, loaded, strict=True)
    return url, exchange


def issue(exchange: Exchange, user: str, *, admin: bool = False, expires: str = "P1D") -> str:
    return Credentials(exchange).issue(user, Duration.parse(expires, "expires"), admin=admin).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": TAXII}


def posting(token: str) -> dict[str, str]:
    return {**bearer(token), "Content-Type": TAXII}


def client(url: str, exchange: Exchange, **settings: Any) -> TestClient:
    return TestClient(create_app(ApiSettings(url, **settings), exchange))


def indicator(
    n: int,
    party: str = "KOR",
    level: str = "군사II급비밀",
    *,
    rel: tuple[str, ...] = ("JPN", "USA"),
    topics: tuple[str, ...] = ("nk-missile",),
    modified: str = "2024-01-01T00:00:00.000Z",
    **extra: Any,
) -> dict[str, Any]:
    """A STIX 2.1 indicator marked with ``party``'s ``level`` and releasable to ``rel``."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"indicator {n}",
        "description": "test indicator",
        "pattern": f"[ipv4-addr:value = '10.0.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": [classification_id(party, level)] + [releasable_id(p) for p in rel],
        "extensions": {
            EXTENSION_ID: {"extension_type": "property-extension", "topics": list(topics)}
        },
    }
    obj.update(extra)
    return obj


def envelope(*objects: dict[str, Any]) -> bytes:
    return json.dumps({"objects": list(objects)}, ensure_ascii=False).encode("utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
