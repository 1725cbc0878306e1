"""The node-to-node endpoint: HTTPS with mutual TLS, peers known only by pinned certificate.

Served by the standard library's ``http.server.ThreadingHTTPServer`` with each accepted socket
wrapped by ``ssl`` in its own thread, not by uvicorn: uvicorn (and the ASGI scope) does not give
the application the client's certificate, and the peer's party is decided by exactly that
certificate (``SSLSocket.getpeercert(binary_form=True)``, its SHA-256 compared with the pinned
ones). The TLS context (``Node.server_context``) makes the pinned certificates the only trust
anchors and requires a client certificate, so an unpinned certificate, or none, fails the
handshake; a handshake that fails is logged (``accord.node``) with the client's address.

Endpoints (every one needs a pinned client certificate):

- ``POST /node/v1/messages``: the body (``Content-Length`` required, at most ``max_body``
  bytes, 1 MiB by default) is given with the peer's party to the handler, whose status and body
  are the answer. 411 without a length, 413 over the limit, 408 when the body is not all sent
  within ``body_timeout``, 500 (and nothing else said) when the handler fails.
- ``GET /node/v1/card``: this node's card (JSON).

Anything else is 404 (405 for another method on a known path); a certificate that passed the
handshake but is not pinned gets 403. Headers must arrive within ``header_timeout`` seconds
(also the keep-alive idle limit); at most ``max_connections`` connections are served at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from accord.model.node import node_address

if TYPE_CHECKING:
    from accord.service.node import Node

log = logging.getLogger("accord.node")

Handler = Callable[[str, bytes], tuple[int, bytes]]
ContactNote = Callable[[str, str | None], None]
MESSAGES_PATH = "/node/v1/messages"
CARD_PATH = "/node/v1/card"
MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class NodeServerSettings:
    host: str
    port: int
    max_body: int = MAX_BODY
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    handshake_timeout: float = 10.0
    max_connections: int = 64


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, node: NodeServer) -> None:
        self.node = node
        self.slots = threading.BoundedSemaphore(node.settings.max_connections)
        self.open: set[ssl.SSLSocket] = set()  # connections being served, closed by ``stop``
        self.open_lock = threading.Lock()
        super().__init__((node.settings.host, node.settings.port), _Requests)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            log.warning("node endpoint: too many connections; closed one from %s", client_address)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The TLS handshake, in this connection's own thread, then the HTTP exchange."""
        settings = self.node.settings
        request.settimeout(settings.handshake_timeout)
        try:
            tls = self.node.context.wrap_socket(
                request, server_side=True, do_handshake_on_connect=False
            )
        except OSError:
            return
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as error:
            reason = getattr(error, "reason", None) or type(error).__name__
            log.warning(
                "node endpoint: refused a TLS handshake from %s (%s)", client_address, reason
            )
            _refuse(tls)
            return
        with self.open_lock:
            self.open.add(tls)
        try:
            _Requests(tls, client_address, self)
        finally:
            with self.open_lock:
                self.open.discard(tls)
            _close(tls)

    def close_open(self) -> None:
        """End every connection still served (a kept-alive one would go on otherwise)."""
        with self.open_lock:
            serving = list(self.open)
        for tls in serving:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)


def _refuse(tls: ssl.SSLSocket) -> None:
    """Close after a failed handshake without a reset: the alert already sent is then what the
    client reads (unread client data at close would make the kernel send a reset instead)."""
    with contextlib.suppress(OSError):
        tls.shutdown(socket.SHUT_WR)
        tls.settimeout(0.5)
        for _ in range(16):  # bounded: at most 16 reads of what the client still sends
            if not tls.recv(4096):
                break
    tls.close()


def _close(tls: ssl.SSLSocket) -> None:
    with contextlib.suppress(OSError):
        tls.shutdown(socket.SHUT_RDWR)
    tls.close()


