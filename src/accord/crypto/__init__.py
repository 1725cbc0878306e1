"""Small, safe recipes over pyca/cryptography: master key, party keys, envelopes, signatures.

No cipher, hash, KDF or signature is written here: AES-256-GCM, HPKE (RFC 9180), HKDF-SHA256 and
Ed25519 come from ``cryptography``; canonical JSON (RFC 8785) from ``rfc8785``. Every blob made
here starts with a format version byte and a kind tag, and is refused when either is unknown.
Every failure to open or verify raises one error class whose message says what was checked,
never why the primitive failed: ``KeyMismatch`` (the master key does not open sealed keys),
``IntegrityError`` (a ciphertext, wrapped key or signature), ``KeyUnavailable`` (no usable master
key, or no keys for a party).
"""

from __future__ import annotations

from accord.crypto.canonical import canonical_json
from accord.crypto.envelope import (
    WrappedKey,
    decrypt,
    encrypt,
    new_data_key,
    rewrap,
    unwrap,
    wrap_for,
    wrap_for_self,
)
from accord.crypto.keys import (
    EXCHANGE,
    Keyring,
    PartyKeys,
    PublicKeys,
    SealedKeySet,
    open_keys,
    reseal,
    seal_keys,
)
from accord.crypto.master import MasterKey
from accord.crypto.signing import (
    ITEM_PREFIX,
    Signature,
    item_message,
    sign,
    sign_item,
    verify,
    verify_item,
)

__all__ = [
    "EXCHANGE",
    "ITEM_PREFIX",
    "Keyring",
    "MasterKey",
    "PartyKeys",
    "PublicKeys",
    "SealedKeySet",
    "Signature",
    "WrappedKey",
    "canonical_json",
    "decrypt",
    "encrypt",
    "item_message",
    "new_data_key",
    "open_keys",
    "reseal",
    "rewrap",
    "seal_keys",
    "sign",
    "sign_item",
    "unwrap",
    "verify",
    "verify_item",
    "wrap_for",
    "wrap_for_self",
]
