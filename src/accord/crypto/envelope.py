"""Envelope encryption: each item's content under its own data key, the data key wrapped per holder.

Formats (every blob starts with format version 1 and a one-letter kind tag):

- ciphertext ``01 45`` (``E``) || 96-bit nonce || AES-256-GCM(data key) ciphertext+tag; the
  associated data is the two header bytes followed by the caller's ``aad``.
- self-wrapped key ``01 53`` (``S``) || nonce || AES-256-GCM(holder's holding key) of the data
  key: 62 bytes.
- HPKE-wrapped key ``01 48`` (``H``) || the output of RFC 9180 single-shot base-mode HPKE with
  DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM to the recipient's X25519 key (``enc``,
  32 bytes, then the ciphertext+tag, 48): 82 bytes.

Both kinds of wrapped key bind the same context: as the AEAD's associated data (self) or as
HPKE's ``info`` (HPKE, which authenticates ``info`` through its key schedule; RFC 9180 §8.1 says
single-shot users put their context there)::

    b"accord wrapped key v1\\x00" || header (2) || key version (4, big-endian)
        || len(owner) (1) || owner (UTF-8) || aad

where owner and version are the holder's, so a wrapped key opens only for the holder and key
version it was made for, in the context (``aad``) it was made in.

A ``WrappedKey`` is stored either as its two fields or as one column, ``to_bytes()``:
``01 4b`` (``K``) || key version (4, big-endian) || blob.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accord.crypto.keys import PartyKeys, PublicKeys, bound_identity, check_version
from accord.crypto.master import FORMAT_VERSION, KEY_BYTES, NONCE_BYTES, TAG_BYTES, split_header
from accord.errors import IntegrityError, InvalidInput

ENVELOPE_HEADER = bytes([FORMAT_VERSION]) + b"E"
SELF_HEADER = bytes([FORMAT_VERSION]) + b"S"
HPKE_HEADER = bytes([FORMAT_VERSION]) + b"H"
STORED_HEADER = bytes([FORMAT_VERSION]) + b"K"
WRAP_LABEL = b"accord wrapped key v1\x00"
HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
HPKE_ENC_BYTES = hpke.KEM.X25519.enc_length()
SELF_BYTES = 2 + NONCE_BYTES + KEY_BYTES + TAG_BYTES
HPKE_BYTES = 2 + HPKE_ENC_BYTES + KEY_BYTES + TAG_BYTES
KINDS = {SELF_HEADER[1:2]: "self", HPKE_HEADER[1:2]: "hpke"}


def _check_data_key(data_key: bytes) -> None:
    if not isinstance(data_key, bytes) or len(data_key) != KEY_BYTES:
        raise InvalidInput(f"a data key is {KEY_BYTES} bytes")


def new_data_key() -> bytes:
    """32 random bytes from the operating system's generator."""
    return secrets.token_bytes(KEY_BYTES)


# --- content ------------------------------------------------------------------------------------


