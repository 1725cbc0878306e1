"""The record (R12): one log entry per act and per read, in order, explaining every row of the
store; any edit, deletion or reordering of the log found and named by ``audit verify``; proofs
that an RFC 9162 implementation we did not write (pymerkle 7) agrees with.

The log is read here with ``sqlite3`` and ``json`` only, and the rows the entries must explain
are rebuilt by an oracle written for these tests (``replayed`` / ``stored``), not by accord.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymerkle
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accord.audit import parse_signed_checkpoint, verify_consistency, verify_inclusion
from accord.cli.exits import exit_code
from accord.errors import AccordError, CheckpointInvalid, IntegrityError, ProofInvalid
from accord.model.acts import Compromise, Consent, Destruction
from accord.model.agreement import TerminationNotice
from accord.model.requests import ReleaseRequest
from accord.model.time import parse_instant
from accord.policy.reasons import Decision
from accord.service import Exchange, MasterKey
from accord.service.auditor import check_proof
from tests.stores import clone, execute, query
from tests.test_cli_keys_audit import (
    AFTER,
    CHECKPOINT,
    INTEGRITY,
)


def T(text: str) -> datetime:
    return parse_instant(text, "test")


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


ITEMS = (
    "kor-nuclear-test-0909",
    "kor-kn25-0824",
    "kor-slbm-1002",
    "kor-kn25-1031",
    "kor-missile-eve-consented",
    "kor-missile-eve",
    "kor-cyber-eve",
    "kor-top-eve",
    "jpn-radar-1128",
    "kor-kn25-1128",
)
PARTIES = ("KOR", "JPN", "USA")
USERS = ("kor-analyst", "jpn-analyst", "jpn-junior", "jpn-cyber-analyst", "usa-analyst")


@pytest.fixture
def opened(master: MasterKey) -> Iterator[Callable[[Path], Exchange]]:
    made: list[Exchange] = []

    def open_(path: Path) -> Exchange:
        exchange = Exchange.open(f"sqlite:///{path}", master=lambda: master)
        made.append(exchange)
        return exchange

    yield open_
    for exchange in made:
        exchange.store.close()


# --- the oracle: the rows the entries say the store holds, and the rows it holds ---------------

AUDITED = ("facts", "items", "key_sets", "wrapped_keys")
INSTANTS = {"in_force_from", "at", "created", "received_at", "created_at"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


def entries(db: Path) -> list[dict[str, Any]]:
    """Every entry's body, in log order, each checked to be ``prefix line + JSON``."""
    bodies = []
    for seq, leaf, leaf_hash in query(
        db, "select seq, leaf, leaf_hash from audit_entries order by seq"
    ):
        head, body = bytes(leaf).split(b"\n", 1)
        assert head == b"accord audit entry v1"
        assert hashlib.sha256(b"\x00" + bytes(leaf)).digest() == bytes(leaf_hash)
        bodies.append(json.loads(body))
        assert bodies[-1]["seq"] == seq == len(bodies) - 1
    return bodies


def primary_keys(conn: sqlite3.Connection, table: str) -> tuple[list[str], dict[str, str]]:
    info = conn.execute(f'pragma table_info("{table}")').fetchall()  # cid, name, type, _, _, pk
    keys = [name for _, name, _, _, _, pk in sorted(info, key=lambda r: r[5]) if pk]
    return keys, {name: kind.upper() for _, name, kind, *_ in info}


def stored(db: Path) -> Rows:
    """The audited tables as they are, each row as the log's image of it: instants ISO 8601 UTC,
    binary columns as ``sha256:`` hex of their bytes, JSON columns decoded."""

    def value(name: str, kind: str, raw: Any) -> Any:
        if raw is None:
            return None
        if name in INSTANTS:
            return iso(EPOCH + timedelta(microseconds=raw))
        if kind == "BLOB":
            return "sha256:" + hashlib.sha256(raw).hexdigest()
        if kind == "JSON":
            return json.loads(raw)
        if kind == "BOOLEAN":
            return bool(raw)
        return raw

    rows: Rows = {}
    with closing(sqlite3.connect(db)) as conn:
        for table in AUDITED:
            keys, kinds = primary_keys(conn, table)
            cursor = conn.execute(f'select * from "{table}"')
            names = [d[0] for d in cursor.description]
            rows[table] = {}
            for raw in cursor:
                image = {n: value(n, kinds[n], v) for n, v in zip(names, raw, strict=True)}
                rows[table][tuple(image[k] for k in keys)] = image
    return rows


