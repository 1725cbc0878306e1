"""The client side of the node-to-node channel: HTTPS with mutual TLS to one pinned peer.

``PeerClient(identity, pinned_card)`` offers our certificate and trusts only the peer's pinned
certificate (``accord.crypto.tls.client_context``: TLS 1.3, the peer's host checked against
it); after the handshake the exact SHA-256 of the certificate the peer presented is compared
with the pinned one. Answers are read up to ``max_answer`` bytes.

Errors: ``PeerUnavailable`` when the peer is down, unreachable, or slower than ``timeout``
(the same message may be sent again); ``PeerRefused`` when the handshake fails (the peer
refused our certificate, or presented one other than the pinned one); ``PeerRejected`` when it
answered with an error status (``status`` and ``body`` are its answer; 503 is unavailable).
"""

from __future__ import annotations

import hmac
import socket
import ssl
from types import TracebackType
from typing import Any

import httpx

from accord.crypto.tls import TlsIdentity, certificate_fingerprint, client_context, der_fingerprint
from accord.errors import PeerRefused, PeerRejected, PeerUnavailable
from accord.model.node import NodeCard

MESSAGES_PATH = "/node/v1/messages"
CARD_PATH = "/node/v1/card"
DEFAULT_TIMEOUT = 10.0
MAX_ANSWER = 1024 * 1024


class PeerClient:
    """Requests to one pinned peer over mutual TLS; use as a context manager, or ``close``."""

    def __init__(
        self,
        identity: TlsIdentity,
        pinned_card: NodeCard,
        *,
        max_answer: int = MAX_ANSWER,
        timeout: float = DEFAULT_TIMEOUT,
        context: ssl.SSLContext | None = None,
    ) -> None:
        """``context``: one ``client_context(identity, pinned_card.certificate)`` made before,
        to reuse (making one loads our key); made here when not given."""
        self.identity = identity
        self.card = pinned_card
        self.fingerprint = certificate_fingerprint(pinned_card.certificate)
        self.max_answer = max_answer
        self._context = context or client_context(identity, pinned_card.certificate)
        transport = httpx.HTTPTransport(
            verify=self._context,
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],  # no Nagle delay
        )
        self._http = httpx.Client(
            base_url=pinned_card.url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            trust_env=False,  # no proxy from the environment sits between two nodes
            follow_redirects=False,
        )

    def post(self, path: str, body: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        """POST ``body`` to ``path``; the peer's answer body on a 2xx status."""
        headers = {"content-type": "application/octet-stream"}
        return self._send("POST", path, body, headers, timeout)

    def get(self, path: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
        return self._send("GET", path, None, {}, timeout)

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float
    ) -> bytes:
        peer = f"peer {self.card.party} at {self.card.url}"
        try:
            with self._http.stream(
                method, path, content=body, headers=headers, timeout=timeout
            ) as answer:
                self._check_certificate(answer, peer)
                data = self._read(answer, peer)
        except httpx.TimeoutException:
            raise PeerUnavailable(f"{peer} did not answer within {timeout:g} s") from None
        except httpx.TransportError as error:
            if _tls_failure(error):
                raise PeerRefused(
                    f"{peer}: the mutual-TLS handshake failed (our certificate was refused, or"
                    " the peer's is not the pinned one)"
                ) from None
            raise PeerUnavailable(f"{peer} cannot be reached") from None
        if answer.status_code == 503:
            raise PeerUnavailable(f"{peer} is busy (503); send again later")
        if not 200 <= answer.status_code < 300:
            raise PeerRejected(
                f"{peer} answered {method} {path} with status {answer.status_code}",
                answer.status_code,
                data,
            )
        return data

    def _check_certificate(self, answer: httpx.Response, peer: str) -> None:
        stream: Any = answer.extensions.get("network_stream")
        tls = stream.get_extra_info("ssl_object") if stream is not None else None
        der = tls.getpeercert(True) if tls is not None else None
        if der is None or not hmac.compare_digest(der_fingerprint(der), self.fingerprint):
            raise PeerRefused(f"{peer} presented a certificate other than the pinned one")

    def _read(self, answer: httpx.Response, peer: str) -> bytes:
        data = bytearray()
        for chunk in answer.iter_bytes():
            data += chunk
            if len(data) > self.max_answer:
                raise PeerRejected(
                    f"{peer} sent an answer over {self.max_answer} bytes", answer.status_code
                )
        return bytes(data)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _tls_failure(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a TLS failure rather than a network one."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError) or "SSL" in type(seen).__name__:
            return True
        if isinstance(seen, httpx.TransportError) and "alert" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
