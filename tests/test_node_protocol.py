"""The node-to-node protocol between two real node stores (SQLite files): every refusal, the
duplicate that gets the same receipt, the outbox waiting for a peer that is down, witnessing
and fork detection, and the operator's commands."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.audit import Checkpoint, sign_checkpoint
from accord.crypto import EXCHANGE
from accord.crypto.messages import decode_answer, decode_message, encode_message
from accord.errors import DuplicateId, InvalidInput, MessageUnknownPeer
from accord.model.messages import DeliveryOutcome, ForkResolution, LinkState, Message, Receipt
from accord.service import journal
from accord.service.witness import list_witnesses, resolve_fork
from tests.node_kit import Clock, Direct, Directory, Node, note, seed_key

KOR, JPN, USA = "KOR", "JPN", "USA"


@pytest.fixture
def world(tmp_path: Path) -> tuple[Clock, Node, Node, Direct]:
    clock = Clock()
    directory = Directory()
    kor = Node(tmp_path / "kor.db", KOR, clock, directory)
    jpn = Node(tmp_path / "jpn.db", JPN, clock, directory)
    return clock, kor, jpn, Direct(KOR, {JPN: jpn, KOR: kor})


def _message(kor: Node, seq: int, facts: tuple, clock: Clock, **changes: object) -> bytes:
    """A message as KOR's deliverer would build it (its real checkpoint, no proof yet)."""
    with kor.exchange.store.transaction() as tx:
        checkpoint = tx.meta(journal.LATEST)
    assert checkpoint is not None
    fields: dict[str, object] = {
        "sender": KOR,
        "recipient": JPN,
        "seq": seq,
        "sent_at": clock(),
        "facts": facts,
        "checkpoint": checkpoint,
        "proof_from": 0,
        "proof": (),
    }
    fields.update(changes)
    return encode_message(Message(**fields), seed_key(KOR))  # type: ignore[arg-type]


def _refusal(answer: bytes) -> str:
    doc = json.loads(answer)
    assert doc["format"] == "accord-node-refusal/1", doc
    return str(doc["refused"])


# --- delivery ---------------------------------------------------------------------------------


def test_facts_cross_in_order_with_both_instants_and_a_signed_receipt(world) -> None:
    clock, kor, jpn, direct = world
    facts = [note(KOR, n, clock() - timedelta(minutes=10 - n)) for n in range(3)]
    kor.enqueue(JPN, *facts)
    clock.tick(2)
    attempts = kor.deliverer(direct).drain(JPN, attempts=5)
    assert [a.outcome for a in attempts] == [DeliveryOutcome.DELIVERED, DeliveryOutcome.IDLE]
    got = jpn.received()
    assert [r.fact for r in got] == facts
    assert all(r.arrived_at == clock() and r.sent_at == clock() for r in got)
    assert [r.fact.instant for r in got] == [f.instant for f in facts]  # their own instants
    assert all(q.delivered_at == clock() for q in kor.queued(JPN))
    kept = kor.queued(JPN)[0].receipt  # the receipt is kept as the proof of delivery
    assert kept is not None
    receipt = decode_answer(kept, seed_key(JPN).public_key().public_bytes_raw())
    assert isinstance(receipt, Receipt) and receipt.fact_ids == tuple(f.fact_id for f in facts)
    assert "node-message-accepted" in jpn.log_kinds()
    assert "node-delivered" in kor.log_kinds()


def test_the_outbox_waits_for_a_peer_that_is_down_then_delivers_in_order(world) -> None:
    clock, kor, jpn, direct = world
    direct.down.add(JPN)
    deliverer = kor.deliverer(direct)
    kor.enqueue(JPN, note(KOR, 1, clock()))
    assert deliverer.deliver(JPN, clock.tick()).outcome is DeliveryOutcome.UNAVAILABLE
    kor.enqueue(JPN, note(KOR, 2, clock()))
    clock.tick(3600)  # an hour later the peer is back: the facts keep their own instants
    direct.down.clear()
    outcomes = [a.outcome for a in deliverer.drain(JPN, attempts=5)]
    assert outcomes[-1] is DeliveryOutcome.IDLE
    assert [r.fact.fact_id for r in jpn.received()] == ["KOR-note-1", "KOR-note-2"]
    assert jpn.received()[0].fact.instant < jpn.received()[0].arrived_at - timedelta(minutes=59)


