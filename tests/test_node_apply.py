"""A node applies the facts it receives: two real node stores (KOR, JPN) with real keys and
pinned cards; KOR's deliverer sends to JPN's real receiver at instants the test sets. Each kind a
node takes, and each refusal: logged, named in the receipt, nothing applied."""

from __future__ import annotations

import copy
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.crypto.canonical import canonical_json
from accord.crypto.facts import fact_id
from accord.crypto.messages import decode_answer, sign_fact
from accord.errors import IntegrityError
from accord.model.agreement import (
    Agreement,
    EquivalenceTable,
    NoticeSuspended,
    Renewal,
    TerminationNotice,
    Terms,
    TopicScope,
)
from accord.model.facts import FactKind, cosignature
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import Receipt, WireFact
from accord.model.party import Party
from accord.model.time import Duration
from accord.model.user import User
from accord.policy.lifecycle import Status
from accord.service.deliverer import Deliverer
from accord.service.ledger import ReceivedFact
from accord.service.node_wire import Wire
from tests.nodes import Made, make_node, reopen

AID = "rok-japan-gsomia"
# the GSOMIA's term ends at midnight KST, 2019-11-23T00:00+09:00 = 2019-11-22T15:00Z
MIDNIGHT = datetime(2019, 11, 22, 15, 0, tzinfo=UTC)
NOTICE_AT = datetime(2019, 8, 23, 6, 25, tzinfo=UTC)
PARTIES = (
    Party("KOR", "Korea", "Asia/Seoul", ("III", "II", "I")),
    Party("JPN", "Japan", "Asia/Tokyo", ("秘", "極秘", "機密")),
    Party("USA", "United States", "America/New_York", ("C", "S", "TS")),
)


def _agreement() -> Agreement:
    terms = Terms(
        frozenset({"KOR", "JPN"}),
        EquivalenceTable(({"KOR": "II", "JPN": "極秘"},)),
        TopicScope(None),
        Duration.parse("P1Y", "term"),
        Renewal("automatic"),
        Duration.parse("P90D", "notice_period"),
    )
    return Agreement(
        AID, datetime(2016, 11, 22, 15, 0, tzinfo=UTC), "Asia/Seoul", terms, None, "GSOMIA"
    )


@dataclass
class Pair:
    kor: Made
    jpn: Made
    kor_wire: Wire
    jpn_wire: Wire
    arrival: datetime = MIDNIGHT
    answers: list[bytes] = field(default_factory=list)

    def send(self, peer: str, body: bytes) -> bytes:
        answer = self.jpn_wire.receiver.receive("KOR", body, self.arrival).body
        self.answers.append(answer)
        return answer

    def deliver(self, *facts: WireFact, sent: datetime, arrival: datetime | None = None) -> Receipt:
        self.arrival = arrival or sent
        deliverer = Deliverer(
            self.kor.node.exchange,
            self.kor_wire.identity,
            self.kor_wire._keys,
            self,
            self.kor_wire.settings,
        )
        with self.kor.node.exchange.store.transaction(write=True) as tx:
            for fact in facts:
                deliverer.enqueue(tx, "JPN", fact, sent)
        deliverer.deliver("JPN", sent)
        keys = self.kor_wire._keys("JPN")
        assert keys is not None
        answer = decode_answer(self.answers[-1], keys.ed25519_public)
        assert isinstance(answer, Receipt), answer
        return answer


def _signed(made: Made, wire: Wire, kind: str, body: dict[str, object], at: datetime) -> WireFact:
    encoded = canonical_json(body)
    unsigned = WireFact(fact_id(kind, encoded.decode()), kind, made.party, at, encoded, b"")
    return sign_fact(wire.identity.key, unsigned)


def _share(made: Made, wire: Wire, kind: str, body: str, at: datetime) -> WireFact:
    share = cosignature.Share(kind, body, made.party).encode()
    return _signed(made, wire, cosignature.KIND, share, at)


def _note(pair: Pair, event: object) -> WireFact:
    body = DEFINITIONS[FactKind.NOTE].encode(event)
    return _signed(pair.kor, pair.kor_wire, FactKind.NOTE.value, body, event.at)  # type: ignore[attr-defined]


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return make_pair(tmp_path)


