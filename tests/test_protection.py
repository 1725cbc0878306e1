"""Every copy under its own key: nothing readable at rest, markings bound to the
ciphertext (R2), destruction by shredding the key (R10), and rotation without loss.

Real SQLite files, real ``cryptography``; tampering is done the way an attacker with the file
would do it, with ``sqlite3`` directly, and every tampered read must fail closed with an
``IntegrityError`` while ``audit verify`` names the entry that wrote the changed row.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from accord.audit import parse_signed_checkpoint
from accord.cli.exits import exit_code
from accord.crypto import WrappedKey, unwrap
from accord.errors import AccordError, IntegrityError, KeyMismatch
from accord.model.acts import Destruction
from accord.model.item import Item
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import parse_instant
from accord.scenario import load_scenario
from accord.service import Exchange, MasterKey
from accord.service.scenarios import apply_scenario
from accord.service.vault import copy_aad
from tests.stores import clone, execute, query
from tests.test_cli_keys_audit import (
    AFTER,
    INTEGRITY,
    KEY_MISMATCH,
    KEY_UNAVAILABLE,
    OK,
    accord,
)


def T(text: str) -> datetime:
    return parse_instant(text, "test")


LATER = T(AFTER)
BUILTIN_ITEMS = Path(__file__).resolve().parents[1] / "src/accord/scenario/builtin/gsomia-2019.yaml"


@pytest.fixture
def opened(master: MasterKey) -> Iterator[Callable[[Path], Exchange]]:
    """Exchanges on a file, each closed at the end of the test."""
    made: list[Exchange] = []

    def open_(path: Path, key: MasterKey | None = None) -> Exchange:
        chosen = key or master
        exchange = Exchange.open(f"sqlite:///{path}", master=lambda: chosen)
        made.append(exchange)
        return exchange

    yield open_
    for exchange in made:
        exchange.store.close()


# --- an independent reading of the log: which entry last wrote a row ----------------------------


def entries(db: Path) -> list[dict[str, Any]]:
    """Every entry's body, read straight from the file (the leaf after its first line)."""
    return [
        json.loads(bytes(leaf).split(b"\n", 1)[1])
        for (leaf,) in query(db, "select leaf from audit_entries order by seq")
    ]


def writer_of(db: Path, table: str, **key: object) -> int:
    """The seq of the last entry whose changes wrote the row of ``table`` with ``key``."""
    found = [
        body["seq"]
        for body in entries(db)
        for change in body["changes"]
        if change["table"] == table and all(change["row"].get(k) == v for k, v in key.items())
    ]
    assert found, (table, key)
    return found[-1]


def assert_verify_names(exchange: Exchange, pattern: str) -> str:
    with pytest.raises(IntegrityError) as raised:
        exchange.audit_verify()
    assert exit_code(raised.value) == INTEGRITY
    assert pattern in raised.value.message, raised.value.message
    return raised.value.message


def assert_read_refused(exchange: Exchange, user: str, item: str) -> None:
    """The read fails closed: an IntegrityError, never content, never a fallback to plaintext."""
    with pytest.raises(IntegrityError) as raised:
        exchange.read(ReadRequest(user, item), LATER)
    assert item in raised.value.message


# --- 1. no plaintext at rest ---------------------------------------------------------------------


def secrets_of(master: MasterKey) -> list[tuple[str, bytes]]:
    scenario = load_scenario(BUILTIN_ITEMS)
    needles = [
        ("master key text", master.text().encode()),
        ("master key", base64.urlsafe_b64decode(master.text())),
    ]
    for item in scenario.items:
        needles += [
            (f"title of {item.id}", item.title.encode()),
            (f"content of {item.id}", item.content.encode()),
        ]
        # a distinctive slice too, so that no part of a text is stored in clear
        needles.append((f"part of {item.id}", item.content.encode()[10:30]))
    assert len(needles) == 2 + 3 * len(scenario.items) >= 32
    return needles