def test_batches_respect_the_setting(tmp_path: Path) -> None:
    from accord.service.node_settings import NodeSettings

    clock, directory = Clock(), Directory()
    kor = Node(tmp_path / "k.db", KOR, clock, directory, NodeSettings(batch=2))
    jpn = Node(tmp_path / "j.db", JPN, clock, directory)
    kor.enqueue(JPN, *(note(KOR, n, clock()) for n in range(5)))
    attempts = kor.deliverer(Direct(KOR, {JPN: jpn})).drain(JPN, attempts=10)
    assert [a.facts for a in attempts] == [2, 2, 1, 0]
    assert [r.message_seq for r in jpn.received()] == [1, 1, 2, 2, 3]


def test_enqueue_is_idempotent_and_refuses_another_fact_under_a_queued_id(world) -> None:
    clock, kor, _jpn, _direct = world
    fact = note(KOR, 1, clock())
    kor.enqueue(JPN, fact, fact)
    assert len(kor.queued(JPN)) == 1
    with pytest.raises(DuplicateId, match="KOR-note-1: already queued for JPN"):
        kor.enqueue(JPN, note(KOR, 1, clock() + timedelta(seconds=1)))
    assert len(kor.queued(JPN)) == 1


def test_delivering_to_an_unknown_peer_is_refused(world) -> None:
    clock, kor, _jpn, direct = world
    with pytest.raises(MessageUnknownPeer, match="'CHN'"):
        kor.deliverer(direct).deliver("CHN", clock())


# --- the duplicate and every refusal ----------------------------------------------------------


def test_a_duplicate_gets_the_same_receipt_and_changes_nothing(world) -> None:
    clock, kor, jpn, _direct = world
    body = _message(kor, 1, (note(KOR, 1, clock()),), clock)
    first = jpn.receiver.handle(KOR, body)
    kinds = jpn.log_kinds()
    again = jpn.receiver.handle(KOR, body)
    assert first[0] == again[0] == 200
    assert first[1] == again[1]
    assert len(jpn.received()) == 1
    assert jpn.log_kinds() == kinds
    receipt = decode_answer(first[1], seed_key(JPN).public_key().public_bytes_raw())
    assert isinstance(receipt, Receipt) and receipt.fact_ids == ("KOR-note-1",)


@pytest.mark.parametrize(
    ("second", "status", "code"),
    [
        (1, 409, "duplicate-conflict"),  # the same number, other facts
        (3, 409, "sequence-gap"),  # message 2 skipped
    ],
)
def test_message_numbers_are_checked(world, second: int, status: int, code: str) -> None:
    clock, kor, jpn, _direct = world
    assert jpn.receiver.handle(KOR, _message(kor, 1, (note(KOR, 1, clock()),), clock))[0] == 200
    answer = jpn.receiver.handle(KOR, _message(kor, second, (note(KOR, 2, clock()),), clock))
    assert answer[0] == status and _refusal(answer[1]) == code
    assert [r.fact.fact_id for r in jpn.received()] == ["KOR-note-1"]


def test_a_replayed_message_is_refused(world) -> None:
    clock, kor, jpn, _direct = world
    first = _message(kor, 1, (note(KOR, 1, clock()),), clock)
    assert jpn.receiver.handle(KOR, first)[0] == 200
    second = _message(kor, 2, (note(KOR, 2, clock()),), clock, proof_from=_size(jpn, KOR))
    assert jpn.receiver.handle(KOR, second)[0] == 200
    answer = jpn.receiver.handle(KOR, first)
    assert answer[0] == 409 and _refusal(answer[1]) == "replay"
    refusals = jpn.log_bodies("node-message-refused")
    assert [r["subject"]["code"] for r in refusals] == ["replay"]  # type: ignore[index]


