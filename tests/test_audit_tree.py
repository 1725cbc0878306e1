"""accord.audit hashing and trees: known answers, and a naive RFC 9162 reference to compare with.

The reference below is written straight from the definitions of RFC 9162 §2.1.1 (MTH),
§2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF), recursively, with k the largest power of two
smaller than n, and hashes with ``hashlib`` itself: it shares no code with ``accord.audit``.
``tests/test_audit_proofs.py`` uses it too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.audit import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_of,
)
from accord.errors import InvalidInput

VECTORS = Path(__file__).parent / "vectors"
RFC6962 = json.loads((VECTORS / "rfc6962-merkle.json").read_text(encoding="utf-8"))

# --- the naive reference (RFC 9162 §2.1, word for word) ---------------------------------------

Range = tuple[int, int]


def ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes: HASH() for none, the leaf hash for one, else split at k."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = ref_k(n)
    return ref_node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path_ranges(m: int, lo: int, hi: int) -> list[Range]:
    """The subtrees PATH(m, D[lo:hi]) consists of, in order (m counted from lo)."""
    n = hi - lo
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return [*ref_path_ranges(m, lo, lo + k), (lo + k, hi)]
    return [*ref_path_ranges(m - k, lo + k, hi), (lo, lo + k)]


def ref_subproof_ranges(m: int, lo: int, hi: int, b: bool) -> list[Range]:
    """The subtrees SUBPROOF(m, D[lo:hi], b) consists of, in order."""
    n = hi - lo
    if m == n:
        return [] if b else [(lo, hi)]
    k = ref_k(n)
    if m <= k:
        return [*ref_subproof_ranges(m, lo, lo + k, b), (lo + k, hi)]
    return [*ref_subproof_ranges(m - k, lo + k, hi, False), (lo, lo + k)]


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    return [ref_mth(leaves[a:b]) for a, b in ref_path_ranges(m, 0, len(leaves))]


def ref_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n."""
    return [ref_mth(leaves[a:b]) for a, b in ref_subproof_ranges(m, 0, len(leaves), True)]


def ref_recipe(lo: int, hi: int, known: dict[Range, str | int]) -> Any:
    """How MTH(D[lo:hi]) is built from the subtrees in ``known``: a nested pair of their names.

    Two (index, size) questions whose proofs name the same subtrees in the same recipe cannot be
    told apart by any verifier; their proofs are interchangeable.
    """
    if (lo, hi) in known:
        return known[(lo, hi)]
    if hi - lo == 1:
        return ("unknown leaf", lo)
    k = ref_k(hi - lo)
    return (ref_recipe(lo, lo + k, known), ref_recipe(lo + k, hi, known))


def ref_inclusion_recipe(m: int, n: int) -> Any:
    known: dict[Range, str | int] = {(m, m + 1): "leaf"}
    known |= {r: i for i, r in enumerate(ref_path_ranges(m, 0, n))}
    return len(known), ref_recipe(0, n, known)


def ref_consistency_recipe(m: int, n: int) -> Any:
    ranges = ref_subproof_ranges(m, 0, n, True)
    known: dict[Range, str | int] = {r: i for i, r in enumerate(ranges)}
    known.setdefault((0, m), "old root")
    return len(ranges), ref_recipe(0, m, known), ref_recipe(0, n, known)


def leaves_of(n: int, salt: bytes = b"") -> list[bytes]:
    return [ref_leaf(salt + i.to_bytes(4, "big")) for i in range(n)]


SIZES = st.integers(min_value=0, max_value=300)
SALTS = st.binary(max_size=8)


# --- the reference against the published vectors ----------------------------------------------


def vector_leaves() -> list[bytes]:
    return [ref_leaf(bytes.fromhex(d)) for d in RFC6962["tree"]["leaves"]]


def test_the_reference_gives_the_published_roots() -> None:
    leaves = vector_leaves()
    for size, root in RFC6962["tree"]["roots"].items():
        assert ref_mth(leaves[: int(size)]).hex() == root
    assert ref_mth([]).hex() == RFC6962["hasher"]["empty_root"]


def test_the_reference_gives_the_published_proofs() -> None:
    leaves = vector_leaves()
    for v in RFC6962["inclusion"]["proofs"]:
        assert [h.hex() for h in ref_path(v["index"], leaves[: v["size"]])] == v["path"]
    for v in RFC6962["consistency"]["proofs"]:
        if v["old_size"] < v["new_size"]:
            got = ref_proof(v["old_size"], leaves[: v["new_size"]])
            assert [h.hex() for h in got] == v["proof"]


# --- hasher ----------------------------------------------------------------------------------


def test_hasher_known_answers() -> None:
    hasher = RFC6962["hasher"]
    assert EMPTY_ROOT.hex() == hasher["empty_root"]
    assert HASH_SIZE == len(EMPTY_ROOT) == 32
    for v in hasher["leaves"]:
        assert leaf_hash(bytes.fromhex(v["data"])).hex() == v["hash"]
    for v in hasher["nodes"]:
        assert node_hash(bytes.fromhex(v["left"]), bytes.fromhex(v["right"])).hex() == v["hash"]


@given(st.binary(max_size=100), st.binary(min_size=32, max_size=32))
def test_leaves_and_nodes_are_domain_separated(data: bytes, other: bytes) -> None:
    assert leaf_hash(data) == ref_leaf(data)
    assert node_hash(data, other) == ref_node(data, other)
    assert leaf_hash(data + other) != node_hash(data, other)


