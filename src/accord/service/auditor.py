"""Verifying the record (R12): recompute the log, check its checkpoints, replay it against the
store; and the proofs a party checks offline, with nothing but the proof and a verifier key.

``verify`` names the first thing that is wrong: an entry whose bytes no longer hash to what was
logged, one out of place or missing, a checkpoint whose signature or root does not hold, or a
row of the store that the entries do not explain (a marking, a ciphertext or a key changed).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table

from accord.audit import (
    Frontier,
    MerkleTree,
    SignedCheckpoint,
    leaf_hash,
    parse_signed_checkpoint,
    parse_verifier_key,
    verifier_key,
    verify_consistency,
    verify_inclusion,
)
from accord.crypto import EXCHANGE
from accord.errors import CheckpointInvalid, IntegrityError, InvalidInput, ProofInvalid
from accord.service import journal
from accord.service.progress import Progress, tick
from accord.store import schema
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


@dataclass
class _Replay:
    """The rows the entries say the store holds, and which entry last wrote each."""

    rows: dict[str, dict[tuple[Any, ...], tuple[Image, int]]] = field(default_factory=dict)

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
                rows[key] = (row, seq)


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


def read_log(tx: StoreTx, progress: Progress | None = None) -> tuple[MerkleTree, _Replay]:
    """Every entry in order, each checked against its own hash and place in the log."""
    hashes: list[bytes] = []
    replay = _Replay()
    total = journal.load_frontier(tx).size if progress is not None else None
    for seq, leaf, stored_hash in tx.entries():
        expected = len(hashes)
        if seq != expected:
            raise IntegrityError(f"audit entry {expected} is missing (the next stored is {seq})")
        if leaf_hash(leaf) != stored_hash:
            raise IntegrityError(f"audit entry {seq}: its bytes do not hash to its logged hash")
        body = journal.decode_entry(leaf, seq)
        if body.get("seq") != seq:
            raise IntegrityError(f"audit entry {seq}: it records itself as entry {body.get('seq')}")
        replay.apply(seq, body.get("changes"))
        hashes.append(stored_hash)
        tick(progress, "entries", len(hashes), total)
    _check_frontier(tx, hashes)
    return MerkleTree(hashes), replay


def _check_frontier(tx: StoreTx, hashes: Sequence[bytes]) -> None:
    """The frontier the exchange keeps for its next append must be the one of these entries."""
    frontier = journal.load_frontier(tx)
    if frontier.size < len(hashes):
        raise IntegrityError(
            f"audit entry {frontier.size} onwards ({len(hashes) - frontier.size} entries) was not"
            " appended by the exchange"
        )
    if frontier.size > len(hashes):
        raise IntegrityError(
            f"the log holds {len(hashes)} entries but {frontier.size} were appended"
            f" (entry {len(hashes)} onwards is missing)"
        )


def _check_frontier_hashes(tx: StoreTx, hashes: Sequence[bytes]) -> None:
    """Checked after the checkpoints, which name a changed entry better than this can."""
    if _frontier_of(hashes) != journal.load_frontier(tx).hashes:
        raise IntegrityError(
            "the log's stored frontier (kept for the next append) does not match its entries"
        )


def _frontier_of(hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    frontier = Frontier()
    frontier.extend(hashes)
    return frontier.hashes


def leaf_hashes(tx: StoreTx) -> MerkleTree:
    """The tree of the stored entries' hashes, each checked against its entry's bytes (what a
    proof needs; no replay)."""
    hashes: list[bytes] = []
    for seq, leaf, stored_hash in tx.entries():
        if seq != len(hashes):
            raise IntegrityError(f"audit entry {len(hashes)} is missing (the next stored is {seq})")
        if leaf_hash(leaf) != stored_hash:
            raise IntegrityError(f"audit entry {seq}: its bytes do not hash to its logged hash")
        hashes.append(stored_hash)
    _check_frontier(tx, hashes)
    _check_frontier_hashes(tx, hashes)
    return MerkleTree(hashes)


def _keys_by_name(rows: Sequence[KeySetRow]) -> dict[str, list[Ed25519PublicKey]]:
    names: dict[str, list[Ed25519PublicKey]] = {}
    for row in rows:
        names.setdefault(journal.signer_name(row.owner), []).append(_ed25519(row.ed25519_public))
    return names


def _check_signed(
    signed: SignedCheckpoint,
    tree: MerkleTree,
    keys: Mapping[str, list[Ed25519PublicKey]],
    origin: str,
    what: str,
) -> list[str]:
    """The exchange's signature, the root at the checkpoint's size, every party's signature;
    returns the names of the parties that countersigned."""
    checkpoint = signed.checkpoint
    if checkpoint.origin != origin:
        raise CheckpointInvalid(f"{what} names the log {checkpoint.origin!r}, not {origin!r}")
    if checkpoint.size > tree.size:
        raise IntegrityError(
            f"{what} covers {checkpoint.size} entries; the log holds {tree.size}"
            f" (entry {tree.size} onwards is missing)"
        )
    _verify_by(signed, journal.signer_name(EXCHANGE), keys, what)
    if checkpoint.root != tree.root(checkpoint.size):
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


def _compare(tx: StoreTx, replay: _Replay, progress: Progress | None = None) -> int:
    """Every audited row of the store against what the entries say it holds."""
    bad: list[tuple[int, str]] = []
    count = 0
    for table in schema.AUDITED:
        expected = dict(replay.rows.get(table.name, {}))
        for stored in tx.stored_images(table):
            count += 1
            tick(progress, "rows", count, None)
            key = key_of(table, stored)
            logged = expected.pop(key, None)
            if logged is None:
                bad.append((-1, f"{table.name} row {_key(key)} is not explained by any entry"))
            elif logged[0] != stored:
                fields = sorted(k for k in stored if stored.get(k) != logged[0].get(k))
                bad.append(
                    (
                        logged[1],
                        f"audit entry {logged[1]} wrote {table.name} row {_key(key)};"
                        f" the store now differs in {', '.join(fields)}",
                    )
                )
        for key, (_row, seq) in expected.items():
            bad.append((seq, f"audit entry {seq} wrote {table.name} row {_key(key)}; it is gone"))
    if bad:
        named = [b for b in bad if b[0] >= 0]  # an entry whose row changed comes first
        raise IntegrityError(min(named)[1] if named else bad[0][1])
    return count


def _key(key: tuple[Any, ...]) -> str:
    return "/".join(str(part) for part in key)


def verify(
    tx: StoreTx, pinned: str | None = None, progress: Progress | None = None
) -> VerifyReport:
    """Recompute the tree, check the latest and every published checkpoint, replay the log."""
    tree, replay = read_log(tx, progress)
    origin = tx.meta(journal.ORIGIN)
    if origin is None:
        raise IntegrityError("the store names no audit log origin: was `accord keys init` run?")
    keys = _keys_by_name(tx.key_sets())
    latest = tx.meta(journal.LATEST)
    if latest is None:
        raise IntegrityError("the log has no signed checkpoint")
    signed = parse_signed_checkpoint(latest)
    if pinned is not None:  # the latest checkpoint must be signed by the key the party pinned
        name, public = parse_verifier_key(pinned)
        _verify_by(signed, name, {name: [public]}, "the latest checkpoint (pinned key)")
    _check_signed(signed, tree, keys, origin, "the latest checkpoint")
    if signed.checkpoint.size != tree.size:
        raise IntegrityError(
            f"the latest checkpoint covers {signed.checkpoint.size} entries; the log holds"
            f" {tree.size} (entry {signed.checkpoint.size} onwards was not signed)"
        )
    signers: list[str] = []
    published = tx.published_checkpoints()
    for size, note in published:
        what = f"the checkpoint published at size {size}"
        checkpoint = parse_signed_checkpoint(note)
        if checkpoint.checkpoint.size != size:
            raise CheckpointInvalid(f"{what} says size {checkpoint.checkpoint.size}")
        signers += [
            f"{size}:{name}" for name in _check_signed(checkpoint, tree, keys, origin, what)
        ]
    _check_frontier_hashes(tx, [tree.leaf(i) for i in range(tree.size)])
    rows = _compare(tx, replay, progress)
    return VerifyReport(tree.size, tree.root(), len(published) + 1, tuple(signers), rows)


# --- proofs ---------------------------------------------------------------------------------


def _note_at(tx: StoreTx, size: int) -> str | None:
    latest = tx.meta(journal.LATEST)
    if latest is not None and parse_signed_checkpoint(latest).checkpoint.size == size:
        return latest
    return tx.checkpoint(size)


def _tree_size(tx: StoreTx, size: int | None) -> tuple[MerkleTree, int]:
    tree = leaf_hashes(tx)
    size = tree.size if size is None else size
    if not 0 < size <= tree.size:
        raise InvalidInput(f"--size {size}: the log holds {tree.size} entries")
    return tree, size


def prove(tx: StoreTx, seq: int, size: int | None = None) -> dict[str, Any]:
    """An inclusion proof for entry ``seq`` in the tree of ``size`` entries (default: all)."""
    tree, size = _tree_size(tx, size)
    if not 0 <= seq < size:
        raise InvalidInput(f"entry {seq}: the tree of {size} entries has entries 0 to {size - 1}")
    stored = tx.entry(seq)
    assert stored is not None
    return {
        "format": PROOF_FORMAT,
        "kind": "inclusion",
        "index": seq,
        "size": size,
        "leaf": base64.b64encode(stored[0]).decode("ascii"),
        "leaf_hash": stored[1].hex(),
        "root": tree.root(size).hex(),
        "proof": [h.hex() for h in tree.inclusion_proof(seq, size)],
        "checkpoint": _note_at(tx, size),
    }


def consistency(tx: StoreTx, old: int, new: int | None = None) -> dict[str, Any]:
    """A consistency proof that the tree of ``old`` entries is a prefix of the one of ``new``."""
    tree, new = _tree_size(tx, new)
    if not 0 < old <= new:
        raise InvalidInput(f"OLD {old}: must be from 1 to NEW ({new})")
    return {
        "format": PROOF_FORMAT,
        "kind": "consistency",
        "old_size": old,
        "new_size": new,
        "old_root": tree.root(old).hex(),
        "new_root": tree.root(new).hex(),
        "proof": [h.hex() for h in tree.consistency_proof(old, new)],
        "old_checkpoint": _note_at(tx, old),
        "new_checkpoint": _note_at(tx, new),
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