def _size(node: Node, peer: str) -> int:
    return next(v.theirs_size or 0 for v in list_witnesses(node.exchange) if v.peer == peer)


def _flip_base64_char(body: bytes, field: bytes) -> bytes:
    at = body.index(field) + len(field)
    old = body[at : at + 1]
    return body[:at] + (b"B" if old != b"B" else b"C") + body[at + 1 :]


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        (lambda b: b[: len(b) // 2], 400, "malformed"),  # truncated
        (lambda b: b + b" ", 400, "malformed"),  # not canonical
        (lambda b: b"\xff" + b, 400, "malformed"),
        (lambda b: _flip_base64_char(b, b'"body":"'), 403, "bad-signature"),  # tampered body
        (lambda b: _flip_base64_char(b, b'"signature":"'), 403, "bad-signature"),
    ],
    ids=["truncated", "not-canonical", "not-json", "tampered-body", "forged-signature"],
)
def test_damaged_messages_are_refused_logged_and_change_nothing(
    world, tamper, status, code
) -> None:
    clock, kor, jpn, _direct = world
    body = tamper(_message(kor, 1, (note(KOR, 1, clock()),), clock))
    answer = jpn.receiver.handle(KOR, body)
    assert answer[0] == status and _refusal(answer[1]) == code
    assert jpn.received() == []
    assert [r["subject"]["code"] for r in jpn.log_bodies("node-message-refused")] == [code]  # type: ignore[index]


def test_a_message_signed_by_another_key_is_forged(world) -> None:
    clock, kor, jpn, _direct = world
    with kor.exchange.store.transaction() as tx:
        checkpoint = tx.meta(journal.LATEST)
    message = Message(KOR, JPN, 1, clock(), (note(KOR, 1, clock()),), checkpoint or "", 0, ())
    answer = jpn.receiver.handle(KOR, encode_message(message, seed_key(USA)))
    assert answer[0] == 403 and _refusal(answer[1]) == "bad-signature"


@pytest.mark.parametrize(
    ("peer", "sender", "recipient", "code"),
    [
        (USA, KOR, JPN, "misaddressed"),  # the channel authenticated USA; the message says KOR
        (KOR, KOR, USA, "misaddressed"),  # for another node
    ],
)
def test_misaddressed_messages_are_refused(world, peer, sender, recipient, code) -> None:
    clock, kor, jpn, _direct = world
    body = _message(kor, 1, (note(KOR, 1, clock()),), clock, sender=sender, recipient=recipient)
    answer = jpn.receiver.handle(peer, body)
    assert answer[0] == 403 and _refusal(answer[1]) == code


def test_an_unknown_peer_is_refused(world) -> None:
    clock, kor, jpn, _direct = world
    del jpn.directory.keys[KOR]
    answer = jpn.receiver.handle(KOR, _message(kor, 1, (note(KOR, 1, clock()),), clock))
    assert answer[0] == 403 and _refusal(answer[1]) == "unknown-peer"


def test_a_fact_signed_by_the_wrong_party_or_key_is_refused(world) -> None:
    clock, kor, jpn, _direct = world
    # a JPN note (JPN must vouch) claimed and signed by KOR
    claimed = note(JPN, 1, clock(), signer=KOR)
    wrong = type(claimed)(
        claimed.fact_id, claimed.kind, KOR, claimed.instant, claimed.body, claimed.signature
    )
    answer = jpn.receiver.handle(KOR, _message(kor, 1, (wrong,), clock))
    assert answer[0] == 403 and _refusal(answer[1]) == "wrong-voucher"
    # a KOR note signed with USA's key
    forged = note(KOR, 2, clock(), signer=USA)
    answer = jpn.receiver.handle(KOR, _message(kor, 1, (forged,), clock))
    assert answer[0] == 403 and _refusal(answer[1]) == "fact-bad-signature"
    # a kind this node does not define
    odd = type(forged)("x", "no-such-kind", KOR, clock(), b"{}", b"s")
    answer = jpn.receiver.handle(KOR, _message(kor, 1, (odd,), clock))
    assert answer[0] == 400 and _refusal(answer[1]) == "malformed"
    assert jpn.received() == []


