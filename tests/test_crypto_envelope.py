"""accord.crypto envelopes: content under a data key, the data key wrapped per holder.

Interop tests open accord's blobs with ``cryptography``'s AESGCM and HPKE directly, using only the
formats documented in ``accord/crypto/envelope.py``, and make blobs there that accord opens.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from accord.crypto import (
    Keyring,
    MasterKey,
    PartyKeys,
    PublicKeys,
    WrappedKey,
    decrypt,
    encrypt,
    new_data_key,
    rewrap,
    unwrap,
    wrap_for,
    wrap_for_self,
)
from accord.errors import IntegrityError, InvalidInput, KeyUnavailable

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
AAD = b"item report-1"


def flips(blob: bytes) -> list[tuple[int, bytes]]:
    """(position, ``blob`` with that byte changed), lowest and highest bit, every position."""
    out = []
    for position in range(len(blob)):
        for mask in (0x01, 0x80):
            changed = bytearray(blob)
            changed[position] ^= mask
            out.append((position, bytes(changed)))
    return out


def context(tag: bytes, owner: str, version: int, aad: bytes) -> bytes:
    """The documented context a wrapped key binds, written out here independently."""
    name = owner.encode()
    header = b"\x01" + tag
    identity = version.to_bytes(4, "big") + bytes([len(name)]) + name
    return b"accord wrapped key v1\x00" + header + identity + aad


@pytest.fixture(scope="module")
def kor() -> PartyKeys:
    return PartyKeys.generate("KOR")


@pytest.fixture(scope="module")
def jpn() -> PartyKeys:
    return PartyKeys.generate("JPN")


# --- content ------------------------------------------------------------------------------------


def test_new_data_keys_are_32_random_bytes() -> None:
    keys = {new_data_key() for _ in range(50)}
    assert len(keys) == 50
    assert {len(k) for k in keys} == {32}


@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_encrypt_round_trip(plaintext: bytes, aad: bytes) -> None:
    key = new_data_key()
    blob = encrypt(key, plaintext, aad)
    assert blob[:2] == b"\x01E"
    assert len(blob) == 2 + 12 + len(plaintext) + 16
    assert decrypt(key, blob, aad, what="a test") == plaintext


def test_envelope_interop_with_aesgcm() -> None:
    key = new_data_key()
    blob = encrypt(key, b"Two SRBMs.", AAD)
    assert encrypt(key, b"Two SRBMs.", AAD) != blob  # a fresh nonce every time
    assert AESGCM(key).decrypt(blob[2:14], blob[14:], b"\x01E" + AAD) == b"Two SRBMs."
    nonce = bytes(12)
    made = b"\x01E" + nonce + AESGCM(key).encrypt(nonce, b"made elsewhere", b"\x01E" + AAD)
    assert decrypt(key, made, AAD, what="a test") == b"made elsewhere"


def test_decrypt_refuses_the_wrong_key_aad_and_every_changed_byte() -> None:
    key = new_data_key()
    blob = encrypt(key, b"x" * 1024, AAD)
    what = "item report-1: the envelope for JPN"
    with pytest.raises(IntegrityError) as caught:
        decrypt(new_data_key(), blob, AAD, what=what)
    assert caught.value.message == f"{what}: the ciphertext does not open"
    with pytest.raises(IntegrityError, match="does not open"):
        decrypt(key, blob, b"item report-2", what=what)
    for _, changed in flips(blob):
        with pytest.raises(IntegrityError, match=r"^item report-1: the envelope for JPN: "):
            decrypt(key, changed, AAD, what=what)
    for cut in range(len(blob) - 1000):
        with pytest.raises(IntegrityError):
            decrypt(key, blob[:cut], AAD, what=what)


def test_decrypt_refuses_unknown_versions_and_kinds() -> None:
    key = new_data_key()
    blob = encrypt(key, b"x", AAD)
    with pytest.raises(IntegrityError, match="format version 2, which this accord does not know"):
        decrypt(key, b"\x02" + blob[1:], AAD, what="item report-1")
    with pytest.raises(IntegrityError, match="not of the kind expected"):
        decrypt(key, b"\x01S" + blob[2:], AAD, what="item report-1")


def test_data_keys_must_be_32_bytes() -> None:
    with pytest.raises(InvalidInput):
        encrypt(bytes(16), b"x", b"")
    with pytest.raises(InvalidInput):
        decrypt(bytes(31), encrypt(new_data_key(), b"x", b""), b"", what="x")
    with pytest.raises(InvalidInput):
        wrap_for_self(PartyKeys.generate("KOR"), bytes(16), b"")


# --- wrapping for oneself ----------------------------------------------------------------------


def test_self_wrap_round_trip(kor: PartyKeys) -> None:
    key = new_data_key()
    wrapped = wrap_for_self(kor, key, AAD)
    assert (wrapped.key_version, wrapped.kind, len(wrapped.blob)) == (1, "self", 62)
    assert wrapped.blob[:2] == b"\x01S"
    assert wrap_for_self(kor, key, AAD) != wrapped
    assert unwrap(kor, wrapped, AAD, what="a test") == key


def test_self_wrap_interop_with_hkdf_and_aesgcm(kor: PartyKeys) -> None:
    """The holding key is HKDF-SHA256(X25519 private key, info "accord holding key v1")."""
    holding = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"accord holding key v1"
    ).derive(kor.x25519.private_bytes_raw())
    key = new_data_key()
    blob = wrap_for_self(kor, key, AAD).blob
    bound = context(b"S", "KOR", 1, AAD)
    assert AESGCM(holding).decrypt(blob[2:14], blob[14:], bound) == key


def test_self_wrap_refuses_other_parties_aad_and_changed_bytes(
    kor: PartyKeys, jpn: PartyKeys
) -> None:
    key = new_data_key()
    wrapped = wrap_for_self(kor, key, AAD)
    with pytest.raises(
        IntegrityError, match=r"^item report-1 at JPN: the wrapped key does not open$"
    ):
        unwrap(jpn, wrapped, AAD, what="item report-1 at JPN")
    with pytest.raises(IntegrityError):
        unwrap(kor, wrapped, b"item report-2", what="x")
    for position, changed in flips(wrapped.blob):
        with pytest.raises(IntegrityError) as caught:
            unwrap(kor, WrappedKey(1, changed), AAD, what="item report-1 at KOR")
        if position == 0:
            assert "format version" in caught.value.message


# --- wrapping to another party (HPKE) ----------------------------------------------------------


def test_hpke_wrap_round_trip(kor: PartyKeys, jpn: PartyKeys) -> None:
    key = new_data_key()
    wrapped = wrap_for(jpn.public(), key, AAD)
    assert (wrapped.key_version, wrapped.kind, len(wrapped.blob)) == (1, "hpke", 82)
    assert wrapped.blob[:2] == b"\x01H"
    assert unwrap(jpn, wrapped, AAD, what="a test") == key
    with pytest.raises(IntegrityError):  # not even the sender opens it
        unwrap(kor, wrapped, AAD, what="a test")


def test_hpke_wrap_opens_with_the_library_hpke_api() -> None:
    """Keys made by cryptography itself; the blob opened by its HPKE with the documented info."""
    x25519, ed25519 = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = PartyKeys.from_private_bytes(
        "JPN", 7, x25519.private_bytes_raw(), ed25519.private_bytes_raw()
    )
    key = new_data_key()
    wrapped = wrap_for(keys.public(), key, AAD)
    info = context(b"H", "JPN", 7, AAD)
    assert SUITE.decrypt(wrapped.blob[2:], x25519, info=info) == key
    # and the reverse: a key wrapped by the library to JPN's public key opens in accord
    made = SUITE.encrypt(key, x25519.public_key(), info=info)
    assert unwrap(keys, WrappedKey(7, b"\x01H" + made), AAD, what="a test") == key
    with pytest.raises(IntegrityError):
        wrong = SUITE.encrypt(key, x25519.public_key(), info=context(b"H", "KOR", 7, AAD))
        unwrap(keys, WrappedKey(7, b"\x01H" + wrong), AAD, what="a test")


@pytest.mark.parametrize("point", [bytes(32), (1).to_bytes(32, "little")])
def test_hpke_wrap_refuses_a_low_order_public_key(point: bytes, jpn: PartyKeys) -> None:
    public = PublicKeys("JPN", 1, point, jpn.public().ed25519)
    with pytest.raises(IntegrityError, match="X25519 public key of JPN version 1 is not usable"):
        wrap_for(public, new_data_key(), AAD)


def test_hpke_wrap_refuses_other_parties_aad_and_changed_bytes(
    kor: PartyKeys, jpn: PartyKeys
) -> None:
    key = new_data_key()
    wrapped = wrap_for(jpn.public(), key, AAD)
    usa = PartyKeys.generate("USA")
    with pytest.raises(
        IntegrityError, match=r"^item report-1 at USA: the wrapped key does not open$"
    ):
        unwrap(usa, wrapped, AAD, what="item report-1 at USA")
    with pytest.raises(IntegrityError):
        unwrap(jpn, wrapped, b"item report-2", what="x")
    for _, changed in flips(wrapped.blob):
        with pytest.raises(IntegrityError):
            unwrap(jpn, WrappedKey(1, changed), AAD, what="item report-1 at JPN")


@given(data=st.data(), aad=st.binary(max_size=32), hpke_kind=st.booleans())
def test_a_changed_byte_anywhere_in_a_wrapped_key_is_refused(
    data: st.DataObject, aad: bytes, hpke_kind: bool
) -> None:
    keys = PartyKeys.generate("KOR")
    key = new_data_key()
    wrapped = wrap_for(keys.public(), key, aad) if hpke_kind else wrap_for_self(keys, key, aad)
    position = data.draw(st.integers(0, len(wrapped.blob) - 1))
    changed = bytearray(wrapped.blob)
    changed[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(IntegrityError):
        unwrap(keys, WrappedKey(1, bytes(changed)), aad, what="x")


def test_wrapped_keys_of_unknown_version_or_kind(kor: PartyKeys) -> None:
    blob = wrap_for_self(kor, new_data_key(), AAD).blob
    with pytest.raises(IntegrityError, match="format version 9, which this accord does not know"):
        unwrap(kor, WrappedKey(1, b"\x09" + blob[1:]), AAD, what="x")
    for bad in (b"\x01Z" + blob[2:], b"", b"\x01", b"\x01S", blob[:-1], blob + b"\x00"):
        with pytest.raises(IntegrityError):
            unwrap(kor, WrappedKey(1, bad), AAD, what="x")


def test_a_wrapped_key_names_the_key_version_it_needs() -> None:
    v1, v2 = PartyKeys.generate("KOR", 1), PartyKeys.generate("KOR", 2)
    wrapped = wrap_for_self(v1, new_data_key(), AAD)
    with pytest.raises(InvalidInput, match="for key version 1, not version 2 of KOR"):
        unwrap(v2, wrapped, AAD, what="x")
    with pytest.raises(IntegrityError):  # the version is bound too
        unwrap(v2, WrappedKey(2, wrapped.blob), AAD, what="x")


# --- one stored column --------------------------------------------------------------------------


def test_wrapped_key_bytes_round_trip(kor: PartyKeys) -> None:
    for wrapped in (
        wrap_for_self(kor, new_data_key(), AAD),
        wrap_for(kor.public(), new_data_key(), AAD),
    ):
        stored = wrapped.to_bytes()
        assert stored[:6] == b"\x01K\x00\x00\x00\x01"
        assert stored[6:] == wrapped.blob
        assert WrappedKey.from_bytes(stored) == wrapped
    with pytest.raises(IntegrityError, match="format version 2"):
        WrappedKey.from_bytes(b"\x02" + stored[1:])
    with pytest.raises(IntegrityError):
        WrappedKey.from_bytes(b"\x01K\x00")
    with pytest.raises(IntegrityError, match="key version 0"):
        WrappedKey.from_bytes(b"\x01K\x00\x00\x00\x00" + stored[6:])


def test_every_changed_byte_of_a_stored_wrapped_key_is_refused() -> None:
    """As the service reads it: parse the column, take the keys of the version it names, unwrap."""
    master = MasterKey.generate()
    ring = Keyring(master)
    keys = PartyKeys.generate("KOR")
    ring.add(keys)
    key = new_data_key()
    stored = wrap_for(keys.public(), key, AAD).to_bytes()
    for position, changed in flips(stored):
        with pytest.raises((IntegrityError, KeyUnavailable)) as caught:
            wrapped = WrappedKey.from_bytes(changed)
            unwrap(ring.get("KOR", wrapped.key_version), wrapped, AAD, what="x")
        expected = (
            KeyUnavailable if 2 <= position <= 5 and changed[2:6] != bytes(4) else IntegrityError
        )
        assert caught.type is expected


# --- rotation -----------------------------------------------------------------------------------


def test_rewrap_preserves_access_under_the_new_keys() -> None:
    old, new = PartyKeys.generate("JPN", 1), PartyKeys.generate("JPN", 2)
    key = new_data_key()
    for wrapped in (wrap_for(old.public(), key, AAD), wrap_for_self(old, key, AAD)):
        moved = rewrap(old, new, wrapped, AAD, what="item report-1 at JPN")
        assert (moved.key_version, moved.kind) == (2, "self")
        assert unwrap(new, moved, AAD, what="x") == key
        with pytest.raises(IntegrityError):
            unwrap(old, WrappedKey(1, moved.blob), AAD, what="x")
    with pytest.raises(InvalidInput, match="keeps the holder"):
        rewrap(old, PartyKeys.generate("KOR", 2), wrapped, AAD, what="x")
    with pytest.raises(IntegrityError):
        rewrap(old, new, wrapped, b"other", what="x")
