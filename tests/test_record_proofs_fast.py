"""Proofs in two reads: the nodes of a path named directly (``inclusion_nodes``) are the ones
the RFC 9162 recursion asks for; a batch of proofs is, proof for proof, the one-at-a-time
proofs and the tests' own reference; the one-statement read (``store.log_reads``) works the
same on SQLite and PostgreSQL and leaves out what is not stored; a lost node or entry is named,
a bad entry number refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.audit import Frontier, cover, inclusion_nodes, inclusion_path, node_key
from accord.errors import IntegrityError, InvalidInput
from accord.service import Exchange, MasterKey, journal
from accord.service.auditor import check_proof, verify
from accord.store import log_reads
from tests.stores import execute, query
from tests.test_audit_tree import ref_mth, ref_path


def _recursion(index: int, size: int) -> list[tuple[tuple[int, int], ...]]:
    """What the RFC's recursion (``inclusion_path``) asks for, as the nodes of each range."""
    return [tuple(h) for h in inclusion_path(index, size, cover)]  # type: ignore[arg-type, misc]


def test_path_nodes_are_the_recursions_for_every_entry_of_small_trees() -> None:
    for size in range(1, 130):
        for index in range(size):
            assert inclusion_nodes(index, size) == _recursion(index, size), (index, size)


@settings(max_examples=400)
@given(data=st.data())
def test_path_nodes_are_the_recursions_in_big_trees(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 2**63), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    assert inclusion_nodes(index, size) == _recursion(index, size)


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0), (7, 3)])
def test_path_nodes_refuse_an_entry_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(InvalidInput, match=f"entry {index} is not in a tree of {size}"):
        inclusion_nodes(index, size)


@pytest.fixture(scope="module")
def small() -> Iterator[Exchange]:
    """A log of about 37 entries: 30 single appends and a batch of 7 (several subtrees closed
    at once)."""
    exchange = Exchange.open("sqlite://")
    for n in range(30):
        exchange.add_topic(f"topic-{n}")
    with exchange.batch():
        for n in range(30, 37):
            exchange.add_topic(f"topic-{n}")
    yield exchange
    exchange.store.close()


def _leaves(exchange: Exchange) -> list[bytes]:
    with exchange.store.transaction() as tx:
        return [h for _, _, h in tx.entries()]


def test_a_batch_of_every_entry_is_the_single_proofs_and_the_reference(small: Exchange) -> None:
    leaves = _leaves(small)
    for size in (1, 2, 3, 16, 17, len(leaves) - 1, len(leaves)):
        seqs = list(range(size))
        batch = small.audit_prove_many(seqs, size)
        assert batch == [small.audit_prove(seq, size) for seq in seqs]
        for seq, proof in zip(seqs, batch, strict=True):
            assert proof["root"] == ref_mth(leaves[:size]).hex()
            assert proof["proof"] == [h.hex() for h in ref_path(seq, leaves[:size])]
            check_proof(proof)


@settings(max_examples=60)
@given(data=st.data())
def test_any_batch_is_its_single_proofs(small: Exchange, data: st.DataObject) -> None:
    total = len(_leaves(small))
    size = data.draw(st.none() | st.integers(1, total), label="size")
    top = (total if size is None else size) - 1
    seqs = data.draw(st.lists(st.integers(0, top), max_size=12), label="seqs")
    assert small.audit_prove_many(seqs, size) == [small.audit_prove(s, size) for s in seqs]


@pytest.mark.parametrize("seq", [-1, "total", True, "3", 2.0])
def test_a_batch_refuses_an_entry_outside_the_log(small: Exchange, seq: object) -> None:
    total = len(_leaves(small))
    seq = total if seq == "total" else seq
    with pytest.raises(InvalidInput, match=f"the tree of {total} entries has entries 0 to"):
        small.audit_prove_many([0, seq], None)  # type: ignore[list-item]


