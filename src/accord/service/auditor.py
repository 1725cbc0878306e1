"""Verifying the record (R12): recompute the log, check its checkpoints, replay it against the
store; and the proofs a party checks offline, with nothing but the proof and a verifier key.

``verify`` names the first thing that is wrong: an entry whose bytes no longer hash to what was
logged, one out of place or missing, a checkpoint whose signature or root does not hold, or a
row of the store that the entries do not explain (a marking, a ciphertext or a key changed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table

from accord.audit import (
    EMPTY_ROOT,
    LEAF_HASH,
    NODE_HASH,
    ClosedNode,
    Frontier,
    Node,
    SignedCheckpoint,
    consistency_path,
    cover,
    fold,
    from_nodes,
    inclusion_nodes,
    leaf_hash,
    node_key,
    parse_signed_checkpoint,
    parse_verifier_key,
    verifier_key,
    verify_consistency,
    verify_inclusion,
)
from accord.crypto import EXCHANGE
from accord.errors import CheckpointInvalid, IntegrityError, InvalidInput, ProofInvalid
from accord.service import journal
from accord.service.ledger import Ledger, fact_about
from accord.service.progress import Progress, tick
from accord.store import log_reads, schema
from accord.store.images import Image, key_of
from accord.store.sql import KeySetRow, StoreTx

PROOF_FORMAT = "accord-proof/1"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    root: bytes
    checkpoints: int
    countersignatures: tuple[str, ...]
    rows: int

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": True,
            "entries": self.entries,
            "root": self.root.hex(),
            "checkpoints_verified": self.checkpoints,
            "countersignatures": list(self.countersignatures),
            "rows_explained": self.rows,
        }


CHUNK = 10_000  # entries read, hashed and replayed per query


def _fingerprint(row: Image) -> bytes:
    """A short digest of a row image: the replay keeps this, not the image (O(rows) small)."""
    return hashlib.blake2b(json.dumps(row, sort_keys=True).encode(), digest_size=16).digest()


def _fast_fingerprint(row: Image) -> bytes:
    """The fast pass's digest of a row image: orjson's sorted-key bytes (json's, marked apart,
    for what orjson cannot write, such as integers beyond 64 bits)."""
    try:
        text = orjson.dumps(row, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = b"j" + json.dumps(row, sort_keys=True).encode()
    return hashlib.blake2b(text, digest_size=16).digest()


# An entry that changes no rows, recognised on its RFC 8785 bytes (keys in a fixed order:
# allowed, at, changes, kind, reasons, recorded_at, seq, subject): its seq is group 1.
_NO_CHANGES = re.compile(
    rb'\{(?:"allowed":(?:true|false),)?"at":"[^"\\]*","changes":\[\],"kind":"[^"\\]*",'
    rb'(?:"reasons":\[[^\]\\]*\],)?"recorded_at":"[^"\\]*",'
    rb'"seq":(0|[1-9][0-9]{0,18}),"subject":\{'
)
_BODY = len(journal.ENTRY_PREFIX)


def _fast_body(seq: int, leaf: bytes) -> Any:
    """An entry's body by orjson, or by json where orjson refuses it (json decides then)."""
    try:
        return orjson.loads(memoryview(leaf)[_BODY:])
    except orjson.JSONDecodeError:
        return journal.decode_entry(leaf, seq)


@dataclass
class _Replay:
    """The rows the entries say the store holds (as fingerprints), and which entry last wrote
    each."""

    rows: dict[str, dict[tuple[Any, ...], tuple[bytes, int]]] = field(default_factory=dict)
    fingerprint: Callable[[Image], bytes] = _fingerprint

    def apply(self, seq: int, changes: object) -> None:
        if not isinstance(changes, list):
            raise IntegrityError(f"audit entry {seq}: its changes are not a list")
        for change in changes:
            table, op, row = _change(seq, change)
            rows = self.rows.setdefault(table.name, {})
            key = key_of(table, row)
            if op == "delete":
                rows.pop(key, None)
            else:
                rows[key] = (self.fingerprint(row), seq)


