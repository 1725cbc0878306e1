"""Ingest signs once per envelope: each originator signs the Merkle root of the envelope's facts,
and every stored fact keeps its path, so it still verifies alone. Checked against a Merkle tree
written here from RFC 6962 (independently of ``accord.crypto.batch``), against tampering of each
part of a stored fact, and against one-at-a-time ingest (the same readable set, the same log)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.crypto import PartyKeys
from accord.crypto.batch import (
    batch_message,
    is_batch,
    parse_batch,
    sign_batch,
)
from accord.errors import IntegrityError, OutOfOrder
from accord.model.item import Item
from accord.scenario import load_scenario
from accord.service import Exchange, MasterKey
from accord.service.journal import decode_entry
from accord.service.ledger import Ledger
from accord.service.scenarios import apply_scenario
from accord.service.taxii import NOT_STORED, NewObject, TaxiiService
from tests.stores import BUILTIN, clone, counts, execute, query

AT = datetime(2024, 6, 1, tzinfo=UTC)
KOR_LEVEL = "군사II급비밀"


# --- an independent RFC 6962 oracle -----------------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def oracle_root(messages: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written from the RFC."""
    if len(messages) == 1:
        return _h(b"\x00" + messages[0])
    k = 1 << ((len(messages) - 1).bit_length() - 1)
    return _h(b"\x01" + oracle_root(messages[:k]) + oracle_root(messages[k:]))


def _keys() -> PartyKeys:
    return PartyKeys.generate("KOR", 1)


KEYS = _keys()


def _verifies(text: str, message: bytes) -> bool:
    """Whether ``text`` is a batch signature by KEYS that covers ``message``."""
    try:
        batch = parse_batch(text, what="fact")
        signed = batch_message(batch.root(message, what="fact"), batch.size)
        KEYS.public().ed25519_key.verify(batch.signature.value, signed)
    except (IntegrityError, InvalidSignature):
        return False
    return True


@settings(max_examples=40)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=40))
def test_each_fact_of_a_batch_verifies_alone_against_the_oracles_root(
    messages: list[bytes],
) -> None:
    texts = sign_batch(KEYS, messages)
    assert len(texts) == len(messages)
    for text, message in zip(texts, messages, strict=True):
        assert is_batch(text)
        batch = parse_batch(text, what="fact")
        assert batch.size == len(messages)
        assert batch.root(message, what="fact") == oracle_root(messages)
        assert _verifies(text, message)


@settings(max_examples=30)
@given(st.lists(st.binary(max_size=20), min_size=2, max_size=20, unique=True), st.data())
def test_a_fact_with_another_facts_path_or_index_fails(messages: list[bytes], data: Any) -> None:
    texts = sign_batch(KEYS, messages)
    i = data.draw(st.integers(0, len(messages) - 1))
    j = data.draw(st.integers(0, len(messages) - 1).filter(lambda j: j != i))
    assert not _verifies(texts[j], messages[i])


def _parts(text: str) -> list[str]:
    return text.split(".")


@pytest.mark.parametrize(
    "tamper",
    [
        "message",
        "index",
        "size",
        "path-node",
        "path-dropped",
        "path-added",
        "signature",
    ],
)
def test_every_part_of_a_batch_signature_is_bound(tamper: str) -> None:
    messages = [f"fact {n}".encode() for n in range(5)]
    text = sign_batch(KEYS, messages)[2]
    message = messages[2]
    parts = _parts(text)
    if tamper == "message":
        message = b"fact X"
    elif tamper == "index":
        parts[2] = "3"
    elif tamper == "size":
        parts[3] = "6"
    elif tamper == "path-node":
        parts[4] = ("0" if parts[4][0] != "0" else "1") + parts[4][1:]
    elif tamper == "path-dropped":
        parts.pop()
    elif tamper == "path-added":
        parts.append("ab" * 32)
    else:
        raw = bytearray(base64.b64decode(parts[1]))
        raw[-1] ^= 1
        parts[1] = base64.b64encode(bytes(raw)).decode()
    assert _verifies(text, messages[2])
    assert not _verifies(".".join(parts), message)