def test_no_plaintext_at_rest(db: Path, master: MasterKey, opened: Callable[..., Exchange]) -> None:
    exchange = opened(db)
    with exchange.store.transaction() as tx:  # the parties' private keys are sealed too
        keyring = exchange.vault.keyring(tx, tx.revision())
        privates = [
            (f"{owner} {kind} private key", raw)
            for owner in keyring.owners()
            for kind, raw in (
                ("X25519", keyring.get(owner, 1).x25519.private_bytes_raw()),
                ("Ed25519", keyring.get(owner, 1).ed25519.private_bytes_raw()),
            )
        ]
    read = exchange.read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER).item
    scenario = {item.id: item for item in load_scenario(BUILTIN_ITEMS).items}
    assert read is not None and read.content == scenario["kor-kn25-1031"].content
    exchange.store.close()  # its WAL is checkpointed into the file; any left is scanned too
    stored = db.read_bytes() + (
        Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else b""
    )
    # the scan does see UTF-8 text that is stored in clear: names, levels, ids
    for clear in ("Republic of Korea", "군사II급비밀", "極秘", "jpn-analyst", "kor-kn25-1031"):
        assert clear.encode() in stored, clear
    for what, needle in [*secrets_of(master), *privates]:
        assert needle not in stored, f"{what} is in the store file in clear"


def test_a_copied_file_under_another_key_or_none_yields_nothing(
    db: Path, master: MasterKey, opened: Callable[..., Exchange], tmp_path: Path
) -> None:
    stolen = clone(db, tmp_path / "stolen.db")
    other = MasterKey.generate()
    with pytest.raises(KeyMismatch):
        opened(stolen, other).read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER)
    read = ("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", AFTER, "--json")
    wrong = accord(*read, db=stolen, key=other.text())
    assert (wrong.returncode, wrong.stdout) == (KEY_MISMATCH, "")
    none = accord(*read, db=stolen)
    assert (none.returncode, none.stdout) == (KEY_UNAVAILABLE, "")
    public = accord("audit", "verify", "--json", db=stolen)  # verification needs no secret
    assert public.returncode == OK, public.stderr
    assert public.json()["ok"] is True
    right = accord(*read, db=stolen, key=master.text())  # the file itself is intact
    assert (
        right.returncode == OK
        and right.json()["item"]["title"] == "Two KN-25 launches from Sunchon"
    )


# --- 2. markings bound (R2) ----------------------------------------------------------------------

HOLDING = (
    "kind = 'holding' and json_extract(body, '$.item') = 'kor-kn25-1031'"
    " and json_extract(body, '$.party') = 'JPN'"
)
ITEM_FACT = "kind = 'item' and json_extract(body, '$.id') = 'kor-kn25-1031'"


def fact_seq(db: Path, where: str) -> int:
    """The place of the one stored fact ``where`` selects."""
    ((seq,),) = query(db, f"select seq from facts where {where}")
    return int(seq)


# (what is changed, the SQL that changes it, the fact it changes (or None: a row of ``items``
# or ``wrapped_keys``), whether the originator's own read is refused too)
MARKINGS = [
    (
        "a holding's level lowered",
        f"update facts set body = json_set(body, '$.level', '秘') where {HOLDING}",
        HOLDING,
        False,
    ),
    (
        "a holding's originator level",
        f"update facts set body = json_set(body, '$.originator_level', '군사III급비밀') where {HOLDING}",
        HOLDING,
        False,
    ),
    (
        "an item's level",
        f"update facts set body = json_set(body, '$.level', '군사III급비밀') where {ITEM_FACT}",
        ITEM_FACT,
        True,
    ),
    (
        "an item's caveat",
        f"""update facts set body = json_set(body, '$.releasable_to', json('["JPN"]')) where {ITEM_FACT}""",
        ITEM_FACT,
        True,
    ),
    (
        "an item's topics",
        f"""update facts set body = json_set(body, '$.topics', json('["nk-missile","nk-nuclear"]'))"""
        f" where {ITEM_FACT}",
        ITEM_FACT,
        True,
    ),
    (
        "an item's creation",
        f"update facts set body = json_set(body, '$.created', '2019-10-31T08:00:00.000001Z')"
        f" where {ITEM_FACT}",
        ITEM_FACT,
        True,
    ),
    (
        "an item's signer version",
        "update items set signer_version = 2 where id = 'kor-kn25-1031'",
        None,
        True,
    ),
    (
        "a wrapped key replaced by another item's",
        "update wrapped_keys set wrapped = (select wrapped from wrapped_keys where item = 'kor-kn25-0824'"
        " and party = 'JPN') where item = 'kor-kn25-1031' and party = 'JPN'",
        None,
        False,
    ),
    (
        "a payload replaced by another item's",
        "update items set payload = (select payload from items where id = 'kor-kn25-0824')"
        " where id = 'kor-kn25-1031'",
        None,
        True,
    ),
    (
        "a signature replaced by another item's",
        "update items set signature = (select signature from items where id = 'kor-kn25-0824')"
        " where id = 'kor-kn25-1031'",
        None,
        True,
    ),
]


