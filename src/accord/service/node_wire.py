"""The message protocol on a real node: its receiver and deliverer built from the node's own
keys, its pinned cards and the fact definitions, carried over the mutual-TLS channel.

- The node's identity is its party's newest key set (the Ed25519 key that signs messages,
  facts, receipts and witness cosignatures).
- A party's keys (``PeerKeys``) come from its pinned card: the Ed25519 public key of the card's
  newest key set and the card's log verifier key. This node's own party is known from its own
  keys and log.
- Who must vouch for a fact is the fact kind's one definition (``accord.model.facts``): the
  body is decoded by that definition and its vouchers worked out. A kind no definition knows,
  a body the definition cannot read, and a kind that needs more than one voucher (an agreement,
  an amendment: both parties sign, and a message's fact carries one signature) are refused as
  malformed. Such a fact crosses as one ``cosignature`` share per voucher, vouched for by the
  party the share names.
- Messages go out through ``Node.client`` (``PeerClient``: mutual TLS, the peer's certificate
  pinned), so a peer is reached only at the URL and certificate of its pinned card.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from accord.crypto.canonical import canonical_json
from accord.crypto.messages import sign_fact
from accord.errors import InvalidInput, PeerRefused, PeerRejected, PeerUnavailable
from accord.model.facts import cosignature
from accord.model.facts.definition import FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import PeerKeys, WireFact
from accord.model.time import require_aware
from accord.model.world import World
from accord.service.deliverer import Deliverer
from accord.service.node import Node
from accord.service.node_apply import Applier
from accord.service.node_settings import (
    MESSAGES_PATH,
    ChannelTransport,
    NodeIdentity,
    NodeSettings,
)
from accord.service.peer_client import PeerClient
from accord.service.receiver import Receiver
from accord.store import outbox


def vouched_by(kind: str, body: bytes) -> str:
    """The one party that must sign a fact of ``kind`` with ``body``, by the kind's definition;
    ``InvalidInput`` for a kind not defined, a body it cannot read, or several vouchers. A
    ``cosignature`` share is vouched for by the party it names (``by``)."""
    if kind == cosignature.KIND:
        try:
            return cosignature.decode(json.loads(body)).by
        except Exception:  # any failure to read the body is the sender's: it is malformed
            raise InvalidInput("body: this node cannot read it as a cosignature share") from None
    try:
        definition = DEFINITIONS[FactKind(kind)]
    except ValueError:
        raise InvalidInput(f"kind: {kind[:80]!r} is not a kind of fact this node defines") from None
    try:
        doc = json.loads(body)
        fact = definition.decode(doc)
        vouchers = definition.vouchers(fact, World())
    except Exception:  # any failure to read the body is the sender's: it is malformed
        raise InvalidInput(f"body: this node cannot read it as a {kind} fact") from None
    if len(vouchers) != 1:
        raise InvalidInput(
            f"kind: a {kind} fact is vouched for by several parties and is not sent as one fact"
        )
    return vouchers[0]


def card_keys(node: Node, party: str) -> PeerKeys | None:
    """The keys of ``party`` as this node knows them: its own, or its pinned card's."""
    if party == node.party():
        own = node.own_keys()
        return PeerKeys(party, own.ed25519.public_key().public_bytes_raw(), node.log_verifier())
    pinned = {p.party: p for p in node.peers()}.get(party)
    if pinned is None:
        return None
    card = pinned.card
    newest = max(card.key_sets, key=lambda k: k.version)
    return PeerKeys(party, bytes.fromhex(newest.ed25519), card.log_verifier_key)


class PinnedClients:
    """A ``Poster`` per peer: a mutual-TLS client to its pinned card's URL. The pin is read
    and checked at every send; the client (and its connection) is kept while the pinned
    certificate stays the same."""

    def __init__(self, node: Node, timeout: float) -> None:
        self.node = node
        self.timeout = timeout
        self._lock = threading.Lock()
        self._clients: dict[str, tuple[str, PeerClient]] = {}

    def __call__(self, party: str) -> _Pinned:
        return _Pinned(self, party)

    def client(self, party: str) -> PeerClient:
        pinned = self.node.peer(party)  # UnknownPeer; a row edited in the store fails here
        with self._lock:
            held = self._clients.get(party)
            if held is not None and held[0] == pinned.fingerprint:
                return held[1]
            if held is not None:
                held[1].close()
            client = self.node.client(party, self.timeout)
            self._clients[party] = (pinned.fingerprint, client)
            return client

    def drop(self, party: str) -> None:
        """Forget ``party``'s client (after a failure: the next send connects anew)."""
        with self._lock:
            held = self._clients.pop(party, None)
        if held is not None:
            held[1].close()

    def close(self) -> None:
        for party in list(self._clients):
            self.drop(party)