_TABLES = {table.name: table for table in schema.AUDITED}


def _change(seq: int, change: object) -> tuple[Table, str, Image]:
    if not isinstance(change, Mapping):
        raise IntegrityError(f"audit entry {seq}: a change is not an object")
    table = _TABLES.get(str(change.get("table")))
    op, row = change.get("op"), change.get("row")
    if table is None or op not in ("insert", "update", "delete") or not isinstance(row, dict):
        raise IntegrityError(f"audit entry {seq}: a change names no known table, op or row")
    try:
        key_of(table, row)
    except KeyError:
        raise IntegrityError(f"audit entry {seq}: a {table.name} row without its key") from None
    return table, str(op), row


@dataclass
class _Walk:
    """One pass over the stored entries, a chunk at a time: each entry checked against its hash
    and place, replayed, appended to a frontier whose closed subtrees are compared with the
    stored nodes, and the root kept at each size a checkpoint names. Memory: the replay's
    fingerprints and one chunk, never the whole log."""

    sizes: frozenset[int]
    frontier: Frontier = field(default_factory=Frontier)
    replay: _Replay = field(default_factory=_Replay)
    roots: dict[int, bytes] = field(default_factory=dict)
    bad_node: str | None = None  # the first stored node that is not what the entries give
    fast: bool = False  # the fast pass: entries without changes skipped, the rest by orjson

    def __post_init__(self) -> None:
        if self.fast:
            self.replay.fingerprint = _fast_fingerprint

    def run(self, tx: StoreTx, total: int, progress: Progress | None, size: int) -> None:
        while True:
            chunk = log_reads.entries_page(tx.conn, self.frontier.size, size)
            if not chunk:
                return
            start = self.frontier.size
            bad = _first_unhashed(start, chunk)  # the cheap check first, for the whole chunk
            if self.fast:
                self._fast_entries(chunk[:bad])
            else:
                for seq, leaf, _ in chunk[:bad]:  # the entries before any bad one are replayed
                    self._entry(seq, leaf)
            if bad is not None:
                seq, expected = chunk[bad][0], start + bad
                if seq != expected:
                    raise IntegrityError(
                        f"audit entry {expected} is missing (the next stored is {seq})"
                    )
                raise IntegrityError(f"audit entry {seq}: its bytes do not hash to its logged hash")
            self._nodes(tx, start, start + len(chunk), self._grow([h for _, _, h in chunk]))
            if progress is not None:  # after each chunk of entries
                progress("entries", self.frontier.size, total)

    def _entry(self, seq: int, leaf: bytes) -> None:
        body = journal.decode_entry(leaf, seq)
        if body.get("seq") != seq:
            raise IntegrityError(f"audit entry {seq}: it records itself as entry {body.get('seq')}")
        self.replay.apply(seq, body.get("changes"))

    def _fast_entries(self, chunk: Sequence[tuple[int, bytes, bytes]]) -> None:
        """The fast pass over entries whose hashes held: any doubt raises, and ``verify`` then
        runs the careful pass, which names the problem."""
        prefix, match, apply = journal.ENTRY_PREFIX, _NO_CHANGES.match, self.replay.apply
        for seq, leaf, _ in chunk:
            if not leaf.startswith(prefix):
                raise IntegrityError(f"audit entry {seq}: not an accord entry")
            skipped = match(leaf, _BODY)
            if skipped is not None:
                if int(skipped.group(1)) != seq:
                    raise IntegrityError(f"audit entry {seq}: it records another seq")
                continue
            body = _fast_body(seq, leaf)
            if not isinstance(body, dict) or body.get("seq") != seq:
                raise IntegrityError(f"audit entry {seq}: not an entry with its own seq")
            apply(seq, body.get("changes"))

    def _grow(self, hashes: list[bytes]) -> list[tuple[int, bytes]]:
        """The frontier grown by a chunk's leaf hashes, keeping the root at each size a
        checkpoint names; the subtrees they close, by node key, in key order."""
        frontier, start = self.frontier, self.frontier.size
        cuts = sorted(size - start for size in self.sizes if start < size <= start + len(hashes))
        closed: list[ClosedNode] = []
        done = 0
        for cut in [*cuts, len(hashes)]:
            closed += frontier.append_all(hashes[done:cut])
            done = cut
            if frontier.size in self.sizes:
                self.roots[frontier.size] = frontier.root()
        return [(((((i + 1) << j) - 1) << 6) | j, h) for j, i, h in closed]  # node_key, inline

    def _nodes(self, tx: StoreTx, start: int, stop: int, computed: list[tuple[int, bytes]]) -> None:
        """The stored nodes closed by entries [start, stop) against those the entries give."""
        if self.bad_node is not None:
            return
        stored = log_reads.nodes_between(tx.conn, start << 6, stop << 6)
        if stored == computed:
            return
        have = dict(stored)
        for key, h in computed:
            if have.pop(key, None) != h:
                level, last = key & 63, key >> 6
                self.bad_node = (
                    f"the log's stored node at level {level} ending at entry {last} is missing"
                    " or differs from the entries (proofs from the store would be wrong)"
                )
                return
        key = min(have)
        self.bad_node = f"the log holds a node ({key >> 6}, level {key & 63}) no entry gives"


