"""accord.crypto master key, party key sets, sealing at rest and the keyring.

The formats checked here are the documented ones (``accord/crypto/master.py``, ``keys.py``); the
interop tests rebuild them with ``cryptography`` alone.
"""

from __future__ import annotations

import base64
import os
import pickle
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from accord.crypto import (
    EXCHANGE,
    Keyring,
    MasterKey,
    PartyKeys,
    PublicKeys,
    SealedKeySet,
    open_keys,
    reseal,
    seal_keys,
    sign,
    verify,
)
from accord.errors import (
    DuplicateId,
    IntegrityError,
    InvalidInput,
    KeyMismatch,
    KeyUnavailable,
)

RAW = bytes(range(32))
RAW_TEXT = base64.urlsafe_b64encode(RAW).decode()  # "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def flips(blob: bytes) -> list[bytes]:
    """``blob`` with each byte in turn changed (lowest and highest bit)."""
    out = []
    for position in range(len(blob)):
        for mask in (0x01, 0x80):
            changed = bytearray(blob)
            changed[position] ^= mask
            out.append(bytes(changed))
    return out


def hkdf(key: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)


def key_set_aad(owner: str, version: int, x25519: bytes, ed25519: bytes) -> bytes:
    """The documented associated data of a sealed key set, written out here independently."""
    name = owner.encode()
    return (
        (b"accord key set v1\x00" + version.to_bytes(4, "big") + bytes([len(name)]) + name)
        + x25519
        + ed25519
    )


# --- the master key: text, files, the environment ----------------------------------------------


def test_master_key_text_round_trip_and_key_id() -> None:
    key = MasterKey(RAW)
    assert key.text() == RAW_TEXT
    assert MasterKey.from_text(key.text(), "test") == key
    assert MasterKey.from_text(f"  {RAW_TEXT.rstrip('=')}\n", "test") == key  # unpadded, spaced
    assert key.key_id == hkdf(RAW, b"accord master key id v1", 8).hex()
    assert len(key.key_id) == 16
    assert MasterKey.generate().key_id != key.key_id
    assert MasterKey.generate() != MasterKey.generate()


def test_master_key_is_never_shown_or_pickled() -> None:
    key = MasterKey.generate()
    shown = repr(key) + str(key) + f"{key}"
    assert key.key_id in shown
    assert key.text().rstrip("=") not in shown
    assert key.text()[:8] not in shown
    with pytest.raises(TypeError):
        pickle.dumps(key)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("not base64!" * 4, "not url-safe base64"),
        (RAW_TEXT.replace("A", "+", 1), "not url-safe base64"),  # standard, not url-safe, alphabet
        ("ÄÖÜ" * 15, "not url-safe base64"),
        (base64.urlsafe_b64encode(bytes(16)).decode(), "is 16 bytes"),
        (base64.urlsafe_b64encode(bytes(33)).decode(), "is 33 bytes"),
        (RAW_TEXT + "AAAA", "not url-safe base64"),  # padding inside
        (base64.urlsafe_b64encode(bytes(35)).decode(), "is 35 bytes"),
    ],
)
def test_unusable_key_text_names_its_source_and_not_the_text(text: str, words: str) -> None:
    with pytest.raises(KeyUnavailable) as caught:
        MasterKey.from_text(text, "$SOME_SOURCE")
    assert "$SOME_SOURCE" in caught.value.message
    assert words in caught.value.message
    if text.strip():
        assert text.strip()[:12] not in caught.value.message


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_MASTER_KEY", raising=False)
    with pytest.raises(KeyUnavailable, match=r"\$ACCORD_MASTER_KEY is not set"):
        MasterKey.from_env()
    monkeypatch.setenv("ACCORD_MASTER_KEY", "  ")
    with pytest.raises(KeyUnavailable, match=r"\$ACCORD_MASTER_KEY is not set"):
        MasterKey.from_env()
    monkeypatch.setenv("ACCORD_MASTER_KEY", RAW_TEXT)
    assert MasterKey.from_env() == MasterKey(RAW)
    monkeypatch.setenv("OTHER_KEY", "AAAA")
    with pytest.raises(KeyUnavailable, match=r"in \$OTHER_KEY is 3 bytes"):
        MasterKey.from_env("OTHER_KEY")