@pytest.mark.parametrize(("what", "sql", "fact", "own"), MARKINGS, ids=[m[0] for m in MARKINGS])
def test_a_changed_marking_or_ciphertext_fails_closed_and_is_named(
    db: Path, opened: Callable[..., Exchange], what: str, sql: str, fact: str | None, own: bool
) -> None:
    if fact is not None:
        table, key = "facts", {"seq": fact_seq(db, fact)}
    elif "wrapped_keys" in sql.split(" set ", maxsplit=1)[0]:
        table, key = "wrapped_keys", {"item": "kor-kn25-1031", "party": "JPN"}
    else:
        table, key = "items", {"id": "kor-kn25-1031"}
    seq = writer_of(db, table, **key)
    execute(db, sql)
    exchange = opened(db)
    assert_read_refused(exchange, "jpn-analyst", "kor-kn25-1031")
    if own:  # the originator's own copy is refused as well
        assert_read_refused(exchange, "kor-analyst", "kor-kn25-1031")
    assert_verify_names(exchange, f"audit entry {seq} wrote {table} row ")
    # other items are untouched and still read
    assert exchange.read(ReadRequest("jpn-analyst", "kor-slbm-1002"), LATER).item is not None


SHARED_LEVELS = """\
topics: [t]
parties:
  - {code: AAA, name: A, timezone: UTC, levels: [L1, L2]}
  - {code: BBB, name: B, timezone: UTC, levels: [L1, L2]}
agreements:
  - {id: ab, parties: [AAA, BBB], in_force_from: 2020-01-01T00:00:00Z, timezone: UTC, topics: all,
     equivalence: [{AAA: L1, BBB: L1}, {AAA: L2, BBB: L2}]}
users:
  - {id: b-user, party: BBB, clearance: L2, need_to_know: [t]}
  - {id: a-user, party: AAA, clearance: L2, need_to_know: [t]}
items:
  - {id: x, originator: AAA, level: L2, topics: [t], releasable_to: [BBB],
     created: 2021-01-01T00:00:00Z, title: Secret title, content: Secret content}
events:
  - {at: 2021-01-02T00:00:00Z, type: release, item: x, from: AAA, to: BBB}
"""


def test_a_changed_originator_fails_closed_and_is_named(
    tmp_path: Path, master: MasterKey, opened: Callable[..., Exchange]
) -> None:
    """Two parties with the same level names, so that a changed originator still makes a world
    the store can load: only the cryptographic binding can tell."""
    world = tmp_path / "shared.yaml"
    world.write_text(SHARED_LEVELS, encoding="utf-8")
    db = tmp_path / "shared.db"
    exchange = opened(db)
    exchange.init_keys()
    apply_scenario(exchange, load_scenario(world), strict=True)
    assert exchange.read(ReadRequest("b-user", "x"), LATER).item is not None
    exchange.store.close()
    where = "kind = 'item' and json_extract(body, '$.id') = 'x'"
    fact = fact_seq(db, where)
    seq = writer_of(db, "facts", seq=fact)
    execute(db, f"update facts set body = json_set(body, '$.originator', 'BBB') where {where}")
    exchange = opened(db)
    assert_read_refused(exchange, "b-user", "x")
    assert_read_refused(exchange, "a-user", "x")  # the item's fact grants no one anything
    assert_verify_names(
        exchange,
        f"audit entry {seq} wrote facts row {fact} (item x, holding x/AAA);"
        " the store now differs in body",
    )


@pytest.mark.parametrize(
    ("what", "sql"),
    [
        ("an item's originator", "json_set(body, '$.originator', 'JPN')"),
        ("an item's level outside its scheme", "json_set(body, '$.level', 'TOP SECRET')"),
    ],
)
def test_verify_names_the_entry_even_when_an_edit_breaks_the_world(
    db: Path, opened: Callable[..., Exchange], what: str, sql: str
) -> None:
    """`audit verify` checks the log and the rows; it must not need the rows to make a valid
    world first (a tamperer can always make them not), or it cannot name what was changed."""
    fact = fact_seq(db, ITEM_FACT)
    seq = writer_of(db, "facts", seq=fact)
    execute(db, f"update facts set body = {sql} where {ITEM_FACT}")
    exchange = opened(db)
    with pytest.raises(AccordError):  # no content, whatever the error
        exchange.read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER)
    assert_verify_names(exchange, f"audit entry {seq} wrote facts row {fact}")


