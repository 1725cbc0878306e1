"""A party's view of the record (``service.party_record``) over the built-in world in a real
SQLite store: which entries concern a party, checked rule by rule and against the world's own
facts (every release, item, user and agreement), and proofs of hidden entries answering exactly
like entries past the end of the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from accord.model.requests import ReadRequest, ReleaseRequest
from accord.service import Exchange, MasterKey
from accord.service.journal import decode_entry
from accord.service.party_record import concerns, party_entries, party_proof
from tests.stores import query
from tests.test_taxii_support import issue

PARTIES = ("JPN", "KOR", "USA")
LATER = datetime(2019, 12, 1, tzinfo=UTC)
AFTER = datetime(2024, 1, 1, tzinfo=UTC)  # past the last recorded act


@pytest.fixture
def exchange(db: Path, master: MasterKey) -> Iterator[Exchange]:
    opened = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    yield opened
    opened.store.close()


def bodies(db: Path) -> list[dict[str, Any]]:
    return [
        decode_entry(bytes(leaf), seq)
        for seq, leaf in query(db, "select seq, leaf from audit_entries order by seq")
    ]


def seen(exchange: Exchange, party: str) -> set[int]:
    entries, total, _ = party_entries(exchange, party)
    assert total == len(entries)  # the built-in world fits one page
    return {e.seq for e in entries}


def seq_of(db: Path, kind: str, **subject: object) -> int:
    found = [
        b["seq"]
        for b in bodies(db)
        if b["kind"] == kind and all(b["subject"].get(k) == v for k, v in subject.items())
    ]
    assert len(found) == 1, (kind, subject, found)
    return int(found[0])


def test_a_party_sees_its_own_acts_agreements_users_and_releases_to_it(
    exchange: Exchange, db: Path
) -> None:
    jpn = seen(exchange, "JPN")
    assert seq_of(db, "party", party="JPN") in jpn
    assert seq_of(db, "user", user="jpn-analyst") in jpn
    assert seq_of(db, "agreement", agreement="rok-japan-gsomia") in jpn
    assert seq_of(db, "termination_notice", agreement="rok-japan-gsomia") in jpn
    assert seq_of(db, "item", item="jpn-radar-1128") in jpn
    assert seq_of(db, "release", item="kor-kn25-0824", to="JPN") in jpn


def test_a_party_does_not_see_what_is_only_another_partys(exchange: Exchange, db: Path) -> None:
    jpn = seen(exchange, "JPN")
    assert seq_of(db, "item", item="kor-top-eve") not in jpn  # a KOR item never given to JPN
    assert seq_of(db, "party", party="KOR") not in jpn
    assert seq_of(db, "user", user="usa-analyst") not in jpn
    assert seq_of(db, "agreement", agreement="rok-us-security-agreement") not in jpn
    assert seq_of(db, "topic", topic="cyber") not in jpn
    assert seq_of(db, "keys-init") not in jpn
    # a consent names JPN only as a recipient: it concerns the originator and the holder
    consent = seq_of(db, "consent", item="kor-missile-eve-consented")
    assert consent not in jpn
    assert consent in seen(exchange, "KOR") and consent in seen(exchange, "USA")


def test_a_refused_release_concerns_its_sender_only(exchange: Exchange, db: Path) -> None:
    decision = exchange.release(ReleaseRequest("kor-top-eve", "KOR", "JPN"), AFTER)
    assert not decision.allowed
    refused = seq_of(db, "release", item="kor-top-eve", to="JPN")
    assert refused in seen(exchange, "KOR")
    assert refused not in seen(exchange, "JPN")
    assert party_proof(exchange, "JPN", refused) is None


def test_reads_and_tokens_concern_the_users_party(exchange: Exchange, db: Path) -> None:
    issue(exchange, "jpn-analyst")
    exchange.read(ReadRequest("jpn-analyst", "kor-kn25-0824"), LATER)
    read = seq_of(db, "read", user="jpn-analyst")
    token = seq_of(db, "token-issue", user="jpn-analyst")
    assert {read, token} <= seen(exchange, "JPN")
    assert not {read, token} & (seen(exchange, "KOR") | seen(exchange, "USA"))


def test_checkpoints_and_countersignatures_are_public(exchange: Exchange, db: Path) -> None:
    note = exchange.publish_checkpoint()
    size = int(note.splitlines()[1])
    exchange.countersign(size, "KOR")
    published = seq_of(db, "checkpoint-publish", size=size)
    signed = seq_of(db, "checkpoint-countersign", size=size, party="KOR")
    for party in PARTIES:
        assert {published, signed} <= seen(exchange, party)


def test_the_view_agrees_with_the_worlds_own_facts(exchange: Exchange, db: Path) -> None:
    """An oracle from the world, not the log: every allowed release is seen by its sender,
    recipient, hub and originator and by no one else; every item by its originator only; every
    user by their party only; every agreement by its parties only."""
    world = exchange.snapshot()
    views = {party: seen(exchange, party) for party in PARTIES}
    for r in world.releases:
        entry = seq_of(db, "release", item=r.item, to=r.to_party, **{"from": r.from_party})
        told = {r.from_party, r.to_party, r.via, world.items[r.item].originator} - {None}
        assert {p for p in PARTIES if entry in views[p]} == told
    for item in world.items.values():
        entry = seq_of(db, "item", item=item.id)
        assert {p for p in PARTIES if entry in views[p]} == {item.originator}
    for user in world.users.values():
        entry = seq_of(db, "user", user=user.id)
        assert {p for p in PARTIES if entry in views[p]} == {user.party}
    for agreement in world.agreements.values():
        entry = seq_of(db, "agreement", agreement=agreement.id)
        assert {p for p in PARTIES if entry in views[p]} == set(agreement.terms.parties)


def test_an_unknown_kind_or_a_malformed_entry_concerns_no_one(exchange: Exchange) -> None:
    world = exchange.snapshot()
    assert not concerns(world, {"kind": "something-new", "subject": {"party": "JPN"}}, "JPN")
    assert not concerns(world, {"kind": "party", "subject": "JPN"}, "JPN")
    assert not concerns(world, {"kind": "party"}, "JPN")
    assert not concerns(world, {"kind": "user", "subject": {"user": "no-such-user"}}, "JPN")
    assert concerns(world, {"kind": "party", "subject": {"party": "JPN"}}, "JPN")


def test_a_shown_entry_opens_with_its_inclusion_proof(exchange: Exchange, db: Path) -> None:
    entry = seq_of(db, "release", item="kor-kn25-0824", to="JPN")
    shown = party_proof(exchange, "JPN", entry)
    assert shown is not None
    assert shown["entry"] == bodies(db)[entry]
    assert {k: v for k, v in shown.items() if k != "entry"} == exchange.audit_prove(entry)


def test_a_hidden_entry_answers_like_one_past_the_end(exchange: Exchange, db: Path) -> None:
    hidden = seq_of(db, "item", item="kor-top-eve")
    size = len(bodies(db))
    answers = [party_proof(exchange, "JPN", n) for n in (hidden, size, size + 10**6, -1)]
    assert answers == [None] * 4