def _first_unhashed(start: int, chunk: Sequence[tuple[int, bytes, bytes]]) -> int | None:
    """The place in ``chunk`` (entries from ``start`` on) of the first entry out of place or
    whose bytes do not hash to its logged hash; None when every one holds. Compared a chunk at
    a time, so the cost is the hashing."""
    seqs = [seq for seq, _, _ in chunk]
    copy = LEAF_HASH.copy
    computed = []
    for _, leaf, _ in chunk:
        h = copy()
        h.update(leaf)
        computed.append(h.digest())
    if seqs == list(range(start, start + len(chunk))) and computed == [h for _, _, h in chunk]:
        return None
    return next(
        n for n, (seq, _, stored) in enumerate(chunk) if seq != start + n or computed[n] != stored
    )


def _check_frontier(tx: StoreTx, count: int) -> None:
    """The frontier the exchange keeps for its next append must be the one of these entries."""
    frontier = journal.load_frontier(tx)
    if frontier.size < count:
        raise IntegrityError(
            f"audit entry {frontier.size} onwards ({count - frontier.size} entries) was not"
            " appended by the exchange"
        )
    if frontier.size > count:
        raise IntegrityError(
            f"the log holds {count} entries but {frontier.size} were appended"
            f" (entry {count} onwards is missing)"
        )


def _check_frontier_hashes(tx: StoreTx, frontier: Frontier) -> None:
    """Checked after the checkpoints, which name a changed entry better than this can."""
    if frontier.hashes != journal.load_frontier(tx).hashes:
        raise IntegrityError(
            "the log's stored frontier (kept for the next append) does not match its entries"
        )


def _keys_by_name(rows: Sequence[KeySetRow]) -> dict[str, list[Ed25519PublicKey]]:
    names: dict[str, list[Ed25519PublicKey]] = {}
    for row in rows:
        names.setdefault(journal.signer_name(row.owner), []).append(_ed25519(row.ed25519_public))
    return names


def _check_signed(
    signed: SignedCheckpoint,
    walk: _Walk,
    keys: Mapping[str, list[Ed25519PublicKey]],
    origin: str,
    what: str,
) -> list[str]:
    """The exchange's signature, the root at the checkpoint's size, every party's signature;
    returns the names of the parties that countersigned."""
    checkpoint = signed.checkpoint
    size = walk.frontier.size
    if checkpoint.origin != origin:
        raise CheckpointInvalid(f"{what} names the log {checkpoint.origin!r}, not {origin!r}")
    if checkpoint.size > size:
        raise IntegrityError(
            f"{what} covers {checkpoint.size} entries; the log holds {size}"
            f" (entry {size} onwards is missing)"
        )
    _verify_by(signed, journal.signer_name(EXCHANGE), keys, what)
    if checkpoint.root != walk.roots.get(checkpoint.size, EMPTY_ROOT):
        raise IntegrityError(
            f"{what}: the first {checkpoint.size} entries no longer hash to its signed root"
            " (an entry before it was changed)"
        )
    signers = []
    for signature in signed.signatures:
        if signature.name != journal.signer_name(EXCHANGE):
            _verify_by(signed, signature.name, keys, what)
            signers.append(signature.name)
    return signers


