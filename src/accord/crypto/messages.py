"""The node-to-node wire format: RFC 8785 JSON documents, each signed with Ed25519.

A message is ``{"format": MESSAGE_FORMAT, "message": {...}, "signature": base64}`` and a receipt
``{"format": RECEIPT_FORMAT, "receipt": {...}, "signature": base64}``; each signature covers a
domain prefix followed by the RFC 8785 bytes of the inner object. A fact's signature covers
``FACT_PREFIX`` and the RFC 8785 bytes of its headers and its base64 body. A refusal is
``{"format": REFUSAL_FORMAT, "refused": code, "message": text}``, unsigned (it changes nothing).

Decoding is strict: the bytes must be exactly the RFC 8785 encoding of what they decode to, so
one message has one encoding, and a truncated or altered document is refused as malformed or as
a signature that does not verify (``MessageMalformed``, ``MessageForged``, ``FactForged``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.crypto.canonical import canonical_json
from accord.errors import FactForged, InvalidInput, MessageForged, MessageMalformed
from accord.model.messages import FactRefusal, Message, Receipt, WireFact
from accord.model.time import iso, parse_instant

MESSAGE_FORMAT = "accord-node-message/1"
RECEIPT_FORMAT = "accord-node-receipt/1"
REFUSAL_FORMAT = "accord-node-refusal/1"
MESSAGE_PREFIX = b"accord node message v1\n"
RECEIPT_PREFIX = b"accord node receipt v1\n"
FACT_PREFIX = b"accord fact signature v1\n"
MAX_DOCUMENT_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class RefusalAnswer:
    """A peer's refusal: its code and its message (both for the sending node's operator)."""

    code: str
    message: str


# --- facts -----------------------------------------------------------------------------------


def _fact_headers(
    fact_id: str, kind: str, party: str, instant_text: str, body: bytes
) -> dict[str, Any]:
    return {
        "id": fact_id,
        "kind": kind,
        "party": party,
        "instant": instant_text,
        "body": _b64(body),
    }


def fact_signed_bytes(fact: WireFact) -> bytes:
    """What a fact's signature covers."""
    headers = _fact_headers(fact.fact_id, fact.kind, fact.party, iso(fact.instant), fact.body)
    return FACT_PREFIX + canonical_json(headers)


def sign_fact(key: Ed25519PrivateKey, unsigned: WireFact) -> WireFact:
    """``unsigned`` (any signature) signed by ``key``, the key of ``unsigned.party``."""
    signature = key.sign(fact_signed_bytes(unsigned))
    return WireFact(
        unsigned.fact_id, unsigned.kind, unsigned.party, unsigned.instant, unsigned.body, signature
    )


def verify_fact(fact: WireFact, public: bytes) -> None:
    """Raise ``FactForged`` unless the key ``public`` (raw Ed25519) signed ``fact``."""
    if not _verifies(public, fact.signature, fact_signed_bytes(fact)):
        raise FactForged(f"fact {fact.fact_id}: the signature of {fact.party} does not verify")


def fact_digest(fact: WireFact) -> bytes:
    """SHA-256 of the fact as sent, signature included: what "the same fact" means."""
    return hashlib.sha256(canonical_json(_fact_doc(fact))).digest()


def _fact_doc(fact: WireFact) -> dict[str, Any]:
    doc = _fact_headers(fact.fact_id, fact.kind, fact.party, iso(fact.instant), fact.body)
    doc["signature"] = _b64(fact.signature)
    return doc


def _fact_from(doc: object, n: int) -> WireFact:
    where = f"facts[{n}]"
    fields = _object(doc, where, ("id", "kind", "party", "instant", "body", "signature"))
    return WireFact(
        _text(fields, "id", where),
        _text(fields, "kind", where),
        _text(fields, "party", where),
        _instant(fields, "instant", where),
        _bytes(fields, "body", where),
        _bytes(fields, "signature", where),
    )


