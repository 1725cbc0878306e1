"""A sovereign node: a store that speaks for one party, its TLS identity, its card and its pins.

A node store is an exchange store whose key sets are its own party's only (and the node's own
log key, ``@exchange``): ``init`` makes both, a self-signed TLS certificate for the node URL's
host, and the TLS private key sealed under the master key. No other party's private key is ever
written to it; a peer is known by the card it signed, pinned with ``trust``.

The identity row and every pinned-peer row carry an HMAC-SHA256 under a key derived (HKDF,
info ``accord node row mac v1``) from the node's own ``@exchange`` key set, which only the
master key opens: a row edited in the store is ``PeerRowTampered``, never a trusted peer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from accord.crypto import EXCHANGE, MasterKey, PartyKeys
from accord.crypto.canonical import canonical_json
from accord.crypto.card import (
    card_text,
    card_to_json,
    check_certificate,
    parse_card,
    sign_card,
    verify_card,
)
from accord.crypto.keys import check_owner
from accord.crypto.master import hkdf_sha256
from accord.crypto.tls import (
    TlsIdentity,
    certificate_fingerprint,
    client_context,
    open_identity,
    seal_identity,
    server_context,
)
from accord.errors import (
    AccordError,
    CertificateMismatch,
    InvalidInput,
    NodeExists,
    NotANode,
    OwnCard,
    PeerConflict,
    PeerRowTampered,
    UnknownPeer,
)
from accord.model.node import CardKeySet, NodeCard, PinnedPeer, node_address
from accord.model.time import iso, require_aware
from accord.service.exchange import Exchange
from accord.service.peer_client import CARD_PATH, DEFAULT_TIMEOUT, PeerClient
from accord.store import nodes as rows
from accord.store.sql import StoreTx, describe_store

log = logging.getLogger("accord.node")

MAC_INFO = b"accord node row mac v1"
ERROR_TEXT_MAX = 200
CONTACT_INTERVAL = timedelta(seconds=1)  # a success is recorded at most once a second per peer


@dataclass(frozen=True, slots=True)
class NodeInit:
    """What ``init`` made: the party, URL, certificate fingerprint and the log's origin."""

    party: str
    url: str
    fingerprint: str
    origin: str


def _mac(key: bytes, fields: list[object]) -> bytes:
    return hmac.digest(key, json.dumps(fields, separators=(",", ":")).encode("utf-8"), "sha256")


def _identity_fields(row: rows.IdentityRow) -> list[object]:
    return [
        "accord node identity v1",
        row.party,
        row.url,
        certificate_fingerprint(row.certificate),
        hashlib.sha256(row.sealed_key).hexdigest(),
        iso(row.created_at),
    ]


def _derive(own: PartyKeys) -> bytes:
    return hkdf_sha256(own.ed25519.private_bytes_raw(), MAC_INFO)


def _peer_fields(row: rows.PeerRow) -> list[object]:
    return ["accord node peer v1", row.party, row.fingerprint, row.card, iso(row.pinned_at)]


