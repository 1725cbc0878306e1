"""The record at scale: proofs from the stored subtrees (O(log n) reads) equal the proofs of the
tests' own reference implementation of RFC 9162; ``audit verify`` streams the log in chunks and
reports progress, gives the same report whatever the chunk size, and names a removed or edited
published checkpoint and a stored subtree that the entries do not give."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.audit import Frontier, node_key
from accord.errors import IntegrityError, InvalidInput
from accord.model.requests import ReadRequest
from accord.service import Exchange, MasterKey
from accord.service.auditor import check_proof, verify
from accord.store import schema
from tests.stores import execute, query
from tests.test_audit_tree import leaves_of, ref_mth, ref_path, ref_proof
from tests.test_cli_keys_audit import AFTER
from tests.test_record import ITEMS, USERS, T


def _leaf_hashes(exchange: Exchange) -> list[bytes]:
    with exchange.store.transaction() as tx:
        return [h for _, _, h in tx.entries()]


@pytest.fixture(scope="module")
def grown() -> Iterator[Exchange]:
    """An in-memory exchange whose log grew by single entries and by batches of several (a
    flush that closes several subtrees at once): 70-odd entries."""
    exchange = Exchange.open("sqlite://")
    for n in range(30):
        exchange.add_topic(f"topic-{n}")
    for first in range(30, 70, 7):
        with exchange.batch():
            for n in range(first, first + 7):
                exchange.add_topic(f"topic-{n}")
    yield exchange
    exchange.store.close()


@settings(max_examples=150)
@given(data=st.data())
def test_stored_inclusion_proofs_are_the_references(grown: Exchange, data: st.DataObject) -> None:
    leaves = _leaf_hashes(grown)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = grown.audit_prove(index, size)
    assert proof["root"] == ref_mth(leaves[:size]).hex()
    assert proof["proof"] == [h.hex() for h in ref_path(index, leaves[:size])]
    check_proof(proof)


@settings(max_examples=150)
@given(data=st.data())
def test_stored_consistency_proofs_are_the_references(grown: Exchange, data: st.DataObject) -> None:
    leaves = _leaf_hashes(grown)
    new = data.draw(st.integers(1, len(leaves)), label="new")
    old = data.draw(st.integers(1, new), label="old")
    proof = grown.audit_consistency(old, new)
    assert proof["old_root"] == ref_mth(leaves[:old]).hex()
    assert proof["new_root"] == ref_mth(leaves[:new]).hex()
    expected = ref_proof(old, leaves[:new]) if old < new else []
    assert proof["proof"] == [h.hex() for h in expected]
    check_proof(proof)


@given(st.integers(0, 300))
def test_the_nodes_a_frontier_closes_are_the_complete_subtrees(n: int) -> None:
    """Every complete aligned subtree of 2**level leaves (level >= 1), exactly once, keyed so
    that keys grow in the order the appends close them."""
    leaves = leaves_of(n, b"nodes")
    frontier = Frontier()
    closed = [node for h in leaves for node in frontier.append(h)]
    expected = [
        (level, index, ref_mth(leaves[index << level : (index + 1) << level]))
        for level in range(1, n.bit_length() + 1)
        for index in range(n >> level)
    ]
    assert sorted(closed) == sorted(expected)
    keys = [node_key(level, index) for level, index, _ in closed]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_every_stored_node_is_written_once_per_subtree(grown: Exchange) -> None:
    n = len(_leaf_hashes(grown))
    with grown.store.transaction() as tx:
        assert tx.node_count() == sum(n >> level for level in range(1, n.bit_length() + 1))


# --- streaming verify -------------------------------------------------------------------------


def _audited_rows(db: Path) -> int:
    return sum(query(db, f'select count(*) from "{t.name}"')[0][0] for t in schema.AUDITED)


def test_streaming_verify_reports_the_log_whatever_its_chunk(db: Path, master: MasterKey) -> None:
    exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    try:
        for n in range(25):
            exchange.read(ReadRequest(USERS[n % len(USERS)], ITEMS[n % len(ITEMS)]), T(AFTER))
        exchange.publish_checkpoint()
        leaves = [
            bytes(h) for (h,) in query(db, "select leaf_hash from audit_entries order by seq")
        ]
        heard: list[Heard] = []
        whole = exchange.audit_verify(progress=lambda *p: heard.append(p))
        with exchange.store.transaction() as tx:
            chunked = verify(tx, chunk=7)
    finally:
        exchange.store.close()
    assert whole == chunked
    assert whole.entries == len(leaves) and whole.root == ref_mth(leaves)
    assert whole.rows == _audited_rows(db) and whole.checkpoints == 2
    entries = [done for stage, done, _ in heard if stage == "entries"]
    assert entries == [len(leaves)]  # one chunk of 10,000
    assert {total for stage, _, total in heard if stage == "entries"} == {len(leaves)}
    assert heard[-1] == ("rows", whole.rows, None)


Heard = tuple[str, int, int | None]  # (stage, done, total), as service.progress reports


def test_progress_is_heard_after_each_chunk(db: Path, master: MasterKey) -> None:
    exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    heard: list[Heard] = []
    try:
        with exchange.store.transaction() as tx:
            report = verify(tx, progress=lambda *p: heard.append(p), chunk=10)
    finally:
        exchange.store.close()
    done = [n for stage, n, _ in heard if stage == "entries"]
    assert done == [*range(10, report.entries, 10), report.entries]
    rows = [n for stage, n, _ in heard if stage == "rows"]
    assert rows == sorted(rows) and rows[-1] == report.rows


# --- published checkpoints and stored nodes are covered ---------------------------------------


@pytest.fixture
def published(db: Path, master: MasterKey) -> Iterator[tuple[Exchange, int]]:
    exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    note = exchange.publish_checkpoint()
    exchange.countersign(int(note.split("\n")[1]), "KOR")
    exchange.audit_verify()
    yield exchange, int(note.split("\n")[1])
    exchange.store.close()


def test_a_deleted_published_checkpoint_is_named(db: Path, published: tuple[Exchange, int]) -> None:
    exchange, size = published
    execute(db, "delete from checkpoints where size = ?", size)
    with pytest.raises(IntegrityError, match=rf"wrote checkpoints row {size}; it is gone"):
        exchange.audit_verify()


def test_an_edited_published_checkpoint_is_named(db: Path, published: tuple[Exchange, int]) -> None:
    """The countersignature removed: every signature left still verifies, but the row is not
    the one the log recorded."""
    exchange, size = published
    (note,) = query(db, "select note from checkpoints where size = ?", size)[0]
    bare = "\n".join(line for line in note.split("\n") if "accord-party-KOR" not in line)
    execute(db, "update checkpoints set note = ? where size = ?", bare, size)
    with pytest.raises(
        IntegrityError, match=rf"wrote checkpoints row {size}; the store now differs in note"
    ):
        exchange.audit_verify()


def test_a_checkpoint_row_added_by_hand_is_named(db: Path, published: tuple[Exchange, int]) -> None:
    """A genuine signed checkpoint, put in the published table without being published."""
    exchange, _size = published
    (latest,) = query(db, "select value from meta where key = 'audit_checkpoint'")[0]
    later = int(latest.split("\n")[1])
    execute(db, "insert into checkpoints (size, note) values (?, ?)", later, latest)
    with pytest.raises(IntegrityError, match=rf"checkpoints row {later} is not explained"):
        exchange.audit_verify()


def test_a_changed_stored_node_is_named_and_refused_by_a_proof(
    db: Path, published: tuple[Exchange, int]
) -> None:
    exchange, size = published
    key = node_key(3, 1)  # the subtree of entries 8 to 15
    execute(db, "update audit_nodes set hash = ? where node = ?", b"\0" * 32, key)
    with pytest.raises(IntegrityError, match="stored node at level 3 ending at entry 15"):
        exchange.audit_verify()
    with pytest.raises(IntegrityError, match=re.escape(f"stored tree of {size} entries")):
        exchange.audit_prove(0, size)


def test_a_deleted_stored_node_is_named_and_refused_by_a_proof(
    db: Path, published: tuple[Exchange, int]
) -> None:
    exchange, size = published
    execute(db, "delete from audit_nodes where node = ?", node_key(2, 0))
    with pytest.raises(IntegrityError, match="stored node at level 2 ending at entry 3"):
        exchange.audit_verify()
    with pytest.raises(IntegrityError, match="level 2, index 0 is missing"):
        exchange.audit_prove(4, size)  # its path holds the subtree of entries 0 to 3


def test_a_node_beyond_the_log_is_named(db: Path, published: tuple[Exchange, int]) -> None:
    exchange, _size = published
    execute(db, "insert into audit_nodes (node, hash) values (?, ?)", 1 << 50, b"\0" * 32)
    with pytest.raises(IntegrityError, match="nodes beyond its last entry"):
        exchange.audit_verify()


def test_proofs_of_many_entries_at_once_are_the_single_proofs(grown: Exchange) -> None:
    size = len(_leaf_hashes(grown)) - 3
    seqs = [0, size - 1, 17, 17, 40]
    assert grown.audit_prove_many(seqs, size) == [grown.audit_prove(s, size) for s in seqs]
    with pytest.raises(InvalidInput, match=f"entry {size}"):
        grown.audit_prove_many([1, size], size)
