"""Merkle trees of RFC 9162 §2.1: a root function, a compact frontier, a tree with its levels,
and the complete subtrees (nodes) a store keeps so that proofs are O(log n) reads.

All three work on leaf hashes (``hasher.leaf_hash`` of each entry), never on entries, and agree
with the RFC's recursive definition of MTH, where D[n] splits at k, the largest power of two
smaller than n. Hashing level by level and moving an odd last node up unchanged gives exactly
that split, without recursion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from accord.audit.hasher import EMPTY_ROOT, HASH_SIZE, NODE_HASH, hash_pairs, node_hash
from accord.audit.proofs import consistency_path, inclusion_path
from accord.errors import IntegrityError, InvalidInput

Node = tuple[int, int]
"""(level, index): the complete subtree of ``2**level`` leaves from leaf ``index * 2**level``."""
ClosedNode = tuple[int, int, bytes]
"""A node an append completed, with its hash: (level, index, MTH)."""
T = TypeVar("T")


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1 over hashed leaves; ``EMPTY_ROOT`` for none."""
    _check_hashes(leaf_hashes)
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        carried = level[-1] if len(level) % 2 else None
        level = hash_pairs(level)
        if carried is not None:
            level.append(carried)
    return level[0]


class Frontier:
    """The compact range [0, size) of a growing log: one subtree hash per set bit of the size.

    ``hashes`` holds MTH of each complete subtree of the size's binary decomposition, largest
    (leftmost) first — O(log n) state that is enough to append and to compute the root
    (RFC 9162 §2.1.1; transparency-dev/merkle calls it a compact range).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """The frontier persisted as ``(size, hashes)``; refuses a state that cannot be one."""
        _check_size(size, "frontier size")
        _check_hashes(hashes)
        if len(hashes) != size.bit_count():
            raise InvalidInput(
                f"a frontier of size {size} holds {size.bit_count()} hashes, not {len(hashes)}"
            )
        frontier = cls()
        frontier._size = size
        frontier._hashes = list(hashes)
        return frontier

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The state to persist beside ``size``."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[ClosedNode]:
        """Add one leaf: merge it with every subtree it completes (a binary carry). Returns
        those subtrees, lowest first, as the nodes a store keeps (level 1 and up)."""
        _check_hash(leaf_hash)
        h, n, index = leaf_hash, self._size, self._size
        closed: list[ClosedNode] = []
        level = 0
        while n & 1:
            h = node_hash(self._hashes.pop(), h)
            n >>= 1
            level += 1
            closed.append((level, index >> level, h))
        self._hashes.append(h)
        self._size += 1
        return closed

    def append_all(self, leaf_hashes: Sequence[bytes]) -> list[ClosedNode]:
        """``append`` each leaf hash in turn (checked once, hashed inline); the subtrees they
        close, in the order ``append`` gives them."""
        _check_hashes(leaf_hashes)
        hashes, size, parent = self._hashes, self._size, NODE_HASH.copy
        closed: list[ClosedNode] = []
        for leaf in leaf_hashes:
            h, n, level = leaf, size, 0
            while n & 1:
                node = parent()
                node.update(hashes.pop())
                node.update(h)
                h = node.digest()
                n >>= 1
                level += 1
                closed.append((level, size >> level, h))
            hashes.append(h)
            size += 1
        self._size = size
        return closed

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """``append`` each leaf hash in turn."""
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """MTH(D[size]): the subtrees folded right to left."""
        if not self._hashes:
            return EMPTY_ROOT
        h = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            h = node_hash(left, h)
        return h

    def __repr__(self) -> str:
        return f"Frontier(size={self._size})"


class MerkleTree:
    """Every leaf hash and every complete subtree above them, for roots and proofs of any size.

    Level j holds MTH of each aligned run of 2**j leaves (about 2n hashes in all), so the hash
    of any subtree the RFC 9162 §2.1 recursion names — for the tree's size or any smaller one —
    is one lookup, or a fold of O(log n) of them for a subtree cut short by the size asked for.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        _check_hashes(leaf_hashes)
        self._levels: list[list[bytes]] = [list(leaf_hashes)]
        level = self._levels[0]
        while len(level) > 1:
            level = hash_pairs(level)
            self._levels.append(level)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        _check_size(index, "leaf index")
        if index >= self.size:
            raise InvalidInput(f"entry {index} is not in a tree of {self.size}")
        return self._levels[0][index]

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf and every complete subtree it closes, O(log n)."""
        _check_hash(leaf_hash)
        levels = self._levels
        levels[0].append(leaf_hash)
        j = 0
        while len(levels[j]) % 2 == 0:
            if j + 1 == len(levels):
                levels.append([])
            levels[j + 1].append(node_hash(levels[j][-2], levels[j][-1]))
            j += 1

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[size]), the root the tree had at ``size`` leaves (default: now)."""
        size = self._size_arg(size)
        return self._subtree(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]), RFC 9162 §2.1.3.1, for any size up to the tree's."""
        _check_size(index, "leaf index")
        return inclusion_path(index, self._size_arg(size), self._subtree)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[new_size]), RFC 9162 §2.1.4.1; empty if old is 0 or equals new."""
        old_size = self._size_arg(old_size)
        return consistency_path(old_size, self._size_arg(new_size), self._subtree)

    def _subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a range that starts at a multiple of its largest power of two."""
        return fold([self._levels[j][i] for j, i in cover(lo, hi)])

    def _size_arg(self, size: int | None) -> int:
        if size is None:
            return self.size
        _check_size(size, "tree size")
        if size > self.size:
            raise InvalidInput(f"tree size {size} is beyond the {self.size} leaves of the log")
        return size

    def __repr__(self) -> str:
        return f"MerkleTree(size={self.size})"


