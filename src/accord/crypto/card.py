"""A node card's JSON codec, its party's signature, and the check of its TLS certificate.

The card is JSON (``accord-node-card/1``)::

    {"format": "accord-node-card/1", "party": "KOR", "url": "https://127.0.0.1:7001",
     "tls": {"certificate": "-----BEGIN CERTIFICATE-----...", "key_sha256": "<hex>"},
     "key_sets": [{"version": 1, "x25519": "<hex>", "ed25519": "<hex>"}],
     "log_verifier_key": "accord-exchange+...",
     "signature": {"key_version": 1, "ed25519": "<hex>"}}

The signature is Ed25519 by the party's newest key set listed in the card, over
``b"accord node card v1\\n"`` followed by the RFC 8785 canonical JSON of every member but
``signature``: anyone with an Ed25519 and a JCS implementation can check it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import NameOID

from accord.crypto.canonical import canonical_json
from accord.crypto.keys import PartyKeys, check_owner
from accord.crypto.tls import host_name, load_certificate, spki_sha256
from accord.errors import (
    CardInvalid,
    CardSignatureInvalid,
    CertificateMismatch,
    InvalidInput,
)
from accord.model.node import CARD_FORMAT, CardKeySet, CardSignature, NodeCard, node_address
from accord.model.time import iso, require_aware

CARD_PREFIX = b"accord node card v1\n"
MAX_CARD_BYTES = 64 * 1024
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{128}")
_MEMBERS = {"format", "party", "url", "tls", "key_sets", "log_verifier_key", "signature"}


def card_fields(card: NodeCard) -> dict[str, Any]:
    """Every member of the card's JSON but its signature: what the signature covers."""
    return {
        "format": CARD_FORMAT,
        "party": card.party,
        "url": card.url,
        "tls": {"certificate": card.certificate, "key_sha256": card.tls_key_sha256},
        "key_sets": [
            {"version": k.version, "x25519": k.x25519, "ed25519": k.ed25519} for k in card.key_sets
        ],
        "log_verifier_key": card.log_verifier_key,
    }


def card_to_json(card: NodeCard) -> dict[str, Any]:
    signature = {"key_version": card.signature.key_version, "ed25519": card.signature.ed25519}
    return {**card_fields(card), "signature": signature}


def card_text(card: NodeCard) -> str:
    """The card as indented JSON text (what ``accord node card`` prints)."""
    return json.dumps(card_to_json(card), indent=2, ensure_ascii=False) + "\n"


def card_message(fields: Mapping[str, Any]) -> bytes:
    return CARD_PREFIX + canonical_json(dict(fields))


# --- reading -------------------------------------------------------------------------------------


def parse_card(text: bytes | str, source: str) -> NodeCard:
    """A card from its JSON text; ``CardInvalid`` naming ``source``, the field and the value."""
    if len(text) > MAX_CARD_BYTES:
        raise CardInvalid(f"{source}: a node card is at most {MAX_CARD_BYTES} bytes")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise CardInvalid(f"{source}: not a JSON node card") from None
    return card_from_json(doc, source)