def make_pair(tmp_path: Path) -> Pair:
    """KOR's and JPN's nodes, each pinning the other, both holding the GSOMIA."""
    kor, jpn = make_node(tmp_path / "kor", "KOR"), make_node(tmp_path / "jpn", "JPN")
    kor.node.trust(jpn.node.card_text().encode(), "jpn.card")
    jpn.node.trust(kor.node.card_text().encode(), "kor.card")
    kor_wire, jpn_wire = Wire(kor.node), Wire(jpn.node)
    # both nodes hold the parties, and the agreement signed by both (one share each)
    agreement = _agreement()
    body = canonical_json(DEFINITIONS[FactKind.AGREEMENT].encode(agreement)).decode()
    signed_at = datetime(2016, 11, 22, 15, 0, tzinfo=UTC)
    shares = (
        _share(kor, kor_wire, "agreement", body, signed_at),
        _share(jpn, jpn_wire, "agreement", body, signed_at),
    )
    for made, wire, other in ((kor, kor_wire, "JPN"), (jpn, jpn_wire, "KOR")):
        ex = made.node.exchange
        ex.add_topic("nk-missile")
        for party in PARTIES:
            ex.add_party(party)
        with ex.session(write=True) as s:
            fact = ReceivedFact(fact_id("agreement", body), "agreement", body, signed_at, shares)
            keyring = ex.vault.keyring(s.tx, s.revision)
            ex.ledger.admit_received(s.tx, keyring, s.world, fact, other, signed_at, wire._pinned())
            s.tx.bump_revision()
    return Pair(kor, jpn, kor_wire, jpn_wire)


def _status(made: Made, at: datetime) -> Status:
    return reopen(made).exchange.agreement_state(AID, at).status


# --- notes --------------------------------------------------------------------------------------


def test_a_notice_sent_by_kor_applies_on_jpn_at_its_own_instant(pair: Pair) -> None:
    receipt = pair.deliver(_note(pair, TerminationNotice(NOTICE_AT, AID, "KOR")), sent=NOTICE_AT)
    assert receipt.refused == ()
    assert _status(pair.jpn, NOTICE_AT - timedelta(seconds=1)) is Status.IN_FORCE
    assert _status(pair.jpn, NOTICE_AT) is Status.NOTICE_PENDING
    assert _status(pair.jpn, MIDNIGHT) is Status.TERMINATED
    with closing(sqlite3.connect(pair.jpn.db)) as conn:
        rows = conn.execute("select sender, state from received_facts order by position").fetchall()
    assert rows[-1] == ("KOR", "applied")


def test_a_suspension_after_the_notice_keeps_the_agreement_in_force_past_midnight(
    pair: Pair,
) -> None:
    pair.deliver(_note(pair, TerminationNotice(NOTICE_AT, AID, "KOR")), sent=NOTICE_AT)
    suspended = MIDNIGHT - timedelta(hours=6)
    receipt = pair.deliver(_note(pair, NoticeSuspended(suspended, AID, "KOR")), sent=suspended)
    assert receipt.refused == ()
    assert _status(pair.jpn, MIDNIGHT) is Status.IN_FORCE


def test_a_note_signed_at_235959_900_arriving_at_000000_300_keeps_its_instant(pair: Pair) -> None:
    pair.deliver(_note(pair, TerminationNotice(NOTICE_AT, AID, "KOR")), sent=NOTICE_AT)
    signed = MIDNIGHT - timedelta(milliseconds=100)  # 23:59:59.900 KST
    arrives = MIDNIGHT + timedelta(milliseconds=300)  # 00:00:00.300 KST
    note = _note(pair, NoticeSuspended(signed, AID, "KOR"))
    receipt = pair.deliver(note, sent=signed, arrival=arrives)
    assert receipt.refused == ()  # 0.4 s is within the skew; decided at 23:59:59.900
    assert _status(pair.jpn, MIDNIGHT) is Status.IN_FORCE


def test_a_suspension_signed_after_midnight_is_refused_with_the_lifecycle_reason(
    pair: Pair,
) -> None:
    pair.deliver(_note(pair, TerminationNotice(NOTICE_AT, AID, "KOR")), sent=NOTICE_AT)
    late = MIDNIGHT + timedelta(milliseconds=100)
    receipt = pair.deliver(_note(pair, NoticeSuspended(late, AID, "KOR")), sent=late)
    assert [r.code for r in receipt.refused] == ["fact-not-allowed"]
    assert "terminated" in receipt.refused[0].reason
    assert _status(pair.jpn, MIDNIGHT) is Status.TERMINATED


def test_a_late_note_from_a_peer_that_was_down_is_placed_at_its_own_instant(pair: Pair) -> None:
    note = _note(pair, TerminationNotice(NOTICE_AT, AID, "KOR"))
    later = NOTICE_AT + timedelta(days=30)  # sent a month later, in a fresh message
    receipt = pair.deliver(note, sent=later)
    assert receipt.refused == ()
    assert _status(pair.jpn, NOTICE_AT) is Status.NOTICE_PENDING