def node_key(level: int, index: int) -> int:
    """The number a store keys node (level, index) by: its last leaf times 64, plus its level.
    Keys grow in the order appends complete the nodes, so a log's nodes are read in key order
    as its entries are replayed."""
    return ((((index + 1) << level) - 1) << 6) | level


def cover(lo: int, hi: int) -> list[Node]:
    """The complete subtrees that make up D[lo:hi], left to right, for a range that starts at a
    multiple of its largest power of two (every range ``proofs`` asks for): O(log n) of them."""
    nodes: list[Node] = []
    pos, rest = lo, hi - lo
    while rest:
        j = rest.bit_length() - 1  # the largest complete subtree left in the range
        nodes.append((j, pos >> j))
        pos += 1 << j
        rest -= 1 << j
    return nodes


def inclusion_nodes(index: int, size: int) -> list[tuple[Node, ...]]:
    """The stored nodes each hash of PATH(index, D[size]) (RFC 9162 §2.1.3.1) is made of, leaf
    level first, without walking the recursion: the sibling at each level below the one where
    the paths to ``index`` and to the last leaf part (the top one of these may be cut short by
    the size: the complete subtrees that cover it), then the left sibling at each level above
    where ``index`` has a set bit. Each element folds (``fold``) to that hash of the path."""
    if not 0 <= index < size:
        raise InvalidInput(f"entry {index} is not in a tree of {size}")
    inner = (index ^ (size - 1)).bit_length()
    path: list[tuple[Node, ...]] = [((j, (index >> j) ^ 1),) for j in range(inner - 1)]
    if inner:
        top = inner - 1
        start = ((index >> top) ^ 1) << top
        path.append(tuple(cover(start, size)))
    level = inner
    rest = index >> inner
    while rest:
        if rest & 1:
            path.append(((level, (rest ^ 1)),))
        rest >>= 1
        level += 1
    return path


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive subtrees, largest first, as ``cover`` gives them: folded right to left."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def from_nodes(
    make: Callable[[Callable[[int, int], bytes]], T],
    fetch: Callable[[Sequence[Node]], Mapping[Node, bytes]],
) -> T:
    """Run ``make`` (a root or a proof from ``proofs``) on stored nodes in two passes: the first
    learns which nodes it needs, ``fetch`` reads them all at once, the second computes. A node
    ``fetch`` does not give means the store lost it."""
    wanted: dict[Node, None] = {}

    def note(lo: int, hi: int) -> bytes:
        wanted.update(dict.fromkeys(cover(lo, hi)))
        return EMPTY_ROOT

    make(note)
    found = fetch(list(wanted))

    def subtree(lo: int, hi: int) -> bytes:
        try:
            return fold([found[node] for node in cover(lo, hi)])
        except KeyError:
            level, index = next(n for n in cover(lo, hi) if n not in found)
            raise IntegrityError(
                f"the log's stored node at level {level}, index {index} is missing"
                " (run `accord audit verify`)"
            ) from None

    return make(subtree)


def _check_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{what} must be a non-negative integer, not {value!r}")


def _check_hash(value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidInput(f"a leaf hash is {HASH_SIZE} bytes, not {value!r:.80}")


def _check_hashes(values: Sequence[bytes]) -> None:
    if isinstance(values, bytes | str) or not isinstance(values, Sequence):
        raise InvalidInput("leaf hashes come as a sequence of bytes")
    if set(map(type, values)) - {bytes} or set(map(len, values)) - {HASH_SIZE}:
        bad = next(v for v in values if not isinstance(v, bytes) or len(v) != HASH_SIZE)
        raise InvalidInput(f"a leaf hash is {HASH_SIZE} bytes, not {bad!r:.80}")