def flip(db: Path, table: str, column: str, where: str, position: int) -> None:
    (value,) = query(db, f"select {column} from {table} where {where}")[0]
    data = bytearray(value)
    data[position] ^= 0x5A
    execute(db, f"update {table} set {column} = ? where {where}", bytes(data))


def test_one_byte_flipped_anywhere_in_a_payload_wrapped_key_or_signature(
    db: Path, opened: Callable[..., Exchange]
) -> None:
    item = "where id = 'kor-kn25-1031'"
    wrapped = "where item = 'kor-kn25-1031' and party = 'JPN'"
    targets = [
        ("items", "payload", item),
        ("items", "signature", item),
        ("wrapped_keys", "wrapped", wrapped),
    ]
    tried = 0
    for table, column, where in targets:
        length = len(query(db, f"select {column} from {table} {where}")[0][0])
        seq = writer_of(
            db,
            table,
            **(
                {"id": "kor-kn25-1031"}
                if table == "items"
                else {"item": "kor-kn25-1031", "party": "JPN"}
            ),
        )
        # the header, the first bytes of the nonce or key version, the middle, the tag's start, the end
        positions = sorted(
            {0, 1, 2, 5, 9, 14, length // 3, length // 2, length - 17, length - 2, length - 1}
        )
        for position in positions:
            flip(db, table, column, where.removeprefix("where "), position)
            exchange = opened(db)
            assert_read_refused(exchange, "jpn-analyst", "kor-kn25-1031")
            assert_verify_names(exchange, f"audit entry {seq} wrote {table} row ")
            exchange.store.close()
            flip(db, table, column, where.removeprefix("where "), position)  # put it back
            tried += 1
    assert tried >= 30
    assert opened(db).read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER).item is not None


# --- 4. destruction is real (R10) ----------------------------------------------------------------


def test_destruction_shreds_the_key_and_no_other_key_opens_the_item(
    db: Path, opened: Callable[..., Exchange]
) -> None:
    exchange = opened(db)
    item = "kor-kn25-1031"
    before, destroyed_at, after = (
        T("2024-01-15T00:00:00Z"),
        T("2024-02-01T00:00:00Z"),
        T("2024-03-01T00:00:00Z"),
    )
    world = exchange.snapshot()
    jpn_copy = world.holding(item, "JPN", before)
    kor_copy = world.holding(item, "KOR", before)
    assert jpn_copy is not None and kor_copy is not None
    with exchange.store.transaction() as tx:  # JPN's keys do open JPN's copy, before
        keyring = exchange.vault.keyring(tx, tx.revision())
        (version, blob) = tx.wrapped_key(item, "JPN") or (0, b"")
        data_key = unwrap(
            keyring.get("JPN", version), WrappedKey(version, blob), copy_aad(jpn_copy), what="JPN"
        )
        assert len(data_key) == 32

    done = exchange.destroy(Destruction(destroyed_at, item, "JPN"))
    assert done.allowed, done.codes
    assert query(db, "select party from wrapped_keys where item = ?", item) == [("KOR",)]
    last = entries(db)[-1]
    assert last["kind"] == "destruction"
    assert {"table": "wrapped_keys", "op": "delete"} in [
        {k: c[k] for k in ("table", "op")} for c in last["changes"]
    ]

    # trying: every key JPN has, on every wrapped key of the item that is left, in every context
    remaining = query(
        db, "select party, key_version, wrapped from wrapped_keys where item = ?", item
    )
    with exchange.store.transaction() as tx:
        keyring = exchange.vault.keyring(tx, tx.revision())
        attempts = 0
        for version in keyring.versions("JPN"):
            keys = keyring.get("JPN", version)
            for _party, _version, blob in remaining:
                for aad in (copy_aad(jpn_copy), copy_aad(kor_copy)):
                    with pytest.raises(IntegrityError):
                        unwrap(keys, WrappedKey(version, bytes(blob)), aad, what="JPN trying")
                    attempts += 1
        assert attempts >= 2
    exchange.rotate_keys("JPN")  # a rotation does not bring the copy back
    assert query(db, "select party from wrapped_keys where item = ?", item) == [("KOR",)]

    for at in (before, after):  # as of before the destruction too: the key is gone
        result = exchange.read(ReadRequest("jpn-analyst", item), at)
        assert result.item is None and not result.decision.allowed
        assert "destroyed" in result.decision.codes
        assert entries(db)[-1]["subject"]["items"][0]["reasons"] == list(result.decision.codes)
    kor = exchange.read(ReadRequest("kor-analyst", item), after)
    assert kor.item is not None and kor.item.content.startswith("Two KN-25 launched")
    exchange.audit_verify()


