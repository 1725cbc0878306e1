"""accord.crypto signatures and canonical JSON.

Canonical JSON vectors are RFC 8785's own: the §3.2.2 sample, the §3.2.3 sorting sample and the
Appendix B number table (https://www.rfc-editor.org/rfc/rfc8785), expected bytes written out
here. Interop: item signatures verify with ``cryptography``'s Ed25519 over the documented bytes.
"""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from accord.crypto import (
    ITEM_PREFIX,
    PartyKeys,
    Signature,
    canonical_json,
    item_message,
    sign,
    sign_item,
    verify,
    verify_item,
)
from accord.errors import IntegrityError, InvalidInput

FIELDS: dict[str, object] = {
    "item": "report-1",
    "originator": "KOR",
    "level": "군사II급비밀",
    "topics": ["nk-missile"],
    "releasable_to": ["JPN", "USA"],
    "created": "2019-10-31T08:00:00Z",
    "content_sha256": "ab" * 32,
    "size": 1024,
}
# FIELDS as RFC 8785 JSON, written out by hand: keys sorted, no spaces, UTF-8 as is
FIELDS_JSON = (
    '{"content_sha256":"' + "ab" * 32 + '","created":"2019-10-31T08:00:00Z","item":"report-1",'
    '"level":"군사II급비밀","originator":"KOR","releasable_to":["JPN","USA"],"size":1024,'
    '"topics":["nk-missile"]}'
).encode("utf-8")


@pytest.fixture(scope="module")
def kor() -> PartyKeys:
    return PartyKeys.generate("KOR")


# --- canonical JSON (RFC 8785) -----------------------------------------------------------------


def test_rfc8785_section_3_2_2_sample() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        b'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        b'"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")
    assert canonical_json(value) == expected


APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_json(number) == text.encode()
    assert canonical_json([number]) == f"[{text}]".encode()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (struct.unpack(">d", bytes.fromhex("7fffffffffffffff"))[0], "NaN or infinite"),  # NaN
        (struct.unpack(">d", bytes.fromhex("7ff0000000000000"))[0], "NaN or infinite"),  # ∞
        ({"x": [float("-inf")]}, "NaN or infinite"),
        (2**53, "integer outside"),
        (-(2**53), "integer outside"),
        ({1: "x"}, "key that is not a string"),
        ("\ud800", "not valid Unicode"),
        ({"\udc00": 1}, "not valid Unicode"),
        (b"bytes", "value that is not"),
        ({"when": object()}, "value that is not"),
    ],
)
def test_canonical_json_refusals_are_invalid_input(value: object, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        canonical_json(value)
    assert words in caught.value.message
    assert "JCS" not in caught.value.message  # the package's own text is never shown
    assert caught.value.__context__ is None  # no exception of the package is chained


def test_canonical_json_refuses_cycles() -> None:
    cyclic: list[object] = []
    cyclic.append(cyclic)
    with pytest.raises(InvalidInput, match="nested too deeply"):
        canonical_json(cyclic)


def test_integers_at_the_edge_of_the_double_range() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    assert canonical_json(-(2**53 - 1)) == b"-9007199254740991"


# --- plain signatures ---------------------------------------------------------------------------


def test_sign_and_verify(kor: PartyKeys) -> None:
    signature = sign(kor, b"checkpoint 7")
    assert (signature.signer, signature.key_version, len(signature.value)) == ("KOR", 1, 64)
    verify(kor.public(), b"checkpoint 7", signature, what="checkpoint 7")
    Ed25519PublicKey.from_public_bytes(kor.public().ed25519).verify(
        signature.value, b"checkpoint 7"
    )
    with pytest.raises(IntegrityError, match=r"^checkpoint 7: the signature does not verify$"):
        verify(kor.public(), b"checkpoint 8", signature, what="checkpoint 7")


def test_every_changed_byte_of_a_signature_or_message_is_refused(kor: PartyKeys) -> None:
    message = b"accord checkpoint\n" + bytes(range(40))
    signature = sign(kor, message)
    for position in range(64):
        for mask in (0x01, 0x80):
            value = bytearray(signature.value)
            value[position] ^= mask
            with pytest.raises(IntegrityError):
                verify(kor.public(), message, Signature("KOR", 1, bytes(value)), what="x")
    for position in range(len(message)):
        changed = bytearray(message)
        changed[position] ^= 0x01
        with pytest.raises(IntegrityError):
            verify(kor.public(), bytes(changed), signature, what="x")
    for bad in (b"", signature.value[:63], signature.value + b"\x00"):
        with pytest.raises(IntegrityError):
            verify(kor.public(), message, Signature("KOR", 1, bad), what="x")


@given(message=st.binary(max_size=256), data=st.data())
def test_a_changed_byte_anywhere_in_a_signature_is_refused(
    message: bytes, data: st.DataObject
) -> None:
    keys = PartyKeys.generate("USA")
    value = bytearray(sign(keys, message).value)
    value[data.draw(st.integers(0, 63))] ^= data.draw(st.integers(1, 255))
    with pytest.raises(IntegrityError):
        verify(keys.public(), message, Signature("USA", 1, bytes(value)), what="x")


def test_signatures_of_other_parties_or_versions_are_refused(kor: PartyKeys) -> None:
    jpn = PartyKeys.generate("JPN")
    kor2 = PartyKeys.generate("KOR", 2)
    signature = sign(jpn, b"m")
    with pytest.raises(IntegrityError, match="is by JPN key version 1, not by the key given"):
        verify(kor.public(), b"m", signature, what="x")
    with pytest.raises(IntegrityError, match="does not verify"):  # a forged signer field
        verify(kor.public(), b"m", Signature("KOR", 1, signature.value), what="x")
    with pytest.raises(IntegrityError, match="not by the key given"):
        verify(kor2.public(), b"m", sign(kor, b"m"), what="x")


def test_signature_bytes_round_trip_and_every_changed_byte(kor: PartyKeys) -> None:
    signature = sign_item(kor, FIELDS)
    stored = signature.to_bytes()
    assert stored[:10] == b"\x01G\x00\x00\x00\x01\x03KOR"
    assert stored[10:] == signature.value
    assert Signature.from_bytes(stored) == signature
    for position in range(len(stored)):
        changed = bytearray(stored)
        changed[position] ^= 0x01
        with pytest.raises(IntegrityError):
            verify_item(kor.public(), FIELDS, Signature.from_bytes(bytes(changed)), what="x")
    with pytest.raises(IntegrityError, match="format version 0"):
        Signature.from_bytes(b"\x00" + stored[1:])
    for bad in (
        b"",
        b"\x01G",
        stored[:-1],
        stored + b"\x00",
        b"\x01G\x00\x00\x00\x01\x00" + stored[10:],
    ):
        with pytest.raises(IntegrityError):
            Signature.from_bytes(bad)


# --- item signatures ----------------------------------------------------------------------------


def test_item_message_is_the_documented_bytes() -> None:
    assert ITEM_PREFIX == b"accord item signature v1\n"
    assert item_message(FIELDS) == b"accord item signature v1\n" + FIELDS_JSON
    assert item_message(dict(reversed(FIELDS.items()))) == item_message(FIELDS)


def test_sign_item_verifies_with_plain_ed25519_over_the_documented_bytes(kor: PartyKeys) -> None:
    signature = sign_item(kor, FIELDS)
    public = Ed25519PublicKey.from_public_bytes(kor.public().ed25519)
    public.verify(signature.value, b"accord item signature v1\n" + FIELDS_JSON)
    verify_item(kor.public(), dict(reversed(FIELDS.items())), signature, what="item report-1")


def test_a_plain_ed25519_signature_over_the_documented_bytes_verifies_as_an_item() -> None:
    ed25519 = Ed25519PrivateKey.generate()
    keys = PartyKeys.from_private_bytes(
        "KOR", 4, PartyKeys.generate("KOR").x25519.private_bytes_raw(), ed25519.private_bytes_raw()
    )
    value = ed25519.sign(b"accord item signature v1\n" + FIELDS_JSON)
    verify_item(keys.public(), FIELDS, Signature("KOR", 4, value), what="item report-1")
    with pytest.raises(IntegrityError):  # without the prefix, it is not an item signature
        verify_item(keys.public(), FIELDS, Signature("KOR", 4, ed25519.sign(FIELDS_JSON)), what="x")


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_any_changed_field_is_refused(kor: PartyKeys, field: str) -> None:
    signature = sign_item(kor, FIELDS)
    changed = dict(FIELDS)
    changed[field] = 1025 if field == "size" else ["x"] if isinstance(FIELDS[field], list) else "x"
    with pytest.raises(IntegrityError, match=r"^item report-1: the signature does not verify$"):
        verify_item(kor.public(), changed, signature, what="item report-1")
    missing = {k: v for k, v in FIELDS.items() if k != field}
    with pytest.raises(IntegrityError):
        verify_item(kor.public(), missing, signature, what="item report-1")


def test_sign_item_refuses_fields_that_are_not_json(kor: PartyKeys) -> None:
    with pytest.raises(InvalidInput):
        sign_item(kor, {"size": float("nan")})


# --- the fast path writes exactly what rfc8785 writes ------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def assert_same_as_rfc8785(value: object) -> None:
    """``canonical_json`` writes what the ``rfc8785`` package writes, or refuses what it refuses."""
    import rfc8785

    try:
        expected = rfc8785.dumps(value)  # type: ignore[arg-type]
    except (rfc8785.CanonicalizationError, UnicodeError):
        with pytest.raises(InvalidInput):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@given(_json)
def test_canonical_json_equals_the_rfc8785_package(value: object) -> None:
    """Any JSON value, the fast path's domain (BMP keys, exact integers, no floats) or not."""
    assert_same_as_rfc8785(value)


_edge_text = st.text(st.sampled_from(["a", "\x7f", "\ue000", "\uffff", "\U00010000", "\U0001f600"]))
_edge_json = st.recursive(
    st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1) | _edge_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_edge_text, inner, max_size=5),
    max_leaves=20,
)


@given(_edge_json)
def test_canonical_json_keys_near_and_beyond_u_ffff_equal_the_rfc8785_package(
    value: object,
) -> None:
    """Keys and strings around U+FFFF, where UTF-16 order and code point order part."""
    assert_same_as_rfc8785(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\ue000": 2},  # UTF-16 order differs from code point order here
        {"x": [{"\U0001f600a": 1, "\uffff": 2, "a": "\U00010000"}]},  # the same, nested
        {"\ue000": "\U0001f600", "a": 1},  # beyond U+FFFF in a value only
        {"a": "\ud800"},  # a lone surrogate
        {"n": 2**53},
        ['\u2028\u2029\x7f\x00\x1f"\\'],
    ],
)
def test_canonical_json_edge_cases_match_rfc8785(value: object) -> None:
    assert_same_as_rfc8785(value)