def test_a_fact_relayed_for_another_party_is_checked_against_that_party(tmp_path: Path) -> None:
    """USA's node carries KOR's fact: KOR must have signed it, and it is never "out of order"
    against USA's own, later facts."""
    clock, directory = Clock(), Directory()
    usa = Node(tmp_path / "u.db", USA, clock, directory)
    jpn = Node(tmp_path / "j.db", JPN, clock, directory)
    Node(tmp_path / "k.db", KOR, clock, directory)  # KOR's keys are pinned
    own = note(USA, 1, clock())
    relayed = note(KOR, 1, clock() - timedelta(hours=2))
    usa.enqueue(JPN, own, relayed)
    attempts = usa.deliverer(Direct(USA, {JPN: jpn})).drain(JPN, attempts=3)
    assert attempts[0].outcome is DeliveryOutcome.DELIVERED
    assert [r.fact.party for r in jpn.received()] == [USA, KOR]


def test_a_held_fact_under_a_new_number_is_not_applied_twice(world) -> None:
    clock, kor, jpn, _direct = world
    fact = note(KOR, 1, clock())
    assert jpn.receiver.handle(KOR, _message(kor, 1, (fact,), clock))[0] == 200
    body = _message(kor, 2, (fact, note(KOR, 2, clock())), clock, proof_from=_size(jpn, KOR))
    assert jpn.receiver.handle(KOR, body)[0] == 200
    assert [r.fact.fact_id for r in jpn.received()] == ["KOR-note-1", "KOR-note-2"]
    other = note(KOR, 1, clock() + timedelta(seconds=1))  # the same id, other content
    body = _message(kor, 3, (other,), clock, proof_from=_size(jpn, KOR))
    answer = jpn.receiver.handle(KOR, body)
    assert answer[0] == 409 and _refusal(answer[1]) == "duplicate-conflict"


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(5.0, True), (-5.0, True), (5.000001, False), (-5.000001, False)],
)
def test_the_message_skew_is_five_seconds_either_way(world, offset: float, accepted: bool) -> None:
    clock, kor, jpn, _direct = world
    body = _message(kor, 1, (note(KOR, 1, clock() - timedelta(days=1)),), clock)
    answer = jpn.receiver.receive(KOR, body, clock() + timedelta(seconds=offset))
    assert (answer.status == 200) is accepted
    if not accepted:
        assert _refusal(answer.body) == "clock-skew"


def test_a_fact_after_its_message_or_before_an_earlier_one_of_its_party_is_refused(world) -> None:
    clock, kor, jpn, _direct = world
    future = note(KOR, 1, clock() + timedelta(microseconds=1))
    answer = jpn.receiver.handle(KOR, _message(kor, 1, (future,), clock))
    assert _refusal(answer[1]) == "clock-skew"
    assert jpn.receiver.handle(KOR, _message(kor, 1, (note(KOR, 1, clock()),), clock))[0] == 200
    earlier = note(KOR, 2, clock() - timedelta(microseconds=1))
    body = _message(kor, 2, (earlier,), clock, proof_from=_size(jpn, KOR))
    answer = jpn.receiver.handle(KOR, body)
    assert answer[0] == 409 and _refusal(answer[1]) == "sender-regress"
    same = note(KOR, 3, clock())  # an equal instant is not a regress
    body = _message(kor, 2, (same,), clock, proof_from=_size(jpn, KOR))
    assert jpn.receiver.handle(KOR, body)[0] == 200


# --- witnessing -------------------------------------------------------------------------------


