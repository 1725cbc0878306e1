"""accord.audit checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519.

Interop is checked against notes produced by others (``tests/vectors/signed-note.json``): the
Go reference implementation's documented example (signed again here byte for byte, Ed25519
being deterministic), the C2SP signed-note spec's worked example, and a real checkpoint of the
Go checksum database verified with its published key. The tlog-checkpoint spec's own example is
checked for form only: the spec publishes no key for it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.audit import (
    Checkpoint,
    NoteSignature,
    SignedCheckpoint,
    key_hash,
    leaf_hash,
    parse_checkpoint_body,
    parse_note,
    parse_signed_checkpoint,
    parse_verifier_key,
    root_of,
    sign_checkpoint,
    sign_note,
    verifier_key,
)
from accord.errors import CheckpointInvalid

NOTES = json.loads(
    (Path(__file__).parent / "vectors" / "signed-note.json").read_text(encoding="utf-8")
)
DASH = "\u2014"
LOG = "accord.example/kor-log"
WITNESS = "accord.example/jpn-witness"


def key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


ROOT = root_of([leaf_hash(bytes([i])) for i in range(5)])
CHECKPOINT = Checkpoint(LOG, 5, ROOT)
SIGNED = sign_checkpoint(CHECKPOINT, LOG, key(1))


def invalid(call: Any, *args: Any) -> bool:
    """True if ``call(*args)`` raised CheckpointInvalid; any other exception fails the test."""
    try:
        call(*args)
    except CheckpointInvalid:
        return True
    return False


def opens(text: str, name: str, private: Ed25519PrivateKey) -> bool:
    """Whether ``text`` parses as a signed checkpoint that ``name`` with this key signed."""
    try:
        parse_signed_checkpoint(text).verify(name, private.public_key())
    except CheckpointInvalid:
        return False
    return True


# --- round trips -----------------------------------------------------------------------------


def test_sign_write_read_verify() -> None:
    assert CHECKPOINT.body() == f"{LOG}\n5\n{b64(ROOT)}\n"
    text = SIGNED.text()
    signature = key(1).sign(CHECKPOINT.body().encode())
    line = f"{DASH} {LOG} {b64(key_hash(LOG, key(1).public_key()) + signature)}\n"
    assert text == CHECKPOINT.body() + "\n" + line
    parsed = parse_signed_checkpoint(text)
    assert parsed == SIGNED
    assert parsed.checkpoint == CHECKPOINT
    parsed.verify(LOG, key(1).public_key())
    assert parsed.text() == text


def test_countersigning_adds_a_line_over_the_same_body() -> None:
    both = SIGNED.countersign(WITNESS, key(2))
    assert [s.name for s in both.signatures] == [LOG, WITNESS]
    assert len(SIGNED.signatures) == 1  # the original is unchanged
    parsed = parse_signed_checkpoint(both.text())
    assert parsed == both
    parsed.verify(LOG, key(1).public_key())
    parsed.verify(WITNESS, key(2).public_key())
    assert both.countersign(WITNESS, key(2)) == both  # signing again replaces, never doubles
    with pytest.raises(CheckpointInvalid, match="no signature by"):
        SIGNED.verify(WITNESS, key(2).public_key())


def test_extension_lines_are_signed_and_read_back() -> None:
    checkpoint = Checkpoint(LOG, 5, ROOT, ("agreement rok-japan-gsomia", "— not a signature"))
    signed = sign_checkpoint(checkpoint, LOG, key(1))
    parsed = parse_signed_checkpoint(signed.text())
    assert parsed.checkpoint.extensions == checkpoint.extensions
    parsed.verify(LOG, key(1).public_key())


def test_unknown_signature_lines_are_kept_and_ignored() -> None:
    cosignature = NoteSignature("witness.example", b"\x12\x34\x56\x78", bytes(72))  # type 0x04
    text = SIGNED.text() + cosignature.line()
    parsed = parse_signed_checkpoint(text)
    assert parsed.signatures[1] == cosignature
    parsed.verify(LOG, key(1).public_key())
    assert parsed.text() == text


def test_verifier_keys_round_trip() -> None:
    public = key(3).public_key()
    text = verifier_key(LOG, public)
    name, hash_hex, encoded = text.split("+", 2)
    assert (name, hash_hex) == (LOG, key_hash(LOG, public).hex())
    assert base64.b64decode(encoded) == b"\x01" + public.public_bytes_raw()
    parsed = parse_verifier_key(text)
    assert parsed.name == LOG
    assert parsed.key.public_bytes_raw() == public.public_bytes_raw()
    sign_checkpoint(CHECKPOINT, LOG, key(3)).verify(*parsed)


# --- refusals --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_changed_character_of_the_body_is_refused(data: st.DataObject) -> None:
    text = SIGNED.text()
    body = CHECKPOINT.body()
    at = data.draw(st.integers(0, len(body) - 1))
    new = data.draw(st.characters(codec="utf-8").filter(lambda c: c != body[at]))
    assert not opens(text[:at] + new + text[at + 1 :], LOG, key(1))


def test_a_changed_size_or_root_is_refused() -> None:
    for checkpoint in (Checkpoint(LOG, 6, ROOT), Checkpoint(LOG, 5, bytes(32))):
        forged = SignedCheckpoint(checkpoint, SIGNED.signatures)
        with pytest.raises(CheckpointInvalid, match="does not verify"):
            forged.verify(LOG, key(1).public_key())


def test_a_signature_line_of_another_key_is_refused() -> None:
    body = CHECKPOINT.body().encode()
    mine = key_hash(LOG, key(1).public_key())
    borrowed = SignedCheckpoint(CHECKPOINT, (NoteSignature(LOG, mine, key(2).sign(body)),))
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        borrowed.verify(LOG, key(1).public_key())
    theirs = sign_checkpoint(CHECKPOINT, LOG, key(2))  # same name, another key hash
    with pytest.raises(CheckpointInvalid, match="no signature by"):
        theirs.verify(LOG, key(1).public_key())
    # a bad line of the known key refuses the note even beside a good one (signed-note spec)
    spoiled = SignedCheckpoint(CHECKPOINT, (*SIGNED.signatures, *borrowed.signatures))
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        spoiled.verify(LOG, key(1).public_key())


def test_a_wrong_name_is_refused() -> None:
    for name in ("accord.example/jpn-log", LOG + "x", "", "a b", "a+b"):
        assert invalid(SIGNED.verify, name, key(1).public_key())


GARBAGE = [
    "",
    "\n",
    "\n\n",
    CHECKPOINT.body(),
    CHECKPOINT.body() + "\n",
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG} AAAA\n",  # a signature too short for a key hash
    CHECKPOINT.body() + "\n" + f"- {LOG} {b64(bytes(68))}\n",  # a hyphen, not an em dash
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG}\n",
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG} {b64(bytes(68))[:-1]}\n",  # bad padding
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG} {b64(bytes(68))}",  # no final newline
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG} {b64(bytes(68))}\n\n",
    CHECKPOINT.body() + "\n" + f"{DASH} a+b {b64(bytes(68))}\n",
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG} {b64(bytes(68))} extra\n",
    CHECKPOINT.body() + "\n" + f"{DASH} {LOG} {b64(bytes(68))}\n" * 101,
    f"{LOG}\n05\n{b64(ROOT)}\n\n{SIGNED.signatures[0].line()}",  # leading zero
    f"{LOG}\n+5\n{b64(ROOT)}\n\n{SIGNED.signatures[0].line()}",
    f"{LOG}\n\u0665\n{b64(ROOT)}\n\n{SIGNED.signatures[0].line()}",  # an Arabic-Indic five
    f"{LOG}\n{2**64}\n{b64(ROOT)}\n\n{SIGNED.signatures[0].line()}",
    f"{LOG}\n5\n{b64(ROOT[:31])}\n\n{SIGNED.signatures[0].line()}",
    f"{LOG}\n5\n{b64(ROOT)[:-2]}\n\n{SIGNED.signatures[0].line()}",
    f"{LOG}\n5\n\n{SIGNED.signatures[0].line()}",
    f"\n5\n{b64(ROOT)}\n\n{SIGNED.signatures[0].line()}",
    f"{LOG}\n5\n{b64(ROOT)}\n\n\n{SIGNED.signatures[0].line()}",  # an empty extension line
    f"{LOG}\t\n5\n{b64(ROOT)}\n\n{SIGNED.signatures[0].line()}",
    "\ud800" + SIGNED.text(),  # not encodable as UTF-8
    "x" * (1 << 20) + SIGNED.text(),
]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_a_malformed_note_is_refused(text: str) -> None:
    with pytest.raises(CheckpointInvalid):
        parse_signed_checkpoint(text)


def test_a_non_canonical_root_is_refused() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    encoded = b64(ROOT)  # 32 bytes: 43 characters, the last of them with 2 spare bits, and "="
    last = alphabet.index(encoded[-2])
    assert last & 3 == 0
    spare_bit_set = encoded[:-2] + alphabet[last | 1] + "="
    assert base64.b64decode(spare_bit_set) == ROOT  # a lenient decoder reads the same root
    with pytest.raises(CheckpointInvalid, match="canonical"):
        parse_checkpoint_body(f"{LOG}\n5\n{spare_bit_set}\n")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=50), st.none(), st.integers()))
def test_junk_raises_checkpoint_invalid_and_nothing_else(junk: Any) -> None:
    invalid(parse_signed_checkpoint, junk)
    invalid(parse_note, junk)
    invalid(parse_verifier_key, junk)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(f"ab5=+/\n {DASH}"), max_size=200))
def test_note_shaped_junk_raises_checkpoint_invalid(junk: str) -> None:
    invalid(parse_signed_checkpoint, SIGNED.text()[:40] + junk)
    invalid(parse_signed_checkpoint, junk + SIGNED.text()[-40:])


@pytest.mark.parametrize(
    "fields",
    [
        ("", 5, ROOT),
        ("a\nb", 5, ROOT),
        (LOG, -1, ROOT),
        (LOG, 2**64, ROOT),
        (LOG, True, ROOT),
        (LOG, 5, ROOT[:31]),
        (LOG, 5, "x" * 32),
        (LOG, 5, ROOT, ("",)),
        (LOG, 5, ROOT, ["x"]),
    ],
)
def test_a_checkpoint_that_cannot_be_written_is_refused(fields: Any) -> None:
    with pytest.raises(CheckpointInvalid):
        Checkpoint(*fields)


def test_signing_refuses_bad_names_and_keys() -> None:
    for name in ("", "a b", "a+b", "a\u00a0b", "a\nb"):
        assert invalid(sign_checkpoint, CHECKPOINT, name, key(1))
    assert invalid(sign_checkpoint, CHECKPOINT, LOG, key(1).public_key())
    assert invalid(SIGNED.verify, LOG, key(1))  # a private key is not a verifier
    assert invalid(SignedCheckpoint, CHECKPOINT, ())


# --- interop ---------------------------------------------------------------------------------


def go_signer() -> tuple[str, Ed25519PrivateKey]:
    """The Go example's signer key: PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed)."""
    private, _, name, hash_hex, encoded = NOTES["go_sumdb_note"]["signer_key"].split("+", 4)
    raw = base64.b64decode(encoded)
    assert (private, raw[0], len(raw)) == ("PRIVATE", 1, 33)
    signer = Ed25519PrivateKey.from_private_bytes(raw[1:])
    assert key_hash(name, signer.public_key()).hex() == hash_hex
    return name, signer