# --- roots: root_of, Frontier, MerkleTree -----------------------------------------------------


def test_roots_of_the_published_tree() -> None:
    leaves = vector_leaves()
    tree = MerkleTree(leaves)
    frontier = Frontier()
    assert root_of([]) == tree.root(0) == frontier.root() == EMPTY_ROOT
    for size, root in RFC6962["tree"]["roots"].items():
        n = int(size)
        frontier.append(leaves[n - 1])
        assert root_of(leaves[:n]).hex() == root
        assert tree.root(n).hex() == root
        assert MerkleTree(leaves[:n]).root().hex() == root
        assert frontier.root().hex() == root


@settings(max_examples=60, deadline=None)
@given(SIZES, SALTS)
def test_roots_agree_with_the_reference(n: int, salt: bytes) -> None:
    leaves = leaves_of(n, salt)
    expected = ref_mth(leaves)
    assert root_of(leaves) == expected
    assert MerkleTree(leaves).root() == expected
    frontier = Frontier()
    frontier.extend(leaves)
    assert frontier.size == n
    assert len(frontier.hashes) == n.bit_count()
    assert frontier.root() == expected


@settings(max_examples=30, deadline=None)
@given(SIZES, SALTS)
def test_the_tree_knows_every_earlier_root(n: int, salt: bytes) -> None:
    leaves = leaves_of(n, salt)
    tree = MerkleTree(leaves)
    for size in range(n + 1):
        assert tree.root(size) == ref_mth(leaves[:size]), size


@settings(max_examples=30, deadline=None)
@given(SIZES, SALTS)
def test_appending_builds_the_same_tree(n: int, salt: bytes) -> None:
    leaves = leaves_of(n, salt)
    built = MerkleTree(leaves)
    grown = MerkleTree()
    for i, h in enumerate(leaves):
        grown.append(h)
        assert grown.size == i + 1
    assert grown.root() == built.root() == ref_mth(leaves)
    assert [grown.leaf(i) for i in range(n)] == leaves
    if n:
        assert grown.inclusion_proof(n // 2, n) == built.inclusion_proof(n // 2, n)
        assert grown.consistency_proof(n // 3, n) == built.consistency_proof(n // 3, n)


@settings(max_examples=40, deadline=None)
@given(SIZES, SIZES, SALTS)
def test_a_persisted_frontier_carries_on(first: int, more: int, salt: bytes) -> None:
    leaves = leaves_of(first + more, salt)
    frontier = Frontier()
    frontier.extend(leaves[:first])
    resumed = Frontier.from_state(frontier.size, frontier.hashes)
    assert resumed.root() == frontier.root()
    resumed.extend(leaves[first:])
    assert resumed.size == first + more
    assert resumed.root() == ref_mth(leaves)


def test_a_frontier_holds_one_hash_per_set_bit() -> None:
    leaves = leaves_of(13)
    frontier = Frontier()
    frontier.extend(leaves)
    # 13 = 8 + 4 + 1: the subtrees [0, 8), [8, 12) and [12, 13), largest first
    assert frontier.hashes == (ref_mth(leaves[:8]), ref_mth(leaves[8:12]), leaves[12])


# --- refusals --------------------------------------------------------------------------------

H = leaf_hash(b"x")


@pytest.mark.parametrize(
    ("size", "hashes"),
    [(3, [H]), (2, [H, H]), (0, [H]), (-1, []), (True, [H]), (1, [H[:31]]), (1, ["x" * 32])],
)
def test_a_frontier_state_that_cannot_be_one_is_refused(size: Any, hashes: Any) -> None:
    with pytest.raises(InvalidInput):
        Frontier.from_state(size, hashes)


@pytest.mark.parametrize("bad", [H[:31], H + b"\x00", "x" * 32, None, bytearray(H)])
def test_a_leaf_hash_must_be_32_bytes(bad: Any) -> None:
    with pytest.raises(InvalidInput):
        root_of([H, bad])
    with pytest.raises(InvalidInput):
        MerkleTree([bad])
    with pytest.raises(InvalidInput):
        MerkleTree([H]).append(bad)
    with pytest.raises(InvalidInput):
        Frontier().append(bad)


def test_leaf_hashes_come_as_a_sequence() -> None:
    one_hash: Any = H  # bytes are a sequence, but of ints
    with pytest.raises(InvalidInput):
        root_of(one_hash)
    with pytest.raises(InvalidInput):
        MerkleTree(one_hash)


@pytest.mark.parametrize(
    "ask",
    [
        lambda t: t.root(6),
        lambda t: t.root(-1),
        lambda t: t.root(True),
        lambda t: t.leaf(5),
        lambda t: t.leaf(-1),
        lambda t: t.inclusion_proof(5, 5),
        lambda t: t.inclusion_proof(0, 0),
        lambda t: t.inclusion_proof(0, 6),
        lambda t: t.inclusion_proof(-1, 5),
        lambda t: t.consistency_proof(3, 2),
        lambda t: t.consistency_proof(2, 6),
        lambda t: t.consistency_proof(-1, 2),
    ],
)
def test_questions_beyond_the_tree_are_refused(ask: Any) -> None:
    with pytest.raises(InvalidInput):
        ask(MerkleTree(leaves_of(5)))