def replayed(db: Path) -> Rows:
    """The rows the entries' changes leave, applied strictly: an insert of a row that exists, or
    an update or delete of one that does not, is an error of the log."""
    with closing(sqlite3.connect(db)) as conn:
        keys = {table: primary_keys(conn, table)[0] for table in AUDITED}
    rows: Rows = {table: {} for table in AUDITED}
    for body in entries(db):
        for change in body["changes"]:
            table, op, row = change["table"], change["op"], change["row"]
            key = tuple(row[k] for k in keys[table])
            if op == "insert":
                assert key not in rows[table], (body["seq"], table, key)
                rows[table][key] = row
            elif op == "update":
                assert key in rows[table], (body["seq"], table, key)
                rows[table][key] = row
            else:
                assert op == "delete" and rows[table].pop(key) == row, (body["seq"], table, key)
    return rows


def test_the_oracle_explains_the_built_in_world(db: Path) -> None:
    expected, actual = replayed(db), stored(db)
    assert expected == actual
    assert len(actual["items"]) == 10 and len(actual["wrapped_keys"]) == 17
    assert {b["kind"] for b in entries(db)} >= {"keys-init", "topic", "party", "item", "release"}


# --- every act and every read, one entry each (R12) ---------------------------------------------

KOR_ITEMS = tuple(i for i in ITEMS if i.startswith("kor-"))
anyone = st.sampled_from(PARTIES)
act = st.one_of(
    # releases and consents as an originator would make them (most are allowed), and any at all
    st.tuples(
        st.just("release"),
        st.sampled_from(KOR_ITEMS),
        st.just("KOR"),
        st.sampled_from(("JPN", "USA")),
        st.sampled_from((None, None, "USA")),
    ),
    st.tuples(
        st.just("release"), st.sampled_from(ITEMS), anyone, anyone, st.sampled_from((None, "USA"))
    ),
    st.tuples(
        st.just("consent"),
        st.sampled_from(KOR_ITEMS),
        st.just("KOR"),
        st.sampled_from(("USA", "JPN")),
        st.frozensets(st.sampled_from(("JPN", "USA")), min_size=1),
        st.booleans(),
    ),
    st.tuples(
        st.just("consent"),
        st.sampled_from(ITEMS),
        anyone,
        anyone,
        st.frozensets(anyone, min_size=1),
        st.booleans(),
    ),
    st.tuples(st.just("destroy"), st.sampled_from(ITEMS), anyone),
    st.tuples(st.just("compromise"), st.sampled_from(ITEMS), anyone),
    st.tuples(
        st.just("read"),
        st.sampled_from(USERS),
        st.lists(st.sampled_from(ITEMS), min_size=1, max_size=3),
        st.booleans(),
    ),
    st.tuples(st.just("notice"), anyone),
)
steps = st.lists(st.tuples(act, st.integers(0, 40 * 86_400)), min_size=1, max_size=14)