class _Requests(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "accord-node"
    disable_nagle_algorithm = True  # an answer's headers and body are two writes
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.node.settings.header_timeout)
        der = self.request.getpeercert(binary_form=True)
        self.peer = self.server.node.party_of(der)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("node endpoint %s: " + format, self.address_string(), *args)

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _error(self, status: int, text: str, *, close: bool = False) -> None:
        if close:
            self.close_connection = True
        body = ('{"error":"' + text + '"}').encode("ascii")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _authenticated(self) -> str | None:
        if self.peer is None:
            log.warning(
                "node endpoint: refused %s %s from %s: its certificate is not pinned",
                self.command,
                self.path,
                self.address_string(),
            )
            self._error(403, "forbidden", close=True)
        return self.peer

    def do_GET(self) -> None:
        party = self._authenticated()
        if party is None:
            return
        if self.path == MESSAGES_PATH:
            self._method_not_allowed("POST")
        elif self.path == CARD_PATH:
            self._answer(200, self.server.node.card)
            self.server.node.contact(party, None)
        else:
            self._error(404, "not-found")

    def do_POST(self) -> None:
        party = self._authenticated()
        if party is None:
            return
        if self.path == CARD_PATH:
            self._method_not_allowed("GET")
            return
        if self.path != MESSAGES_PATH:
            self._error(404, "not-found")
            return
        body = self._body()
        if body is None:
            return
        try:
            status, answer = self.server.node.handler(party, body)
        except Exception:
            log.exception("node endpoint: the message handler failed for %s", party)
            self._error(500, "internal", close=True)
            return
        self._answer(status, answer, "application/octet-stream")
        self.server.node.contact(party, None)

    def _method_not_allowed(self, allow: str) -> None:
        body = b'{"error":"method-not-allowed"}'
        self.send_response(405)
        self.send_header("Allow", allow)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        self._other()

    def do_DELETE(self) -> None:
        self._other()

    def do_PATCH(self) -> None:
        self._other()

    def _other(self) -> None:
        if self._authenticated() is None:
            return
        if self.path == MESSAGES_PATH:
            self._method_not_allowed("POST")
        elif self.path == CARD_PATH:
            self._method_not_allowed("GET")
        else:
            self._error(404, "not-found")

    def _body(self) -> bytes | None:
        settings = self.server.node.settings
        if self.headers.get("Transfer-Encoding") is not None:
            self._error(411, "length-required", close=True)
            return None
        text = self.headers.get("Content-Length")
        if text is None:
            self._error(411, "length-required", close=True)
            return None
        if not text.isdigit() or len(text) > 12:
            self._error(400, "bad-content-length", close=True)
            return None
        length = int(text)
        if length > settings.max_body:
            self._error(413, "too-large", close=True)
            return None
        return self._read(length, settings.body_timeout)

    def _read(self, length: int, limit: float) -> bytes | None:
        deadline = time.monotonic() + limit
        data = bytearray()
        try:
            while len(data) < length:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                self.connection.settimeout(left)
                chunk = self.rfile.read1(min(65536, length - len(data)))
                if not chunk:
                    self.close_connection = True
                    return None
                data += chunk
        except TimeoutError:
            self._error(408, "request-timeout", close=True)
            return None
        finally:
            self.connection.settimeout(self.server.node.settings.header_timeout)
        return bytes(data)


class NodeServer:
    """The node endpoint on ``settings.host``/``settings.port`` (``port`` 0: any free port;
    ``port`` gives the one bound). ``peers`` maps pinned certificate fingerprints (SHA-256 of
    the DER, hex) to their party; ``contact`` is told each peer that was served."""

    def __init__(
        self,
        context: ssl.SSLContext,
        card: bytes,
        peers: Mapping[str, str],
        handler: Handler,
        settings: NodeServerSettings,
        contact: ContactNote | None = None,
    ) -> None:
        self.context = context
        self.card = card
        self.peers = dict(peers)
        self.handler = handler
        self.settings = settings
        self._contact = contact
        self._server = _Server(self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def party_of(self, der: bytes | None) -> str | None:
        """The pinned party whose certificate is exactly ``der``, if any."""
        if der is None:
            return None
        fingerprint = hashlib.sha256(der).hexdigest()
        for pinned, party in self.peers.items():
            if hmac.compare_digest(pinned, fingerprint):
                return party
        return None

    def contact(self, party: str, error: str | None) -> None:
        if self._contact is not None:
            self._contact(party, error)

    def start(self) -> NodeServer:
        """Serve in a daemon thread; returns at once."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="accord-node", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop accepting, end the connections being served, and close the listening socket."""
        self._server.shutdown()
        self._server.close_open()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> NodeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def node_endpoint(
    node: Node, handler: Handler, settings: NodeServerSettings | None = None
) -> NodeServer:
    """The endpoint of ``node`` (not started): on its URL's host and port unless ``settings``
    say otherwise, trusting the peers pinned now, telling ``node`` of each contact."""
    peers = node.peers()
    if settings is None:
        host, port = node_address(node.url())
        settings = NodeServerSettings(host, port)
    return NodeServer(
        node.server_context(peers),
        node.card_text().encode("utf-8"),
        {p.fingerprint: p.party for p in peers},
        handler,
        settings,
        node.note_contact,
    )