def test_write_creates_a_0600_file_and_never_overwrites(tmp_path: Path) -> None:
    key = MasterKey.generate()
    path = tmp_path / "master.key"
    old_umask = os.umask(0)
    try:
        key.write(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.from_file(path) == key
    with pytest.raises(InvalidInput, match="already exists"):
        MasterKey.generate().write(path)
    assert MasterKey.from_file(path) == key
    with pytest.raises(InvalidInput, match="directory does not exist"):
        key.write(tmp_path / "missing" / "master.key")


def test_unusable_key_files_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "none.key"
    with pytest.raises(KeyUnavailable, match=f"{missing} does not exist"):
        MasterKey.from_file(missing)
    with pytest.raises(KeyUnavailable, match=f"{tmp_path} cannot be read"):
        MasterKey.from_file(tmp_path)
    binary = tmp_path / "binary.key"
    binary.write_bytes(b"\xff\xfe" + RAW)
    with pytest.raises(KeyUnavailable, match=f"{binary} is not url-safe base64"):
        MasterKey.from_file(binary)
    short = tmp_path / "short.key"
    short.write_text(base64.urlsafe_b64encode(bytes(31)).decode() + "\n")
    with pytest.raises(KeyUnavailable, match=f"{short} is 31 bytes"):
        MasterKey.from_file(short)
    corrupt = tmp_path / "corrupt.key"
    corrupt.write_text(RAW_TEXT[:20] + "*" + RAW_TEXT[21:])
    with pytest.raises(KeyUnavailable, match=f"{corrupt} is not url-safe base64"):
        MasterKey.from_file(corrupt)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_key_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.key"
    MasterKey.generate().write(path)
    path.chmod(0)
    with pytest.raises(KeyUnavailable, match="cannot be read"):
        MasterKey.from_file(path)


def test_master_key_must_be_32_bytes() -> None:
    with pytest.raises(InvalidInput):
        MasterKey(bytes(31))


# --- sealing under the master key --------------------------------------------------------------


def test_seal_round_trip_and_format() -> None:
    key = MasterKey(RAW)
    blob = key.seal(b"secret", b"context")
    assert blob[:2] == b"\x01M"
    assert len(blob) == 2 + 12 + len(b"secret") + 16
    assert key.seal(b"secret", b"context") != blob  # random nonce
    assert key.unseal(blob, b"context") == b"secret"
    # interop: the documented format opens with AES-GCM under HKDF(master, seal label)
    sealer = AESGCM(hkdf(RAW, b"accord master seal key v1"))
    assert sealer.decrypt(blob[2:14], blob[14:], b"\x01M" + b"context") == b"secret"


def test_unseal_refuses_the_wrong_key_the_wrong_aad_and_every_changed_byte() -> None:
    key = MasterKey.generate()
    blob = key.seal(b"private keys", b"aad")
    with pytest.raises(KeyMismatch, match="does not open the thing"):
        MasterKey.generate().unseal(blob, b"aad", what="the thing")
    with pytest.raises(KeyMismatch):
        key.unseal(blob, b"aae")
    for changed in flips(blob):
        position = next(i for i in range(len(blob)) if blob[i] != changed[i])
        expected = IntegrityError if position < 2 else KeyMismatch
        with pytest.raises(expected):
            key.unseal(changed, b"aad", what="the thing")
    for cut in range(len(blob)):
        with pytest.raises((IntegrityError, KeyMismatch)):
            key.unseal(blob[:cut], b"aad")


def test_unseal_refuses_an_unknown_format_version() -> None:
    key = MasterKey.generate()
    blob = key.seal(b"x", b"")
    with pytest.raises(IntegrityError, match="format version 2, which this accord does not know"):
        key.unseal(b"\x02" + blob[1:], b"", what="the keys of KOR")


# --- party key sets ------------------------------------------------------------------------------


def test_party_keys_and_public_keys() -> None:
    keys = PartyKeys.generate("KOR", version=3)
    public = keys.public()
    assert (public.owner, public.version) == ("KOR", 3)
    assert len(public.x25519) == len(public.ed25519) == 32
    assert public.x25519 == keys.x25519.public_key().public_bytes_raw()
    assert public.ed25519 == keys.ed25519.public_key().public_bytes_raw()
    assert repr(keys) == "PartyKeys(owner='KOR', version=3)"
    assert keys.x25519.private_bytes_raw().hex() not in repr(keys)
    with pytest.raises(TypeError):
        pickle.dumps(keys)
    fingerprint = public.fingerprint()
    assert len(fingerprint) == 32 and fingerprint == public.fingerprint()
    others = [
        PublicKeys("JPN", 3, public.x25519, public.ed25519),
        PublicKeys("KOR", 4, public.x25519, public.ed25519),
        PublicKeys("KOR", 3, public.ed25519, public.ed25519),
        PublicKeys("KOR", 3, public.x25519, public.x25519),
    ]
    assert len({fingerprint, *(o.fingerprint() for o in others)}) == 5


@pytest.mark.parametrize(
    ("owner", "version", "x", "e"),
    [
        ("", 1, bytes(32), bytes(32)),
        (" KOR", 1, bytes(32), bytes(32)),
        ("K" * 256, 1, bytes(32), bytes(32)),
        ("KOR", 0, bytes(32), bytes(32)),
        ("KOR", True, bytes(32), bytes(32)),
        ("KOR", 2**32, bytes(32), bytes(32)),
        ("KOR", 1, bytes(31), bytes(32)),
        ("KOR", 1, bytes(32), bytes(33)),
    ],
)
def test_public_keys_refuse_bad_fields(owner: str, version: int, x: bytes, e: bytes) -> None:
    with pytest.raises(InvalidInput):
        PublicKeys(owner, version, x, e)


def test_sealed_key_set_round_trip() -> None:
    master = MasterKey.generate()
    keys = PartyKeys.generate("JPN", 2)
    sealed = seal_keys(keys, master)
    assert (sealed.owner, sealed.version) == ("JPN", 2)
    assert sealed.x25519_public == keys.public().x25519
    assert sealed.ed25519_public == keys.public().ed25519
    assert sealed.sealed_private[:2] == b"\x01M"
    assert "sealed_private" not in repr(sealed)
    opened = open_keys(sealed, master)
    assert opened.public() == keys.public()
    assert opened.x25519.private_bytes_raw() == keys.x25519.private_bytes_raw()
    signature = sign(opened, b"message")
    verify(keys.public(), b"message", signature, what="a test message")
    # interop: the documented layout, opened with cryptography alone
    sealer = AESGCM(hkdf(master_raw(master), b"accord master seal key v1"))
    aad = key_set_aad("JPN", 2, sealed.x25519_public, sealed.ed25519_public)
    blob = sealed.sealed_private
    private = sealer.decrypt(blob[2:14], blob[14:], b"\x01M" + aad)
    assert private == keys.x25519.private_bytes_raw() + keys.ed25519.private_bytes_raw()


def master_raw(master: MasterKey) -> bytes:
    return base64.urlsafe_b64decode(master.text())


def test_open_keys_with_the_wrong_master_key() -> None:
    sealed = seal_keys(PartyKeys.generate("KOR"), MasterKey.generate())
    with pytest.raises(KeyMismatch, match="does not open the keys of KOR version 1"):
        open_keys(sealed, MasterKey.generate())


def test_rows_swapped_between_parties_versions_or_keys_do_not_open() -> None:
    master = MasterKey.generate()
    kor = seal_keys(PartyKeys.generate("KOR"), master)
    jpn = seal_keys(PartyKeys.generate("JPN"), master)
    swapped = [
        SealedKeySet("JPN", 1, jpn.x25519_public, jpn.ed25519_public, kor.sealed_private),
        SealedKeySet("JPN", 1, kor.x25519_public, kor.ed25519_public, kor.sealed_private),
        SealedKeySet("KOR", 2, kor.x25519_public, kor.ed25519_public, kor.sealed_private),
        SealedKeySet("KOR", 1, jpn.x25519_public, kor.ed25519_public, kor.sealed_private),
        SealedKeySet("KOR", 1, kor.x25519_public, jpn.ed25519_public, kor.sealed_private),
    ]
    for row in swapped:
        with pytest.raises(KeyMismatch):
            open_keys(row, master)


def test_every_changed_byte_of_a_sealed_key_set_is_refused() -> None:
    master = MasterKey.generate()
    sealed = seal_keys(PartyKeys.generate("KOR"), master)
    blob = sealed.sealed_private
    for changed in flips(blob):
        row = SealedKeySet("KOR", 1, sealed.x25519_public, sealed.ed25519_public, changed)
        position = next(i for i in range(len(blob)) if blob[i] != changed[i])
        with pytest.raises(IntegrityError if position < 2 else KeyMismatch):
            open_keys(row, master)
    for field in ("x25519_public", "ed25519_public"):
        for changed in flips(getattr(sealed, field)):
            parts = {
                "x25519_public": sealed.x25519_public,
                "ed25519_public": sealed.ed25519_public,
                field: changed,
            }
            row = SealedKeySet("KOR", 1, sealed_private=blob, **parts)
            with pytest.raises(KeyMismatch):
                open_keys(row, master)


@given(owner=st.text(min_size=1, max_size=8).filter(lambda s: s == s.strip()), data=st.data())
def test_a_changed_byte_anywhere_is_refused(owner: str, data: st.DataObject) -> None:
    master = MasterKey.generate()
    sealed = seal_keys(PartyKeys.generate(owner), master)
    blob = sealed.sealed_private
    position = data.draw(st.integers(0, len(blob) - 1))
    mask = data.draw(st.integers(1, 255))
    changed = bytearray(blob)
    changed[position] ^= mask
    row = SealedKeySet(owner, 1, sealed.x25519_public, sealed.ed25519_public, bytes(changed))
    with pytest.raises(IntegrityError if position < 2 else KeyMismatch):
        open_keys(row, master)


def test_public_keys_that_do_not_match_the_private_keys() -> None:
    """A row whose seal is valid but whose public keys belong to other private keys."""
    master = MasterKey.generate()
    keys, other = PartyKeys.generate("KOR"), PartyKeys.generate("KOR")
    x, e = other.public().x25519, other.public().ed25519
    private = keys.x25519.private_bytes_raw() + keys.ed25519.private_bytes_raw()
    row = SealedKeySet("KOR", 1, x, e, master.seal(private, key_set_aad("KOR", 1, x, e)))
    with pytest.raises(IntegrityError, match="public keys stored do not match"):
        open_keys(row, master)
    short = SealedKeySet("KOR", 1, x, e, master.seal(private[:40], key_set_aad("KOR", 1, x, e)))
    with pytest.raises(IntegrityError, match="wrong length"):
        open_keys(short, master)


def test_malformed_rows_are_integrity_errors() -> None:
    master = MasterKey.generate()
    sealed = seal_keys(PartyKeys.generate("KOR"), master)
    for row in (
        SealedKeySet("KOR", 1, sealed.x25519_public[:31], sealed.ed25519_public, b"\x01M"),
        SealedKeySet("", 1, sealed.x25519_public, sealed.ed25519_public, sealed.sealed_private),
        SealedKeySet("KOR", 0, sealed.x25519_public, sealed.ed25519_public, sealed.sealed_private),
    ):
        with pytest.raises(IntegrityError, match="malformed"):
            open_keys(row, master)


def test_reseal_moves_a_key_set_to_a_new_master_key() -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    keys = PartyKeys.generate("USA", 5)
    sealed = seal_keys(keys, old)
    moved = reseal(sealed, old, new)
    assert (moved.owner, moved.version) == ("USA", 5)
    assert (moved.x25519_public, moved.ed25519_public) == (
        sealed.x25519_public,
        sealed.ed25519_public,
    )
    assert open_keys(moved, new).public() == keys.public()
    with pytest.raises(KeyMismatch):
        open_keys(moved, old)
    with pytest.raises(KeyMismatch):
        reseal(sealed, new, old)


# --- the keyring ---------------------------------------------------------------------------------


def test_keyring_current_get_public_owners() -> None:
    master = MasterKey.generate()
    ring = Keyring(master)
    with pytest.raises(KeyUnavailable, match="no keys for party JPN: run accord keys init"):
        ring.current("JPN")
    v1, v2 = PartyKeys.generate("JPN", 1), PartyKeys.generate("JPN", 2)
    exchange = PartyKeys.generate(EXCHANGE)
    ring.add(v2)
    ring.add(v1)
    ring.add(exchange)
    ring.add(v1)  # the same set again is harmless
    assert ring.current("JPN") is v2
    assert ring.get("JPN", 1) is v1
    assert ring.public("JPN", 1) == v1.public()
    assert ring.owners() == ("@exchange", "JPN")
    assert ring.versions("JPN") == (1, 2)
    assert EXCHANGE == "@exchange"
    assert ring.current(EXCHANGE) is exchange
    with pytest.raises(KeyUnavailable, match="no keys for party JPN version 3"):
        ring.get("JPN", 3)
    with pytest.raises(KeyUnavailable):
        ring.public("KOR", 1)
    with pytest.raises(DuplicateId):
        ring.add(PartyKeys.generate("JPN", 1))
    assert master.text() not in repr(ring)


def test_keyring_load_opens_all_or_none() -> None:
    master = MasterKey.generate()
    rows = [seal_keys(PartyKeys.generate(owner), master) for owner in ("KOR", "JPN", "USA")]
    ring = Keyring(master)
    ring.load(rows)
    assert ring.owners() == ("JPN", "KOR", "USA")
    assert ring.public("KOR", 1) == rows[0].public()
    stranger = seal_keys(PartyKeys.generate("CAN"), MasterKey.generate())
    fresh = Keyring(master)
    with pytest.raises(KeyMismatch):
        fresh.load([*rows, stranger])
    assert fresh.owners() == ()