@pytest.mark.parametrize(
    "text",
    [
        "batch1",
        "batch1.!!.0.1",
        "batch1.AAAA.0.1",
        "batch1.AAAA.01.2.{}",
        "batch1.AAAA.2.2",
        "batch1.AAAA.-1.2",
        "batch1.AAAA.0.2.nothex",
        "batch1.AAAA.0.2." + "AB" * 32,
    ],
)
def test_a_malformed_batch_signature_is_an_integrity_error(text: str) -> None:
    with pytest.raises(IntegrityError, match=r"^fact 7: the stored (batch )?signature"):
        parse_batch(text.replace("{}", "ab" * 32), what="fact 7")


# --- through the exchange ---------------------------------------------------------------------


def _items(n: int, at: datetime = AT, tag: str = "b") -> list[Item]:
    return [
        Item(
            f"KOR~{tag}-{k}",
            "KOR",
            KOR_LEVEL,
            frozenset({"nk-missile"}),
            frozenset({"JPN"}) if k % 2 else frozenset(),
            at,
            f"title {k}",
            f"content {k}",
            {"type": "indicator", "n": k},
        )
        for k in range(n)
    ]


@pytest.fixture
def exchange(db: Path, master: MasterKey) -> Iterator[Exchange]:
    ex = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    yield ex
    ex.store.close()


def _reopened(db: Path, master: MasterKey) -> Exchange:
    return Exchange.open(f"sqlite:///{db}", master=lambda: master)


def _item_facts(db: Path) -> list[tuple[int, str]]:
    return [
        (int(seq), str(sigs))
        for seq, sigs in query(db, "select seq, signatures from facts where kind = 'item'")
    ]


def test_an_envelope_is_signed_once_per_originator_and_each_fact_verifies_alone(
    exchange: Exchange, db: Path, master: MasterKey
) -> None:
    before = {seq for seq, _ in _item_facts(db)}
    exchange.add_items(_items(7))
    new = [(seq, json.loads(s)) for seq, s in _item_facts(db) if seq not in before]
    assert len(new) == 7
    signatures = {parse_batch(s[0], what="fact").signature for _, s in new}
    assert len(signatures) == 1  # one Ed25519 signature for the envelope's seven facts
    fresh = _reopened(db, master)  # a new process: nothing remembered, every fact checked
    try:
        with fresh.store.transaction() as tx:
            assert Ledger().failures(tx) == []
        found = fresh.read_many("kor-analyst", [i.id for i in _items(7)], AT + timedelta(days=1))
        assert [r.item.content if r.item else None for r in found] == [
            f"content {k}" for k in range(7)
        ]
        assert fresh.audit_verify().entries > 0
    finally:
        fresh.store.close()


def _edit_signature(db: Path, seq: int, edit: Any) -> None:
    (text,) = json.loads(query(db, "select signatures from facts where seq = ?", seq)[0][0])
    execute(db, "update facts set signatures = ? where seq = ?", json.dumps([edit(text)]), seq)


def _flip_path(text: str) -> str:
    parts = text.split(".")
    parts[4] = ("0" if parts[4][0] != "0" else "1") + parts[4][1:]
    return ".".join(parts)


def _flip_signature(text: str) -> str:
    parts = text.split(".")
    raw = bytearray(base64.b64decode(parts[1]))
    raw[-1] ^= 1
    parts[1] = base64.b64encode(bytes(raw)).decode()
    return ".".join(parts)


