"""Property tests of the node card: any card accord signs survives its codec and verifies with
an independent check (``rfc8785`` and ``cryptography``'s Ed25519, nothing of accord's), and any
change to a signed member makes both accord's check and the independent one fail."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.crypto import PartyKeys
from accord.crypto.card import card_text, parse_card, sign_card, verify_card
from accord.crypto.tls import TlsIdentity
from accord.errors import CardInvalid, CardSignatureInvalid
from accord.model.node import CardKeySet

CERT = TlsIdentity.generate("KOR", "127.0.0.1", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
# keys made once, by seed: the properties vary the card, not the (slow) key generation
KEYS = [
    PartyKeys.from_private_bytes("P", 1, bytes([n]) * 32, bytes([n + 100]) * 32)
    for n in range(1, 4)
]

parties = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789", min_size=1, max_size=12).filter(
    lambda s: s == s.strip()
)
hosts = st.sampled_from(["127.0.0.1", "::1", "node.example", "kor.gov.example"])
ports = st.integers(1, 65535)
hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)


def _oracle(doc: dict[str, object]) -> bool:
    """The signature checked with nothing but RFC 8785 and Ed25519."""
    sets = doc["key_sets"]
    assert isinstance(sets, list)
    newest = max(sets, key=lambda k: k["version"])
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    signature = doc["signature"]
    assert isinstance(signature, dict)
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(newest["ed25519"])).verify(
            bytes.fromhex(signature["ed25519"]), b"accord node card v1\n" + rfc8785.dumps(unsigned)
        )
    except (InvalidSignature, ValueError):
        return False
    return signature["key_version"] == newest["version"]


@st.composite
def cards(draw: st.DrawFn) -> str:
    party = draw(parties)
    host = draw(hosts)
    url = f"https://{'[' + host + ']' if ':' in host else host}:{draw(ports)}"
    count = draw(st.integers(1, 3))
    keys = PartyKeys(party, count, KEYS[count - 1].x25519, KEYS[count - 1].ed25519)
    older = [CardKeySet(v, draw(hex32), draw(hex32)) for v in range(1, count)]
    newest = keys.public()
    sets = (*older, CardKeySet(count, newest.x25519.hex(), newest.ed25519.hex()))
    verifier = draw(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s))
    return card_text(sign_card(keys, url, CERT.certificate_pem, sets, verifier))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cards())
def test_a_signed_card_round_trips_and_verifies_independently(text: str) -> None:
    card = parse_card(text, "card")
    verify_card(card, "card")
    assert card_text(card) == text
    assert _oracle(json.loads(text))


MUTABLE = ("party", "url", "log_verifier_key", ("tls", "certificate"), ("key_sets", "x25519"))


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cards(), st.sampled_from(MUTABLE), st.text("xyz", min_size=1, max_size=3))
def test_any_change_to_a_signed_member_breaks_both_checks(
    text: str, member: str | tuple[str, str], suffix: str
) -> None:
    doc = json.loads(text)
    if member == ("tls", "certificate"):
        doc["tls"]["certificate"] += suffix
    elif member == ("key_sets", "x25519"):
        first = doc["key_sets"][0]["x25519"]
        doc["key_sets"][0]["x25519"] = ("0" if first[0] != "0" else "1") + first[1:]
    else:
        assert isinstance(member, str)
        # a URL may end in "/": still a valid card, but not the one that was signed
        doc[member] += "/" if member == "url" else suffix
    assert not _oracle(doc)
    mutated = json.dumps(doc)
    with pytest.raises((CardSignatureInvalid, CardInvalid)):
        verify_card(parse_card(mutated, "card"), "card")