def _verify_by(
    signed: SignedCheckpoint, name: str, keys: Mapping[str, list[Ed25519PublicKey]], what: str
) -> None:
    failure: CheckpointInvalid | None = None
    for public in keys.get(name, []):
        try:
            signed.verify(name, public)
            return
        except CheckpointInvalid as error:
            failure = error
    raise CheckpointInvalid(
        f"{what}: no valid signature by {name}" + (f" ({failure.message})" if failure else "")
    )


def _ed25519(public: bytes) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(public)
    except ValueError:
        raise CheckpointInvalid("a stored or given public key is not an Ed25519 key") from None


def _compare(tx: StoreTx, replay: _Replay, progress: Progress | None) -> int:
    """Every audited row of the store against what the entries say it holds."""
    bad: list[tuple[int, tuple[str, Any, Image | None]]] = []
    count = 0
    for table in schema.AUDITED:
        expected = dict(replay.rows.get(table.name, {}))
        for stored in tx.stored_images(table):
            count += 1
            tick(progress, "rows", count, None)
            key = key_of(table, stored)
            logged = expected.pop(key, None)
            if logged is None:
                bad.append((-1, (table.name, key, None)))
            elif logged[0] != replay.fingerprint(stored):
                bad.append((logged[1], (table.name, key, stored)))
        for key, (_row, seq) in expected.items():
            bad.append((seq, (table.name, key, None)))
        if progress is not None:  # after each table of rows
            progress("rows", count, None)
    if bad:
        named = [b for b in bad if b[0] >= 0]  # an entry whose row changed comes first
        seq, (table_name, key, now) = min(named, key=_first) if named else bad[0]
        raise IntegrityError(_unexplained(tx, seq, table_name, key, now))
    return count


def _first(problem: tuple[int, tuple[str, Any, Image | None]]) -> tuple[int, str, str]:
    seq, (table_name, key, _stored) = problem
    return seq, table_name, _key(key)


def _unexplained(
    tx: StoreTx, seq: int, table_name: str, key: tuple[Any, ...], stored: Image | None
) -> str:
    """The sentence naming a row the entries do not explain (the entry re-read for its fields)."""
    if seq < 0:
        return f"{table_name} row {_key(key)} is not explained by any entry"
    logged = _logged_row(tx, seq, table_name, key)
    about = f" ({fact_about(logged)})" if table_name == schema.facts.name else ""
    if stored is None:
        return f"audit entry {seq} wrote {table_name} row {_key(key)}{about}; it is gone"
    fields = sorted(k for k in stored if stored.get(k) != logged.get(k))
    return (
        f"audit entry {seq} wrote {table_name} row {_key(key)}{about};"
        f" the store now differs in {', '.join(fields)}"
    )


def _logged_row(tx: StoreTx, seq: int, table_name: str, key: tuple[Any, ...]) -> Image:
    stored = tx.entry(seq)
    assert stored is not None  # the walk read it
    row: Image = {}
    table = _TABLES[table_name]
    for change in journal.decode_entry(stored[0], seq).get("changes", []):
        if change.get("table") == table_name and key_of(table, change["row"]) == key:
            row = change["row"]
    return row


def _key(key: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in key)