@dataclass(frozen=True, slots=True)
class _Pinned:
    clients: PinnedClients
    party: str

    def post(self, path: str, body: bytes, timeout: float) -> bytes:
        client = self.clients.client(self.party)
        try:
            return client.post(path, body, timeout)
        except PeerRejected as refused:  # a refusal still carries its signed document
            if refused.body:
                return refused.body
            self.clients.drop(self.party)
            raise PeerUnavailable(refused.message) from None
        except PeerRefused as refused:  # not this time: the pin may be put right
            self.clients.drop(self.party)
            raise PeerUnavailable(refused.message) from None
        except PeerUnavailable:
            self.clients.drop(self.party)
            raise


class Wire:
    """The protocol of ``node``: ``receiver`` (for the node endpoint), ``deliverer`` (its
    outbox, over mutual TLS) and ``enqueue`` (a fact this node vouches for, signed and
    queued for a peer)."""

    def __init__(
        self,
        node: Node,
        settings: NodeSettings | None = None,
        timeout: float = 10.0,
        vouched: Callable[[str, bytes], str] = vouched_by,
    ) -> None:
        self.node = node
        self.settings = settings or NodeSettings()
        self.identity = NodeIdentity(node.party(), node.own_keys().ed25519)
        self.vouched = vouched
        self._lock = threading.Lock()
        self._known: dict[str, PeerKeys] = {}
        keys = self._keys
        applier = Applier(node.exchange, self.identity.party, self._pinned)
        self.receiver = Receiver(
            node.exchange, self.identity, keys, vouched, self.settings, applier
        )
        self.clients = PinnedClients(node, timeout)
        transport = ChannelTransport(self.clients, timeout)
        self.deliverer = Deliverer(node.exchange, self.identity, keys, transport, self.settings)

    def close(self) -> None:
        """Close the connections to the peers."""
        self.clients.close()

    def _keys(self, party: str) -> PeerKeys | None:
        """``party``'s keys; found ones are kept by this object. A party's pin never changes
        (another card for a pinned party is refused), so only an unknown party is read again."""
        found = self._known.get(party)
        if found is None:
            found = card_keys(self.node, party)
            if found is not None:
                with self._lock:
                    self._known[party] = found
        return found

    def _pinned(self) -> dict[str, list[bytes]]:
        """Every pinned peer's keys, every version: the facts they vouch for are trusted under
        these (the rows read and checked again for each message that carries facts)."""
        return {
            p.party: [bytes.fromhex(k.ed25519) for k in p.card.key_sets] for p in self.node.peers()
        }

    def handle(self, peer: str, body: bytes) -> tuple[int, bytes]:
        return self.receiver.handle(peer, body)

    def enqueue(self, peer: str, kind: str, body: object, instant: datetime) -> WireFact:
        """Sign the fact ``kind`` with ``body`` (JSON values) at ``instant`` as this node's
        party and queue it for the pinned ``peer``; the same fact again changes nothing."""
        instant = require_aware(instant, "instant")
        self.node.peer(peer)  # UnknownPeer before anything is written
        encoded = canonical_json(body)
        voucher = self.vouched(kind, encoded)
        party = self.identity.party
        if voucher != party:
            raise InvalidInput(
                f"party: a {kind} fact with this body is vouched for by {voucher},"
                f" not by this node's party {party}"
            )
        from accord.crypto.facts import fact_id  # noqa: PLC0415

        unsigned = WireFact(
            fact_id(kind, encoded.decode("utf-8")), kind, party, instant, encoded, b""
        )
        fact = sign_fact(self.identity.key, unsigned)
        with self.node.exchange.store.transaction(write=True) as tx:
            outbox.enqueue(tx, peer, fact, self.node.now())
        return fact


__all__ = ["MESSAGES_PATH", "PinnedClients", "Wire", "card_keys", "vouched_by"]