def card_from_json(doc: object, source: str) -> NodeCard:
    reader = _Reader(source)
    root = reader.members(doc, "the card")
    unknown = sorted(set(root) - _MEMBERS)
    if unknown:
        raise CardInvalid(f"{source}: unknown member {unknown[0]!r}")
    if root.get("format") != CARD_FORMAT:
        reader.fail("format", root.get("format"), f"is not {CARD_FORMAT!r}")
    party = reader.text(root, "party")
    try:
        check_owner(party)
    except InvalidInput:
        reader.fail("party", party, "is not a party code")
    url = reader.text(root, "url")
    try:
        node_address(url)
    except InvalidInput:
        reader.fail("url", url, "is not a node URL (https://HOST:PORT)")
    tls = reader.members(root.get("tls"), "tls")
    certificate = reader.text(tls, "certificate", "tls.certificate")
    key_sha256 = reader.hex(tls, "key_sha256", _HEX32, "tls.key_sha256")
    key_sets = reader.key_sets(root.get("key_sets"))
    verifier = reader.text(root, "log_verifier_key")
    signature = reader.members(root.get("signature"), "signature")
    sig = CardSignature(
        reader.version(signature.get("key_version"), "signature.key_version"),
        reader.hex(signature, "ed25519", _HEX64, "signature.ed25519"),
    )
    return NodeCard(party, url, certificate, key_sha256, key_sets, verifier, sig)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, value: object, problem: str) -> NoReturn:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise CardInvalid(f"{self.source}: {field}: {shown} {problem}")

    def members(self, value: object, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(field, value, "is not a JSON object")
        return value

    def text(self, doc: Mapping[str, Any], name: str, field: str | None = None) -> str:
        value = doc.get(name)
        if not isinstance(value, str) or not value:
            self.fail(field or name, value, "is not a non-empty string")
        return value

    def hex(self, doc: Mapping[str, Any], name: str, pattern: re.Pattern[str], field: str) -> str:
        value = doc.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.fail(field, value, "is not lowercase hex of the right length")
        return value

    def version(self, value: object, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**32:
            self.fail(field, value, "is not a key version (1 or more)")
        return value

    def key_sets(self, value: object) -> tuple[CardKeySet, ...]:
        if not isinstance(value, list) or not value:
            self.fail("key_sets", value, "is not a non-empty list")
        found: list[CardKeySet] = []
        for n, entry in enumerate(value):
            where = f"key_sets[{n}]"
            doc = self.members(entry, where)
            version = self.version(doc.get("version"), f"{where}.version")
            if any(k.version == version for k in found):
                self.fail(f"{where}.version", version, "is listed twice")
            found.append(
                CardKeySet(
                    version,
                    self.hex(doc, "x25519", _HEX32, f"{where}.x25519"),
                    self.hex(doc, "ed25519", _HEX32, f"{where}.ed25519"),
                )
            )
        return tuple(sorted(found, key=lambda k: k.version))


# --- signing and checking ------------------------------------------------------------------------


def sign_card(
    keys: PartyKeys,
    url: str,
    certificate: str,
    key_sets: tuple[CardKeySet, ...],
    log_verifier_key: str,
) -> NodeCard:
    """The card, signed with ``keys`` (the party's newest key set, listed in ``key_sets``)."""
    tls_key = spki_sha256(load_certificate(certificate))
    unsigned = NodeCard(
        keys.owner, url, certificate, tls_key, key_sets, log_verifier_key, CardSignature(1, "")
    )
    value = keys.ed25519.sign(card_message(card_fields(unsigned)))
    return NodeCard(
        keys.owner,
        url,
        certificate,
        tls_key,
        key_sets,
        log_verifier_key,
        CardSignature(keys.version, value.hex()),
    )


def verify_card(card: NodeCard, source: str) -> None:
    """The party's signature, by its newest listed key set; ``CardSignatureInvalid`` if not."""
    newest = max(card.key_sets, key=lambda k: k.version)
    if card.signature.key_version != newest.version:
        raise CardSignatureInvalid(
            f"{source}: signature.key_version: {card.signature.key_version} is not the newest"
            f" key set of {card.party} in the card ({newest.version})"
        )
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(newest.ed25519))
        public.verify(bytes.fromhex(card.signature.ed25519), card_message(card_fields(card)))
    except (InvalidSignature, ValueError):
        raise CardSignatureInvalid(
            f"{source}: signature: {card.party}'s signature does not verify over the card"
        ) from None


def check_certificate(card: NodeCard, at: datetime, source: str) -> None:
    """The card's certificate is what the card says: its key is ``tls.key_sha256``, it names the
    party (CN) and the URL's host (subjectAltName), it is self-signed by that key and valid at
    ``at``. ``CertificateMismatch`` naming what differs otherwise."""
    at = require_aware(at, "at")

    def mismatch(problem: str) -> CertificateMismatch:
        return CertificateMismatch(f"{source}: tls.certificate: {problem}")

    try:
        certificate = load_certificate(card.certificate)
    except InvalidInput:
        raise mismatch("is not a PEM X.509 certificate") from None
    if spki_sha256(certificate) != card.tls_key_sha256:
        raise mismatch(f"its key is not the key the card names ({card.tls_key_sha256[:16]}...)")
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [n.value for n in names] != [card.party]:
        raise mismatch(f"its subject does not name party {card.party!r}")
    host, _ = node_address(card.url)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise mismatch("it has no subjectAltName") from None
    if host_name(host) not in list(san):
        raise mismatch(f"its subjectAltName does not name the URL's host {host!r}")
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        raise mismatch("it is not self-signed by its own key") from None
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise mismatch(
            f"it is valid from {iso(certificate.not_valid_before_utc)} to"
            f" {iso(certificate.not_valid_after_utc)}, not at {iso(at)}"
        )
