"""Proof generation, RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF), apart from any storage.

Both walk the RFC's recursion iteratively on absolute leaf offsets and ask a ``SubtreeHash``,
``subtree(lo, hi) -> MTH(D[lo:hi])``, for each hash the proof needs — the tree keeps the hashes,
these functions only know which ones (cf. transparency-dev/merkle, where ``proof`` names nodes
and the caller supplies their hashes). Every range asked for starts at a multiple of the
largest power of two not above its length, so a store of complete subtrees can answer it.
Verification lives in ``accord.audit.verify`` and shares nothing with this module.
"""

from __future__ import annotations

from collections.abc import Callable

from accord.errors import InvalidInput

SubtreeHash = Callable[[int, int], bytes]
"""``subtree(lo, hi)`` returns MTH(D[lo:hi]) for ``0 <= lo < hi``."""


def split_point(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1), where RFC 9162 §2.1.1 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1 for m = ``index``, n = ``size``, leaf level first."""
    if not 0 <= index < size:
        raise InvalidInput(f"entry {index} is not in a tree of {size}")
    siblings: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + split_point(hi - lo)
        if index < mid:  # PATH(m, D[0:k]) : MTH(D[k:n])
            siblings.append(subtree(mid, hi))
            hi = mid
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            siblings.append(subtree(lo, mid))
            lo = mid
    siblings.reverse()
    return siblings


def consistency_path(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, leaf level first.

    Empty when m = 0 or m = n: the RFC defines the proof only for 0 < m < n, and the
    verifier needs nothing in those two cases (``verify_consistency`` insists on empty).
    """
    if not 0 <= old_size <= new_size:
        raise InvalidInput(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    nodes: list[bytes] = []
    lo, hi, whole = 0, new_size, True  # SUBPROOF(old_size - lo, D[lo:hi], whole)
    while old_size != hi:
        mid = lo + split_point(hi - lo)
        if old_size <= mid:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            nodes.append(subtree(mid, hi))
            hi = mid
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            nodes.append(subtree(lo, mid))
            lo, whole = mid, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        nodes.append(subtree(lo, hi))
    nodes.reverse()
    return nodes