def _other_index(text: str) -> str:
    parts = text.split(".")
    parts[2] = "0" if parts[2] != "0" else "1"
    return ".".join(parts)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("body", "signature does not verify"),
        ("path", "signature does not verify"),
        ("index", "signature does not verify|batch path"),
        ("root signature", "signature does not verify"),
        ("garbled", "malformed"),
    ],
)
def test_a_changed_batch_signed_fact_is_an_integrity_error_naming_its_row(
    exchange: Exchange, db: Path, master: MasterKey, tamper: str, reason: str
) -> None:
    exchange.add_items(_items(5))
    exchange.store.close()
    seq = max(seq for seq, _ in _item_facts(db)) - 2  # the third of the five
    if tamper == "body":
        (body,) = query(db, "select body from facts where seq = ?", seq)[0]
        execute(db, "update facts set body = ? where seq = ?", body.replace("b-2", "b-9"), seq)
    elif tamper == "path":
        _edit_signature(db, seq, _flip_path)
    elif tamper == "index":
        _edit_signature(db, seq, _other_index)
    elif tamper == "root signature":
        _edit_signature(db, seq, _flip_signature)
    else:
        _edit_signature(db, seq, lambda t: t.replace(".", ",", 1))
    fresh = _reopened(db, master)
    try:
        with fresh.store.transaction() as tx:
            failures = Ledger().failures(tx)
    finally:
        fresh.store.close()
    assert failures, "the tampered fact was admitted"
    assert f"fact {seq} (item)" in failures[0]
    if tamper != "body":  # an edited body changes its id first
        assert any(re.search(reason, f) for f in failures)


def test_the_other_facts_of_a_tampered_envelope_still_verify(
    exchange: Exchange, db: Path, master: MasterKey
) -> None:
    exchange.add_items(_items(5))
    exchange.store.close()
    seq = max(seq for seq, _ in _item_facts(db)) - 2
    _edit_signature(db, seq, _flip_path)
    fresh = _reopened(db, master)
    try:
        with fresh.store.transaction() as tx:
            failures = Ledger().failures(tx)
    finally:
        fresh.store.close()
    assert len(failures) == 1 and f"fact {seq} (item)" in failures[0]


def test_items_out_of_order_within_an_envelope_are_refused_and_nothing_is_stored(
    exchange: Exchange, db: Path
) -> None:
    exchange.store.close()
    before = counts(db)
    ex = _reopened(db, exchange.vault.master)
    try:
        late, early = _items(1, AT, "late")[0], _items(1, AT - timedelta(hours=1), "early")[0]
        with pytest.raises(OutOfOrder, match="item KOR~early-0 is earlier than item KOR~late-0"):
            ex.add_items([late, early])
    finally:
        ex.store.close()
    assert counts(db) == before


def _new_object(k: int, level: str = KOR_LEVEL) -> NewObject:
    return NewObject(
        f"indicator--00000000-0000-4000-8000-{k:012d}",
        "indicator",
        "2024-01-01T00:00:00.000Z",
        1704067200000000,
        "2.1",
        level,
        frozenset({"nk-missile"}),
        frozenset({"JPN"}),
        f"indicator {k}",
        {"type": "indicator", "id": f"indicator--00000000-0000-4000-8000-{k:012d}"},
    )


def test_an_envelope_with_a_refused_object_stores_none_of_it(exchange: Exchange, db: Path) -> None:
    """The current semantics, kept: an envelope is all or nothing."""
    taxii = TaxiiService(exchange)
    before = counts(db)
    entries = [_new_object(1), _new_object(2, "군사I급비밀"), _new_object(3)]  # above clearance
    stored, outcomes = taxii.add_objects("kor-analyst", entries, AT)
    assert not stored
    assert [o.ok for o in outcomes] == [False, False, False]
    assert "above-clearance" in outcomes[1].codes
    assert all(NOT_STORED in o.codes for o in (outcomes[0], outcomes[2]))
    assert counts(db) == before  # rolled back whole: no fact, item, key, event or entry
    stored, outcomes = taxii.add_objects("kor-analyst", [_new_object(1), _new_object(3)], AT)
    assert stored and all(o.ok for o in outcomes)