# --- messages ----------------------------------------------------------------------------------


def _message_doc(message: Message) -> dict[str, Any]:
    return {
        "sender": message.sender,
        "recipient": message.recipient,
        "seq": message.seq,
        "sent_at": iso(message.sent_at),
        "facts": [_fact_doc(f) for f in message.facts],
        "checkpoint": message.checkpoint,
        "proof_from": message.proof_from,
        "proof": [_b64(h) for h in message.proof],
    }


def encode_message(message: Message, key: Ed25519PrivateKey) -> bytes:
    """The message signed by the sender's ``key``, as the bytes to send."""
    inner = _message_doc(message)
    signature = key.sign(MESSAGE_PREFIX + canonical_json(inner))
    return canonical_json(
        {"format": MESSAGE_FORMAT, "message": inner, "signature": _b64(signature)}
    )


def decode_message(data: bytes) -> tuple[Message, bytes, bytes]:
    """The message, the bytes its signature covers and the signature; nothing is verified."""
    doc = _document(data, MESSAGE_FORMAT, "message")
    inner = _object(
        doc["message"],
        "message",
        ("sender", "recipient", "seq", "sent_at", "facts", "checkpoint", "proof_from", "proof"),
    )
    facts = inner["facts"]
    proof = inner["proof"]
    if not isinstance(facts, list) or not isinstance(proof, list):
        raise MessageMalformed("message: facts and proof must be lists")
    message = Message(
        _text(inner, "sender", "message"),
        _text(inner, "recipient", "message"),
        _int(inner, "seq", "message"),
        _instant(inner, "sent_at", "message"),
        tuple(_fact_from(f, n) for n, f in enumerate(facts)),
        _text(inner, "checkpoint", "message"),
        _int(inner, "proof_from", "message"),
        tuple(_b64decode(h, f"message.proof[{n}]") for n, h in enumerate(proof)),
    )
    return message, MESSAGE_PREFIX + canonical_json(inner), _bytes(doc, "signature", "document")


def verify_message(signed: bytes, signature: bytes, public: bytes, sender: str) -> None:
    """Raise ``MessageForged`` unless ``sender``'s key ``public`` signed ``signed``."""
    if not _verifies(public, signature, signed):
        raise MessageForged(f"the signature of {sender} on the message does not verify")


# --- receipts and refusals ---------------------------------------------------------------------


def _receipt_doc(receipt: Receipt) -> dict[str, Any]:
    return {
        "recipient": receipt.recipient,
        "sender": receipt.sender,
        "seq": receipt.seq,
        "fact_ids": list(receipt.fact_ids),
        "received_at": iso(receipt.received_at),
        "cosigned": receipt.cosigned,
        "refused": [
            {"fact": r.fact_id, "code": r.code, "reason": r.reason} for r in receipt.refused
        ],
    }


def encode_receipt(receipt: Receipt, key: Ed25519PrivateKey) -> bytes:
    inner = _receipt_doc(receipt)
    signature = key.sign(RECEIPT_PREFIX + canonical_json(inner))
    return canonical_json(
        {"format": RECEIPT_FORMAT, "receipt": inner, "signature": _b64(signature)}
    )


def encode_refusal(code: str, message: str) -> bytes:
    return canonical_json({"format": REFUSAL_FORMAT, "refused": code, "message": message})


