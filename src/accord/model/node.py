"""A sovereign node's public card, and what a node knows of the peers it has pinned.

A node speaks for one party. Its *card* is what a peer needs to talk to it and to check what it
signs: the party, the node-to-node URL, the TLS certificate (PEM) and the SHA-256 of the
certificate's public key, the party's key-set public keys, the node's log verifier key, and the
party's Ed25519 signature over all of it (the codec and the signature live in
``accord.crypto.card``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.errors import InvalidInput
from accord.model.time import require_aware

CARD_FORMAT = "accord-node-card/1"


class PeerStatus(StrEnum):
    """What a node knows of a pinned peer's reachability."""

    PINNED = "pinned"  # pinned, never contacted since
    REACHABLE = "reachable"  # the last contact succeeded
    FAILING = "failing"  # the last contact failed (``last_error`` says how)


@dataclass(frozen=True, slots=True)
class CardKeySet:
    """One version of the party's public keys: raw X25519 and Ed25519 keys as lowercase hex."""

    version: int
    x25519: str
    ed25519: str


@dataclass(frozen=True, slots=True)
class CardSignature:
    """The party's Ed25519 signature over the card, with the key-set version that made it."""

    key_version: int
    ed25519: str  # 64 bytes as lowercase hex


@dataclass(frozen=True, slots=True)
class NodeCard:
    """A node's public card, as its party signed it."""

    party: str
    url: str
    certificate: str  # PEM
    tls_key_sha256: str  # SHA-256 of the certificate's SubjectPublicKeyInfo (DER), hex
    key_sets: tuple[CardKeySet, ...]
    log_verifier_key: str
    signature: CardSignature

    def key_set(self, version: int) -> CardKeySet | None:
        return next((k for k in self.key_sets if k.version == version), None)


@dataclass(frozen=True, slots=True)
class PinnedPeer:
    """A peer as this node pinned it, and the last it heard of it."""

    card: NodeCard
    fingerprint: str  # SHA-256 of the certificate (DER), hex
    pinned_at: datetime
    last_contact: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.pinned_at, "pinned_at")

    @property
    def party(self) -> str:
        return self.card.party

    @property
    def status(self) -> PeerStatus:
        if self.last_error_at is not None and (
            self.last_contact is None or self.last_error_at >= self.last_contact
        ):
            return PeerStatus.FAILING
        return PeerStatus.REACHABLE if self.last_contact is not None else PeerStatus.PINNED


def node_address(url: str, field: str = "url") -> tuple[str, int]:
    """The host and port of a node URL: ``https://HOST:PORT`` (no path, query, user or
    fragment); ``InvalidInput`` naming ``field`` and the value otherwise."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    problem = f"{field}: {url!r} is not a node URL (https://HOST:PORT)"
    if not isinstance(url, str):
        raise InvalidInput(problem)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(problem) from None
    if (
        parts.scheme != "https"
        or not parts.hostname
        or port is None
        or port == 0
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        raise InvalidInput(problem)
    return parts.hostname, port