# --- 5. rotation ---------------------------------------------------------------------------------


def test_rotating_the_master_key(
    db: Path, master: MasterKey, opened: Callable[..., Exchange]
) -> None:
    sealed = query(
        db, "select owner, version, sealed_private from key_sets order by owner, version"
    )
    wrong = opened(db, MasterKey.generate())
    with pytest.raises(KeyMismatch):
        wrong.rotate_master(MasterKey.generate())
    assert (
        query(db, "select owner, version, sealed_private from key_sets order by owner, version")
        == sealed
    )

    new = MasterKey.generate()
    assert opened(db).rotate_master(new) == len(sealed)
    resealed = query(
        db, "select owner, version, sealed_private from key_sets order by owner, version"
    )
    assert [r[:2] for r in resealed] == [r[:2] for r in sealed]
    assert all(a[2] != b[2] for a, b in zip(resealed, sealed, strict=True))
    for key in (new, master):
        fresh = opened(db, key)
        if key is new:
            item = fresh.read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER).item
            assert item is not None and item.title == "Two KN-25 launches from Sunchon"
        else:
            with pytest.raises(KeyMismatch):
                fresh.read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER)
    assert opened(db, MasterKey.generate()).audit_verify().entries == len(entries(db))


def test_rotating_a_party_keeps_its_copies_and_its_signatures(
    db: Path, opened: Callable[..., Exchange]
) -> None:
    exchange = opened(db)
    copies = query(db, "select count(*) from wrapped_keys where party = 'JPN'")[0][0]
    assert exchange.rotate_keys("JPN") == (2, copies)
    for user, item in (
        ("jpn-analyst", "kor-kn25-1031"),
        ("jpn-analyst", "kor-kn25-1128"),
        ("kor-analyst", "jpn-radar-1128"),
    ):
        assert exchange.read(ReadRequest(user, item), LATER).item is not None, item
    assert query(db, "select signer_version from items where id = 'jpn-radar-1128'") == [(1,)]
    created = T("2024-03-01T00:00:00Z")
    exchange.add_item(
        Item(
            "jpn-after",
            "JPN",
            "極秘",
            frozenset({"nk-missile"}),
            frozenset({"KOR"}),
            created,
            "After",
            "Signed with v2",
        )
    )
    assert query(db, "select signer_version from items where id = 'jpn-after'") == [(2,)]
    assert exchange.release(
        ReleaseRequest("jpn-after", "JPN", "KOR"), T("2024-03-02T00:00:00Z")
    ).allowed
    fresh = opened(db)  # another process: keys reopened from the store
    read = fresh.read(ReadRequest("kor-analyst", "jpn-after"), T("2024-03-03T00:00:00Z"))
    assert read.item is not None and read.item.content == "Signed with v2"
    assert fresh.read(ReadRequest("kor-analyst", "jpn-radar-1128"), LATER).item is not None
    fresh.audit_verify()


def test_rotating_the_exchange_key_keeps_older_checkpoints_verifiable(
    db: Path, opened: Callable[..., Exchange]
) -> None:
    exchange = opened(db)
    old_key = exchange.verifier_key()
    note = exchange.publish_checkpoint()
    exchange.rotate_keys("@exchange")
    exchange.read(ReadRequest("jpn-analyst", "kor-kn25-1031"), LATER)
    new_key = exchange.verifier_key()
    assert new_key != old_key
    published = parse_signed_checkpoint(note)
    assert [s.name for s in published.signatures] == ["accord-exchange"]
    assert published.signatures[0].key_hash.hex() == old_key.split("+")[1]
    report = exchange.audit_verify()
    assert report.checkpoints == 2 and report.entries == len(entries(db))
