"""The RFC 9162 §2.1.1 hasher: SHA-256 with a 0x00 prefix for leaves and 0x01 for nodes.

The prefixes keep a leaf from ever hashing like an interior node (second-preimage resistance).
Bulk work copies one pre-fed ``hashlib`` object per hash instead of concatenating bytes, which
is the fastest way CPython's hashlib offers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH({}) = HASH(), the root of the empty tree (RFC 9162 §2.1.1)."""

LEAF_HASH = hashlib.sha256(LEAF_PREFIX)
"""SHA-256 fed the leaf prefix: ``LEAF_HASH.copy()``, then the entry, is ``leaf_hash``."""
_LEAF = LEAF_HASH
NODE_HASH = hashlib.sha256(NODE_PREFIX)
"""SHA-256 fed the node prefix: ``NODE_HASH.copy()``, then the two children, is ``node_hash``
(for loops where a call per hash is most of the cost). Never updated itself."""
_NODE = NODE_HASH


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = HASH(0x00 || d(0)), RFC 9162 §2.1.1."""
    h = _LEAF.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right), the parent of two subtrees (RFC 9162 §2.1.1)."""
    h = _NODE.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def hash_pairs(level: Sequence[bytes]) -> list[bytes]:
    """The parents of nodes 0 and 1, 2 and 3, … of one level; an odd last node has none."""
    copy = _NODE.copy
    out: list[bytes] = []
    append = out.append
    it = iter(level)
    for left, right in zip(it, it, strict=False):
        h = copy()
        h.update(left)
        h.update(right)
        append(h.digest())
    return out
