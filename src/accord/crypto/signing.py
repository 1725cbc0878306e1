"""Ed25519 signatures (RFC 8032, via ``cryptography``).

``sign`` signs the message bytes as given: callers that sign something other than an item put
their own domain-separation prefix in front (the audit log's checkpoints carry theirs).
``sign_item`` signs ``ITEM_PREFIX + canonical_json(fields)``, RFC 8785 bytes after the prefix
``b"accord item signature v1\\n"``, so anyone with the signer's public key and the fields can
check it with any Ed25519 and JCS implementation.

A ``Signature`` is stored either as its three fields or as one column, ``to_bytes()``:
``01 47`` (format version 1, ``G``) || key version (4, big-endian) || len(signer) (1) ||
signer (UTF-8) || the 64-byte Ed25519 signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from accord.crypto.canonical import canonical_json
from accord.crypto.keys import PartyKeys, PublicKeys, bound_identity
from accord.crypto.master import FORMAT_VERSION, split_header
from accord.errors import IntegrityError, InvalidInput

ITEM_PREFIX = b"accord item signature v1\n"
SIGNATURE_BYTES = 64
STORED_HEADER = bytes([FORMAT_VERSION]) + b"G"


@dataclass(frozen=True)
class Signature:
    """Who signed (party and key version) and the 64-byte Ed25519 signature."""

    signer: str
    key_version: int
    value: bytes

    def to_bytes(self) -> bytes:
        return STORED_HEADER + bound_identity(self.signer, self.key_version) + self.value

    @classmethod
    def from_bytes(cls, data: bytes, *, what: str = "a stored signature") -> Signature:
        body = split_header(data, STORED_HEADER, kind="stored signature", what=what)
        if len(body) < 5 or len(body) != 5 + body[4] + SIGNATURE_BYTES:
            raise IntegrityError(f"{what}: the stored signature is malformed")
        version = int.from_bytes(body[:4], "big")
        try:
            signer = body[5 : 5 + body[4]].decode("utf-8")
            bound_identity(signer, version)
        except (UnicodeDecodeError, InvalidInput):
            raise IntegrityError(f"{what}: the stored signature is malformed") from None
        return cls(signer, version, body[5 + body[4] :])


def sign(keys: PartyKeys, message: bytes) -> Signature:
    """Ed25519 over ``message`` exactly."""
    return Signature(keys.owner, keys.version, keys.ed25519.sign(message))


def verify(public: PublicKeys, message: bytes, signature: Signature, *, what: str) -> None:
    """``IntegrityError`` naming ``what`` unless ``signature`` is ``public``'s over ``message``."""
    if signature.signer != public.owner or signature.key_version != public.version:
        raise IntegrityError(
            f"{what}: the signature is by {signature.signer} key version {signature.key_version},"
            f" not by the key given ({public.owner} version {public.version})"
        )
    if not isinstance(signature.value, bytes) or len(signature.value) != SIGNATURE_BYTES:
        raise IntegrityError(f"{what}: the signature does not verify")
    try:
        public.ed25519_key.verify(signature.value, message)
    except InvalidSignature:
        raise IntegrityError(f"{what}: the signature does not verify") from None


def item_message(fields: Mapping[str, object]) -> bytes:
    """The exact bytes ``sign_item`` signs: the prefix, then the fields as RFC 8785 JSON."""
    return ITEM_PREFIX + canonical_json(dict(fields))


def sign_item(keys: PartyKeys, fields: Mapping[str, object]) -> Signature:
    return sign(keys, item_message(fields))


def verify_item(
    public: PublicKeys, fields: Mapping[str, object], signature: Signature, *, what: str
) -> None:
    verify(public, item_message(fields), signature, what=what)
