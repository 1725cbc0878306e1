"""``accord serve``: the TAXII 2.1 server and the admin API (uvicorn).

``--at INSTANT`` freezes the server's clock at that instant: every read is decided as of then
(JPN's view one second before midnight on 23 November 2019, Korea time, and after it). Writes
dated before the exchange's latest recorded act are refused, so a server frozen in the past is
in effect read-only.

The web console is served at ``/console/``. With one worker its sessions live in the process;
with ``--workers N`` they are kept in the store, so every worker knows every session.

On a node store (``accord node init``) it also serves the node-to-node endpoint, with mutual
TLS, on the node URL's host and port (a second listener, in threads of the first process; the
pinned peers are read when it starts, so restart it after ``accord node trust``).

``--group-max N --group-wait MS``: TAXII requests that arrive together (at most N, the first
waiting at most MS milliseconds for the others) share one store transaction and one signed
checkpoint, each request its own log entries (group commit); ``--group-max 0`` (or 1) turns it
off. Admin, token, console and feed requests are not grouped.

``--workers N`` runs N server processes on one store (uvicorn's process manager). Their writes
are serialised by the store's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
lock); a writer that does not get the lock within ``--lock-timeout`` answers 503 with
``Retry-After``. An in-memory store cannot be shared, so it takes one worker only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from accord.cli.context import env
from accord.cli.settings import MASTER_KEY_ENV
from accord.errors import InvalidInput
from accord.model.time import parse_instant

if TYPE_CHECKING:
    from collections.abc import Callable

    from accord.service import Exchange
    from accord.service.node import Node
    from accord.service.node_settings import NodeSettings


def with_console(taxii: Any, credentials: Any, *, shared_sessions: bool = False) -> Any:
    """The TAXII and admin app with the web console mounted at ``/console`` (one exchange, one
    lock: the console and the API share the credentials and so the exchange's lock); with
    ``shared_sessions`` the console keeps its sessions in the store (several workers)."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from accord.web.app import console_app
    from accord.web.context import ConsoleSettings

    async def to_console(request: Any) -> Any:
        return RedirectResponse("/console/", 308)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        async with taxii.router.lifespan_context(taxii):  # the feed's NATS bridge, for one
            yield

    console = console_app(credentials, ConsoleSettings(shared_sessions=shared_sessions))
    routes = [Route("/console", to_console), Mount("/console", console), Mount("/", taxii)]
    return Starlette(routes=routes, lifespan=lifespan)


def worker_app() -> Any:
    """The app factory of one of ``--workers N`` processes (``uvicorn --factory``): TAXII, the
    admin API and the console, whose sessions are in the store that every worker shares."""

    from accord.api.app import WORKER_SETTINGS, WorkerSettings, create_app
    from accord.service.credentials import Credentials

    text = os.environ.get(WORKER_SETTINGS)
    if text is None:
        raise InvalidInput(f"${WORKER_SETTINGS} is not set (start workers with accord serve)")
    worker = WorkerSettings.from_json(text)
    api = worker.api()
    exchange = worker.exchange()
    credentials = Credentials(exchange, cache_limit=api.token_cache)
    taxii = create_app(api, exchange, credentials)
    return with_console(taxii, credentials, shared_sessions=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=6000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--at",
    "at_text",
    metavar="INSTANT",
    default=None,
    help="Freeze the server's clock at this ISO 8601 instant (default: the real clock).",
)
@click.option(
    "--max-content-length",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest request body accepted, in bytes (413 above it).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes on the one store (SQLite file or PostgreSQL).",
)
@click.option(
    "--lock-timeout",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.001, 600),
    help="Seconds a write waits for the store's write lock before answering 503.",
)
@click.option(
    "--nats",
    "nats_url",
    metavar="URL",
    default=None,
    help="Wake live-feed subscribers across server processes through NATS JetStream at URL"
    " (e.g. nats://127.0.0.1:4222); without it, within this process only.",
)
@click.option(
    "--feed-poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds between a feed subscriber's looks at the store when nothing woke it"
    " (it catches acts of processes that publish no wake-up).",
)
@click.option(
    "--group-max",
    default=64,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Most TAXII requests that share one store transaction and one signed checkpoint"
    " (group commit); 0 or 1: each request in a transaction of its own.",
)
@click.option(
    "--group-wait",
    "group_wait_ms",
    metavar="MS",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0, 1000),
    help="Milliseconds the first request of a group waits for others to join it.",
)
@click.option(
    "--node-batch",
    default=100,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="On a node: facts per message the background deliverer sends a peer.",
)
def serve(
    host: str,
    port: int,
    at_text: str | None,
    max_content_length: int,
    workers: int,
    lock_timeout: float,
    nats_url: str | None,
    feed_poll: float,
    group_max: int,
    group_wait_ms: float,
    node_batch: int,
) -> None:
    """Serve TAXII 2.1 (one API root per party at /taxii2/PARTY/) and the admin API. On a node
    store (`accord node init`), also the node-to-node endpoint on the node's URL (mutual TLS,
    pinned peers only: messages are checked and answered with signed receipts) and a
    background deliverer sending the outbox to the pinned peers."""
    # imported here: the web stack costs half a second, and only this command needs it
    import uvicorn

    from accord.api.app import WORKER_SETTINGS, WorkerSettings, create_app
    from accord.api.server import config
    from accord.service.credentials import Credentials

    settings = env().settings
    frozen = parse_instant(at_text, "--at") if at_text else None
    worker = WorkerSettings(
        settings.db_url,
        frozen.isoformat() if frozen is not None else None,
        max_content_length,
        lock_timeout,
        str(settings.key_file) if settings.key_file is not None else None,
        MASTER_KEY_ENV,
        create=settings.create,
        nats_url=_nats_url(nats_url),
        feed_poll=feed_poll,
        group_max=group_max,
        group_wait=group_wait_ms / 1000,
    )
    if workers > 1 and settings.db_url in ("sqlite://", "sqlite:///:memory:"):
        raise InvalidInput("--workers: an in-memory store cannot be shared by several processes")
    exchange = worker.exchange()  # opened here too: a bad store or key fails before listening
    when = f", clock frozen at {at_text}" if frozen is not None else ""
    many = f", {workers} workers" if workers > 1 else ""
    many += f", feed wake-ups through NATS at {nats_url}" if nats_url else ""
    click.echo(
        f"accord: TAXII 2.1 at http://{host}:{port}/taxii2/"
        f" (admin API: /openapi.json, console: /console/){when}{many}"
    )
    _start_node_endpoint(worker.exchange(), worker.exchange, node_batch)  # own: in threads
    api = worker.api()
    if workers == 1:  # with the header deadline, idle timeout and header size limit
        credentials = Credentials(exchange, cache_limit=api.token_cache)
        app = with_console(create_app(api, exchange, credentials), credentials)
        uvicorn.Server(config(app, api, host, port)).run()
        return
    exchange.store.close()
    os.environ[WORKER_SETTINGS] = worker.to_json()  # read by each worker's app factory
    uvicorn.run(  # workers are spawned from an import string: uvicorn's own h11 protocol
        "accord.cli.serve:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=max(1, round(api.idle_timeout)),
        h11_max_incomplete_event_size=api.max_header_bytes,
    )


