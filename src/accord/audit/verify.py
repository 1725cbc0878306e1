"""Proof verification, exactly the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.

Fail closed: every malformed or wrong input raises ``ProofInvalid`` with a sentence saying what
failed, and nothing else escapes. Before running the RFC's steps the proof's length is checked
against the one the tree shape needs, so a short or long proof is named as such; the RFC's own
``sn`` checks stay in place as well. Nothing here is shared with proof generation.
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.audit.hasher import EMPTY_ROOT, HASH_SIZE, NODE_HASH, node_hash
from accord.errors import ProofInvalid

MAX_TREE_SIZE = 2**64 - 1  # tree sizes are uint64 in RFC 9162


def root_from_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` gives leaf ``index`` of a tree of ``size`` (§2.1.3.2 steps 1–4)."""
    _check_tree_size(size, "tree size")
    _check_tree_size(index, "index")
    if index >= size:
        raise ProofInvalid(f"index {index} is not below tree size {size}")
    _check_hash(leaf_hash, "the leaf hash")
    hashes = _proof_hashes(proof)
    needed = _inclusion_length(index, size)
    if len(hashes) != needed:
        raise ProofInvalid(
            f"inclusion proof for entry {index} in a tree of {size} has {len(hashes)} hashes,"
            f" a tree of this size needs {needed}"
        )
    return _inclusion_root(leaf_hash, index, size, hashes)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``proof`` puts ``leaf_hash`` at ``index`` of the tree of ``size`` with ``root``."""
    _check_hash(root, "the root")
    computed = root_from_inclusion(leaf_hash, index, size, proof)
    if computed != root:  # step 5
        raise ProofInvalid(
            f"inclusion proof for entry {index} in a tree of {size}: computed root"
            f" {_short(computed)} does not match {_short(root)}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` with ``new_root`` extends the one of ``old_size``."""
    _check_tree_size(old_size, "old tree size")
    _check_tree_size(new_size, "new tree size")
    if new_size < old_size:
        raise ProofInvalid(f"new tree size {new_size} is below old tree size {old_size}")
    _check_hash(old_root, "the old root")
    _check_hash(new_root, "the new root")
    hashes = _proof_hashes(proof)
    if old_size in (0, new_size):
        _check_trivial(old_size, new_size, old_root, new_root, hashes)
        return
    needed = _consistency_length(old_size, new_size)
    if len(hashes) != needed:
        raise ProofInvalid(
            f"consistency proof from {old_size} to {new_size} has {len(hashes)} hashes,"
            f" a tree of this size needs {needed}"
        )
    old, new = _consistency_roots(old_size, new_size, old_root, hashes)
    for which, computed, given in (("old", old, old_root), ("new", new, new_root)):
        if computed != given:  # step 7
            raise ProofInvalid(
                f"consistency proof from {old_size} to {new_size}: computed {which} root"
                f" {_short(computed)} does not match {_short(given)}"
            )


# --- the RFC's steps --------------------------------------------------------------------------


def _inclusion_root(r: bytes, fn: int, size: int, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 2–5 (fn = leaf_index, r = hash)."""
    sn = size - 1
    parent = NODE_HASH.copy  # node_hash, inlined: this loop is the whole cost of a check
    for p in proof:
        if sn == 0:  # 4a
            raise ProofInvalid(f"inclusion proof for a tree of {size} is longer than its path")
        h = parent()
        if fn & 1 or fn == sn:  # 4b
            h.update(p)
            h.update(r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            h.update(r)
            h.update(p)
        r = h.digest()
        fn, sn = fn >> 1, sn >> 1  # 4c
    if sn != 0:  # 5
        raise ProofInvalid(f"inclusion proof for a tree of {size} is shorter than its path")
    return r


def _consistency_roots(
    first: int, second: int, first_hash: bytes, path: list[bytes]
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 1–7 for 0 < first < second: the (fr, sr) the path gives."""
    if not path:  # 1
        raise ProofInvalid(f"consistency proof from {first} to {second} is empty")
    if first & (first - 1) == 0:  # 2: first is an exact power of two
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1  # 3
    while fn & 1:  # 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # 5
    for c in path[1:]:  # 6
        if sn == 0:  # 6a
            raise ProofInvalid(f"consistency proof from {first} to {second} is too long")
        if fn & 1 or fn == sn:  # 6b
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    if sn != 0:  # 7
        raise ProofInvalid(f"consistency proof from {first} to {second} is too short")
    return fr, sr


def _check_trivial(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    """Sizes the RFC's proof does not cover: from the empty tree, and between equal sizes."""
    if proof:
        raise ProofInvalid(
            f"a consistency proof from {old_size} to {new_size} must be empty; this one has"
            f" {len(proof)} hashes"
        )
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise ProofInvalid(
            f"the root of the empty tree is {_short(EMPTY_ROOT)}, not {_short(old_root)}"
        )
    if old_size == new_size and old_root != new_root:
        raise ProofInvalid(
            f"two roots of a tree of {new_size} differ: {_short(old_root)} and {_short(new_root)}"
        )


# --- shapes and inputs --------------------------------------------------------------------------


def _inclusion_length(index: int, size: int) -> int:
    """Hashes in PATH(index, D[size]): one per level below the node where the paths to
    ``index`` and to the last leaf part, then one per left sibling above it."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    """Hashes in PROOF(old_size, D[new_size]) for 0 < old_size < new_size: the path of the old
    tree's last leaf above the rightmost complete subtree holding it, plus that subtree's hash
    unless it is the whole old tree (a power of two, whose root the verifier already has)."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zeros of old_size
    path = _inclusion_length(old_size - 1, new_size) - shift
    return path if old_size == 1 << shift else path + 1


def _check_tree_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofInvalid(f"{what} must be an integer, not {type(value).__name__}")
    if not 0 <= value <= MAX_TREE_SIZE:
        raise ProofInvalid(f"{what} {value} is outside 0 … 2**64 - 1")


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes):
        raise ProofInvalid(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ProofInvalid(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _proof_hashes(proof: Sequence[bytes]) -> list[bytes]:
    if isinstance(proof, bytes | bytearray | str) or not isinstance(proof, Sequence):
        raise ProofInvalid(f"a proof is a sequence of hashes, not {type(proof).__name__}")
    hashes = list(proof)
    if set(map(type, hashes)) <= {bytes} and set(map(len, hashes)) <= {HASH_SIZE}:
        return hashes  # the common case, checked in C; otherwise name the first bad one
    for n, h in enumerate(hashes):
        _check_hash(h, f"proof hash {n}")
    return hashes


def _short(h: bytes) -> str:
    return h.hex()[:16] + "…"
