"""One Ed25519 signature over many facts: a signer signs the Merkle root of their messages.

The tree is RFC 6962's (RFC 9162 §2.1) over the facts' messages in order, with its domain
separation: a leaf hashes ``0x00 || message``, an interior node ``0x01 || left || right``. The
signer signs ``BATCH_PREFIX || JCS({"root": hex, "size": n})``. Each fact keeps its own stored
signature: that signature, the fact's index and the audit path from its leaf to the root, so it
verifies alone (the root is recomputed from the fact's message and path, then the signature
is checked over it). A changed message, index, size, path or signature fails.

Stored form (ASCII): ``batch1.<base64 Signature>.<index>.<size>.<hex node>.<hex node>…``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from accord.crypto.canonical import canonical_json
from accord.crypto.keys import PartyKeys
from accord.crypto.signing import Signature, sign
from accord.errors import IntegrityError

BATCH_PREFIX = b"accord fact batch v1\n"
BATCH_TAG = "batch1"
_HASH_HEX = 64
_MAX_DEPTH = 64


def leaf_hash(message: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + message).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def batch_message(root: bytes, size: int) -> bytes:
    """The bytes a batch signature is over."""
    return BATCH_PREFIX + canonical_json({"root": root.hex(), "size": size})


def _split(n: int) -> int:
    """The largest power of two below ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class _Tree:
    """The subtree hashes of one list of leaves, each computed once."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves
        self.memo: dict[tuple[int, int], bytes] = {}

    def hash(self, lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return self.leaves[lo]
        found = self.memo.get((lo, hi))
        if found is None:
            k = _split(hi - lo)
            found = self.memo[(lo, hi)] = node_hash(self.hash(lo, lo + k), self.hash(lo + k, hi))
        return found

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """RFC 6962 PATH(m, D[lo:hi]), leaf first."""
        if hi - lo == 1:
            return []
        k = _split(hi - lo)
        if m < k:
            return [*self.path(m, lo, lo + k), self.hash(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.hash(lo, lo + k)]


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        raise ValueError("a batch has at least one fact")
    return _Tree(leaves).hash(0, len(leaves))


def sign_batch(keys: PartyKeys, messages: Sequence[bytes]) -> list[str]:
    """One signature by ``keys`` over all ``messages``; each message's stored signature."""
    tree = _Tree([leaf_hash(m) for m in messages])
    size = len(messages)
    root = tree.hash(0, size)
    signed = base64.b64encode(sign(keys, batch_message(root, size)).to_bytes()).decode("ascii")
    return [
        ".".join([BATCH_TAG, signed, str(i), str(size), *(h.hex() for h in tree.path(i, 0, size))])
        for i in range(size)
    ]


@dataclass(frozen=True, slots=True)
class BatchSignature:
    """A stored batch signature, parsed: the signature, the fact's index and its audit path."""

    signature: Signature
    index: int
    size: int
    path: tuple[bytes, ...]

    def root(self, message: bytes, *, what: str) -> bytes:
        """The root the path leads to from ``message`` (RFC 9162 §2.1.3.2); ``IntegrityError``
        when the path cannot belong to a leaf at this index in a tree of this size."""
        fn, sn, r = self.index, self.size - 1, leaf_hash(message)
        for p in self.path:
            if sn == 0:
                raise IntegrityError(f"{what}: its batch path is too long")
            if fn & 1 or fn == sn:
                r = node_hash(p, r)
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
            else:
                r = node_hash(r, p)
            fn, sn = fn >> 1, sn >> 1
        if sn != 0:
            raise IntegrityError(f"{what}: its batch path is too short")
        return r


def is_batch(text: str) -> bool:
    return text.startswith(BATCH_TAG + ".")


def parse_batch(text: str, *, what: str) -> BatchSignature:
    """A stored batch signature; ``IntegrityError`` naming ``what`` when it is malformed."""
    malformed = IntegrityError(f"{what}: the stored batch signature is malformed")
    parts = text.split(".")
    if len(parts) < 4 or parts[0] != BATCH_TAG or len(parts) - 4 > _MAX_DEPTH:
        raise malformed
    try:
        raw = base64.b64decode(parts[1].encode("ascii"), validate=True)
        index, size = _number(parts[2]), _number(parts[3])
        path = tuple(_node(p) for p in parts[4:])
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise malformed from None
    if not 0 <= index < size:
        raise malformed
    return BatchSignature(Signature.from_bytes(raw, what=what), index, size, path)


def _number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise ValueError(text)
    return int(text)


def _node(text: str) -> bytes:
    if len(text) != _HASH_HEX or text != text.lower():
        raise ValueError(text)
    return bytes.fromhex(text)