def test_each_side_sees_what_the_other_witnessed(world) -> None:
    clock, kor, jpn, direct = world
    deliverer = kor.deliverer(direct)
    for n in range(3):
        kor.enqueue(JPN, note(KOR, n, clock()))
        deliverer.drain(JPN, attempts=3)
        clock.tick()
    ours = {v.peer: v for v in list_witnesses(kor.exchange)}[JPN]
    theirs = {v.peer: v for v in list_witnesses(jpn.exchange)}[KOR]
    assert ours.ours_size == theirs.theirs_size and ours.ours_root == theirs.theirs_root
    assert ours.ours_size is not None and ours.ours_size > 1
    assert theirs.state is LinkState.OK


def _forged_checkpoint(kor: Node, size: int) -> str:
    """KOR's log key signing a tree that does not extend what it sent (a rewritten log)."""
    with kor.exchange.store.transaction() as tx:
        key = kor.exchange.vault.keyring(tx, tx.revision()).current(EXCHANGE).ed25519
        origin = tx.meta(journal.ORIGIN)
    assert origin is not None
    return sign_checkpoint(
        Checkpoint(origin, size, b"\x07" * 32), journal.signer_name(EXCHANGE), key
    ).text()


def test_a_forked_log_is_detected_named_held_and_resolved_by_an_operator(world) -> None:
    clock, kor, jpn, direct = world
    deliverer = kor.deliverer(direct)
    kor.enqueue(JPN, note(KOR, 1, clock()))
    deliverer.drain(JPN, attempts=2)
    seen = _size(jpn, KOR)
    forked = _forged_checkpoint(kor, seen + 3)
    body = _message(kor, 2, (note(KOR, 2, clock()),), clock, checkpoint=forked, proof_from=seen)
    answer = jpn.receiver.handle(KOR, body)
    assert answer[0] == 403 and _refusal(answer[1]) == "peer-forked"
    assert "log of KOR is not consistent" in json.loads(answer[1])["message"]
    view = {v.peer: v for v in list_witnesses(jpn.exchange)}[KOR]
    assert view.state is LinkState.FORKED and view.fork and "KOR" in view.fork
    # the good message is held too, until an operator decides
    kor.enqueue(JPN, note(KOR, 2, clock()))
    attempt = deliverer.deliver(JPN, clock())
    assert attempt.outcome is DeliveryOutcome.REFUSED and "peer-forked" in attempt.detail
    sender_view = {v.peer: v for v in list_witnesses(kor.exchange)}[JPN]
    assert sender_view.last_error and "refused: peer-forked" in sender_view.last_error
    assert len(jpn.received()) == 1
    resolved = resolve_fork(jpn.exchange, KOR, ForkResolution.ACCEPT)
    assert resolved.state is LinkState.OK and resolved.theirs_size is None
    assert deliverer.drain(JPN, attempts=3)[0].outcome is DeliveryOutcome.DELIVERED
    assert len(jpn.received()) == 2
    kinds = jpn.log_kinds()
    assert kinds.count("node-fork-resolved") == 1 and "node-message-refused" in kinds


def test_a_shrunken_tree_and_a_proof_from_an_unwitnessed_size_are_refused(world) -> None:
    clock, kor, jpn, direct = world
    for n in range(2):
        kor.enqueue(JPN, note(KOR, n, clock()))
        kor.deliverer(direct).drain(JPN, attempts=2)
    seen = _size(jpn, KOR)
    assert seen > 1
    body = _message(kor, 3, (note(KOR, 3, clock()),), clock, proof_from=seen - 1)
    answer = jpn.receiver.handle(KOR, body)
    assert answer[0] == 409 and _refusal(answer[1]) == "checkpoint-refused"
    shrunk = _forged_checkpoint(kor, seen - 1)
    body = _message(kor, 3, (note(KOR, 3, clock()),), clock, checkpoint=shrunk, proof_from=seen)
    answer = jpn.receiver.handle(KOR, body)
    assert _refusal(answer[1]) == "peer-forked" and "shrank" in json.loads(answer[1])["message"]