def perform(
    exchange: Exchange, step: tuple[Any, ...], at: datetime
) -> tuple[str, datetime, dict[str, Any], Any]:
    """Do one act; returns the kind, instant and subject its entry must have, and its result."""
    kind = step[0]
    if kind == "release":
        _, item, sender, recipient, via = step
        decision = exchange.release(ReleaseRequest(item, sender, recipient, via), at)
        return "release", at, {"item": item, "from": sender, "to": recipient, "via": via}, decision
    if kind == "consent":
        _, item, by, holder, recipients, granted = step
        decision = exchange.consent(Consent(at, item, by, holder, recipients, granted))
        subject = {
            "item": item,
            "by": by,
            "holder": holder,
            "recipients": sorted(recipients),
            "granted": granted,
        }
        return "consent", at, subject, decision
    if kind == "destroy":
        _, item, party = step
        return (
            "destruction",
            at,
            {"item": item, "party": party},
            exchange.destroy(Destruction(at, item, party)),
        )
    if kind == "compromise":
        _, item, party = step
        report = Compromise(at, item, party, f"laptop lost at {iso(at)}")
        return (
            "compromise-report",
            at,
            {"item": item, "party": party},
            exchange.report_compromise(report),
        )
    if kind == "read":
        _, user, items, in_the_past = step
        when = T("2019-11-23T00:00:01+09:00") if in_the_past else at
        results = exchange.read_many(user, items, when)
        subject = {
            "user": user,
            "items": [
                {"item": i, "allowed": r.decision.allowed, "reasons": list(r.decision.codes)}
                for i, r in zip(items, results, strict=True)
            ],
        }
        return "read", when, subject, results
    _, by = step
    decision = exchange.record(TerminationNotice(at, "rok-japan-gsomia", by))
    return "termination_notice", at, {"agreement": "rok-japan-gsomia"}, decision