class Node:
    """The node operations over an exchange store (one per process; thread-safe for the
    lookups and contact notes the node server makes)."""

    def __init__(self, exchange: Exchange, clock: Callable[[], datetime] | None = None) -> None:
        """``clock``: the real time of pins, contacts and certificate checks, when the
        exchange's own clock may be frozen (``accord serve --at``); the exchange's otherwise."""
        self.exchange = exchange
        self._clock = clock
        self._mac_key: bytes | None = None
        self._lock = threading.Lock()
        self._contexts: dict[tuple[str, str], ssl.SSLContext] = {}
        self._noted: dict[str, datetime] = {}  # successes recorded by this object, by peer

    def now(self) -> datetime:
        if self._clock is None:
            return self.exchange.instant(None)
        return require_aware(self._clock(), "clock")

    # --- the node's own identity ----------------------------------------------------------------

    def init(self, party: str, url: str) -> NodeInit:
        """Make this store a node for ``party`` at ``url``: the log key, ``party``'s key set and
        the TLS identity. Refused (``NodeExists``) on a store that has keys or a node already."""
        from accord.service import journal  # noqa: PLC0415

        try:
            check_owner(party)
        except InvalidInput:
            raise InvalidInput(f"PARTY: {party!r} is not a party code") from None
        if party == EXCHANGE or party.startswith("@"):
            raise InvalidInput(f"PARTY: {party!r} is reserved for the node itself")
        host, _ = node_address(url, "--url")
        ex = self.exchange
        with ex.session(write=True) as s:
            if rows.identities(s.tx):
                raise NodeExists("this store is already a node (see `accord node card`)")
            if ex.vault.has_keys(s.tx):
                raise NodeExists(
                    "this store already has keys: a node is made in a new store of its own"
                )
            now = self.now()
            origin = journal.origin_of(_origin_id())
            s.tx.set_meta(journal.ORIGIN, origin)
            own = ex.vault.create(s.tx, EXCHANGE, now)
            ex.vault.create(s.tx, party, now)
            identity = TlsIdentity.generate(party, host, now)
            sealed = seal_identity(identity, ex.vault.master)
            unsigned = rows.IdentityRow(party, url, identity.certificate_pem, sealed, now, b"")
            key = _derive(own)  # kept only once the transaction is committed
            row = rows.IdentityRow(
                party,
                url,
                identity.certificate_pem,
                sealed,
                now,
                _mac(key, _identity_fields(unsigned)),
            )
            rows.add_identity(s.tx, row)
            subject = {"party": party, "url": url, "fingerprint": identity.fingerprint}
            s.log("node-init", now, {**subject, "origin": origin})
        return NodeInit(party, url, identity.fingerprint, origin)

    def _key(self, tx: StoreTx) -> bytes:
        """The row MAC key, from the node's first ``@exchange`` key set (it survives key and
        master-key rotation; only the master key opens it)."""
        if self._mac_key is None:
            own = self.exchange.vault.keyring(tx, tx.revision()).get(EXCHANGE, 1)
            self._mac_key = _derive(own)
        return self._mac_key

    def _identity_row(self, tx: StoreTx) -> rows.IdentityRow:
        found = rows.identities(tx)
        if not found:
            raise NotANode(
                f"the store at {describe_store(self.exchange.store.url)} is not a node:"
                " run `accord node init`"
            )
        if len(found) > 1:
            raise PeerRowTampered("the node's identity rows do not verify (more than one)")
        row = found[0]
        if not hmac.compare_digest(row.mac, _mac(self._key(tx), _identity_fields(row))):
            log.warning("node identity row of %s fails its MAC", row.party)
            raise PeerRowTampered(f"the node's identity row ({row.party}) does not verify")
        return row

    def is_node(self) -> bool:
        with self.exchange.store.transaction(write=False) as tx:
            return bool(rows.identities(tx))

    def party(self) -> str:
        with self.exchange.store.transaction(write=False) as tx:
            return self._identity_row(tx).party

    def url(self) -> str:
        with self.exchange.store.transaction(write=False) as tx:
            return self._identity_row(tx).url

    def identity(self) -> TlsIdentity:
        """The node's TLS certificate and private key (opened with the master key)."""
        with self.exchange.store.transaction(write=False) as tx:
            row = self._identity_row(tx)
            return open_identity(
                row.party, row.certificate, row.sealed_key, self.exchange.vault.master
            )

    def own_keys(self) -> PartyKeys:
        """The newest key set of the node's party (it signs messages, facts and receipts)."""
        with self.exchange.store.transaction(write=False) as tx:
            party = self._identity_row(tx).party
            return self.exchange.vault.keyring(tx, tx.revision()).current(party)

    def log_verifier(self) -> str:
        """The note verifier key of the node's log (its checkpoints)."""
        from accord.service import auditor  # noqa: PLC0415

        with self.exchange.store.transaction(write=False) as tx:
            return auditor.exchange_verifier_key(tx)

    def card(self) -> NodeCard:
        """The node's public card, signed by its party's newest key set."""
        from accord.service import auditor  # noqa: PLC0415

        with self.exchange.store.transaction(write=False) as tx:
            row = self._identity_row(tx)
            keyring = self.exchange.vault.keyring(tx, tx.revision())
            key_sets = tuple(
                CardKeySet(v, p.x25519.hex(), p.ed25519.hex())
                for v in keyring.versions(row.party)
                for p in (keyring.public(row.party, v),)
            )
            verifier = auditor.exchange_verifier_key(tx)
            return sign_card(
                keyring.current(row.party), row.url, row.certificate, key_sets, verifier
            )

    def card_text(self) -> str:
        """The card as the JSON text ``accord node card`` prints and ``GET /node/v1/card`` serves."""
        return card_text(self.card())

    # --- peers ----------------------------------------------------------------------------------

    def trust(self, text: bytes, source: str) -> PinnedPeer:
        """Pin the peer whose card is ``text`` (read from ``source``): its signature and its
        certificate are checked; pinning the same card again changes nothing."""
        card = parse_card(text, source)
        verify_card(card, source)
        ex = self.exchange
        with ex.session(write=True) as s:
            own = self._identity_row(s.tx)
            now = self.now()
            check_certificate(card, now, source)
            if card.party == own.party:
                raise OwnCard(f"{source}: party: {card.party!r} is this node's own party")
            fingerprint = certificate_fingerprint(card.certificate)
            stored = canonical_json(card_to_json(card)).decode("utf-8")
            pinned = self._verified_peers(s.tx)
            held = pinned.get(card.party)
            if held is not None:
                if held.fingerprint == fingerprint and held.card == card:
                    return held
                what = "certificate" if held.fingerprint != fingerprint else "card"
                raise PeerConflict(
                    f"{source}: party: {card.party} is already pinned with another {what}"
                    f" (certificate {held.fingerprint[:16]}...)"
                )
            twin = next((p for p in pinned.values() if p.fingerprint == fingerprint), None)
            if twin is not None:
                raise CertificateMismatch(
                    f"{source}: tls.certificate: it is already pinned for party {twin.party}"
                )
            if fingerprint == certificate_fingerprint(own.certificate):
                raise CertificateMismatch(
                    f"{source}: tls.certificate: it is this node's own certificate"
                )
            unsigned = rows.PeerRow(card.party, fingerprint, stored, now, b"")
            row = rows.PeerRow(
                card.party, fingerprint, stored, now, _mac(self._key(s.tx), _peer_fields(unsigned))
            )
            rows.add_peer(s.tx, row)
            subject = {"party": card.party, "url": card.url, "fingerprint": fingerprint}
            s.log("node-trust", now, subject)
            return PinnedPeer(card, fingerprint, now)

    def _verified_peers(self, tx: StoreTx) -> dict[str, PinnedPeer]:
        key = self._key(tx)
        contacts = rows.contacts(tx)
        found: dict[str, PinnedPeer] = {}
        for row in rows.peers(tx):
            if not hmac.compare_digest(row.mac, _mac(key, _peer_fields(row))):
                log.warning("pinned peer row %s fails its MAC", row.party)
                raise PeerRowTampered(f"the pinned peer row for {row.party} does not verify")
            card = parse_card(row.card, f"the pinned card of {row.party}")
            if (
                card.party != row.party
                or certificate_fingerprint(card.certificate) != row.fingerprint
            ):
                raise PeerRowTampered(f"the pinned peer row for {row.party} does not verify")
            contact = contacts.get(row.party)
            found[row.party] = PinnedPeer(
                card,
                row.fingerprint,
                row.pinned_at,
                contact.last_contact if contact else None,
                contact.last_error if contact else None,
                contact.last_error_at if contact else None,
            )
        return found

    def peers(self) -> list[PinnedPeer]:
        """Every pinned peer, by party, each row's binding checked."""
        with self.exchange.store.transaction(write=False) as tx:
            self._identity_row(tx)
            return list(self._verified_peers(tx).values())

    def peer(self, party: str) -> PinnedPeer:
        """The pinned peer ``party``; ``UnknownPeer`` if this node has not pinned it."""
        found = {p.party: p for p in self.peers()}.get(party)
        if found is None:
            raise UnknownPeer(f"peer: {party!r} is not a pinned peer of this node")
        return found

    # --- the channel ----------------------------------------------------------------------------

    def server_context(self, peers: Sequence[PinnedPeer]) -> ssl.SSLContext:
        """The node endpoint's TLS context: our identity, ``peers``' certificates the only
        trust anchors, a client certificate required, TLS 1.3."""
        return server_context(self.identity(), [p.card.certificate for p in peers])

    def client(self, party: str, timeout: float = DEFAULT_TIMEOUT) -> PeerClient:
        """A mutual-TLS client to the pinned peer ``party`` (``UnknownPeer`` if not pinned).
        The pin is read and checked every time; the TLS context made for a pinned certificate
        is kept by this object (making one loads our key, which is the slow part)."""
        card = self.peer(party).card
        identity = self.identity()
        key = (identity.fingerprint, certificate_fingerprint(card.certificate))
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                context = self._contexts[key] = client_context(identity, card.certificate)
        return PeerClient(identity, card, timeout=timeout, context=context)

    def probe(self, timeout: float = DEFAULT_TIMEOUT) -> list[PinnedPeer]:
        """Fetch each pinned peer's card over mutual TLS and record the outcome (a card other
        than the pinned one is a failure); the peers as they stand afterwards."""
        identity = self.identity()
        for peer in self.peers():
            self.note_contact(peer.party, _probe(identity, peer, timeout))
        return self.peers()

    def note_contact(self, party: str, error: str | None = None) -> None:
        """Record that ``party`` was reached now (or failed, with ``error``); bookkeeping only,
        and a store that is busy does not stop the message."""
        text = None if error is None else error[:ERROR_TEXT_MAX]
        now = self.now()
        with self._lock:
            last = self._noted.get(party)
            if text is None and last is not None and now - last < CONTACT_INTERVAL:
                return  # a success just recorded: one row write a second per peer at most
            self._noted[party] = now
        try:
            with self._lock, self.exchange.store.transaction(write=False) as tx:
                rows.note_contact(tx, party, now, text)
        except AccordError:
            log.warning("could not record contact with %s", party)
        if text is not None:
            with self._lock:
                self._noted.pop(party, None)