def test_refusals_for_agreement_not_held_not_addressed_and_instant_mismatch(pair: Pair) -> None:
    unknown = _note(pair, TerminationNotice(NOTICE_AT, "no-such-pact", "KOR"))
    body = DEFINITIONS[FactKind.NOTE].encode(TerminationNotice(NOTICE_AT, AID, "KOR"))
    moved = _signed(
        pair.kor, pair.kor_wire, "agreement-event", body, NOTICE_AT + timedelta(seconds=1)
    )
    receipt = pair.deliver(unknown, moved, sent=NOTICE_AT + timedelta(seconds=1))
    assert {r.fact_id: r.code for r in receipt.refused} == {
        unknown.fact_id: "agreement-not-held",
        moved.fact_id: "instant-mismatch",
    }
    assert _status(pair.jpn, MIDNIGHT) is Status.IN_FORCE  # nothing applied
    refused = [b for b in pair.jpn_wire.node.exchange.snapshot().agreement_events[AID]]
    assert refused == []


def test_a_note_by_kor_on_an_agreement_kor_is_not_party_to_is_not_a_party(pair: Pair) -> None:
    from accord.errors import NotAParty
    from accord.service.node_apply import Context
    from accord.service.node_apply import _note as handle

    other = Agreement(
        "japan-us",
        datetime(2007, 8, 9, 15, 0, tzinfo=UTC),
        "Asia/Tokyo",
        Terms(
            frozenset({"JPN", "USA"}),
            EquivalenceTable(({"JPN": "極秘", "USA": "S"},)),
            TopicScope(None),
            None,
            Renewal("none"),
            None,
        ),
        None,
        "Japan-US",
    )
    world = copy.deepcopy(pair.jpn.node.exchange.snapshot())
    world.add_agreement(other)  # this node's world holds it (a copy, not stored)
    event = TerminationNotice(NOTICE_AT, "japan-us", "KOR")
    with pytest.raises(NotAParty):
        handle(Context(world, "JPN", "KOR"), _note(pair, event), event)


# --- clearances, consents, other kinds ---------------------------------------------------------


def test_a_clearance_of_the_senders_own_party_applies_and_a_foreign_one_is_refused(
    pair: Pair,
) -> None:
    own = User("kor-analyst", "KOR", "II", frozenset({"nk-missile"}))
    body = DEFINITIONS[FactKind.USER].encode(own)
    fact = _signed(pair.kor, pair.kor_wire, "user", body, NOTICE_AT)
    receipt = pair.deliver(fact, sent=NOTICE_AT)
    assert receipt.refused == ()
    assert reopen(pair.jpn).exchange.snapshot().users["kor-analyst"] == own
    # the same id again (a changed clearance) is not taken: the world has the user
    changed = User("kor-analyst", "KOR", "I", frozenset({"nk-missile"}))
    again = _signed(
        pair.kor, pair.kor_wire, "user", DEFINITIONS[FactKind.USER].encode(changed), NOTICE_AT
    )
    receipt = pair.deliver(again, sent=NOTICE_AT)
    assert [r.code for r in receipt.refused] == ["fact-not-allowed"]
    assert reopen(pair.jpn).exchange.snapshot().users["kor-analyst"] == own


def test_a_clearance_relayed_by_another_node_is_a_foreign_clearance(pair: Pair) -> None:
    from accord.errors import ForeignClearance
    from accord.service.node_apply import Context, _user

    user = User("usa-analyst", "USA", "S", frozenset())
    world = pair.jpn.node.exchange.snapshot()
    with pytest.raises(ForeignClearance):
        _user(
            Context(world, "JPN", "KOR"),
            _signed(pair.kor, pair.kor_wire, "user", {}, NOTICE_AT),
            user,
        )


def test_a_consent_on_an_item_this_node_does_not_hold_is_refused(pair: Pair) -> None:
    from accord.model.acts import Consent

    consent = Consent(NOTICE_AT, "kor-item", "KOR", "JPN", frozenset({"USA"}), True)
    fact = _signed(
        pair.kor, pair.kor_wire, "consent", DEFINITIONS[FactKind.CONSENT].encode(consent), NOTICE_AT
    )
    receipt = pair.deliver(fact, sent=NOTICE_AT)
    assert [r.code for r in receipt.refused] == ["not-originator"]


def test_a_kind_a_node_does_not_take_from_a_peer_is_refused(pair: Pair) -> None:
    topic = _signed(pair.kor, pair.kor_wire, "standing-rule", {"x": 1}, NOTICE_AT)
    from accord.errors import KindNotAccepted
    from accord.service.node_apply import Applier

    applier = Applier(pair.jpn.node.exchange, "JPN", pair.jpn_wire._pinned)
    with pytest.raises(KindNotAccepted):
        applier._one(None, None, None, "KOR", topic, NOTICE_AT, {})  # type: ignore[arg-type]


