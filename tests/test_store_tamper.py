"""Store edits that try to grant access, made the way an attacker with the store file but not
the parties' signing keys would (plain ``sqlite3``), each refused on the read path: the
exchange's read, ``accord read`` and a TAXII GET through a real server on 127.0.0.1. A fact that
fails its check grants nothing, the act that needs it is an integrity failure (exit 6, HTTP 500
with no detail), the content is never served, acts that do not need it go on, and
``audit verify`` names it."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.api import ApiSettings, create_app
from accord.api.context import HOLDINGS, collection_id
from accord.crypto.facts import fact_message
from accord.crypto.signing import Signature
from accord.errors import IntegrityError
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import Duration, parse_instant
from accord.service import Exchange, MasterKey
from accord.service.credentials import Credentials, encode_secret
from accord.store.credentials import TokenRow
from tests.stores import execute, query
from tests.test_cli_keys_audit import AFTER, INTEGRITY, OK, accord
from tests.test_taxii_support import TAXII, Clock, bearer, serving

LATER = parse_instant(AFTER, "test")
ITEM = "kor-kn25-1031"  # KOR's, held by JPN; jpn-analyst may read it, jpn-junior may not
CONTENT = "Two KN-25 launched"
JPN = collection_id(HOLDINGS, "JPN")


# --- the attacker's tools: plain SQL on the facts table ---------------------------------------


def canonical(body: dict[str, Any]) -> str:
    """Sorted keys, no spaces: what RFC 8785 gives for these bodies (strings, lists, bools)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def stored_facts(db: Path, kind: str) -> list[tuple[int, dict[str, Any]]]:
    rows = query(db, "select seq, body from facts where kind = ? order by seq", kind)
    return [(int(seq), json.loads(body)) for seq, body in rows]


def fact_seq(db: Path, fact_kind: str, /, **match: object) -> int:
    found = [
        s for s, b in stored_facts(db, fact_kind) if all(b.get(k) == v for k, v in match.items())
    ]
    assert len(found) >= 1, (fact_kind, match)
    return found[-1]


def rewrite(db: Path, kind: str, match: dict[str, object], **changes: object) -> int:
    """Change fields of a stored fact's body, leaving its signatures as they were."""
    seq = fact_seq(db, kind, **match)
    ((body,),) = query(db, "select body from facts where seq = ?", seq)
    execute(
        db,
        "update facts set body = ? where seq = ?",
        canonical({**json.loads(body), **changes}),
        seq,
    )
    return seq


def insert(db: Path, kind: str, body: dict[str, Any], vouchers: list[str]) -> int:
    """Append a fact with a well-formed id and someone's real signature over another fact."""
    ((last, signatures),) = query(db, "select seq, signatures from facts order by seq desc limit 1")
    text = canonical(body)
    digest = hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()
    stolen = json.loads(signatures)[:1] * len(vouchers)
    execute(
        db,
        "insert into facts (seq, id, kind, vouchers, body, signatures) values (?, ?, ?, ?, ?, ?)",
        last + 1,
        digest,
        kind,
        json.dumps(vouchers),
        text,
        json.dumps(stolen),
    )
    return int(last) + 1


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def opened(master: MasterKey) -> Iterator[Callable[[Path], Exchange]]:
    made: list[Exchange] = []

    def open_(path: Path) -> Exchange:
        exchange = Exchange.open(f"sqlite:///{path}", Clock(LATER), master=lambda: master)
        made.append(exchange)
        return exchange

    yield open_
    for exchange in made:
        exchange.store.close()


def refused(exchange: Exchange, user: str, item: str = ITEM) -> str:
    with pytest.raises(IntegrityError) as raised:
        exchange.read(ReadRequest(user, item), LATER)
    return raised.value.message


def reads(exchange: Exchange, user: str, item: str = ITEM) -> bool:
    return exchange.read(ReadRequest(user, item), LATER).item is not None


