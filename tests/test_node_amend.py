"""Amendments across nodes (Art. 21(2)): two real node stores (KOR, JPN) with real keys and pinned
cards. KOR proposes (its share is queued for JPN), JPN keeps the share pending, countersigns and
applies, and KOR applies when JPN's share comes back. Each refusal is its own code, logged, and
applies nothing. Every instant is set by the test."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.crypto.canonical import canonical_json
from accord.crypto.messages import sign_fact
from accord.errors import (
    FactNotAllowed,
    IntegrityError,
    NotAddressed,
    UnknownPeer,
    UnknownProposal,
    UnknownReference,
)
from accord.model.agreement import Amendment, TerminationNotice
from accord.model.facts import FactKind, cosignature
from accord.model.facts.cosignature import ProposalState
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import Receipt, WireFact
from accord.model.time import Duration
from accord.service.deliverer import Deliverer
from accord.service.node_amend import Amendments, Proposal
from accord.service.node_wire import Wire
from accord.store import outbox, received
from tests.nodes import Made, dump, make_node, reopen
from tests.test_node_apply import AID, MIDNIGHT, NOTICE_AT, Pair, _share, make_pair

AT = datetime(2019, 9, 1, 0, 0, tzinfo=UTC)  # the amendment's instant: in force from here on
P90D = Duration.parse("P90D", "notice_period")
P180D = Duration.parse("P180D", "notice_period")
US = timedelta(microseconds=1)


def _amendment(at: datetime = AT, agreement: str = AID) -> Amendment:
    return Amendment(at, agreement, {"notice_period": P180D})


def _body(amendment: Amendment) -> str:
    return canonical_json(DEFINITIONS[FactKind.NOTE].encode(amendment)).decode()


def _of(made: Made, now: datetime = AT) -> Amendments:
    return Amendments(reopen(made).exchange, now)


def _period(made: Made, at: datetime) -> Duration | None:
    return reopen(made).exchange.agreement_state(AID, at).terms.notice_period


@dataclass
class Back:
    """JPN's outbox delivered to KOR's real receiver, at the instant the test sets."""

    pair: Pair
    arrival: datetime = AT

    def send(self, peer: str, body: bytes) -> bytes:
        return self.pair.kor_wire.receiver.receive("JPN", body, self.arrival).body

    def deliver(self, sent: datetime) -> None:
        self.arrival = sent
        wire = self.pair.jpn_wire
        Deliverer(wire.node.exchange, wire.identity, wire._keys, self, wire.settings).deliver(
            "KOR", sent
        )


def _deliver(pair: Pair, *facts: WireFact, sent: datetime = AT) -> Receipt:
    return pair.deliver(*facts, sent=sent)


def _propose_and_cross(pair: Pair) -> Proposal:
    proposal = _of(pair.kor).propose(_amendment())
    receipt = _deliver(pair)
    assert receipt.refused == ()
    return proposal


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return make_pair(tmp_path)


# --- the round trip ---------------------------------------------------------------------------


def test_kor_proposes_jpn_countersigns_and_both_apply_from_the_amendments_instant(
    pair: Pair,
) -> None:
    proposal = _of(pair.kor).propose(_amendment())
    assert proposal.state is ProposalState.AWAITING
    assert (proposal.signed_by, proposal.waiting_for) == (("KOR",), ("JPN",))
    with pair.kor.node.exchange.store.transaction() as tx:
        queued = outbox.queued(tx, "JPN")
    assert [(q.fact.kind, q.fact.party, q.fact.instant) for q in queued] == [
        ("cosignature", "KOR", AT)
    ]
    assert _period(pair.kor, AT) == P90D  # a proposal changes nothing

    assert _deliver(pair).refused == ()
    [held] = _of(pair.jpn).proposals()
    assert (held.id, held.state, held.signed_by) == (
        proposal.id,
        ProposalState.TO_COUNTERSIGN,
        ("KOR",),
    )
    assert _period(pair.jpn, AT) == P90D  # kept pending, not applied

    signed = _of(pair.jpn).countersign(proposal.id)
    assert signed.state is ProposalState.APPLIED and signed.signed_by == ("JPN", "KOR")
    assert _period(pair.jpn, AT - US) == P90D  # the boundary: in force from AT on, not before
    assert _period(pair.jpn, AT) == P180D
    assert _period(pair.kor, AT) == P90D  # until JPN's share arrives

    Back(pair).deliver(AT)
    [done] = _of(pair.kor).proposals()
    assert done.state is ProposalState.APPLIED and done.waiting_for == ()
    assert _period(pair.kor, AT - US) == P90D
    assert _period(pair.kor, AT) == P180D
    for made in (pair.kor, pair.jpn):  # each side holds both parties' shares
        with closing(sqlite3.connect(made.db)) as conn:
            row = conn.execute(
                "select state, signatures from received_facts where fact_id = ?", (proposal.id,)
            ).fetchone()
        assert row[0] == "applied"
        assert sorted(s["party"] for s in json.loads(row[1])) == ["JPN", "KOR"]


def test_status_on_both_nodes_lists_the_amendment_received(pair: Pair) -> None:
    proposal = _propose_and_cross(pair)
    _of(pair.jpn).countersign(proposal.id)
    Back(pair).deliver(AT)
    for made, sender in ((pair.kor, "JPN"), (pair.jpn, "KOR")):
        notes = reopen(made).exchange.notes(AID)
        assert notes is not None
        assert [(n["note"], n["from"], n["by"]) for n in notes["received"]] == [
            ("amendment", sender, "JPN, KOR")
        ]


def test_proposing_again_changes_nothing_and_gives_the_same_answer(pair: Pair) -> None:
    first = _of(pair.kor).propose(_amendment())
    before = dump(pair.kor.db)
    assert _of(pair.kor, AT + timedelta(days=1)).propose(_amendment()) == first
    assert dump(pair.kor.db) == before


def test_countersigning_twice_is_idempotent_with_the_same_answer(pair: Pair) -> None:
    proposal = _propose_and_cross(pair)
    first = _of(pair.jpn).countersign(proposal.id)
    before = dump(pair.jpn.db)
    assert _of(pair.jpn, AT + timedelta(days=3)).countersign(proposal.id) == first
    assert dump(pair.jpn.db) == before


def test_the_proposer_countersigning_its_own_proposal_changes_nothing(pair: Pair) -> None:
    proposal = _of(pair.kor).propose(_amendment())
    before = dump(pair.kor.db)
    assert _of(pair.kor).countersign(proposal.id) == proposal
    assert dump(pair.kor.db) == before


# --- refusals on the countersigning node -------------------------------------------------------


def test_countersigning_an_unknown_proposal_is_refused_logged_and_changes_nothing(
    pair: Pair,
) -> None:
    before = {k: v for k, v in dump(pair.jpn.db).items() if k in ("received_facts", "node_outbox")}
    with pytest.raises(UnknownProposal, match="no amendment proposal 'f00'"):
        _of(pair.jpn).countersign("f00")
    after = {k: v for k, v in dump(pair.jpn.db).items() if k in ("received_facts", "node_outbox")}
    assert after == before
    assert _log_kinds(pair.jpn)[-1] == "node-countersign-refused"


def test_a_note_id_is_not_a_proposal(pair: Pair) -> None:
    assert pair.kor.node.exchange.record(TerminationNotice(NOTICE_AT, AID, "KOR")).allowed
    _deliver(pair, sent=NOTICE_AT)
    with closing(sqlite3.connect(pair.jpn.db)) as conn:
        [(note_id,)] = conn.execute(
            "select fact_id from received_facts where kind = 'agreement-event'"
        ).fetchall()
    with pytest.raises(UnknownProposal):
        _of(pair.jpn).countersign(note_id)


def test_a_pending_share_edited_in_the_store_is_an_integrity_error_and_applies_nothing(
    pair: Pair,
) -> None:
    proposal = _propose_and_cross(pair)
    with closing(sqlite3.connect(pair.jpn.db)) as conn, conn:
        [(text,)] = conn.execute(
            "select signatures from received_facts where fact_id = ?", (proposal.id,)
        ).fetchall()
        shares = json.loads(text)
        signature = shares[0]["signature"]
        shares[0]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
        conn.execute(
            "update received_facts set signatures = ? where fact_id = ?",
            (json.dumps(shares), proposal.id),
        )
    with pytest.raises(IntegrityError, match="not signed by KOR"):
        _of(pair.jpn).countersign(proposal.id)
    assert _period(pair.jpn, AT) == P90D
    with closing(sqlite3.connect(pair.jpn.db)) as conn, conn:  # shares that do not read at all
        conn.execute("update received_facts set signatures = 'x' where fact_id = ?", (proposal.id,))
    with pytest.raises(IntegrityError, match="cannot be read"):
        _of(pair.jpn).countersign(proposal.id)
    assert _period(pair.jpn, AT) == P90D
    with pair.jpn.node.exchange.store.transaction() as tx:
        assert outbox.queued(tx) == []


def test_countersigning_an_amendment_the_record_no_longer_allows_is_refused(pair: Pair) -> None:
    late = _amendment(MIDNIGHT)  # proposed while the GSOMIA is to renew at midnight
    proposal = _of(pair.kor).propose(late)
    _deliver(pair, sent=MIDNIGHT)
    # then JPN gives notice itself: on JPN's record the agreement ends at midnight
    assert pair.jpn.node.exchange.record(TerminationNotice(NOTICE_AT, AID, "JPN")).allowed
    with pytest.raises(FactNotAllowed) as refused:
        _of(pair.jpn).countersign(proposal.id)
    assert "agreement-not-in-force" in refused.value.reasons
    [held] = _of(pair.jpn).proposals()
    assert held.state is ProposalState.TO_COUNTERSIGN


# --- refusals on the proposing node ------------------------------------------------------------


def test_the_amendment_instant_boundary_when_the_agreement_lapses_at_midnight(pair: Pair) -> None:
    assert pair.kor.node.exchange.record(TerminationNotice(NOTICE_AT, AID, "KOR")).allowed
    with pytest.raises(FactNotAllowed) as refused:
        _of(pair.kor).propose(_amendment(MIDNIGHT))  # terminated at midnight
    assert "agreement-not-in-force" in refused.value.reasons
    last = _of(pair.kor).propose(_amendment(MIDNIGHT - US))  # the last microsecond in force
    assert last.state is ProposalState.AWAITING


def test_proposing_on_an_agreement_not_held_or_with_a_party_not_pinned_is_refused(
    pair: Pair, tmp_path: Path
) -> None:
    before = dump(pair.kor.db)
    with pytest.raises(UnknownReference):
        _of(pair.kor).propose(_amendment(agreement="no-such-pact"))
    with pytest.raises(UnknownPeer, match="USA must sign too"):
        _of(pair.kor).propose(Amendment(AT, AID, {"parties": frozenset({"KOR", "JPN", "USA"})}))
    assert dump(pair.kor.db) == before


def test_a_node_not_party_to_the_amendment_cannot_propose_it(pair: Pair) -> None:
    from accord.service.node_amend import _vouchers

    world = pair.kor.node.exchange.snapshot()
    assert _vouchers(world, _amendment()) == ("JPN", "KOR")
    with pytest.raises(NotAddressed):  # USA's view: it is no party to the GSOMIA
        _usa_amendments(pair).propose(_amendment())


# --- refusals of a share that arrives ----------------------------------------------------------


def test_a_share_from_a_party_that_is_not_party_to_the_agreement_is_refused(
    pair: Pair, tmp_path: Path
) -> None:
    usa = make_node(tmp_path / "usa", "USA")
    pair.jpn.node.trust(usa.node.card_text().encode(), "usa.card")  # JPN knows USA's key
    share = _share(usa, Wire(usa.node), FactKind.NOTE.value, _body(_amendment()), AT)
    receipt = _deliver(pair, share)  # relayed by KOR's node; checked against USA's key
    assert [(r.fact_id, r.code) for r in receipt.refused] == [(share.fact_id, "share-not-by-party")]
    _nothing_kept(pair)


def test_a_share_of_an_amendment_to_an_agreement_not_held_is_refused(pair: Pair) -> None:
    other = _amendment(agreement="japan-us")
    share = _share(pair.kor, pair.kor_wire, FactKind.NOTE.value, _body(other), AT)
    receipt = _deliver(pair, share)
    assert [r.code for r in receipt.refused] == ["proposal-agreement-not-held"]
    _nothing_kept(pair)


def test_a_changed_body_under_the_same_id_is_refused(pair: Pair) -> None:
    genuine = _share(pair.kor, pair.kor_wire, FactKind.NOTE.value, _body(_amendment()), AT)
    changed = Amendment(AT, AID, {"notice_period": Duration.parse("P1D", "notice_period")})
    text = canonical_json(cosignature.Share(FactKind.NOTE.value, _body(changed), "KOR").encode())
    unsigned = WireFact(genuine.fact_id, "cosignature", "KOR", AT, text, b"")
    forged = sign_fact(pair.kor_wire.identity.key, unsigned)  # KOR's key, another body
    receipt = _deliver(pair, forged)
    assert [r.code for r in receipt.refused] == ["proposal-changed"]
    _nothing_kept(pair)


def test_a_share_dated_other_than_its_amendment_is_an_instant_mismatch(pair: Pair) -> None:
    share = _share(pair.kor, pair.kor_wire, FactKind.NOTE.value, _body(_amendment()), AT - US)
    receipt = _deliver(pair, share)
    assert [r.code for r in receipt.refused] == ["instant-mismatch"]
    _nothing_kept(pair)


def test_a_share_of_something_other_than_an_amendment_is_not_accepted(pair: Pair) -> None:
    note = TerminationNotice(AT, AID, "KOR")
    share = _share(pair.kor, pair.kor_wire, FactKind.NOTE.value, _body(note), AT)  # type: ignore[arg-type]
    assert [r.code for r in _deliver(pair, share).refused] == ["kind-not-accepted"]
    _nothing_kept(pair)


def test_a_share_arriving_twice_in_new_messages_is_kept_once(pair: Pair) -> None:
    proposal = _propose_and_cross(pair)
    with pair.kor.node.exchange.store.transaction() as tx:
        [queued] = outbox.queued(tx, "JPN")
    receipt = _deliver(pair, sent=AT + timedelta(seconds=1))  # nothing new waits
    assert receipt.refused == ()
    [held] = _of(pair.jpn).proposals()
    assert held.id == proposal.id and held.signed_by == ("KOR",)
    assert queued.fact.fact_id in _inbox(pair.jpn)


# --- helpers ------------------------------------------------------------------------------------


def _usa_amendments(pair: Pair) -> Amendments:
    """KOR's store seen as if its node were USA's: its party is not a voucher."""

    class AsUsa(Amendments):
        def _open(self, tx):  # type: ignore[no-untyped-def]
            _, keyring, keys, world = super()._open(tx)
            return "USA", keyring, keys, world

    return AsUsa(reopen(pair.kor).exchange, AT)


def _nothing_kept(pair: Pair) -> None:
    with pair.jpn.node.exchange.store.transaction() as tx:
        pending = [r for r in received.rows(tx) if r.kind == FactKind.NOTE.value]
    assert pending == []
    assert _period(pair.jpn, AT) == P90D


def _inbox(made: Made) -> list[str]:
    with closing(sqlite3.connect(made.db)) as conn:
        return [r[0] for r in conn.execute("select fact_id from node_inbox")]


def _log_kinds(made: Made) -> list[str]:
    from accord.service import journal

    with reopen(made).exchange.store.transaction() as tx:
        size = int(json.loads(tx.meta(journal.FRONTIER) or '{"size": 0}')["size"])
        entries = [tx.entry(seq) for seq in range(size)]
    return [journal.decode_entry(e[0], n)["kind"] for n, e in enumerate(entries) if e is not None]


def test_a_share_is_vouched_for_by_the_party_it_names_and_a_bad_one_is_malformed() -> None:
    from accord.errors import InvalidInput
    from accord.service.node_wire import vouched_by

    text = canonical_json(
        cosignature.Share(FactKind.NOTE.value, _body(_amendment()), "JPN").encode()
    )
    assert vouched_by("cosignature", text) == "JPN"
    for bad in (
        b"not json",
        b'{"kind": "agreement-event", "by": "JPN"}',
        b'{"kind": "", "body": "{}", "by": "JPN"}',
    ):
        with pytest.raises(InvalidInput, match="cosignature share"):
            vouched_by("cosignature", bad)


def test_the_proposers_own_share_edited_in_its_store_refuses_the_countersign_that_arrives(
    pair: Pair,
) -> None:
    proposal = _propose_and_cross(pair)
    _of(pair.jpn).countersign(proposal.id)
    with closing(sqlite3.connect(pair.kor.db)) as conn, conn:
        [(text,)] = conn.execute(
            "select signatures from received_facts where fact_id = ?", (proposal.id,)
        ).fetchall()
        shares = json.loads(text)
        signature = shares[0]["signature"]
        shares[0]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
        conn.execute(
            "update received_facts set signatures = ? where fact_id = ?",
            (json.dumps(shares), proposal.id),
        )
    back = Back(pair)
    back.deliver(AT)
    [held] = _of(pair.kor).proposals()
    assert held.state is ProposalState.AWAITING  # refused: nothing applied on KOR
    assert _period(pair.kor, AT) == P90D
    refused = [b for b in _log_bodies(pair.kor) if b["kind"] == "node-message-accepted"]
    assert [r["code"] for r in refused[-1]["subject"]["refused"]] == ["fact-not-allowed"]  # type: ignore[index]


def _log_bodies(made: Made) -> list[dict[str, object]]:
    from accord.service import journal

    with reopen(made).exchange.store.transaction() as tx:
        size = int(json.loads(tx.meta(journal.FRONTIER) or '{"size": 0}')["size"])
        entries = [tx.entry(seq) for seq in range(size)]
    return [journal.decode_entry(e[0], n) for n, e in enumerate(entries) if e is not None]


def test_countersigning_on_a_node_whose_received_note_was_deleted_is_an_integrity_error(
    pair: Pair,
) -> None:
    assert pair.kor.node.exchange.record(TerminationNotice(NOTICE_AT, AID, "KOR")).allowed
    _deliver(pair, sent=NOTICE_AT)
    proposal = _of(pair.kor).propose(_amendment())
    _deliver(pair)
    with closing(sqlite3.connect(pair.jpn.db)) as conn, conn:  # the notice JPN received
        conn.execute(
            "delete from received_facts where state = 'applied' and kind = 'agreement-event'"
        )
    with pytest.raises(IntegrityError):
        _of(pair.jpn).countersign(proposal.id)
    assert _log_kinds(pair.jpn)[-1] == "node-countersign-refused"
    with pair.jpn.node.exchange.store.transaction() as tx:
        assert outbox.queued(tx) == []
