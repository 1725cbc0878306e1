"""The node-to-node channel: a POST over pinned mutual TLS beside the same POST over server-only
TLS with a bearer key (how MISP instances authenticate their sync), in one run.

    .venv/bin/python -m bench.node_channel [--n 500 --seconds 20 --body 1024 --json PATH]

Both sides run the same standard-library server (``ThreadingHTTPServer``, each socket wrapped by
``ssl`` in its own thread) and the same httpx client on 127.0.0.1, TLS 1.3, ECDSA P-256
certificates. The accord side is the real node endpoint (``node_endpoint``) and ``PeerClient``
between two real node stores; the peer side checks an ``Authorization: Bearer`` key instead of
a pinned client certificate. Two figures each: ``kept``, one connection reused for every POST;
``new``, a new connection (so a full handshake) for every POST. p50 and p99 in milliseconds and
the ratio accord / peer. Bounded by ``--n`` requests and ``--seconds`` per measurement.

Exit 1 if any answer is not the body sent back. A benchmark, not a test: nothing asserts a
timing.
"""

from __future__ import annotations

import argparse
import hmac
import platform
import secrets
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from accord.api.node_server import node_endpoint
from accord.crypto import MasterKey
from accord.crypto.tls import TlsIdentity, load_chain
from accord.service import Exchange, system_clock
from accord.service.node import Node
from accord.service.peer_client import PeerClient
from bench.results import save_json

PATH = "/node/v1/messages"


def _port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node(folder: Path, party: str) -> Node:
    master = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{folder / party}.db", master=lambda: master)
    node = Node(exchange, clock=system_clock)
    node.init(party, f"https://127.0.0.1:{_port()}")
    return node


def _echo(party: str, body: bytes) -> tuple[int, bytes]:
    return 200, body


def _measure(send: Callable[[], bytes], body: bytes, n: int, seconds: float) -> dict[str, Any]:
    times: list[float] = []
    stop = time.perf_counter() + seconds
    for _ in range(n):
        start = time.perf_counter()
        if send() != body:
            raise SystemExit("an answer was not the body sent")
        times.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() > stop:
            break
    times.sort()
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
    }


def _accord(folder: Path, body: bytes, n: int, seconds: float) -> dict[str, Any]:
    kor, jpn = _node(folder, "KOR"), _node(folder, "JPN")
    kor.trust(jpn.card_text().encode(), "jpn")
    jpn.trust(kor.card_text().encode(), "kor")
    quiet = Node(jpn.exchange)  # contacts noted as in serve: each answered POST writes a row
    with node_endpoint(quiet, _echo).start():
        identity, card = kor.identity(), kor.peer("JPN").card
        with PeerClient(identity, card) as kept:
            kept.post(PATH, body)  # warm
            result = {"kept": _measure(lambda: kept.post(PATH, body), body, n, seconds)}

        def fresh() -> bytes:  # a new connection each time; the node keeps its TLS context
            with kor.client("JPN") as client:
                return client.post(PATH, body)

        result["new"] = _measure(fresh, body, max(1, n // 5), seconds)
    return result


class _Bearer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    key = b""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        given = self.headers.get("Authorization", "").encode()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 200 if hmac.compare_digest(given, b"Bearer " + self.key) else 403
        answer = body if status == 200 else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _transport(context: ssl.SSLContext) -> httpx.HTTPTransport:
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    return httpx.HTTPTransport(verify=context, socket_options=nodelay)


def _peer(body: bytes, n: int, seconds: float) -> dict[str, Any]:
    from datetime import UTC, datetime

    identity = TlsIdentity.generate("PEER", "127.0.0.1", datetime.now(UTC))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.minimum_version = ssl.TLSVersion.TLSv1_3
    load_chain(server_context, identity)
    key = secrets.token_hex(32).encode()
    handler = type("Bearer", (_Bearer,), {"key": key})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    client_context = ssl.create_default_context(cadata=identity.certificate_pem)
    client_context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    client_context.minimum_version = ssl.TLSVersion.TLSv1_3
    headers = {"authorization": f"Bearer {key.decode()}"}

    def post(client: httpx.Client) -> bytes:
        answer = client.post(url + PATH, content=body, headers=headers)
        return answer.content if answer.status_code == 200 else b""

    try:
        with httpx.Client(transport=_transport(client_context), trust_env=False) as kept:
            post(kept)
            result = {"kept": _measure(lambda: post(kept), body, n, seconds)}

        def fresh() -> bytes:
            with httpx.Client(transport=_transport(client_context), trust_env=False) as client:
                return post(client)

        result["new"] = _measure(fresh, body, max(1, n // 5), seconds)
    finally:
        server.shutdown()
        server.server_close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--body", type=int, default=1024)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    body = secrets.token_bytes(args.body)
    with tempfile.TemporaryDirectory() as folder:
        accord = _accord(Path(folder), body, args.n, args.seconds)
    peer = _peer(body, args.n, args.seconds)
    print(
        f"# node channel, {args.body}-byte POST, {platform.python_version()}, {ssl.OPENSSL_VERSION}"
    )
    print("| connection | accord p50 ms | accord p99 ms | peer p50 ms | peer p99 ms | p50 ratio |")
    print("|---|---|---|---|---|---|")
    for mode in ("kept", "new"):
        a, p = accord[mode], peer[mode]
        ratio = a["p50_ms"] / p["p50_ms"] if p["p50_ms"] else float("nan")
        print(
            f"| {mode} | {a['p50_ms']} | {a['p99_ms']} | {p['p50_ms']} | {p['p99_ms']} |"
            f" {ratio:.2f} |"
        )
    if args.json:
        save_json(args.json, {"accord": accord, "peer": peer, "body": args.body})
    return 0


if __name__ == "__main__":
    sys.exit(main())