def pinned_party_keys(tx: StoreTx, own: PartyKeys | None) -> dict[str, list[bytes]]:
    """Each pinned peer's Ed25519 public keys (raw, every version on its card): the keys under
    which the world trusts that party's facts. ``own`` is the node's first ``@exchange`` key
    set, which binds each pinned row; a row that fails its MAC is left out (so the facts only
    it could vouch for fail their check). Without ``own`` (no master key: a question that opens
    no key) the rows are read unchecked, as the stored public keys are."""
    key = None if own is None else _derive(own)
    found: dict[str, list[bytes]] = {}
    for row in rows.peers(tx):
        if key is not None and not hmac.compare_digest(row.mac, _mac(key, _peer_fields(row))):
            log.warning("pinned peer row %s fails its MAC: its facts are not trusted", row.party)
            continue
        try:
            card = parse_card(row.card, f"the pinned card of {row.party}")
        except AccordError:
            continue
        if card.party != row.party:
            continue
        found[row.party] = [bytes.fromhex(k.ed25519) for k in card.key_sets]
    return found


def reseal_identity(tx: StoreTx, own: PartyKeys, old: MasterKey, new: MasterKey) -> bool:
    """On a node store, its TLS key sealed under ``new`` instead of ``old`` (master-key
    rotation), the row's MAC made again; ``own`` is the node's first ``@exchange`` key set.
    ``False`` on a store that is not a node."""
    found = rows.identities(tx)
    if not found:
        return False
    key = _derive(own)
    row = found[0]
    if len(found) > 1 or not hmac.compare_digest(row.mac, _mac(key, _identity_fields(row))):
        raise PeerRowTampered(f"the node's identity row ({row.party}) does not verify")
    identity = open_identity(row.party, row.certificate, row.sealed_key, old)
    fresh = replace(row, sealed_key=seal_identity(identity, new), mac=b"")
    rows.reseal_identity(tx, replace(fresh, mac=_mac(key, _identity_fields(fresh))))
    return True


def _probe(identity: TlsIdentity, peer: PinnedPeer, timeout: float) -> str | None:
    """``None`` if ``peer`` served its pinned card, else what went wrong (its error code)."""
    try:
        with PeerClient(identity, peer.card, timeout=timeout) as client:
            served = parse_card(client.get(CARD_PATH, timeout), f"the card {peer.party} served")
    except AccordError as error:
        return error.code
    return None if served == peer.card else "served-another-card"


def _origin_id() -> str:
    import uuid  # noqa: PLC0415

    return str(uuid.uuid4())