def test_the_go_reference_example_is_signed_byte_for_byte() -> None:
    vectors = NOTES["go_sumdb_note"]
    name, signer = go_signer()
    assert verifier_key(name, signer.public_key()) == vectors["verifier_keys"][name]
    assert sign_note(vectors["text"], name, signer).text() == vectors["signed"]


def test_the_go_doubly_signed_note_verifies_for_both_keys() -> None:
    vectors = NOTES["go_sumdb_note"]
    note = parse_note(vectors["doubly_signed"])
    assert note.body == vectors["text"]
    assert note.text() == vectors["doubly_signed"]
    for vkey in vectors["verifier_keys"].values():
        note.verify(*parse_verifier_key(vkey))
    name, signer = go_signer()
    assert (
        sign_note(vectors["text"], name, signer).countersign("EnochRoot", key(9)).signatures[0]
        == note.signatures[0]
    )


@pytest.mark.parametrize("text", NOTES["go_sumdb_note"]["malformed"]["notes"])
def test_the_go_malformed_notes_are_refused(text: str) -> None:
    assert invalid(parse_note, text)


def test_go_verifier_key_manglings_are_refused() -> None:
    vkey = NOTES["go_sumdb_note"]["verifier_keys"]["PeterNeumann"]
    parse_verifier_key(vkey)
    for i in range(len(vkey)):
        for j in range(i + 1, len(vkey) + 1):
            if (i, j) != (0, len(vkey)):
                assert invalid(parse_verifier_key, vkey[i:j]), vkey[i:j]
        assert invalid(parse_verifier_key, vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :])
    # from note_test.go: a wrong key length and an unknown algorithm, each with a matching hash
    assert invalid(
        parse_verifier_key,
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    )
    assert invalid(
        parse_verifier_key, "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )


def test_the_c2sp_signed_note_example_verifies() -> None:
    vectors = NOTES["c2sp_signed_note_example"]
    note = parse_note(vectors["signed"])
    assert note.body == "This is an example message.\n"
    note.verify(*parse_verifier_key(vectors["verifier_key"]))
    forged = parse_note(vectors["signed"].replace("example message", "example massage"))
    assert invalid(forged.verify, *parse_verifier_key(vectors["verifier_key"]))


def test_a_real_go_checksum_database_checkpoint_verifies() -> None:
    vectors = NOTES["sum_golang_org_checkpoint"]
    signed = parse_signed_checkpoint(vectors["signed"])
    checkpoint = signed.checkpoint
    assert (checkpoint.origin, checkpoint.size) == (vectors["origin"], vectors["size"])
    assert checkpoint.root == base64.b64decode(vectors["root"])
    name, public = parse_verifier_key(vectors["verifier_key"])
    signed.verify(name, public)
    assert signed.text() == vectors["signed"]
    bigger = SignedCheckpoint(
        Checkpoint(checkpoint.origin, checkpoint.size + 1, checkpoint.root), signed.signatures
    )
    assert invalid(bigger.verify, name, public)


def test_the_tlog_checkpoint_spec_example_has_the_form_but_no_published_key() -> None:
    vectors = NOTES["c2sp_tlog_checkpoint_example"]
    signed = parse_signed_checkpoint(vectors["signed"])
    assert signed.checkpoint == Checkpoint(
        vectors["origin"], vectors["size"], base64.b64decode(vectors["root"])
    )
    (line,) = signed.signatures
    assert (line.name, line.key_hash.hex(), len(line.signature)) == (
        vectors["origin"],
        vectors["key_hash"],
        64,
    )
    assert signed.text() == vectors["signed"]
    # The spec gives no public key for this example, so its signature cannot be checked; a key
    # of ours under the same name has another key hash and finds no signature to verify.
    with pytest.raises(CheckpointInvalid, match="no signature by"):
        signed.verify(vectors["origin"], key(1).public_key())
