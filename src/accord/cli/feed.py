"""``accord feed USER``: follow a user's live feed in a terminal — from a server
(``--url``, with ``--party`` and the user's token) over server-sent events, or from the store
itself (``--db``). Resumes from ``--after CURSOR``; over HTTP it reconnects by itself."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import click

from accord.cli.context import env

TOKEN_ENV = "ACCORD_TOKEN"


@click.command("feed")
@click.argument("user_id")
@click.option("--url", default=None, help="A server's base URL (http://HOST:PORT).")
@click.option("--party", default=None, help="The user's party (with --url).")
@click.option(
    "--token",
    default=None,
    help=f"The user's API token (with --url; default ${TOKEN_ENV}).",
)
@click.option("--after", "cursor", default=None, help="Resume after this event id (0: start).")
@click.option("--count", type=click.IntRange(1), default=None, help="Stop after N events.")
@click.option(
    "--idle",
    type=click.FloatRange(0.1),
    default=None,
    help="Stop after this many seconds without an event.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
def feed(
    user_id: str,
    url: str | None,
    party: str | None,
    token: str | None,
    cursor: str | None,
    count: int | None,
    idle: float | None,
    as_json: bool,
) -> None:
    """Follow USER's live feed: each item as it becomes readable, each destruction, and the
    routing of their party's own releases."""
    if url is not None:
        events = _remote(user_id, url, party, token or os.environ.get(TOKEN_ENV), cursor, idle)
    else:
        events = _local(user_id, cursor, idle)
    seen = 0
    for data in events:
        click.echo(json.dumps(data, ensure_ascii=False) if as_json else line(data))
        if data.get("kind") in ("gap", "disconnect"):
            continue
        seen += 1
        if count is not None and seen >= count:
            return


def line(data: dict[str, Any]) -> str:
    kind = str(data.get("kind"))
    head = f"{data.get('at', '-')}  {kind:<9}  {data.get('item', '-')}"
    if kind == "routing":
        via = f" via {data['via']}" if data.get("via") else ""
        outcome = "allowed" if data.get("allowed") else "refused"
        reasons = ", ".join(data.get("reasons", []))
        head += f"  {data.get('from')} -> {data.get('to')}{via}: {outcome} ({reasons})"
    elif kind == "available":
        head += f"  {data.get('cause')}" + (
            f"  withheld: {', '.join(data.get('withheld', []))}"
            if data.get("object") is None
            else ""
        )
    elif kind == "gap":
        return f"-  gap  resuming at {data.get('resumed')}: {data.get('message')}"
    elif kind == "disconnect":
        return f"-  disconnect  {data.get('reason')}: resuming at {data.get('resume')}"
    return f"{head}  [{data.get('cursor')}]"


def _remote(
    user: str,
    url: str,
    party: str | None,
    token: str | None,
    cursor: str | None,
    idle: float | None,
) -> Iterator[dict[str, Any]]:
    from accord.cli.feed_client import HEARTBEAT, Follower
    from accord.errors import InvalidInput

    if party is None:
        raise InvalidInput("--party: give the user's party with --url")
    if not token:
        raise InvalidInput(f"--token: give the user's API token (or set ${TOKEN_ENV})")
    follower = Follower(f"{url.rstrip('/')}/feeds/{party}/", user, token, cursor)
    quiet_since = time.monotonic()
    for event in follower.events():  # heartbeats too: --idle is checked at each
        if event.event != HEARTBEAT:
            quiet_since = time.monotonic()
            yield event.data
        elif idle is not None and time.monotonic() - quiet_since >= idle:
            return


def _local(user: str, cursor: str | None, idle: float | None) -> Iterator[dict[str, Any]]:
    from accord.model.feed import FeedCursor
    from accord.service.feed import FeedService
    from accord.service.taxii import TaxiiService

    exchange = env().exchange
    service = FeedService(exchange, TaxiiService(exchange))
    position = service.start(user, cursor)
    quiet_since = time.monotonic()
    while True:
        batch = service.fetch(user, position, 100, exchange.instant(None))
        if batch.gap is not None:
            resumed = FeedCursor(user, batch.gap.resumed).text()
            yield {"kind": "gap", "resumed": resumed, "message": "earlier events are not kept"}
            position = batch.gap.resumed
        for event in batch.events:
            yield event.data()  # the object itself: over HTTP, or `accord read`
            position = event.n
        if batch.events:
            quiet_since = time.monotonic()
        elif idle is not None and time.monotonic() - quiet_since >= idle:
            return
        if not batch.more:
            time.sleep(0.2)
