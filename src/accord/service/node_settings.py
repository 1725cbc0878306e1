"""What a node needs to speak the node-to-node protocol: its identity, its typed settings, the
keys of the parties it knows, and a carrier for its messages.

The carrier is anything with ``send(peer, body) -> answer bytes`` (``Transport``), raising
``PeerUnavailable`` when the peer does not answer. ``ChannelTransport`` puts it on the node
channel: ``POST /node/v1/messages`` through a per-peer client with ``post(path, body, timeout)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.errors import InvalidInput
from accord.model.messages import MAX_FACTS, PeerKeys
from accord.policy.arrival import ArrivalRules

MESSAGES_PATH = "/node/v1/messages"
DEFAULT_BATCH = 100
DEFAULT_TIMEOUT = 10.0  # seconds a send waits for its answer

PeerLookup = Callable[[str], PeerKeys | None]
"""The keys of a party this node knows (its pinned peers and itself), or ``None``."""

VouchedBy = Callable[[str, bytes], str]
"""``vouched_by(kind, body)``: the party that must sign a fact of ``kind`` with ``body``;
``InvalidInput`` for a kind the node does not know."""


class Transport(Protocol):
    def send(self, peer: str, body: bytes) -> bytes:
        """Deliver ``body`` to ``peer``'s node and return its answer, or raise
        ``PeerUnavailable``."""
        ...


class Poster(Protocol):
    def post(self, path: str, body: bytes, timeout: float) -> bytes: ...


@dataclass(frozen=True, slots=True)
class ChannelTransport:
    """Messages over the node channel: ``clients(peer).post(MESSAGES_PATH, body, timeout)``."""

    clients: Callable[[str], Poster]
    timeout: float = DEFAULT_TIMEOUT

    def send(self, peer: str, body: bytes) -> bytes:
        return self.clients(peer).post(MESSAGES_PATH, body, self.timeout)


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """The party a node speaks for and its Ed25519 signing key (messages, receipts, witness
    cosignatures)."""

    party: str
    key: Ed25519PrivateKey

    @property
    def witness_name(self) -> str:
        return witness_name(self.party)


def witness_name(party: str) -> str:
    """The signed-note key name under which ``party``'s node cosigns its peers' checkpoints."""
    return f"accord-witness-{party}"


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """``arrival``: the clock skew allowed (default 5 s); ``batch``: facts per message."""

    arrival: ArrivalRules = field(default_factory=ArrivalRules)
    batch: int = DEFAULT_BATCH

    def __post_init__(self) -> None:
        if isinstance(self.batch, bool) or not 1 <= self.batch <= MAX_FACTS:
            raise InvalidInput(f"batch: {self.batch!r} must be from 1 to {MAX_FACTS}")