# --- integrity ---------------------------------------------------------------------------------


def test_a_received_row_edited_in_the_store_is_an_integrity_error_on_the_act_that_needs_it(
    pair: Pair,
) -> None:
    pair.deliver(_note(pair, TerminationNotice(NOTICE_AT, AID, "KOR")), sent=NOTICE_AT)
    with closing(sqlite3.connect(pair.jpn.db)) as conn, conn:
        row = conn.execute(
            "select position, body from received_facts where kind = 'agreement-event'"
        ).fetchone()
        edited = json.loads(row[1])
        edited["by"] = "JPN"
        conn.execute(
            "update received_facts set body = ? where position = ?",
            (canonical_json(edited).decode(), row[0]),
        )
    with pytest.raises(IntegrityError):
        reopen(pair.jpn).exchange.check_release(_release(), MIDNIGHT)


def test_a_received_row_deleted_from_the_store_is_an_integrity_error(pair: Pair) -> None:
    pair.deliver(_note(pair, TerminationNotice(NOTICE_AT, AID, "KOR")), sent=NOTICE_AT)
    with closing(sqlite3.connect(pair.jpn.db)) as conn, conn:
        conn.execute("delete from received_facts where kind = 'agreement-event'")
    with pytest.raises(IntegrityError):
        reopen(pair.jpn).exchange.check_release(_release(), MIDNIGHT)


def _release():  # type: ignore[no-untyped-def]
    from accord.model.requests import ReleaseRequest

    return ReleaseRequest("any-item", "KOR", "JPN", None)


def test_a_note_recorded_on_kor_is_queued_for_jpn_in_the_same_act_and_applies_there(
    pair: Pair,
) -> None:
    from accord.store import outbox

    decision = pair.kor.node.exchange.record(TerminationNotice(NOTICE_AT, AID, "KOR"))
    assert decision.allowed
    with pair.kor.node.exchange.store.transaction() as tx:
        queued = outbox.queued(tx, "JPN")
    assert [(q.fact.kind, q.fact.party, q.fact.instant) for q in queued] == [
        ("agreement-event", "KOR", NOTICE_AT)
    ]
    receipt = pair.deliver(sent=NOTICE_AT)  # the outbox as it is
    assert receipt.fact_ids == (queued[0].fact.fact_id,) and receipt.refused == ()
    assert _status(pair.jpn, NOTICE_AT) is Status.NOTICE_PENDING


def test_a_refused_note_on_kor_queues_nothing(pair: Pair) -> None:
    from accord.store import outbox

    assert not pair.kor.node.exchange.record(NoticeSuspended(NOTICE_AT, AID, "KOR")).allowed
    with pair.kor.node.exchange.store.transaction() as tx:
        assert outbox.queued(tx) == []


def test_agreement_status_on_a_node_shows_the_notes_sent_and_received(pair: Pair) -> None:
    from tests.test_cli_keys_audit import OK, accord

    assert pair.kor.node.exchange.record(TerminationNotice(NOTICE_AT, AID, "KOR")).allowed
    pair.deliver(sent=NOTICE_AT, arrival=NOTICE_AT + timedelta(seconds=2))
    at = ("--at", "2019-09-01T00:00:00Z")
    shown = {}
    for made in (pair.kor, pair.jpn):
        done = accord("agreement", "status", AID, *at, "--json", db=made.db, key_file=made.key_file)
        assert done.returncode == OK, done.stderr
        shown[made.party] = json.loads(done.stdout)
    assert shown["KOR"]["status"] == shown["JPN"]["status"] == "notice_pending"
    assert shown["KOR"]["notes"]["sent"] == [
        {
            "to": "JPN",
            "note": "termination_notice",
            "at": "2019-08-23T06:25:00Z",
            "delivered_at": "2019-08-23T06:25:00Z",
        }
    ]
    assert shown["JPN"]["notes"] == {
        "sent": [],
        "received": [
            {
                "from": "KOR",
                "note": "termination_notice",
                "by": "KOR",
                "at": "2019-08-23T06:25:00Z",
                "arrived_at": "2019-08-23T06:25:02Z",
            }
        ],
    }
    text = accord("agreement", "status", AID, *at, db=pair.jpn.db, key_file=pair.jpn.key_file)
    assert "received termination_notice by KOR at 2019-08-23T06:25:00Z from KOR" in text.stdout