@pytest.mark.parametrize("past", [None, 0, 1])
def test_a_batch_refuses_a_size_outside_the_log(small: Exchange, past: int | None) -> None:
    total = len(_leaves(small))
    size = -1 if past is None else total + past if past else 0
    with pytest.raises(InvalidInput, match=f"--size {size}: the log holds {total} entries"):
        small.audit_prove_many([0], size)


def test_an_empty_batch_reads_and_gives_nothing(small: Exchange) -> None:
    assert small.audit_prove_many([]) == []


def test_the_one_read_is_the_same_on_both_stores(store_url: str) -> None:
    master = MasterKey.generate()
    exchange = Exchange.open(store_url, master=lambda: master)
    try:
        exchange.init_keys()
        for n in range(11):
            exchange.add_topic(f"topic-{n}")
        with exchange.store.transaction() as tx:
            entries = {seq: (leaf, h) for seq, leaf, h in tx.entries()}
            stored_nodes = dict(tx.nodes_between(0, 1 << 40))
            wanted = [node_key(1, 0), node_key(3, 0), node_key(3, 1)]  # the last is not stored
            rows = log_reads.proof_rows(tx.conn, [0, 4, 10, 99], wanted, [4, 99])
            head = log_reads.meta_values(tx.conn, [journal.FRONTIER, "no-such-key"])
            empty = log_reads.proof_rows(tx.conn, [], [], [])
        assert rows.leaf_hashes == {seq: entries[seq][1] for seq in (0, 4, 10)}
        assert rows.nodes == {key: stored_nodes[key] for key in wanted[:2]}
        assert rows.entries == {4: entries[4][0]}
        assert list(head) == [journal.FRONTIER]
        assert (empty.leaf_hashes, empty.nodes, empty.entries) == ({}, {}, {})
        assert exchange.audit_prove_many([3, 10, 3]) == [
            exchange.audit_prove(s) for s in (3, 10, 3)
        ]
        size = exchange.audit_prove(0)["size"]
        for old in (1, 3, 8, size):
            check_proof(exchange.audit_consistency(old, size))
    finally:
        exchange.store.close()


@pytest.fixture
def on_disk(tmp_path: Path) -> Iterator[tuple[Exchange, Path]]:
    db = tmp_path / "accord.db"
    master = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    exchange.init_keys()
    for n in range(9):
        exchange.add_topic(f"topic-{n}")
    yield exchange, db
    exchange.store.close()


def test_a_batch_names_a_lost_node(on_disk: tuple[Exchange, Path]) -> None:
    exchange, db = on_disk
    execute(db, "delete from audit_nodes where node = ?", node_key(1, 2))  # entries 4 and 5
    with pytest.raises(IntegrityError, match="level 1, index 2 is missing"):
        exchange.audit_prove_many([0, 7, 6])
    assert exchange.audit_prove_many([0, 1])[1]["index"] == 1  # paths that do not cross it


def test_a_batch_names_a_lost_entry(on_disk: tuple[Exchange, Path]) -> None:
    exchange, db = on_disk
    execute(db, "delete from audit_entries where seq = ?", 8)
    with pytest.raises(IntegrityError, match="audit entry 8 is missing"):
        exchange.audit_prove_many([1, 8])


def test_a_batch_refuses_a_changed_node(on_disk: tuple[Exchange, Path]) -> None:
    exchange, db = on_disk
    execute(db, "update audit_nodes set hash = ? where node = ?", b"\1" * 32, node_key(2, 0))
    with pytest.raises(IntegrityError, match="does not give"):
        exchange.audit_prove_many([5])


@settings(max_examples=80)
@given(
    first=st.lists(st.binary(min_size=32, max_size=32), max_size=40),
    second=st.lists(st.binary(min_size=32, max_size=32), max_size=40),
)
def test_appending_all_at_once_is_appending_each(first: list[bytes], second: list[bytes]) -> None:
    one, many = Frontier(), Frontier()
    closed_one = [node for h in first + second for node in one.append(h)]
    closed_many = many.append_all(first) + many.append_all(second)
    assert closed_many == closed_one
    assert (many.size, many.hashes, many.root()) == (one.size, one.hashes, one.root())