def decode_answer(data: bytes, public: bytes) -> Receipt | RefusalAnswer:
    """A peer's answer: a receipt whose signature by ``public`` verifies, or a refusal."""
    doc = _loads(data, "answer")
    if doc.get("format") == REFUSAL_FORMAT:
        fields = _object(doc, "refusal", ("format", "refused", "message"))
        return RefusalAnswer(
            _text(fields, "refused", "refusal"), _text(fields, "message", "refusal")
        )
    doc = _document(data, RECEIPT_FORMAT, "receipt")
    inner = _object(
        doc["receipt"],
        "receipt",
        ("recipient", "sender", "seq", "fact_ids", "received_at", "cosigned", "refused"),
    )
    ids = inner["fact_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise MessageMalformed("receipt: fact_ids must be a list of text")
    receipt = Receipt(
        _text(inner, "recipient", "receipt"),
        _text(inner, "sender", "receipt"),
        _int(inner, "seq", "receipt"),
        tuple(ids),
        _instant(inner, "received_at", "receipt"),
        _text(inner, "cosigned", "receipt"),
        _refusals(inner["refused"]),
    )
    signed = RECEIPT_PREFIX + canonical_json(inner)
    if not _verifies(public, _bytes(doc, "signature", "receipt"), signed):
        raise MessageForged(f"the signature of {receipt.recipient} on the receipt does not verify")
    return receipt


def _refusals(value: object) -> tuple[FactRefusal, ...]:
    if not isinstance(value, list):
        raise MessageMalformed("receipt: refused must be a list")
    found = []
    for n, entry in enumerate(value):
        fields = _object(entry, f"receipt: refused[{n}]", ("fact", "code", "reason"))
        where = f"receipt: refused[{n}]"
        found.append(
            FactRefusal(
                _text(fields, "fact", where),
                _text(fields, "code", where),
                _text(fields, "reason", where),
            )
        )
    return tuple(found)


# --- pieces ----------------------------------------------------------------------------------


def _loads(data: bytes, what: str) -> dict[str, Any]:
    if not isinstance(data, bytes) or len(data) > MAX_DOCUMENT_BYTES:
        raise MessageMalformed(f"the {what} is not bytes of at most {MAX_DOCUMENT_BYTES}")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise MessageMalformed(
            f"the {what} is not a complete JSON document ({len(data)} bytes; truncated?)"
        ) from None
    if not isinstance(doc, dict):
        raise MessageMalformed(f"the {what} is not a JSON object")
    try:
        canonical = canonical_json(doc)
    except InvalidInput:
        raise MessageMalformed(f"the {what} holds a value RFC 8785 cannot encode") from None
    if canonical != data:
        raise MessageMalformed(f"the {what} is not in its RFC 8785 canonical form")
    return doc


def _document(data: bytes, expected: str, inner: str) -> dict[str, Any]:
    doc = _loads(data, inner)
    fields = _object(doc, inner, ("format", inner, "signature"))
    if fields["format"] != expected:
        raise MessageMalformed(f"format: {str(fields['format'])[:60]!r} is not {expected!r}")
    return fields


def _object(value: object, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MessageMalformed(f"{where}: not a JSON object")
    missing = [k for k in keys if k not in value]
    extra = sorted(set(value) - set(keys))
    if missing or extra:
        raise MessageMalformed(f"{where}: missing {missing}, unknown {extra[:5]}")
    return value


def _text(fields: dict[str, Any], key: str, where: str) -> str:
    value = fields[key]
    if not isinstance(value, str):
        raise MessageMalformed(f"{where}.{key}: not text")
    return value


def _int(fields: dict[str, Any], key: str, where: str) -> int:
    value = fields[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise MessageMalformed(f"{where}.{key}: {str(value)[:40]!r} is not an integer")
    return value


def _instant(fields: dict[str, Any], key: str, where: str) -> Any:
    text = _text(fields, key, where)
    try:
        return parse_instant(text, f"{where}.{key}")
    except InvalidInput:
        raise MessageMalformed(
            f"{where}.{key}: {text[:40]!r} is not an instant with an offset"
        ) from None


def _bytes(fields: dict[str, Any], key: str, where: str) -> bytes:
    return _b64decode(fields[key], f"{where}.{key}")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise MessageMalformed(f"{where}: not base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MessageMalformed(f"{where}: not base64") from None
    if _b64(raw) != value:
        raise MessageMalformed(f"{where}: not canonical base64")
    return raw


def _verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