def unheld_item(exchange: Exchange, party: str) -> str:
    world = exchange.snapshot()
    return sorted(i for i in world.items if world.holding(i, party, LATER) is None)[0]


# --- the edits, each refused ------------------------------------------------------------------

# (what, the edit, the user whose read it tries to grant); each edit returns the fact's seq
EDITS: list[tuple[str, Callable[[Path], int], str]] = [
    (
        "clearance raised",
        lambda db: rewrite(db, "user", {"id": "jpn-junior"}, clearance="極秘"),
        "jpn-junior",
    ),
    (
        "need-to-know widened",
        lambda db: rewrite(
            db, "user", {"id": "jpn-cyber-analyst"}, need_to_know=["cyber", "nk-missile"]
        ),
        "jpn-cyber-analyst",
    ),
    (
        "a user inserted",
        lambda db: insert(
            db,
            "user",
            {
                "id": "jpn-mallory",
                "party": "JPN",
                "clearance": "機密",
                "need_to_know": ["nk-missile"],
            },
            ["JPN"],
        ),
        "jpn-mallory",
    ),
    (
        "an item's level lowered",
        lambda db: rewrite(db, "item", {"id": ITEM}, level="군사III급비밀"),
        "jpn-analyst",
    ),
]


@pytest.mark.parametrize(("what", "edit", "user"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edit_that_grants_a_read_is_refused_and_named(
    db: Path,
    opened: Callable[[Path], Exchange],
    caplog: pytest.LogCaptureFixture,
    what: str,
    edit: Callable[[Path], int],
    user: str,
) -> None:
    seq = edit(db)
    exchange = opened(db)
    with caplog.at_level(logging.ERROR, logger="accord.facts"):
        message = refused(exchange, user)
    assert f"fact {seq}" in message
    assert any(f"fact {seq}" in m for m in caplog.messages)  # logged
    with pytest.raises(IntegrityError, match=f"facts row {seq}|fact {seq}"):
        exchange.audit_verify()
    # a read that does not rest on the edited fact still works
    other = "kor-analyst" if user != "kor-analyst" else "jpn-analyst"
    if what != "an item's level lowered":
        assert reads(exchange, "jpn-analyst")
    assert reads(exchange, other, "kor-slbm-1002")


def test_a_holding_inserted_grants_nothing(db: Path, opened: Callable[[Path], Exchange]) -> None:
    item = unheld_item(opened(db), "JPN")
    seq = insert(
        db,
        "holding",
        {
            "item": item,
            "party": "JPN",
            "level": "機密",
            "originator": "KOR",
            "originator_level": "군사II급비밀",
            "received_at": "2019-09-01T00:00:00Z",
            "agreement": "rok-japan-gsomia",
            "via": None,
        },
        ["JPN"],
    )
    exchange = opened(db)
    assert f"fact {seq}" in refused(exchange, "jpn-analyst", item)
    assert reads(exchange, "jpn-analyst")  # JPN's real copies still read


def test_a_consent_inserted_refuses_the_release_it_would_allow(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    request = ReleaseRequest(ITEM, "USA", "JPN", None)
    opened(db).check_release(request, LATER)  # answerable before the edit
    insert(
        db,
        "consent",
        {
            "at": "2023-12-31T00:00:00Z",
            "item": ITEM,
            "by": "KOR",
            "holder": "USA",
            "recipients": ["JPN"],
            "granted": True,
        },
        ["KOR"],
    )
    exchange = opened(db)
    with pytest.raises(IntegrityError, match="fails its check"):
        exchange.check_release(request, LATER)
    with pytest.raises(IntegrityError):
        exchange.release(request, LATER)
    # a consent restricts: without it nothing can say what it withdrew, so no read is served
    refused(exchange, "jpn-analyst")


def test_a_deleted_fact_taints_the_whole_record(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    seq = fact_seq(db, "agreement-event", kind="notice_suspended")
    execute(db, "delete from facts where seq = ?", seq)
    exchange = opened(db)
    assert f"facts {seq} to {seq} are missing" in refused(exchange, "jpn-analyst")
    with pytest.raises(IntegrityError):
        exchange.check_release(ReleaseRequest(ITEM, "KOR", "JPN", None), LATER)


def test_a_record_cut_short_taints_the_whole_record(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """The newest facts deleted: the exchange's signed head still counts them."""
    ((last,),) = query(db, "select max(seq) from facts")
    execute(db, "delete from facts where seq >= ?", last - 1)
    exchange = opened(db)
    assert f"facts {last - 1} to {last} are missing" in refused(exchange, "jpn-analyst")
    execute(db, "delete from meta where key = 'facts_head'")
    assert "signed head is missing" in refused(opened(db), "jpn-analyst")


def test_a_fact_signed_by_the_wrong_party_is_refused(
    db: Path, opened: Callable[[Path], Exchange], master: MasterKey
) -> None:
    """KOR's real key signs a JPN user's clearance: a clearance signed by a foreign party."""
    exchange = opened(db)
    seq = fact_seq(db, "user", id="jpn-junior")
    ((body,),) = query(db, "select body from facts where seq = ?", seq)
    raised = canonical({**json.loads(body), "clearance": "機密"})
    with exchange.store.transaction() as tx:
        kor = exchange.vault.keyring(tx, tx.revision()).current("KOR")
    signature = kor.ed25519.sign(fact_message(seq, "user", ["KOR"], raised))
    stored = Signature("KOR", kor.version, signature).to_bytes()
    execute(
        db,
        "update facts set body = ?, vouchers = ?, signatures = ?, id = ? where seq = ?",
        raised,
        json.dumps(["KOR"]),
        json.dumps([base64.b64encode(stored).decode()]),
        hashlib.sha256(f"user\n{raised}".encode()).hexdigest(),
        seq,
    )
    message = refused(opened(db), "jpn-junior")
    assert "must be by JPN" in message


def test_a_replaced_public_key_cannot_re_sign_facts(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """The attacker puts their own Ed25519 key in JPN's key set, raises a clearance and signs
    every fact JPN vouches for again with it: every signature verifies against the stored key,
    but the key set no longer opens under the master key, so nothing is served."""
    attacker = Ed25519PrivateKey.generate()
    public = attacker.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    execute(db, "update key_sets set ed25519_public = ? where owner = 'JPN'", public)
    target = fact_seq(db, "user", id="jpn-junior")
    rows = query(db, "select seq, kind, vouchers, body, signatures from facts order by seq")
    for seq, kind, vouchers_text, stored, signatures_text in rows:
        vouchers = json.loads(vouchers_text)
        if "JPN" not in vouchers:
            continue
        body = canonical({**json.loads(stored), "clearance": "機密"}) if seq == target else stored
        message = fact_message(seq, kind, vouchers, body)
        signatures = json.loads(signatures_text)
        forged = Signature("JPN", 1, attacker.sign(message)).to_bytes()
        signatures[vouchers.index("JPN")] = base64.b64encode(forged).decode()
        execute(
            db,
            "update facts set body = ?, signatures = ?, id = ? where seq = ?",
            body,
            json.dumps(signatures),
            hashlib.sha256(f"{kind}\n{body}".encode()).hexdigest(),
            seq,
        )
    exchange = opened(db)
    assert exchange.snapshot().users["jpn-junior"].clearance == "機密"  # the forgery "verifies"
    with pytest.raises(IntegrityError, match="JPN version 1: its stored public keys"):
        exchange.read(ReadRequest("jpn-junior", ITEM), LATER)
    with pytest.raises(IntegrityError):
        exchange.audit_verify()


# --- the CLI and TAXII read paths ---------------------------------------------------------------


def test_accord_read_of_an_edited_clearance_exits_integrity(db: Path, master: MasterKey) -> None:
    read = ("read", ITEM, "--user", "jpn-junior", "--at", AFTER, "--json")
    before = accord(*read, db=db, key=master.text())
    assert before.returncode != INTEGRITY and CONTENT not in before.stdout  # refused: too low
    rewrite(db, "user", {"id": "jpn-junior"}, clearance="極秘")
    after = accord(*read, db=db, key=master.text())
    assert after.returncode == INTEGRITY and CONTENT not in after.stdout + after.stderr
    fine = accord(
        "read", ITEM, "--user", "jpn-analyst", "--at", AFTER, "--json", db=db, key=master.text()
    )
    assert fine.returncode == OK and CONTENT in fine.stdout


def _objects(base: str, token: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=30) as http:
        return http.get(f"/taxii2/JPN/collections/{JPN}/objects/", headers=bearer(token))


def test_taxii_get_of_an_edited_need_to_know_is_a_bare_500(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    url = f"sqlite:///{db}"
    exchange = opened(db)
    token = Credentials(exchange).issue("jpn-cyber-analyst", Duration.parse("P1D", "e")).token
    good = Credentials(exchange).issue("jpn-analyst", Duration.parse("P1D", "e")).token
    with serving(create_app(ApiSettings(url), exchange)) as base:
        listed = _objects(base, good)
        assert listed.status_code == 200 and CONTENT in listed.text
        assert CONTENT not in _objects(base, token).text  # no need-to-know for missiles
    rewrite(db, "user", {"id": "jpn-cyber-analyst"}, need_to_know=["cyber", "nk-missile"])
    fresh = opened(db)
    with serving(create_app(ApiSettings(url), fresh)) as base:
        r = _objects(base, token)
        assert r.status_code == 500
        assert CONTENT not in r.text and "fact" not in r.text and "nk-missile" not in r.text
        ok = _objects(base, good)  # another user's reads do not rest on it
        assert ok.status_code == 200 and CONTENT in ok.text
    assert TAXII  # the media type the helpers send


# --- tokens are the exchange's own facts --------------------------------------------------------


def test_an_inserted_token_row_grants_nothing(db: Path, opened: Callable[[Path], Exchange]) -> None:
    import secrets

    from accord.service.credentials import _scrypt

    exchange = opened(db)
    secret, salt = secrets.token_bytes(32), secrets.token_bytes(16)
    row = TokenRow(
        "feedfacefeedface",
        "jpn-analyst",
        salt,
        _scrypt(secret, salt),
        True,
        LATER,
        None,
        None,
        b"\0" * 32,
    )
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(
            "insert into api_tokens (id, user, salt, hash, admin, issued_at, expires_at,"
            " revoked_at, mac) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.id, row.user, row.salt, row.hash, 1, 0, None, None, row.mac),
        )
    with pytest.raises(IntegrityError, match="fails its MAC"):
        Credentials(exchange).verify(f"{row.id}.{encode_secret(secret)}")


def test_a_json_column_edited_to_text_that_is_not_json_is_an_integrity_error(
    db: Path, master: MasterKey
) -> None:
    """A JSON column that no longer parses is stored data failing its check (exit 6, named),
    never a crash with the decoder's text."""
    ((last,),) = query(db, "select max(seq) from facts")
    execute(db, "update facts set signatures = ? where seq = ?", "{not json", last)
    verify = accord("audit", "verify", db=db, key=master.text())
    assert verify.returncode == INTEGRITY, verify.stderr
    assert "facts" in verify.stderr and "Traceback" not in verify.stderr
    read = accord(
        "read", ITEM, "--user", "jpn-analyst", "--at", AFTER, "--json", db=db, key=master.text()
    )
    assert read.returncode == INTEGRITY and CONTENT not in read.stdout + read.stderr
    assert "Traceback" not in read.stderr
