"""Typed settings of one API server, with the limits it enforces (documented in docs/taxii.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """``at`` freezes the exchange's clock at that instant (``accord serve --at``).

    Limits: ``max_content_length`` bytes of a TAXII body and ``max_admin_body`` of an admin
    body (413 above), each read within ``body_timeout`` seconds (408 after); JSON nested at
    most ``max_json_depth`` deep (400 deeper). Concurrency: the exchange runs in at most
    ``threads`` worker threads (one at a time inside it: it is not thread-safe), token checks
    in at most ``hash_threads`` (the slow hash runs outside the exchange), and at most
    ``token_cache`` recently accepted tokens are remembered (and as many refused ones, apart). Failed authentications: at most
    ``auth_failures`` per client address in ``auth_window`` seconds, over at most
    ``auth_clients`` addresses tracked; past that an address's unknown tokens get 429 with
    ``Retry-After`` without being hashed, held back ``auth_delay`` seconds (tokens this process
    already verified still work, at once).
    Group commit (``accord.service.group_commit``): TAXII requests that arrive together run in
    one store transaction with one signed checkpoint, at most ``group_max`` of them, the first
    waiting at most ``group_wait`` seconds for the others; ``group_max`` 0 or 1 runs each
    request in a transaction of its own.
    The connection limits (``header_timeout``, ``idle_timeout``, ``max_header_bytes``) are for
    uvicorn: see ``accord.api.server``.

    The live feed (docs/feed.md): a comment line every ``feed_heartbeat`` seconds on an idle
    stream; the store looked at every ``feed_poll`` seconds even without a wake-up; at most
    ``feed_queue`` events waiting for one subscriber, read ``feed_page`` at a time, and a
    subscriber whose queue stays full for ``feed_stall`` seconds is disconnected (a slow
    consumer); a resume replays at most ``feed_history`` of a user's latest events.
    ``nats_url``: wake-ups between server processes through NATS JetStream (None: in-process).
    """

    db_url: str
    at: datetime | None = None
    max_content_length: int = 10 * 1024 * 1024
    max_admin_body: int = 1024 * 1024
    body_timeout: float = 30.0
    max_json_depth: int = 64
    default_page_size: int = 100
    max_page_size: int = 1000
    threads: int = 8
    hash_threads: int = 2
    group_max: int = 64
    group_wait: float = 0.002
    token_cache: int = 10_000
    auth_failures: int = 20
    auth_window: float = 60.0
    auth_clients: int = 10_000
    auth_delay: float = 1.0
    header_timeout: float = 10.0
    idle_timeout: float = 5.0
    max_header_bytes: int = 16 * 1024
    title: str = "accord"
    feed_heartbeat: float = 15.0
    feed_poll: float = 1.0
    feed_queue: int = 1000
    feed_page: int = 100
    feed_stall: float = 10.0
    feed_history: int = 100_000
    nats_url: str | None = None