def test_appending_all_refuses_a_bad_hash_and_changes_nothing() -> None:
    frontier = Frontier()
    frontier.append_all([b"\0" * 32])
    with pytest.raises(InvalidInput, match="a leaf hash is 32 bytes"):
        frontier.append_all([b"\1" * 32, b"short"])
    assert frontier.size == 1


def test_a_streamed_verify_is_the_same_on_both_stores(store_url: str) -> None:
    master = MasterKey.generate()
    exchange = Exchange.open(store_url, master=lambda: master)
    try:
        exchange.init_keys()
        for n in range(13):
            exchange.add_topic(f"topic-{n}")
        exchange.publish_checkpoint()
        exchange.add_topic("after")
        with exchange.store.transaction() as tx:
            reports = [verify(tx, chunk=chunk) for chunk in (1, 4, 10_000)]
        assert len({(r.entries, r.root, r.rows) for r in reports}) == 1
        assert reports[0].checkpoints == 2
    finally:
        exchange.store.close()


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
def test_a_changed_entry_in_a_chunk_is_named_after_those_before_it(
    on_disk: tuple[Exchange, Path], chunk: int
) -> None:
    exchange, db = on_disk
    execute(db, "update audit_entries set leaf = leaf || x'20' where seq = ?", 5)
    with exchange.store.transaction() as tx, pytest.raises(IntegrityError) as raised:
        verify(tx, chunk=chunk)
    assert raised.value.message == "audit entry 5: its bytes do not hash to its logged hash"


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
def test_a_removed_entry_in_a_chunk_is_named(on_disk: tuple[Exchange, Path], chunk: int) -> None:
    exchange, db = on_disk
    execute(db, "delete from audit_entries where seq = ?", 4)
    with exchange.store.transaction() as tx, pytest.raises(IntegrityError) as raised:
        verify(tx, chunk=chunk)
    assert raised.value.message == "audit entry 4 is missing (the next stored is 5)"


def test_a_changed_node_below_a_shared_subtree_is_refused(on_disk: tuple[Exchange, Path]) -> None:
    """Paths of 0 and 2 meet at the subtree of entries 0 to 3; only 2's path holds the node of
    entries 0 and 1, so only the check where 2's path meets 0's can catch its change."""
    exchange, db = on_disk
    execute(db, "update audit_nodes set hash = ? where node = ?", b"\1" * 32, node_key(1, 0))
    for batch in ([0, 2], [2, 0], [2]):
        with pytest.raises(IntegrityError, match="does not give a proof that verifies"):
            exchange.audit_prove_many(batch)
    assert [p["index"] for p in exchange.audit_prove_many([0, 1, 5])] == [0, 1, 5]


def test_a_batch_is_refused_exactly_when_one_of_its_proofs_is(
    on_disk: tuple[Exchange, Path],
) -> None:
    exchange, db = on_disk
    total = exchange.audit_prove(0)["size"]
    with exchange.store.transaction() as tx:
        keys = [key for key, _ in tx.nodes_between(0, 1 << 40)]

    def refused(seqs: list[int]) -> bool:
        try:
            exchange.audit_prove_many(seqs)
        except IntegrityError:
            return True
        return False

    batches = [list(range(total)), [total - 1, 0], [3, 4, 3], [6, 7, 8, 1]]
    for key in keys:
        (original,) = query(db, "select hash from audit_nodes where node = ?", key)[0]
        execute(db, "update audit_nodes set hash = ? where node = ?", b"\2" * 32, key)
        singles = {seq: refused([seq]) for seq in range(total)}
        for batch in batches:
            assert refused(batch) == any(singles[seq] for seq in batch), (key, batch)
        execute(db, "update audit_nodes set hash = ? where node = ?", original, key)
