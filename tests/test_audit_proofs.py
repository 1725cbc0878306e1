"""accord.audit proofs: generation against published vectors and the naive reference, and
verification that accepts exactly the proofs RFC 9162 §2.1.3.2 / §2.1.4.2 accept.

"Exactly": a proof is refused under changed sizes or a changed index unless the RFC's own
definitions build both roots from the proof's subtrees in the same way (``ref_*_recipe`` in
``tests/test_audit_tree.py``), in which case no verifier can refuse it — e.g. the proof of leaf 0
in a tree of 5 is also a correct proof of leaf 0 in a tree of 6 whose root it gives.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.audit import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_path,
    inclusion_path,
    leaf_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from accord.errors import InvalidInput, ProofInvalid
from tests.test_audit_tree import (
    RFC6962,
    leaves_of,
    ref_consistency_recipe,
    ref_inclusion_recipe,
    ref_mth,
    ref_path,
    ref_proof,
    vector_leaves,
)

TESTDATA = json.loads(
    (Path(__file__).parent / "vectors" / "merkle-testdata.json").read_text(encoding="utf-8")
)
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def refused(check: Callable[..., object], *args: Any) -> bool:
    """True if ``check(*args)`` raised ProofInvalid, False if it passed; anything else fails."""
    try:
        check(*args)
    except ProofInvalid:
        return True
    return False


def flip(h: bytes, bit: int = 3) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# --- known answers ---------------------------------------------------------------------------


def test_generated_proofs_are_the_published_ones() -> None:
    tree = MerkleTree(vector_leaves())
    for v in RFC6962["inclusion"]["proofs"]:
        assert [h.hex() for h in tree.inclusion_proof(v["index"], v["size"])] == v["path"]
    for v in RFC6962["consistency"]["proofs"]:
        got = tree.consistency_proof(v["old_size"], v["new_size"])
        assert [h.hex() for h in got] == v["proof"]


def test_published_proofs_verify() -> None:
    leaves, roots = vector_leaves(), RFC6962["tree"]["roots"]
    for v in RFC6962["inclusion"]["proofs"]:
        root = bytes.fromhex(roots[str(v["size"])])
        verify_inclusion(leaves[v["index"]], v["index"], v["size"], hexes(v["path"]), root)
        assert root_from_inclusion(leaves[v["index"]], v["index"], v["size"], hexes(v["path"]))
    for v in RFC6962["consistency"]["proofs"]:
        old, new = (bytes.fromhex(roots[str(v[k])]) for k in ("old_size", "new_size"))
        verify_consistency(v["old_size"], v["new_size"], old, new, hexes(v["proof"]))


def test_a_real_log_inclusion_proof_verifies() -> None:
    v = RFC6962["log_inclusion"]
    leaf = bytes.fromhex(v["leaf_hash"])
    assert leaf_hash(bytes.fromhex(v["leaf"])) == leaf
    path, root = hexes(v["path"]), bytes.fromhex(v["root"])
    assert len(path) == 22
    assert root_from_inclusion(leaf, v["index"], v["size"], path) == root
    verify_inclusion(leaf, v["index"], v["size"], path, root)
    assert refused(verify_inclusion, leaf, v["index"] + 1, v["size"], path, root)
    assert refused(verify_inclusion, leaf, v["index"], v["size"] * 2, path, root)
    bad = [*path[:10], flip(path[10]), *path[11:]]
    assert refused(verify_inclusion, leaf, v["index"], v["size"], bad, root)


def b64s(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


@pytest.mark.parametrize("case", TESTDATA["inclusion"], ids=lambda c: c["file"])
def test_transparency_dev_inclusion_cases(case: dict[str, Any]) -> None:
    leaf, root = base64.b64decode(case["leafHash"]), base64.b64decode(case["root"])

    proof = b64s(case["proof"])
    assert (
        refused(verify_inclusion, leaf, case["leafIdx"], case["treeSize"], proof, root)
        == (case["wantErr"])
    )


@pytest.mark.parametrize("case", TESTDATA["consistency"], ids=lambda c: c["file"])
def test_transparency_dev_consistency_cases(case: dict[str, Any]) -> None:
    roots = base64.b64decode(case["root1"]), base64.b64decode(case["root2"])

    proof = b64s(case["proof"])
    assert (
        refused(verify_consistency, case["size1"], case["size2"], *roots, proof)
        == (case["wantErr"])
    )


# --- against the reference: every proof of every small tree, and random larger ones ----------


def test_every_proof_of_every_tree_up_to_40_leaves() -> None:
    leaves = leaves_of(40, b"all")
    tree = MerkleTree(leaves)
    roots = [ref_mth(leaves[:n]) for n in range(41)]
    for n in range(1, 41):
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            assert proof == ref_path(m, leaves[:n]), (m, n)
            verify_inclusion(leaves[m], m, n, proof, roots[n])
        for m in range(n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == (ref_proof(m, leaves[:n]) if 0 < m < n else []), (m, n)
            verify_consistency(m, n, roots[m], roots[n], proof)


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """Leaves of a log of up to 300 entries, and a size at most its own that a proof is for."""
    leaves = leaves_of(draw(st.integers(1, 300)), draw(st.binary(max_size=8)))
    return leaves, draw(st.integers(1, len(leaves)))


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_inclusion_proofs_match_the_reference(tree_size: Any, data: st.DataObject) -> None:
    leaves, size = tree_size
    m = data.draw(st.integers(0, size - 1))
    proof = MerkleTree(leaves).inclusion_proof(m, size)
    assert proof == ref_path(m, leaves[:size])
    verify_inclusion(leaves[m], m, size, proof, ref_mth(leaves[:size]))


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_consistency_proofs_match_the_reference(tree_size: Any, data: st.DataObject) -> None:
    leaves, new = tree_size
    old = data.draw(st.integers(0, new))
    proof = MerkleTree(leaves).consistency_proof(old, new)
    assert proof == (ref_proof(old, leaves[:new]) if 0 < old < new else [])
    verify_consistency(old, new, ref_mth(leaves[:old]), ref_mth(leaves[:new]), proof)


def test_generation_asks_only_for_the_subtrees_of_the_recursion() -> None:
    asked: list[tuple[int, int]] = []

    def subtree(lo: int, hi: int) -> bytes:
        asked.append((lo, hi))
        return bytes(32)

    inclusion_path(5, 7, subtree)
    assert sorted(asked) == [(0, 4), (4, 5), (6, 7)]
    asked.clear()
    consistency_path(3, 7, subtree)
    assert sorted(asked) == [(0, 2), (2, 3), (3, 4), (4, 7)]
    with pytest.raises(InvalidInput):
        inclusion_path(7, 7, subtree)
    with pytest.raises(InvalidInput):
        consistency_path(8, 7, subtree)


# --- refusals: one change at a time --------------------------------------------------------


def changed_lists(proof: list[bytes], root: bytes) -> list[tuple[str, list[bytes]]]:
    """The proof with one hash altered, one removed, one added or inserted."""
    out = [
        (f"hash {i} altered", [*proof[:i], flip(h), *proof[i + 1 :]]) for i, h in enumerate(proof)
    ]
    out += [("a hash appended", [*proof, root]), ("a hash prepended", [SOME_HASH, *proof])]
    if proof:
        out += [("truncated", proof[:-1]), ("first hash dropped", proof[1:])]
        out += [("a hash inserted", [proof[0], SOME_HASH, *proof[1:]])]
    return out


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_a_changed_inclusion_proof_is_refused(tree_size: Any, data: st.DataObject) -> None:
    leaves, n = tree_size
    m = data.draw(st.integers(0, n - 1))
    root, leaf = ref_mth(leaves[:n]), leaves[m]
    proof = MerkleTree(leaves).inclusion_proof(m, n)
    for what, changed in changed_lists(proof, root):
        assert refused(verify_inclusion, leaf, m, n, changed, root), what
    assert refused(verify_inclusion, flip(leaf), m, n, proof, root)
    assert refused(verify_inclusion, leaf, m, n, proof, flip(root))
    assert refused(verify_inclusion, leaf, m, n, proof, EMPTY_ROOT)
    for m2, n2 in near(m, n) - {(m, n)}:
        if m2 < 0:
            continue
        same = m2 < n2 and ref_inclusion_recipe(m2, n2) == ref_inclusion_recipe(m, n)
        got = refused(verify_inclusion, leaf, m2, n2, proof, root)
        assert got != same, (m2, n2)


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_a_changed_consistency_proof_is_refused(tree_size: Any, data: st.DataObject) -> None:
    leaves, n = tree_size
    m = data.draw(st.integers(0, n))
    old, new = ref_mth(leaves[:m]), ref_mth(leaves[:n])
    proof = MerkleTree(leaves).consistency_proof(m, n)
    for what, changed in changed_lists(proof, new):
        assert refused(verify_consistency, m, n, old, new, changed), what
    assert refused(verify_consistency, m, n, flip(old), new, proof)
    if m:  # from the empty tree, any new root is consistent
        assert refused(verify_consistency, m, n, old, flip(new), proof)
    if old != new:
        assert refused(verify_consistency, m, n, new, old, proof)
    for m2, n2 in near(m, n) - {(m, n)}:
        if m2 < 0:
            continue
        got = refused(verify_consistency, m2, n2, old, new, proof)
        if 0 < m2 < n2 and 0 < m < n:
            same = ref_consistency_recipe(m2, n2) == ref_consistency_recipe(m, n)
            assert got != same, (m2, n2)
        elif proof or m2 > n2:
            assert got, (m2, n2)


def near(m: int, n: int) -> set[tuple[int, int]]:
    """The index (or old size) and size changed one way at a time."""
    return {(m - 1, n), (m + 1, n), (m ^ 2, n), (m, n - 1), (m, n + 1), (m, 2 * n), (m, n // 2)}


def test_changed_sizes_are_refused_exactly_when_the_rfc_can_tell() -> None:
    leaves = leaves_of(64, b"near")
    tree = MerkleTree(leaves)
    seen = {True: 0, False: 0}
    for n in range(1, 30):
        root = tree.root(n)
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            for m2, n2 in near(m, n) - {(m, n)}:
                same = 0 <= m2 < n2 and ref_inclusion_recipe(m2, n2) == ref_inclusion_recipe(m, n)
                assert refused(verify_inclusion, leaves[m], m2, n2, proof, root) != same
                seen[same] += 1
        for m in range(1, n):
            proof, old = tree.consistency_proof(m, n), tree.root(m)
            for m2, n2 in near(m, n) - {(m, n)}:
                same = 0 < m2 < n2 and ref_consistency_recipe(m2, n2) == ref_consistency_recipe(
                    m, n
                )
                assert refused(verify_consistency, m2, n2, old, root, proof) != same
                seen[same] += 1
    assert seen[True] > 100 and seen[False] > 1000  # both kinds occur: the oracle is not vacuous


def test_the_trivial_consistency_cases() -> None:
    leaves = leaves_of(5)
    r5 = ref_mth(leaves)
    verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    verify_consistency(5, 5, r5, r5, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert refused(verify_consistency, 0, 5, r5, r5, [])
    assert refused(verify_consistency, 0, 5, EMPTY_ROOT, r5, [r5])
    assert refused(verify_consistency, 5, 5, r5, r5, [r5])
    assert refused(verify_consistency, 5, 5, r5, flip(r5), [])
    assert refused(verify_consistency, 5, 4, r5, r5, [])


# --- fail closed: what the error says, and nothing but ProofInvalid ---------------------------


def test_the_error_says_what_failed() -> None:
    leaves = vector_leaves()
    tree = MerkleTree(leaves)
    root, proof = tree.root(), tree.inclusion_proof(5, 8)
    with pytest.raises(ProofInvalid, match="index 9 is not below tree size 8"):
        verify_inclusion(leaves[5], 9, 8, proof, root)
    with pytest.raises(ProofInvalid, match="has 2 hashes, a tree of this size needs 3"):
        verify_inclusion(leaves[5], 5, 8, proof[:2], root)
    with pytest.raises(
        ProofInvalid,
        match=r"inclusion proof for entry 5 in a tree of 8: computed root [0-9a-f]{16}… does not"
        r" match 5dc9da79a70659a9…",
    ):
        verify_inclusion(leaves[4], 5, 8, proof, root)
    with pytest.raises(ProofInvalid, match="proof hash 1 is 31 bytes, not 32"):
        verify_inclusion(leaves[5], 5, 8, [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(ProofInvalid, match="new tree size 3 is below old tree size 6"):
        verify_consistency(6, 3, tree.root(6), tree.root(3), [])
    with pytest.raises(ProofInvalid, match="computed old root"):
        verify_consistency(6, 8, flip(tree.root(6)), root, tree.consistency_proof(6, 8))
    with pytest.raises(ProofInvalid, match="computed new root"):
        verify_consistency(6, 8, tree.root(6), flip(root), tree.consistency_proof(6, 8))


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**66),
    st.floats(allow_nan=True),
    st.binary(max_size=40),
    st.text(max_size=40),
    st.lists(st.one_of(st.binary(min_size=30, max_size=34), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.integers(), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(JUNK, JUNK, JUNK, JUNK, JUNK)
def test_junk_raises_proof_invalid_and_nothing_else(a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
    # passing would be fine; raising anything but ProofInvalid is not
    refused(verify_inclusion, a, b, c, d, e)
    refused(root_from_inclusion, a, b, c, d)
    refused(verify_consistency, a, b, c, d, e)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.lists(st.just(SOME_HASH), max_size=70)
)
def test_any_sizes_with_any_number_of_hashes(x: int, y: int, proof: list[bytes]) -> None:
    index, size = min(x, y), max(x, y)
    refused(verify_inclusion, SOME_HASH, index, size, proof, SOME_HASH)
    assert refused(verify_consistency, index, size, SOME_HASH, EMPTY_ROOT, proof)
    assert refused(verify_inclusion, SOME_HASH, 0, 2**64, [], SOME_HASH)