def _start_node_endpoint(
    exchange: Exchange, courier_exchange: Callable[[], Exchange], batch: int
) -> None:
    """On a node store, the node-to-node endpoint (the message protocol's receiver) and the
    background deliverer of its outbox, each in a daemon thread (nothing otherwise)."""
    from accord.api.node_server import node_endpoint
    from accord.service import system_clock
    from accord.service.node import Node
    from accord.service.node_settings import NodeSettings
    from accord.service.node_wire import Wire

    node = Node(exchange, clock=system_clock)  # contacts on the real clock, even under --at
    if not node.is_node():
        exchange.store.close()
        return
    url = node.url()
    wire = Wire(node, NodeSettings(batch=batch))
    try:
        server = node_endpoint(node, wire.handle)
    except OSError:
        raise InvalidInput(
            f"node URL {url}: cannot listen on its host and port (in use, or not this host)"
        ) from None
    server.start()
    _start_courier(Node(courier_exchange(), clock=system_clock), NodeSettings(batch=batch))
    pinned = ", ".join(sorted(server.peers.values())) or "none yet"
    click.echo(
        f"accord: node {node.party()} at {url} (mutual TLS; pinned peers: {pinned};"
        f" delivering its outbox every {COURIER_INTERVAL:g} s)"
    )


COURIER_INTERVAL = 0.2  # seconds between the background deliverer's rounds


def _start_courier(node: Node, settings: NodeSettings) -> None:
    """The background deliverer: its own exchange, its own thread, until the process ends."""
    import threading
    import time

    from accord.service.courier import Courier
    from accord.service.node_wire import Wire

    wire = Wire(node, settings)
    courier = Courier(wire.deliverer, lambda: [p.party for p in node.peers()], time.monotonic)
    stop = threading.Event()
    threading.Thread(
        target=courier.run, args=(stop, COURIER_INTERVAL), name="accord-courier", daemon=True
    ).start()


def _nats_url(url: str | None) -> str | None:
    if url is None:
        return None
    if not url.startswith(("nats://", "tls://")) or len(url) <= len("nats://"):
        raise InvalidInput(f"--nats: {url!r} is not a NATS URL (nats://HOST:PORT)")
    return url
