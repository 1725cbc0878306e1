"""Real node stores for the node-protocol tests: SQLite files, real keys, the real receiver and
deliverer, connected by a transport that calls the other node's handler, and a fault-injecting
layer over it. Every random choice comes from a seeded ``random.Random``."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.crypto import canonical_json
from accord.crypto.messages import sign_fact
from accord.errors import InvalidInput, PeerUnavailable
from accord.model.messages import PeerKeys, WireFact
from accord.service import Exchange, MasterKey
from accord.service.deliverer import Deliverer
from accord.service.node_settings import NodeIdentity, NodeSettings
from accord.service.receiver import Receiver
from accord.store import inbox, outbox

T0 = datetime(2019, 11, 22, 14, 0, tzinfo=UTC)
NOTE_KIND = "test-note"  # the one kind of fact these tests define: its body names its voucher


def seed_key(party: str) -> Ed25519PrivateKey:
    """A fixed Ed25519 key per party (derandomized)."""
    return Ed25519PrivateKey.from_private_bytes(party.encode().ljust(32, b"\x00")[:32])


def vouched_by(kind: str, body: bytes) -> str:
    """A small real definition: a ``test-note`` is vouched for by the party its body names."""
    if kind != NOTE_KIND:
        raise InvalidInput(f"kind {kind!r}: no such kind of fact")
    try:
        doc = json.loads(body)
        return str(doc["by"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("a test-note body is a JSON object with 'by'") from None


def note(party: str, n: int, instant: datetime, *, signer: str | None = None) -> WireFact:
    """A test-note by ``party`` numbered ``n``, signed by ``signer`` (default ``party``)."""
    body = canonical_json({"by": party, "n": n})
    unsigned = WireFact(f"{party}-note-{n}", NOTE_KIND, party, instant, body, b"")
    return sign_fact(seed_key(signer or party), unsigned)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Directory:
    """Every node's public keys, as pinned cards would give them."""

    keys: dict[str, PeerKeys] = field(default_factory=dict)

    def __call__(self, party: str) -> PeerKeys | None:
        return self.keys.get(party)


class Node:
    def __init__(
        self,
        path: Path,
        party: str,
        clock: Clock,
        directory: Directory,
        settings: NodeSettings | None = None,
        *,
        master: MasterKey | None = None,
        init: bool = True,
    ) -> None:
        self.party = party
        self.path = path
        self.master = master or MasterKey.generate()
        key = self.master
        self.exchange = Exchange.open(f"sqlite:///{path}", clock=clock, master=lambda: key)
        if init:
            self.exchange.init_keys()
        self.identity = NodeIdentity(party, seed_key(party))
        directory.keys[party] = PeerKeys(
            party,
            self.identity.key.public_key().public_bytes_raw(),
            self.exchange.verifier_key(),
        )
        self.receiver = Receiver(self.exchange, self.identity, directory, vouched_by, settings)
        self.directory = directory
        self.settings = settings

    def deliverer(self, transport: object) -> Deliverer:
        return Deliverer(self.exchange, self.identity, self.directory, transport, self.settings)  # type: ignore[arg-type]

    def enqueue(self, peer: str, *facts: WireFact) -> None:
        with self.exchange.store.transaction(write=True) as tx:
            for fact in facts:
                outbox.enqueue(tx, peer, fact, self.exchange.instant(None))

    def received(self) -> list[inbox.ReceivedFact]:
        with self.exchange.store.transaction() as tx:
            return inbox.received(tx)

    def queued(self, peer: str | None = None) -> list[outbox.QueuedFact]:
        with self.exchange.store.transaction() as tx:
            return outbox.queued(tx, peer)

    def log_kinds(self) -> list[str]:
        from accord.service import journal

        with self.exchange.store.transaction() as tx:
            size = int(json.loads(tx.meta(journal.FRONTIER) or '{"size": 0}')["size"])
            entries = [tx.entry(seq) for seq in range(size)]
        return [
            journal.decode_entry(e[0], n)["kind"] for n, e in enumerate(entries) if e is not None
        ]

    def log_bodies(self, kind: str) -> list[dict[str, object]]:
        from accord.service import journal

        with self.exchange.store.transaction() as tx:
            size = int(json.loads(tx.meta(journal.FRONTIER) or '{"size": 0}')["size"])
            entries = [tx.entry(seq) for seq in range(size)]
        bodies = [journal.decode_entry(e[0], n) for n, e in enumerate(entries) if e is not None]
        return [b for b in bodies if b["kind"] == kind]


@dataclass
class Direct:
    """A carrier from ``sender``'s node to the others: calls the peer's real handler, the
    sender authenticated as the channel would. ``down`` peers raise ``PeerUnavailable``."""

    sender: str
    nodes: dict[str, Node]
    down: set[str] = field(default_factory=set)

    def send(self, peer: str, body: bytes) -> bytes:
        if peer in self.down:
            raise PeerUnavailable(f"{peer} is down")
        return self.nodes[peer].receiver.handle(self.sender, body)[1]


class Fault(StrEnum):
    PASS = "pass"
    DROP = "drop"  # the request is lost
    LOSE_ANSWER = "lose-answer"  # delivered; the answer is lost
    DUPLICATE = "duplicate"  # delivered twice
    DELAY = "delay"  # held back, delivered before a later request (so out of order)
    REORDER = "reorder"  # delivered, then an earlier request again after it
    CORRUPT = "corrupt"  # one byte changed
    TRUNCATE = "truncate"  # cut short


@dataclass
class Faulty:
    """A real fault-injecting layer over a carrier, driven by a plan of faults."""

    inner: Direct
    plan: Iterator[Fault]
    rng: random.Random
    held: list[tuple[str, bytes]] = field(default_factory=list)
    sent: list[tuple[str, bytes]] = field(default_factory=list)

    def send(self, peer: str, body: bytes) -> bytes:
        fault = next(self.plan, Fault.PASS)
        for late_peer, late in self.held:  # delayed requests arrive first, their answers lost
            self._deliver(late_peer, late)
        self.held.clear()
        if fault is Fault.DROP:
            raise PeerUnavailable(f"{peer}: dropped")
        if fault is Fault.DELAY:
            self.held.append((peer, body))
            raise PeerUnavailable(f"{peer}: timed out")
        if fault is Fault.CORRUPT:
            at = self.rng.randrange(len(body))
            body = body[:at] + bytes([body[at] ^ (1 << self.rng.randrange(8))]) + body[at + 1 :]
        if fault is Fault.TRUNCATE:
            body = body[: self.rng.randrange(len(body))]
        answer = self._deliver(peer, body)
        if fault is Fault.DUPLICATE:
            answer = self._deliver(peer, body)
        if fault is Fault.REORDER and len(self.sent) > 1:
            self._deliver(*self.sent[-2])
        if fault is Fault.LOSE_ANSWER:
            raise PeerUnavailable(f"{peer}: the connection closed before the answer")
        return answer

    def _deliver(self, peer: str, body: bytes) -> bytes:
        self.sent.append((peer, body))
        return self.inner.send(peer, body)
