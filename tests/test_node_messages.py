"""The node-protocol values and their wire encoding: every bad input refused with its field,
round trips, and signatures checked by software we did not write (OpenSSL's Ed25519)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.crypto.messages import (
    MESSAGE_PREFIX,
    decode_answer,
    decode_message,
    encode_message,
    encode_receipt,
    encode_refusal,
    fact_digest,
    fact_signed_bytes,
    verify_fact,
)
from accord.errors import FactForged, InvalidInput, MessageForged, MessageMalformed
from accord.model.messages import Message, PeerKeys, Receipt, WireFact
from accord.service.node_settings import NodeSettings
from tests.node_kit import T0, note, seed_key

CHECKPOINT = "accord.exchange/x\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— k AAAA\n"


def _message(**changes: object) -> Message:
    fields: dict[str, object] = {
        "sender": "KOR",
        "recipient": "JPN",
        "seq": 1,
        "sent_at": T0,
        "facts": (note("KOR", 1, T0),),
        "checkpoint": CHECKPOINT,
        "proof_from": 0,
        "proof": (),
    }
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


def test_a_message_round_trips_and_its_signature_covers_the_canonical_inner_object() -> None:
    message = _message(proof=(b"\x01" * 32,), proof_from=3)
    body = encode_message(message, seed_key("KOR"))
    decoded, signed, signature = decode_message(body)
    assert decoded == message
    doc = json.loads(body)
    assert signed == MESSAGE_PREFIX + rfc8785.dumps(doc["message"])  # an independent JCS
    assert rfc8785.dumps(doc) == body
    seed_key("KOR").public_key().verify(signature, signed)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl on this machine")
def test_openssl_verifies_a_message_and_a_fact_signature(tmp_path: Path) -> None:
    message = _message()
    _, signed, signature = decode_message(encode_message(message, seed_key("KOR")))
    pem = seed_key("KOR").public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "pub.pem").write_bytes(pem)
    for n, (data, sig) in enumerate(
        [(signed, signature), (fact_signed_bytes(message.facts[0]), message.facts[0].signature)]
    ):
        (tmp_path / f"m{n}").write_bytes(data)
        (tmp_path / f"s{n}").write_bytes(sig)
        done = subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "pub.pem",
                "-rawin",
                "-in",
                f"m{n}",
                "-sigfile",
                f"s{n}",
            ],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    seq=st.integers(1, 2**53 - 1),
    micros=st.integers(0, 10**12),
    count=st.integers(0, 4),
    body=st.binary(max_size=64),
)
def test_round_trip_property(seq: int, micros: int, count: int, body: bytes) -> None:
    instant = T0 + timedelta(microseconds=micros)
    facts = tuple(
        WireFact(f"f{n}", "k", "KOR", instant, body, bytes([n]) * 64) for n in range(count)
    )
    message = _message(seq=seq, sent_at=instant, facts=facts)
    assert decode_message(encode_message(message, seed_key("KOR")))[0] == message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sender": ""}, "sender"),
        ({"recipient": "x" * 201}, "recipient"),
        ({"seq": 0}, "seq"),
        ({"seq": True}, "seq"),
        ({"proof_from": -1}, "proof_from"),
        ({"sent_at": datetime(2019, 11, 22)}, "sent_at"),
        ({"checkpoint": ""}, "checkpoint"),
        ({"facts": [note("KOR", 1, T0)]}, "facts"),
        ({"facts": (note("KOR", 1, T0), note("KOR", 1, T0))}, "facts"),
        ({"proof": ("ab",)}, "proof"),
        ({"sender": "KO\nR"}, "sender"),
    ],
)
def test_bad_messages_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MessageMalformed, match=field):
        _message(**changes)


def test_bad_facts_receipts_peer_keys_and_settings_are_refused() -> None:
    with pytest.raises(MessageMalformed, match="fact id"):
        WireFact("", "k", "KOR", T0, b"", b"")
    with pytest.raises(MessageMalformed, match="f1: instant"):
        WireFact("f1", "k", "KOR", datetime(2019, 1, 1), b"", b"")
    with pytest.raises(MessageMalformed, match="body and signature"):
        WireFact("f1", "k", "KOR", T0, "text", b"")  # type: ignore[arg-type]
    with pytest.raises(MessageMalformed, match="cosigned"):
        Receipt("JPN", "KOR", 1, (), T0, "")
    with pytest.raises(MessageMalformed, match="fact_ids"):
        Receipt("JPN", "KOR", 1, ("a", 1), T0, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ed25519_public must be 32 bytes"):
        PeerKeys("KOR", b"short", "v")
    with pytest.raises(InvalidInput, match="log_verifier"):
        PeerKeys("KOR", b"\x00" * 32, "")
    with pytest.raises(InvalidInput, match="batch"):
        NodeSettings(batch=0)
    with pytest.raises(InvalidInput, match="batch"):
        NodeSettings(batch=1001)


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        (b"", "not a complete JSON document"),
        (b"[]", "not a JSON object"),
        (rfc8785.dumps({"format": "other", "message": {}, "signature": ""}), "format"),
        (rfc8785.dumps({"format": "accord-node-message/1", "message": {}}), "missing"),
        (
            rfc8785.dumps(
                {"format": "accord-node-message/1", "message": {}, "signature": "", "x": 1}
            ),
            "unknown",
        ),
        (b'{"a": 1}', "canonical"),
    ],
)
def test_undecodable_documents_are_malformed(doc: bytes, match: str) -> None:
    with pytest.raises(MessageMalformed, match=match):
        decode_message(doc)


def test_a_field_of_the_wrong_type_is_named() -> None:
    doc = json.loads(encode_message(_message(), seed_key("KOR")))
    for key, value, match in [
        ("seq", "1", "message.seq"),
        ("sent_at", "yesterday", "message.sent_at"),
        ("facts", {}, "facts and proof must be lists"),
        ("proof", ["not base64!"], r"message.proof\[0\]"),
    ]:
        bad = json.loads(json.dumps(doc))
        bad["message"][key] = value
        with pytest.raises(MessageMalformed, match=match):
            decode_message(rfc8785.dumps(bad))
    bad = json.loads(json.dumps(doc))
    bad["message"]["facts"][0]["body"] = base64.b64encode(b"x").decode().rstrip("=")
    with pytest.raises(MessageMalformed, match=r"facts\[0\].body"):
        decode_message(rfc8785.dumps(bad))


def test_fact_signatures_and_digests() -> None:
    fact = note("KOR", 1, T0)
    verify_fact(fact, seed_key("KOR").public_key().public_bytes_raw())
    with pytest.raises(FactForged, match="KOR-note-1: the signature of KOR"):
        verify_fact(fact, seed_key("USA").public_key().public_bytes_raw())
    later = note("KOR", 1, T0 + timedelta(microseconds=1))
    assert fact_digest(fact) != fact_digest(later)
    assert fact_digest(fact) == fact_digest(note("KOR", 1, T0))


def test_answers_decode_as_receipts_or_refusals() -> None:
    receipt = Receipt("JPN", "KOR", 2, ("a", "b"), T0, "note")
    public = seed_key("JPN").public_key().public_bytes_raw()
    assert decode_answer(encode_receipt(receipt, seed_key("JPN")), public) == receipt
    with pytest.raises(MessageForged, match="JPN on the receipt"):
        decode_answer(encode_receipt(receipt, seed_key("USA")), public)
    refusal = decode_answer(encode_refusal("replay", "already"), public)
    assert (refusal.code, refusal.message) == ("replay", "already")  # type: ignore[union-attr]
    with pytest.raises(MessageMalformed):
        decode_answer(b"<html>", public)