def test_a_checkpoint_not_signed_by_the_senders_log_key_is_refused(world) -> None:
    clock, kor, jpn, _direct = world
    note_text = sign_checkpoint(
        Checkpoint("accord.exchange/x", 1, b"\x01" * 32), "accord-exchange", seed_key(USA)
    ).text()
    answer = jpn.receiver.handle(
        KOR, _message(kor, 1, (note(KOR, 1, clock()),), clock, checkpoint=note_text)
    )
    assert answer[0] == 409 and _refusal(answer[1]) == "checkpoint-refused"


def test_a_receipt_not_signed_by_the_peer_marks_nothing_delivered(world) -> None:
    clock, kor, _jpn, direct = world

    class Impostor:
        def send(self, peer: str, body: bytes) -> bytes:
            message, _, _ = decode_message(body)
            receipt = Receipt(JPN, KOR, message.seq, message.fact_ids, clock(), message.checkpoint)
            from accord.crypto.messages import encode_receipt

            return encode_receipt(receipt, seed_key(USA))

    kor.enqueue(JPN, note(KOR, 1, clock()))
    attempt = kor.deliverer(Impostor()).deliver(JPN, clock())
    assert attempt.outcome is DeliveryOutcome.BAD_RECEIPT
    assert kor.queued(JPN)[0].delivered_at is None
    # the real peer then gets the same message number and facts
    assert kor.deliverer(direct).drain(JPN, attempts=2)[0].outcome is DeliveryOutcome.DELIVERED


# --- the operator's commands --------------------------------------------------------------------


def test_audit_witnesses_and_resolve_fork_on_the_command_line(world, tmp_path: Path) -> None:
    from accord.cli.main import cli

    clock, kor, jpn, direct = world
    kor.enqueue(JPN, note(KOR, 1, clock()))
    kor.deliverer(direct).drain(JPN, attempts=2)
    key_file = tmp_path / "jpn.key"
    jpn.master.write(key_file)
    args = ["--db", f"sqlite:///{jpn.path}", "--key-file", str(key_file)]
    runner = CliRunner()
    shown = runner.invoke(cli, ["audit", "witnesses", "--json", *args])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)
    assert rows[0]["peer"] == KOR and rows[0]["state"] == "ok" and rows[0]["theirs"]["size"] > 0
    refused = runner.invoke(cli, ["audit", "resolve-fork", KOR, "--decision", "accept", *args])
    from accord.cli.exits import exit_code

    assert isinstance(refused.exception, InvalidInput)  # main() prints it, exits with its code
    assert "KOR: is not held for a fork" in refused.exception.message
    assert exit_code(refused.exception) == 2
    text = runner.invoke(cli, ["audit", "witnesses", *args])
    assert text.exit_code == 0 and "KOR: ok; ours cosigned: none; theirs: size" in text.output


def test_a_receipt_cosigning_a_checkpoint_from_before_a_log_key_rotation_still_counts(
    world,
) -> None:
    from accord.model.messages import PeerKeys
    from tests.node_kit import Fault, Faulty

    clock, kor, jpn, direct = world
    kor.enqueue(JPN, note(KOR, 1, clock()))
    lost = Faulty(direct, iter([Fault.LOSE_ANSWER]), random.Random(0))
    assert kor.deliverer(lost).deliver(JPN, clock()).outcome is DeliveryOutcome.UNAVAILABLE
    kor.exchange.rotate_keys(EXCHANGE)  # KOR's log key changes; its new card says so
    jpn.directory.keys[KOR] = PeerKeys(
        KOR, jpn.directory.keys[KOR].ed25519_public, kor.exchange.verifier_key()
    )
    clock.tick()
    attempts = kor.deliverer(direct).drain(JPN, attempts=3)  # the same receipt as before
    assert attempts[0].outcome is DeliveryOutcome.DELIVERED, attempts
    kor.enqueue(JPN, note(KOR, 2, clock()))
    assert kor.deliverer(direct).drain(JPN, attempts=3)[0].outcome is DeliveryOutcome.DELIVERED
    assert len(jpn.received()) == 2
