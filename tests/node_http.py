"""The node channel's message endpoint over plain HTTP on 127.0.0.1, for tests: the real
receiver behind ``POST /node/v1/messages``, and a client with ``post(path, body, timeout)``.

Plain HTTP cannot authenticate the peer, so the test server takes the sender's party from a
header; the mutual-TLS channel authenticates it by its pinned certificate instead."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from accord.errors import PeerUnavailable
from accord.service.node_settings import MESSAGES_PATH

PEER_HEADER = "X-Test-Peer"
Handler = Callable[[str, bytes], tuple[int, bytes]]


def serve(handler: Handler, port: int = 0) -> ThreadingHTTPServer:
    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != MESSAGES_PATH:
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status, answer = handler(self.headers.get(PEER_HEADER, ""), body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class HttpPoster:
    """POSTs to a peer's node at ``base`` as ``sender``; no answer is ``PeerUnavailable``."""

    def __init__(self, base: str, sender: str) -> None:
        self.base = base
        self.sender = sender

    def post(self, path: str, body: bytes, timeout: float) -> bytes:
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", PEER_HEADER: self.sender},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as refused:  # a refusal still carries its document
            with refused:
                return bytes(refused.read())
        except (urllib.error.URLError, OSError) as down:
            raise PeerUnavailable(f"{self.base}: no answer ({type(down).__name__})") from None