def test_batch_signed_items_on_each_store(store_url: str, master: MasterKey) -> None:
    ex = Exchange.open(store_url, master=lambda: master)
    try:
        ex.init_keys()
        apply_scenario(ex, load_scenario(BUILTIN), strict=True)
        stored, _ = TaxiiService(ex).add_objects(
            "kor-analyst", [_new_object(k) for k in range(6)], AT
        )
        assert stored
    finally:
        ex.store.close()
    fresh = Exchange.open(store_url, master=lambda: master)
    try:
        with fresh.store.transaction() as tx:
            assert Ledger().failures(tx) == []
            kinds = [r.kind for r in tx.fact_rows()]
        assert kinds.count("item") >= 6
        ids = [f"KOR~{_new_object(k).stix_id}~{_new_object(k).version}" for k in range(6)]
        found = fresh.read_many("kor-analyst", ids, AT + timedelta(days=1))
        assert all(r.item is not None for r in found)
        fresh.audit_verify()
    finally:
        fresh.store.close()


# --- the same as one at a time ----------------------------------------------------------------

LEVELS = ["군사III급비밀", KOR_LEVEL]
TOPICS = ["nk-missile", "nk-nuclear", "cyber"]


def _log(db: Path, after: int) -> list[tuple[str, Any]]:
    rows = query(db, "select seq, leaf from audit_entries where seq > ? order by seq", after)
    bodies = [decode_entry(bytes(leaf), seq) for seq, leaf in rows]
    return [
        (b["kind"], b["subject"], sorted({c["table"] for c in b["changes"]}))
        for b in bodies
        if b["kind"] == "item"
    ]


@settings(max_examples=8)
@given(
    st.lists(
        st.tuples(st.sampled_from(LEVELS), st.sets(st.sampled_from(TOPICS), min_size=1)),
        min_size=1,
        max_size=12,
    )
)
def test_an_envelope_gives_what_one_at_a_time_ingest_gives(
    builtin: Path, master: MasterKey, tmp_path_factory: pytest.TempPathFactory, spec: Any
) -> None:
    folder = tmp_path_factory.mktemp("same")
    batched, single = clone(builtin, folder / "a.db"), clone(builtin, folder / "b.db")
    start = int(query(batched, "select max(seq) from audit_entries")[0][0])
    items = [
        Item(f"KOR~p-{k}", "KOR", level, frozenset(topics), frozenset({"JPN"}), AT, "", "c", None)
        for k, (level, topics) in enumerate(spec)
    ]
    readable: list[list[str]] = []
    for db, add in ((batched, "batch"), (single, "single")):
        ex = _reopened(db, master)
        try:
            if add == "batch":
                ex.add_items(items)
            else:
                for item in items:
                    ex.add_item(item)
        finally:
            ex.store.close()
        fresh = _reopened(db, master)
        try:
            with fresh.store.transaction() as tx:
                assert Ledger().failures(tx) == []
            got = fresh.readable("kor-analyst", AT + timedelta(days=1))
            readable.append(sorted(i for i in got if i.startswith("KOR~p-")))
        finally:
            fresh.store.close()
    # the oracle: kor-analyst (군사II급비밀; nk-missile, nk-nuclear, cyber) reads each of them
    assert readable[0] == readable[1] == sorted(i.id for i in items)
    assert _log(batched, start) == _log(single, start)
    assert len(_log(batched, start)) == len(items)


def test_feed_events_of_envelopes_are_numbered_in_order_without_gaps(
    exchange: Exchange, db: Path
) -> None:
    """Deferred to one statement per transaction, each user's events still number 1, 2, 3…"""
    exchange.add_items(_items(3, AT, "one"))
    exchange.add_items(_items(4, AT, "two"))
    rows = query(db, "select n, item from feed_events where user = 'kor-analyst' order by n")
    assert [n for n, _ in rows] == list(range(1, len(rows) + 1))
    ours = [item for _, item in rows if item.startswith(("KOR~one", "KOR~two"))]
    assert ours == [i.id for i in _items(3, AT, "one") + _items(4, AT, "two")]