# the rows an allowed act writes, by kind (a refused act writes none)
WRITES = {  # every fact is a row of ``facts``; copies' keys are rows of ``wrapped_keys``
    "release": {("facts", "insert"), ("wrapped_keys", "insert")},
    "consent": {("facts", "insert")},
    "destruction": {("facts", "insert"), ("wrapped_keys", "delete")},
    "compromise-report": {("facts", "insert")},
    "termination_notice": {("facts", "insert")},
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_every_act_and_every_read_is_one_entry_in_order(
    builtin: Path, master: MasterKey, plan: list[tuple[tuple[Any, ...], int]]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        db = clone(builtin, Path(scratch) / "exchange.db")
        base = len(entries(db))
        exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
        try:
            expected: list[tuple[str, datetime, dict[str, Any], Any]] = []
            at = T(AFTER)
            for step, seconds in plan:
                at += timedelta(seconds=seconds)
                count = len(query(db, "select seq from audit_entries"))
                try:
                    expected.append(perform(exchange, step, at))
                except AccordError:  # bad input (e.g. an unknown copy): nothing is written
                    assert len(query(db, "select seq from audit_entries")) == count
                    continue
                assert len(query(db, "select seq from audit_entries")) == count + 1
                result = expected[-1][3]
                allowed = (
                    result.allowed if isinstance(result, Decision) else any(r.item for r in result)
                )
                event(f"{expected[-1][0]} {'allowed' if allowed else 'refused'}")
            logged = entries(db)[base:]
            assert [(b["kind"], b["at"], b["subject"]) for b in logged] == [
                (kind, iso(when), subject) for kind, when, subject, _ in expected
            ]
            for body, (kind, _, _, result) in zip(logged, expected, strict=True):
                written = {(c["table"], c["op"]) for c in body["changes"]}
                if kind == "read":
                    assert "allowed" not in body and written == set()
                    continue
                assert isinstance(result, Decision)
                assert (body["allowed"], body["reasons"]) == (result.allowed, list(result.codes))
                assert written == (WRITES[kind] if result.allowed else set()), (kind, result.codes)
            report = exchange.audit_verify()
            assert report.entries == base + len(expected)
            assert replayed(db) == stored(db)
        finally:
            exchange.store.close()


def test_a_compromise_report_is_an_entry(db: Path, opened: Callable[[Path], Exchange]) -> None:
    exchange = opened(db)
    at = T("2024-02-01T00:00:00Z")
    decision = exchange.report_compromise(
        Compromise(at, "kor-kn25-1031", "JPN", "laptop lost in Tokyo")
    )
    assert decision.allowed
    last = entries(db)[-1]
    assert last["kind"] == "compromise-report" and last["at"] == iso(at)
    assert last["subject"] == {"item": "kor-kn25-1031", "party": "JPN"}
    [change] = last["changes"]
    assert (change["table"], change["op"]) == ("facts", "insert")
    assert change["row"]["kind"] == "compromise" and change["row"]["vouchers"] == ["JPN"]
    assert json.loads(change["row"]["body"])["description"] == "laptop lost in Tokyo"
    exchange.audit_verify()
    execute(
        db,
        "update facts set body = json_set(body, '$.description', 'nothing happened')"
        " where kind = 'compromise'",
    )
    with pytest.raises(IntegrityError, match=rf"audit entry {last['seq']} wrote facts row"):
        opened(db).audit_verify()


# --- tamper evidence ------------------------------------------------------------------------------


def leaf_of(db: Path, seq: int) -> bytes:
    return bytes(query(db, "select leaf from audit_entries where seq = ?", seq)[0][0])


def rewrite(db: Path, seq: int, leaf: bytes) -> None:
    """An entry rewritten by someone who knows RFC 9162: its leaf hash recomputed too."""
    execute(
        db,
        "update audit_entries set leaf = ?, leaf_hash = ? where seq = ?",
        leaf,
        hashlib.sha256(b"\x00" + leaf).digest(),
        seq,
    )


def edit_meta(db: Path, key: str, change: Callable[[str], str]) -> None:
    (value,) = query(db, "select value from meta where key = ?", key)[0]
    execute(db, "update meta set value = ? where key = ?", change(value), key)


def swap(db: Path, a: int, b: int) -> None:
    rows = {
        s: query(db, "select leaf, leaf_hash from audit_entries where seq = ?", s)[0]
        for s in (a, b)
    }
    for seq, other in ((a, b), (b, a)):
        execute(
            db, "update audit_entries set leaf = ?, leaf_hash = ? where seq = ?", *rows[other], seq
        )


def frontier(change: Callable[[dict[str, Any]], None]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        state = json.loads(text)
        change(state)
        return json.dumps(state)

    return edit


def checkpoint_root(text: str) -> str:
    lines = text.split("\n")
    lines[2] = base64.b64encode(hashlib.sha256(b"another root").digest()).decode()
    return "\n".join(lines)


def checkpoint_signature(text: str) -> str:
    head, sig = text.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 0x01
    return f"{head} {base64.b64encode(bytes(raw)).decode()}\n"


def writer(db: Path, table: str, **key: object) -> int:
    """The last entry whose changes wrote the row of ``table`` with ``key``."""
    return [
        b["seq"]
        for b in entries(db)
        for c in b["changes"]
        if c["table"] == table and all(c["row"][k] == v for k, v in key.items())
    ][-1]


HOLDING = (
    "kind = 'holding' and json_extract(body, '$.item') = 'kor-kn25-1031'"
    " and json_extract(body, '$.party') = 'JPN'"
)


def holding_seq(db: Path) -> int:
    """The place in ``facts`` of JPN's copy of kor-kn25-1031."""
    return int(query(db, f"select seq from facts where {HOLDING}")[0][0])


def holding_writer(db: Path) -> int:
    seq = holding_seq(db)
    return next(
        b["seq"]
        for b in entries(db)
        for c in b["changes"]
        if c["table"] == "facts" and c["row"]["seq"] == seq
    )


def lower_a_marking_everywhere(db: Path) -> None:
    """JPN's copy marked 秘 instead of 極秘, in the row and in the entry that wrote it."""
    seq = holding_writer(db)
    execute(db, f"update facts set body = json_set(body, '$.level', '秘') where {HOLDING}")
    leaf = leaf_of(db, seq)
    assert '\\"level\\":\\"極秘\\"'.encode() in leaf
    rewrite(
        db, seq, leaf.replace('\\"level\\":\\"極秘\\"'.encode(), '\\"level\\":\\"秘\\"'.encode())
    )


# (name, the change, error class, a pattern its message must match); ``n`` is the log's size
TAMPERS: list[tuple[str, Callable[[Path, int], None], type[AccordError], str]] = [
    (
        "an entry's bytes edited",
        lambda db, n: execute(
            db,
            "update audit_entries set leaf = ? where seq = 9",
            leaf_of(db, 9).replace(b'"seq":9', b'"seq":8'),
        ),
        IntegrityError,
        r"^audit entry 9: its bytes do not hash to its logged hash$",
    ),
    (
        "an entry's hash edited",
        lambda db, n: execute(
            db, "update audit_entries set leaf_hash = ? where seq = 12", b"\x00" * 32
        ),
        IntegrityError,
        r"^audit entry 12: its bytes do not hash",
    ),
    (
        "an entry deleted",
        lambda db, n: execute(db, "delete from audit_entries where seq = 20"),
        IntegrityError,
        r"^audit entry 20 is missing \(the next stored is 21\)$",
    ),
    (
        "two entries swapped",
        lambda db, n: swap(db, 14, 15),
        IntegrityError,
        r"^audit entry 14: it records itself as entry 15$",
    ),
    (
        "the last entry deleted",
        lambda db, n: execute(db, "delete from audit_entries where seq = ?", n - 1),
        IntegrityError,
        r"\bentry {last} onwards is missing",
    ),
    (
        "every entry deleted",
        lambda db, n: execute(db, "delete from audit_entries"),
        IntegrityError,
        r"\bentry 0 onwards is missing",
    ),
    (
        "an entry rewritten with its hash recomputed",
        lambda db, n: rewrite(db, 3, leaf_of(db, 3).replace(b'"kind":"topic"', b'"kind":"Topic"')),
        IntegrityError,
        r"no longer hash to its signed root",
    ),
    (
        "a marking changed in the store and in its entry, hash recomputed",
        lambda db, n: lower_a_marking_everywhere(db),
        IntegrityError,
        r"no longer hash to its signed root",
    ),
    (
        "the frontier's size edited",
        lambda db, n: edit_meta(
            db, "audit_frontier", frontier(lambda s: s.update(size=s["size"] + 1))
        ),
        IntegrityError,
        r"\bentry {size} onwards is missing",
    ),
    (
        "the frontier not JSON",
        lambda db, n: edit_meta(db, "audit_frontier", lambda _: "{"),
        IntegrityError,
        r"frontier is malformed",
    ),
    (
        "the latest checkpoint's root edited",
        lambda db, n: edit_meta(db, "audit_checkpoint", checkpoint_root),
        CheckpointInvalid,
        r"^the latest checkpoint: no valid signature by accord-exchange",
    ),
    (
        "the latest checkpoint's signature edited",
        lambda db, n: edit_meta(db, "audit_checkpoint", checkpoint_signature),
        CheckpointInvalid,
        r"^the latest checkpoint: no valid signature by accord-exchange",
    ),
    (
        "the latest checkpoint removed",
        lambda db, n: execute(db, "delete from meta where key = 'audit_checkpoint'"),
        IntegrityError,
        r"no signed checkpoint",
    ),
    (
        "the log's origin edited",
        lambda db, n: execute(
            db, "update meta set value = 'accord.exchange/another' where key = 'audit_origin'"
        ),
        CheckpointInvalid,
        r"names the log",
    ),
    (
        "a topic inserted by hand",
        lambda db, n: execute(
            db,
            "insert into facts (seq, id, kind, vouchers, body, signatures) select max(seq) + 1,"
            """ 'x', 'topic', '["@exchange"]', '{"name":"space"}', '[]' from facts""",
        ),
        IntegrityError,
        r"^facts row {next_fact} is not explained by any entry$",
    ),
    (
        "a consent inserted by hand",
        lambda db, n: execute(
            db,
            "insert into facts (seq, id, kind, vouchers, body, signatures)"
            " select (select max(seq) + 1 from facts), id, kind, vouchers,"
            " json_set(body, '$.holder', 'JPN'), signatures from facts"
            " where kind = 'consent' limit 1",
        ),
        IntegrityError,
        r"^facts row {next_fact} is not explained by any entry$",
    ),
    (
        "a holding deleted",
        lambda db, n: execute(db, f"delete from facts where {HOLDING}"),
        IntegrityError,
        r"^audit entry {holding} wrote facts row {holding_seq} \(holding kor-kn25-1031/JPN\);"
        r" it is gone$",
    ),
    (
        "a wrapped key deleted",
        lambda db, n: execute(
            db, "delete from wrapped_keys where item = 'kor-kn25-1031' and party = 'JPN'"
        ),
        IntegrityError,
        r"^audit entry {wrapped} wrote wrapped_keys row kor-kn25-1031/JPN; it is gone$",
    ),
    (
        "a party's key set deleted",
        lambda db, n: execute(db, "delete from key_sets where owner = 'USA'"),
        IntegrityError,
        r"^audit entry {usa_keys} wrote key_sets row USA/1; it is gone$",
    ),
    (
        "a party's public key replaced",
        lambda db, n: execute(
            db,
            "update key_sets set ed25519_public = (select ed25519_public from key_sets where owner = 'KOR')"
            " where owner = 'JPN'",
        ),
        IntegrityError,
        r"wrote key_sets row JPN/1; the store now differs in ed25519_public$",
    ),
]


@pytest.mark.parametrize(
    ("name", "tamper", "error", "pattern"), TAMPERS, ids=[t[0] for t in TAMPERS]
)
def test_tampering_with_the_log_or_the_store_is_found_and_named(
    db: Path,
    opened: Callable[[Path], Exchange],
    name: str,
    tamper: Callable[[Path, int], None],
    error: type[AccordError],
    pattern: str,
) -> None:
    size = len(entries(db))
    known = {  # what the design lets us know of the first bad entry, worked out beforehand
        "last": size - 1,
        "size": size,
        "holding": holding_writer(db),
        "holding_seq": holding_seq(db),
        "next_fact": query(db, "select max(seq) + 1 from facts")[0][0],
        "wrapped": writer(db, "wrapped_keys", item="kor-kn25-1031", party="JPN"),
        "usa_keys": writer(db, "key_sets", owner="USA", version=1),
    }
    opened(db).audit_verify()
    tamper(db, size)
    with pytest.raises(error) as raised:
        opened(db).audit_verify()
    assert exit_code(raised.value) == (CHECKPOINT if error is CheckpointInvalid else INTEGRITY)
    assert re.search(pattern.format(**known), raised.value.message), raised.value.message


def test_a_stale_but_genuine_checkpoint_is_found(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """A checkpoint the exchange really signed, put back after more entries were appended."""
    (old,) = query(db, "select value from meta where key = 'audit_checkpoint'")[0]
    exchange = opened(db)
    exchange.add_topic("space")
    execute(db, "update meta set value = ? where key = 'audit_checkpoint'", old)
    size = len(entries(db))
    with pytest.raises(IntegrityError, match=rf"covers {size - 1} entries; the log holds {size}"):
        opened(db).audit_verify()


def test_one_byte_flipped_in_any_entry_or_leaf_hash_names_that_entry(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    size = len(entries(db))
    tried = 0
    for seq in (0, 1, size // 2, size - 2, size - 1):
        for column in ("leaf", "leaf_hash"):
            (value,) = query(db, f"select {column} from audit_entries where seq = ?", seq)[0]
            original = bytes(value)
            for position in sorted({0, 7, 21, 22, len(original) // 2, len(original) - 1}):
                changed = bytearray(original)
                changed[position] ^= 0x20
                execute(
                    db, f"update audit_entries set {column} = ? where seq = ?", bytes(changed), seq
                )
                with pytest.raises(IntegrityError) as raised:
                    opened(db).audit_verify()
                assert raised.value.message.startswith(f"audit entry {seq}: its bytes do not hash")
                tried += 1
            execute(db, f"update audit_entries set {column} = ? where seq = ?", original, seq)
    assert tried == 60
    opened(db).audit_verify()


def test_a_changed_frontier_is_found_before_it_is_signed(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """The stored frontier is what the next checkpoint's root is computed from: verify must
    check it against the entries, or a changed one goes unseen until the exchange signs a root
    the entries do not have (and verify then blames the entries)."""
    edit_meta(db, "audit_frontier", frontier(lambda s: s["hashes"].__setitem__(0, "00" * 32)))
    with pytest.raises(IntegrityError, match="frontier"):
        opened(db).audit_verify()


def test_an_entry_appended_by_hand_is_named(db: Path, opened: Callable[[Path], Exchange]) -> None:
    size = len(entries(db))
    forged = b'accord audit entry v1\n{"changes":[],"kind":"read","seq":%d}' % size
    execute(
        db,
        "insert into audit_entries values (?, ?, ?)",
        size,
        forged,
        hashlib.sha256(b"\x00" + forged).digest(),
    )
    with pytest.raises(IntegrityError) as raised:
        opened(db).audit_verify()
    assert re.search(rf"\bentry {size}\b", raised.value.message), raised.value.message


@pytest.mark.parametrize(
    ("sql", "pattern"),
    [
        (
            "update facts set body = json_set(body, '$.level', '군사III급비밀')"
            " where kind = 'item' and json_extract(body, '$.id') = 'kor-kn25-1031';"
            " insert into facts (seq, id, kind, vouchers, body, signatures) select max(seq) + 1,"
            """ 'x', 'topic', '["@exchange"]', '{"name":"space"}', '[]' from facts""",
            r"^audit entry \d+ wrote facts row \d+ \(item kor-kn25-1031, holding"
            r" kor-kn25-1031/KOR\); the store now differs in body$",
        ),
        (
            "update facts set seq = 999 where seq = 5",
            r"^audit entry \d+ wrote facts row 5 \(.*\); it is gone$",
        ),
    ],
    ids=["a changed item and a row added", "a holding renumbered"],
)
def test_verify_names_the_first_bad_entry_before_unexplained_rows(
    db: Path, opened: Callable[[Path], Exchange], sql: str, pattern: str
) -> None:
    """When rows that an entry wrote were changed, the message names that entry (the first bad
    one), even if rows that no entry explains were added as well."""
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(sql)
        conn.commit()
    with pytest.raises(IntegrityError, match=pattern):
        opened(db).audit_verify()


def test_a_pinned_exchange_key_still_verifies_after_the_exchange_key_is_rotated(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """A party pins the exchange's verifier key (without a pin, verify trusts whatever keys the
    file holds). After a rotation the pinned new key signs the latest checkpoint, whose log
    includes the entry that recorded the old key: checkpoints published before it still verify."""
    exchange = opened(db)
    exchange.publish_checkpoint()
    exchange.rotate_keys("@exchange")
    report = exchange.audit_verify(exchange.verifier_key())
    assert report.checkpoints == 2


# --- proofs, and an RFC 9162 implementation we did not write -------------------------------------


def as_list(value: object) -> list[str]:
    assert isinstance(value, list)
    return [str(v) for v in value]


def hashes(proof: dict[str, object]) -> list[bytes]:
    return [bytes.fromhex(h) for h in as_list(proof["proof"])]


def test_pymerkle_agrees_on_roots_leaves_and_proofs(
    db: Path, master: MasterKey, opened: Callable[[Path], Exchange]
) -> None:
    """pymerkle 7's InmemoryTree, SHA-256 with its default "security" mode: leaves hashed as
    SHA-256(0x00 || leaf), nodes as SHA-256(0x01 || left || right), the RFC 9162 split at the
    largest power of two below the size. It is fed the exact leaf bytes stored in audit_entries.

    Compared: (1) its leaf hash with the stored leaf_hash of every entry; (2) its root at each size
    where the exchange signed a checkpoint with the root in that signed checkpoint; (3) inclusion:
    its path (leaf hash first, then siblings bottom-up) with our leaf hash + RFC 9162 audit path,
    and its verifier accepting our proof hashes; (4) consistency: pymerkle's consistency path is
    not in RFC 9162's form (it always carries the base subtree and splits differently at a
    power-of-two old size), so paths are not interchangeable — instead its verifier, given its
    own path, must accept the two roots our consistency proof (and our checkpoints) claim, and
    reject a changed one, while our verifier accepts our proof of the same pair."""
    exchange = opened(db)
    published = [exchange.publish_checkpoint()]
    users = ("jpn-analyst", "kor-analyst", "usa-analyst", "jpn-junior")
    for n in range(40):
        exchange.read_many(users[n % 4], [ITEMS[n % len(ITEMS)]], T(AFTER))
        if n in (0, 2, 10, 26, 27, 39):
            published.append(exchange.publish_checkpoint())
    size = len(entries(db))
    rows = query(db, "select leaf, leaf_hash from audit_entries order by seq")
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for leaf, _ in rows:
        tree.append_entry(bytes(leaf))
    assert tree.get_size() == size == 77 + len(published)  # each publication is an entry
    assert [tree.get_leaf(i + 1) for i in range(size)] == [bytes(h) for _, h in rows]

    sizes = []
    for note in published:
        checkpoint = parse_signed_checkpoint(note).checkpoint
        assert tree.get_root(checkpoint.size) == checkpoint.root, checkpoint.size
        sizes.append(checkpoint.size)
    assert sizes == [37, 39, 42, 51, 68, 70, 83]  # each publication adds its own entry

    key = exchange.verifier_key()
    for index, at_size in (
        (0, 1),
        (0, 77),
        (36, 37),
        (37, 64),
        (63, 64),
        (64, 65),
        (40, 77),
        (76, 77),
        (5, 48),
    ):
        ours = exchange.audit_prove(index, at_size)
        leaf_hash, root = bytes.fromhex(str(ours["leaf_hash"])), bytes.fromhex(str(ours["root"]))
        path = [bytes.fromhex(h) for h in as_list(ours["proof"])]
        theirs = tree.prove_inclusion(index + 1, at_size)
        assert theirs.path == [leaf_hash, *path], (index, at_size)
        assert root == tree.get_root(at_size)
        mine = pymerkle.InclusionProof(
            "sha256", True, at_size, index + 1, theirs.rule, [leaf_hash, *path]
        )
        pymerkle.verify_inclusion(leaf_hash, root, mine, index=index + 1, size=at_size)
        with pytest.raises(pymerkle.InvalidProof):
            pymerkle.verify_inclusion(leaf_hash, tree.get_root(at_size - 1 or 2), mine)
        verify_inclusion(leaf_hash, index, at_size, theirs.path[1:], root)  # ours accepts theirs
        check_proof({**ours, "proof": [h.hex() for h in theirs.path[1:]]}, key)

    for old, new in ((1, 77), (37, 38), (37, 77), (32, 64), (64, 65), (40, 48), (48, 77), (77, 77)):
        ours = exchange.audit_consistency(old, new)
        old_root, new_root = (
            bytes.fromhex(str(ours["old_root"])),
            bytes.fromhex(str(ours["new_root"])),
        )
        theirs = tree.prove_consistency(old, new)
        pymerkle.verify_consistency(old_root, new_root, theirs, prior_size=old, later_size=new)
        with pytest.raises(pymerkle.InvalidProof):
            pymerkle.verify_consistency(hashlib.sha256(old_root).digest(), new_root, theirs)
        verify_consistency(old, new, old_root, new_root, hashes(ours))
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, old_root, hashlib.sha256(new_root).digest(), hashes(ours))


def test_a_proof_checks_offline_with_the_store_gone(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """What a party holds (a proof and the exchange's verifier key) is enough: the proof checks
    with the store gone."""
    exchange = opened(db)
    key = exchange.verifier_key()
    proof = exchange.audit_prove(5)
    exchange.store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    established = check_proof(json.loads(json.dumps(proof)), key)
    assert established[-1] == "tree: checkpoint signed by accord-exchange"
    with pytest.raises(CheckpointInvalid):
        check_proof(proof, Exchange.open("sqlite://").verifier_key())  # another exchange's key