def verify(
    tx: StoreTx,
    pinned: str | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> VerifyReport:
    """Stream the log (hash, place, replay, nodes), ``chunk`` entries per query; check the
    latest and every published checkpoint, then every audited row. ``progress`` hears how far
    it is after each chunk of entries and each table of rows.

    The fast pass runs first (entries that change no rows recognised on their bytes and not
    replayed, the others decoded by orjson); on any failure the careful pass runs again from
    the start and its error, the one it always named, is raised (``progress`` then restarts)."""
    try:
        return _verify(tx, pinned, progress, chunk, fast=True)
    except (IntegrityError, CheckpointInvalid):
        return _verify(tx, pinned, progress, chunk, fast=False)


def careful_verify(
    tx: StoreTx, pinned: str | None = None, progress: Progress | None = None, chunk: int = CHUNK
) -> VerifyReport:
    """``verify`` without its fast pass: every entry decoded by json and replayed."""
    return _verify(tx, pinned, progress, chunk, fast=False)


def _verify(
    tx: StoreTx, pinned: str | None, progress: Progress | None, chunk: int, fast: bool
) -> VerifyReport:
    latest = tx.meta(journal.LATEST)
    published = tx.published_checkpoints()
    signed = parse_signed_checkpoint(latest) if latest is not None else None
    sizes = {size for size, _ in published}
    for _, note in published:
        sizes.add(parse_signed_checkpoint(note).checkpoint.size)
    if signed is not None:
        sizes.add(signed.checkpoint.size)
    total = journal.load_frontier(tx).size
    walk = _Walk(frozenset(sizes), fast=fast)
    walk.run(tx, total, progress, chunk)
    _check_frontier(tx, walk.frontier.size)
    origin = tx.meta(journal.ORIGIN)
    if origin is None:
        raise IntegrityError("the store names no audit log origin: was `accord keys init` run?")
    keys = _keys_by_name(tx.key_sets())
    if signed is None:
        raise IntegrityError("the log has no signed checkpoint")
    if pinned is not None:  # the latest checkpoint must be signed by the key the party pinned
        name, public = parse_verifier_key(pinned)
        _verify_by(signed, name, {name: [public]}, "the latest checkpoint (pinned key)")
    _check_signed(signed, walk, keys, origin, "the latest checkpoint")
    if signed.checkpoint.size != walk.frontier.size:
        raise IntegrityError(
            f"the latest checkpoint covers {signed.checkpoint.size} entries; the log holds"
            f" {walk.frontier.size} (entry {signed.checkpoint.size} onwards was not signed)"
        )
    signers: list[str] = []
    for size, note in published:
        what = f"the checkpoint published at size {size}"
        checkpoint = parse_signed_checkpoint(note)
        if checkpoint.checkpoint.size != size:
            raise CheckpointInvalid(f"{what} says size {checkpoint.checkpoint.size}")
        signers += [
            f"{size}:{name}" for name in _check_signed(checkpoint, walk, keys, origin, what)
        ]
    _check_frontier_hashes(tx, walk.frontier)
    if walk.bad_node is None and tx.node_count(walk.frontier.size << 6):
        walk.bad_node = "the log holds nodes beyond its last entry"
    rows = _compare(tx, walk.replay, progress)
    if walk.bad_node is not None:
        raise IntegrityError(walk.bad_node)
    failures = Ledger().failures(tx)  # every fact through its one definition, signatures checked
    if failures:
        raise IntegrityError(failures[0])
    root = walk.frontier.root()
    return VerifyReport(walk.frontier.size, root, len(published) + 1, tuple(signers), rows)


# --- proofs ---------------------------------------------------------------------------------


def _note_at(tx: StoreTx, size: int) -> str | None:
    latest = tx.meta(journal.LATEST)
    if latest is not None and parse_signed_checkpoint(latest).checkpoint.size == size:
        return latest
    return tx.checkpoint(size)


def _stored_nodes(tx: StoreTx, wanted: Sequence[Node]) -> dict[Node, bytes]:
    """Leaf hashes (level 0) and stored subtrees, one statement whatever the log's size."""
    leaves = [index for level, index in wanted if level == 0]
    keyed = {node_key(level, index): (level, index) for level, index in wanted if level > 0}
    rows = log_reads.proof_rows(tx.conn, leaves, list(keyed), [])
    found: dict[Node, bytes] = {(0, seq): h for seq, h in rows.leaf_hashes.items()}
    found.update({keyed[key]: h for key, h in rows.nodes.items()})
    return found


def _size(tx: StoreTx, size: int | None) -> int:
    """The tree size asked for (default: the whole log), within the log."""
    return _size_within(journal.load_frontier(tx).size, size)


_BAD_TREE = (
    "the stored tree of {size} entries does not give a proof that verifies"
    " (run `accord audit verify`)"
)


def _signed_root(tx: StoreTx, size: int, root: bytes) -> str | None:
    """The checkpoint at ``size``, if one was signed; refuses a stored tree that disagrees."""
    note = _note_at(tx, size)
    if note is not None and parse_signed_checkpoint(note).checkpoint.root != root:
        raise IntegrityError(
            f"the stored tree of {size} entries does not give its signed root"
            " (run `accord audit verify`)"
        )
    return note


def prove(tx: StoreTx, seq: int, size: int | None = None) -> dict[str, Any]:
    """An inclusion proof for entry ``seq`` in the tree of ``size`` entries (default: all),
    from O(log n) stored hashes."""
    return prove_many(tx, [seq], size)[0]


def prove_many(tx: StoreTx, seqs: Sequence[int], size: int | None = None) -> list[dict[str, Any]]:
    """Inclusion proofs for several entries in one tree: two reads of the store whatever their
    number (the log's head, then every entry and stored hash they need, in one statement);
    each proof is checked against the root before it is given."""
    head = log_reads.meta_values(tx.conn, [journal.FRONTIER, journal.LATEST])
    size = _size_within(journal.frontier_of(head.get(journal.FRONTIER)).size, size)
    for seq in seqs:
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < size:
            raise InvalidInput(
                f"entry {seq}: the tree of {size} entries has entries 0 to {size - 1}"
            )
    paths = [inclusion_nodes(seq, size) for seq in seqs]
    found, stored = _proof_hashes(tx, paths, cover(0, size), seqs)
    root = fold([found[node] for node in cover(0, size)])
    note = _signed_root_of(tx, head.get(journal.LATEST), size, root)
    folded: dict[tuple[Node, ...], bytes] = {}
    proofs = []
    checked: dict[tuple[int, int], bytes] = {}
    for seq, nodes in zip(seqs, paths, strict=True):
        path = [
            found[element[0]] if len(element) == 1 else _folded(found, folded, element)
            for element in nodes
        ]
        leaf, hashed = stored[seq]
        # a stored node changed by hand never leaves in a false proof
        _check_path(hashed, seq, size, path, root, checked)
        proofs.append(
            {
                "format": PROOF_FORMAT,
                "kind": "inclusion",
                "index": seq,
                "size": size,
                "leaf": base64.b64encode(leaf).decode("ascii"),
                "leaf_hash": hashed.hex(),
                "root": root.hex(),
                "proof": [h.hex() for h in path],
                "checkpoint": note,
            }
        )
    return proofs


def _check_path(
    leaf: bytes,
    index: int,
    size: int,
    path: Sequence[bytes],
    root: bytes,
    checked: dict[tuple[int, int], bytes],
) -> None:
    """RFC 9162 §2.1.3.2 for one path of a batch, sharing work with the paths checked before.

    After each step, ``(fn, sn)`` names the subtree whose hash ``r`` is (sn falls by a shift a
    level, so the pair is unique in a tree of this size). A path that reaches a subtree an
    earlier path of the batch reached goes on with the same nodes to the same root, so it is
    checked once it gives that subtree the same hash; a different hash means the stored tree
    is not one tree. The other paths run the RFC's steps to the end.
    """
    fn, sn, r = index, size - 1, leaf
    parent = NODE_HASH.copy
    for p in path:
        earlier = checked.get((fn, sn))
        if earlier is not None:
            if earlier != r:
                break
            return
        checked[fn, sn] = r
        if sn == 0:
            break
        h = parent()
        if fn & 1 or fn == sn:
            h.update(p)
            h.update(r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            h.update(r)
            h.update(p)
        r = h.digest()
        fn, sn = fn >> 1, sn >> 1
    else:
        earlier = checked.get((fn, sn))
        if sn == 0 and r == root and earlier in (None, r):
            checked[fn, sn] = r
            return
    raise IntegrityError(_BAD_TREE.format(size=size))


def _size_within(total: int, size: int | None) -> int:
    """The tree size asked for (default: the whole log of ``total`` entries), within the log."""
    size = total if size is None else size
    if not 0 < size <= total:
        raise InvalidInput(f"--size {size}: the log holds {total} entries")
    return size


def _proof_hashes(
    tx: StoreTx,
    paths: Sequence[Sequence[tuple[Node, ...]]],
    root: Sequence[Node],
    seqs: Sequence[int],
) -> tuple[dict[Node, bytes], dict[int, tuple[bytes, bytes]]]:
    """Every node the paths and the root fold, and the proven entries, in one read; a node or
    an entry the store does not give means it lost it."""
    wanted = set(chain(root, chain.from_iterable(chain.from_iterable(paths))))
    keyed = {node_key(*node): node for node in wanted if node[0]}
    leaves = [index for level, index in wanted if not level]
    rows = log_reads.proof_rows(tx.conn, [*leaves, *seqs], list(keyed), seqs)
    found: dict[Node, bytes] = {(0, seq): h for seq, h in rows.leaf_hashes.items()}
    found.update({keyed[key]: h for key, h in rows.nodes.items()})
    missing = wanted.difference(found)
    if missing:
        level, index = min(missing)
        raise IntegrityError(
            f"the log's stored node at level {level}, index {index} is missing"
            " (run `accord audit verify`)"
        )
    stored: dict[int, tuple[bytes, bytes]] = {}
    for seq in seqs:
        if seq not in rows.entries or seq not in rows.leaf_hashes:
            raise IntegrityError(f"audit entry {seq} is missing (run `accord audit verify`)")
        stored[seq] = (rows.entries[seq], rows.leaf_hashes[seq])
    return found, stored


def _folded(
    found: Mapping[Node, bytes], folded: dict[tuple[Node, ...], bytes], element: tuple[Node, ...]
) -> bytes:
    """The hash of one element of a path: a stored node, or the fold of a few (remembered, as
    every proof whose path crosses the tree's right edge at that level shares it)."""
    h = folded.get(element)
    if h is None:
        h = folded[element] = fold([found[node] for node in element])
    return h


def _signed_root_of(tx: StoreTx, latest: str | None, size: int, root: bytes) -> str | None:
    """The checkpoint at ``size`` (the latest, or a published one), if one was signed;
    refuses a stored tree that disagrees with it."""
    note = latest
    signed = None if note is None else parse_signed_checkpoint(note)
    if signed is None or signed.checkpoint.size != size:
        note = tx.checkpoint(size)
        signed = None if note is None else parse_signed_checkpoint(note)
    if signed is not None and signed.checkpoint.root != root:
        raise IntegrityError(
            f"the stored tree of {size} entries does not give its signed root"
            " (run `accord audit verify`)"
        )
    return note


def consistency(tx: StoreTx, old: int, new: int | None = None) -> dict[str, Any]:
    """A consistency proof that the tree of ``old`` entries is a prefix of the one of ``new``,
    from O(log n) stored hashes."""
    new = _size(tx, new)
    if not 0 < old <= new:
        raise InvalidInput(f"OLD {old}: must be from 1 to NEW ({new})")
    old_root, new_root, path = from_nodes(
        lambda subtree: (subtree(0, old), subtree(0, new), consistency_path(old, new, subtree)),
        lambda wanted: _stored_nodes(tx, wanted),
    )
    try:
        verify_consistency(old, new, old_root, new_root, path)
    except ProofInvalid:
        raise IntegrityError(_BAD_TREE.format(size=new)) from None
    return {
        "format": PROOF_FORMAT,
        "kind": "consistency",
        "old_size": old,
        "new_size": new,
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
        "proof": [h.hex() for h in path],
        "old_checkpoint": _signed_root(tx, old, old_root),
        "new_checkpoint": _signed_root(tx, new, new_root),
    }


def exchange_verifier_key(tx: StoreTx) -> str:
    """The note verifier key of the exchange's current signing key, for parties to pin."""
    rows = [row for row in tx.key_sets() if row.owner == EXCHANGE]
    if not rows:
        raise IntegrityError("this exchange has no keys: run `accord keys init`")
    return verifier_key(journal.signer_name(EXCHANGE), _ed25519(rows[-1].ed25519_public))


# --- offline checks -------------------------------------------------------------------------


def _hex(doc: Mapping[str, Any], name: str) -> bytes:
    try:
        return bytes.fromhex(str(doc[name]))
    except (KeyError, ValueError):
        raise ProofInvalid(f"the proof's {name!r} is missing or not hex") from None


def _int(doc: Mapping[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofInvalid(f"the proof's {name!r} is missing or not a whole number")
    return value


def _hashes(doc: Mapping[str, Any]) -> list[bytes]:
    proof = doc.get("proof")
    if not isinstance(proof, list):
        raise ProofInvalid("the proof's 'proof' is missing or not a list")
    try:
        return [bytes.fromhex(str(h)) for h in proof]
    except ValueError:
        raise ProofInvalid("the proof's hashes are not hex") from None


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """What an offline check established, and which trees no verified signature vouched for."""

    established: list[str]
    unsigned: list[str]  # "tree", "old tree", "new tree": roots nobody's signature was checked on


def _checkpoint_matches(
    note: object, size: int, root: bytes, key: str | None, what: str
) -> tuple[str, bool]:
    """One tree's checkpoint against the proof: the line established, and whether a signature
    was verified."""
    if not isinstance(note, str):
        return f"{what}: no checkpoint to check against (the root is unauthenticated)", False
    signed = parse_signed_checkpoint(note)
    if (signed.checkpoint.size, signed.checkpoint.root) != (size, root):
        raise ProofInvalid(f"{what}: the checkpoint is for another tree (size or root differs)")
    if key is None:
        return f"{what}: checkpoint matches; give --verifier-key to check its signature", False
    name, public = parse_verifier_key(key)
    signed.verify(name, public)
    return f"{what}: checkpoint signed by {name}", True


def check_proof(doc: Mapping[str, Any], key: str | None = None) -> list[str]:
    """Check a proof from ``prove`` or ``consistency`` offline; returns what was established."""
    return check_proof_signatures(doc, key).established


def check_proof_signatures(doc: Mapping[str, Any], key: str | None = None) -> ProofCheck:
    """Check a proof offline, saying which of its trees no verified signature vouched for."""
    if doc.get("format") != PROOF_FORMAT:
        raise ProofInvalid(f"not an accord proof (format should be {PROOF_FORMAT!r})")
    trees: list[tuple[object, int, bytes, str]]
    if doc.get("kind") == "inclusion":
        index, size, root = _int(doc, "index"), _int(doc, "size"), _hex(doc, "root")
        claimed = _hex(doc, "leaf_hash")
        try:
            leaf = base64.b64decode(str(doc.get("leaf")), validate=True)
        except ValueError:
            raise ProofInvalid("the proof's 'leaf' is not base64") from None
        if leaf_hash(leaf) != claimed:
            raise ProofInvalid("the leaf does not hash to the proof's leaf_hash")
        verify_inclusion(claimed, index, size, _hashes(doc), root)
        done = [f"entry {index} is in the tree of {size} entries with root {root.hex()}"]
        trees = [(doc.get("checkpoint"), size, root, "tree")]
    elif doc.get("kind") == "consistency":
        old, new = _int(doc, "old_size"), _int(doc, "new_size")
        old_root, new_root = _hex(doc, "old_root"), _hex(doc, "new_root")
        verify_consistency(old, new, old_root, new_root, _hashes(doc))
        done = [f"the tree of {old} entries is a prefix of the tree of {new} entries"]
        trees = [
            (doc.get("old_checkpoint"), old, old_root, "old tree"),
            (doc.get("new_checkpoint"), new, new_root, "new tree"),
        ]
    else:
        raise ProofInvalid("the proof's kind is neither 'inclusion' nor 'consistency'")
    unsigned: list[str] = []
    for note, size, root, what in trees:
        line, signed = _checkpoint_matches(note, size, root, key, what)
        done.append(line)
        if not signed:
            unsigned.append(what)
    return ProofCheck(done, unsigned)