def encrypt(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random nonce: ``01 45 || nonce || ciphertext+tag``."""
    _check_data_key(data_key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return (
        ENVELOPE_HEADER + nonce + AESGCM(data_key).encrypt(nonce, plaintext, ENVELOPE_HEADER + aad)
    )


def decrypt(data_key: bytes, blob: bytes, aad: bytes, *, what: str) -> bytes:
    """The plaintext of ``encrypt``; ``IntegrityError`` naming ``what`` on any failure."""
    _check_data_key(data_key)
    body = split_header(blob, ENVELOPE_HEADER, kind="ciphertext", what=what)
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise IntegrityError(f"{what}: the ciphertext is truncated")
    try:
        return AESGCM(data_key).decrypt(
            body[:NONCE_BYTES], body[NONCE_BYTES:], ENVELOPE_HEADER + aad
        )
    except InvalidTag:
        raise IntegrityError(f"{what}: the ciphertext does not open") from None


# --- wrapped data keys --------------------------------------------------------------------------


@dataclass(frozen=True)
class WrappedKey:
    """A data key wrapped for one holder: the holder's key version and the wrapped blob."""

    key_version: int
    blob: bytes

    @property
    def kind(self) -> str:
        """``self`` (under the holder's holding key) or ``hpke`` (to its X25519 key)."""
        return KINDS.get(self.blob[1:2], "unknown")

    def to_bytes(self) -> bytes:
        """One column: ``01 4b || key version (4 bytes) || blob``."""
        return STORED_HEADER + check_version(self.key_version).to_bytes(4, "big") + self.blob

    @classmethod
    def from_bytes(cls, data: bytes, *, what: str = "a stored wrapped key") -> WrappedKey:
        body = split_header(data, STORED_HEADER, kind="stored wrapped key", what=what)
        if len(body) < 4:
            raise IntegrityError(f"{what}: the stored wrapped key is truncated")
        version = int.from_bytes(body[:4], "big")
        if version == 0:
            raise IntegrityError(f"{what}: the stored wrapped key names key version 0")
        return cls(version, body[4:])


def _context(header: bytes, owner: str, version: int, aad: bytes) -> bytes:
    return WRAP_LABEL + header + bound_identity(owner, version) + aad


def wrap_for_self(keys: PartyKeys, data_key: bytes, aad: bytes) -> WrappedKey:
    """The data key under the party's own holding key (no asymmetric operation)."""
    _check_data_key(data_key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    context = _context(SELF_HEADER, keys.owner, keys.version, aad)
    return WrappedKey(
        keys.version, SELF_HEADER + nonce + keys.holding.encrypt(nonce, data_key, context)
    )


def wrap_for(recipient: PublicKeys, data_key: bytes, aad: bytes) -> WrappedKey:
    """The data key to another party's X25519 key with HPKE (RFC 9180 base mode);
    ``IntegrityError`` if that public key is not a usable X25519 key (a low-order point)."""
    _check_data_key(data_key)
    info = _context(HPKE_HEADER, recipient.owner, recipient.version, aad)
    try:
        sealed = HPKE_SUITE.encrypt(data_key, recipient.x25519_key, info)
    except ValueError:
        raise IntegrityError(
            f"the X25519 public key of {recipient.owner} version {recipient.version}"
            " is not usable (a low-order point)"
        ) from None
    return WrappedKey(recipient.version, HPKE_HEADER + sealed)


def unwrap(keys: PartyKeys, wrapped: WrappedKey, aad: bytes, *, what: str) -> bytes:
    """The data key, from either kind of wrapped key; ``IntegrityError`` naming ``what`` when it
    does not open (another holder's keys, another context, a changed byte, an unknown format)."""
    if wrapped.key_version != keys.version:
        raise InvalidInput(
            f"{what}: the wrapped key is for key version {wrapped.key_version},"
            f" not version {keys.version} of {keys.owner}"
        )
    blob = wrapped.blob
    if blob[:1] and blob[0] != FORMAT_VERSION:
        raise IntegrityError(
            f"{what}: the wrapped key has format version {blob[0]}, which this accord does not know"
        )
    header = blob[:2]
    if not (header == SELF_HEADER and len(blob) == SELF_BYTES) and not (
        header == HPKE_HEADER and len(blob) == HPKE_BYTES
    ):
        raise IntegrityError(f"{what}: the wrapped key is malformed")
    context = _context(header, keys.owner, keys.version, aad)
    try:
        if header == SELF_HEADER:
            data_key = keys.holding.decrypt(
                blob[2 : 2 + NONCE_BYTES], blob[2 + NONCE_BYTES :], context
            )
        else:
            data_key = HPKE_SUITE.decrypt(blob[2:], keys.x25519, context)
    except (InvalidTag, ValueError):
        raise IntegrityError(f"{what}: the wrapped key does not open") from None
    if len(data_key) != KEY_BYTES:
        raise IntegrityError(f"{what}: the wrapped key does not hold a data key")
    return data_key


def rewrap(
    old_keys: PartyKeys, new_keys: PartyKeys, wrapped: WrappedKey, aad: bytes, *, what: str
) -> WrappedKey:
    """For a party key rotation: unwrap with ``old_keys``, wrap for the holder itself under
    ``new_keys`` (a self-wrap, whatever the old kind was: the holder needs no asymmetric step
    to reach its own copies)."""
    if old_keys.owner != new_keys.owner:
        raise InvalidInput(
            f"{what}: a rewrap keeps the holder ({old_keys.owner}), not {new_keys.owner}"
        )
    return wrap_for_self(new_keys, unwrap(old_keys, wrapped, aad, what=what), aad)
