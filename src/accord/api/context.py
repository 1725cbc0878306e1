"""What every TAXII endpoint shares: the exchange, its services, the settings, authentication,
the request instant and the resolution of API roots and collections.

An endpoint authenticates (``Gate``: off the loop, failures limited per address), negotiates,
reads a posted body (bounded in size and time) on the event loop, then runs its resource — plain
synchronous code over the exchange — in the group commit with the requests that arrive with it
(``Workers.grouped``: one store transaction, one signed checkpoint, each request its own part and
log entries), or in a worker thread when grouping is off."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.auth import Gate
from accord.api.body import declared_too_large, read_body
from accord.api.cursors import CursorSigner
from accord.api.errors import Forbidden, NotFound, TooLarge, answer
from accord.api.feed_hub import FeedHub
from accord.api.feed_reads import FeedReads
from accord.api.markings import MarkingIndex
from accord.api.media import check_accept, check_content_type
from accord.api.settings import ApiSettings
from accord.api.workers import Workers
from accord.errors import AccordError
from accord.model.party import Party
from accord.service.credentials import Credentials, Principal
from accord.service.exchange import Exchange
from accord.service.feed import FeedService
from accord.service.feed_record import FeedRecorder
from accord.service.group_commit import GroupCommit, GroupLimits
from accord.service.taxii import STIX_NAMESPACE, TaxiiService
from accord.service.throttle import FailureThrottle

log = logging.getLogger("accord.api")

HOLDINGS = "holdings"
DEFINITIONS = "definitions"


def collection_id(kind: str, party: str) -> str:
    return str(uuid.uuid5(STIX_NAMESPACE, f"collection/{kind}/{party}"))


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    kind: str  # HOLDINGS or DEFINITIONS
    party: Party


class Server:
    """One TAXII server over one exchange."""

    def __init__(self, settings: ApiSettings, exchange: Exchange, credentials: Credentials) -> None:
        self.settings = settings
        self.exchange = exchange
        self.credentials = credentials
        self.taxii = TaxiiService(exchange)
        self.feed = FeedService(exchange, self.taxii, settings.feed_history)
        self.hub = FeedHub()
        exchange.observer = FeedRecorder(self.hub.from_thread)  # wakes this server's feeds
        lock = credentials.exchange_lock
        limits = GroupLimits(max(settings.group_max, 1), settings.group_wait)
        group = GroupCommit(exchange, limits, lock) if limits.enabled else None
        self.workers = Workers(settings.threads, settings.hash_threads, lock, group)
        throttle = FailureThrottle(
            settings.auth_failures, settings.auth_window, settings.auth_clients
        )
        self.gate = Gate(credentials, self.workers, throttle, settings.auth_delay)
        self.feed_reads = FeedReads(exchange, self.workers)
        self._signer: CursorSigner | None = None
        self._markings: tuple[int, MarkingIndex] | None = None

    @property
    def signer(self) -> CursorSigner:
        if self._signer is None:
            self._signer = CursorSigner(self.credentials.secret())
        return self._signer

    def needs_signer(self) -> bool:
        return self._signer is None

    def now(self) -> datetime:
        return self.exchange.instant(None)

    def parties(self) -> dict[str, Party]:
        return self.exchange.snapshot().parties

    def markings(self) -> MarkingIndex:
        parties = self.parties()
        if self._markings is None or self._markings[0] != len(parties):
            self._markings = (len(parties), MarkingIndex.of(parties))
        return self._markings[1]

    async def body(self, request: Request) -> bytes:
        """A posted body, refused over ``max_content_length`` or after ``body_timeout``."""
        check_content_type(request.headers.get("content-type"))
        limit = self.settings.max_content_length
        if declared_too_large(request.headers.get("content-length"), limit):
            raise TooLarge(f"the body is larger than max_content_length ({limit} bytes)")
        return await read_body(request.stream(), limit, self.settings.body_timeout)

    def root(self, code: str) -> Party:
        party = self.parties().get(code)
        if party is None:
            raise NotFound("no such API root")
        return party

    def collection(self, principal: Principal, code: str, collection: str) -> Collection:
        party = self.root(code)
        if collection == collection_id(HOLDINGS, code):
            return Collection(collection, HOLDINGS, party)
        if collection == collection_id(DEFINITIONS, code) and principal.party == code:
            return Collection(collection, DEFINITIONS, party)
        raise NotFound("no such collection")

    def readable(self, principal: Principal, found: Collection) -> None:
        """Reads are only for users of the root's own party."""
        if principal.party != found.party.code:
            raise Forbidden("only users of this party may read its collections")


Handler = Callable[[Request, Principal], Response]


def endpoint(server: Server, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, negotiate, read the body, run; every error becomes a TAXII error message."""

    async def run(request: Request) -> Response:
        try:
            principal = await server.gate.principal(request)
            check_accept(request.headers.get("accept"))
            if request.method == "POST":
                request.state.body = await server.body(request)
            if server.needs_signer():  # once: its secret may be written in a transaction of its own
                await server.workers.exchange(lambda: server.signer)
            return await server.workers.grouped(handler, request, principal)
        except AccordError as exc:
            if answer(exc).status >= 500:  # the server's fault: logged here, no detail sent
                log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc)
            return responses.error(exc)
        except Exception as exc:  # a defect: logged here, a generic 500 for the client
            log.exception("internal error on %s %s", request.method, request.url.path)
            return responses.error(exc)

    return run
