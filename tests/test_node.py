"""Sovereign nodes: identity, signed cards, pinned peers, and the mutual-TLS channel, on real
SQLite stores and real TLS over 127.0.0.1 (certificates for the negative cases made with
``cryptography``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import socket
import ssl
import threading
from pathlib import Path

import pytest
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from cryptography.x509.oid import NameOID

from accord.api.node_server import NodeServerSettings, node_endpoint
from accord.crypto import EXCHANGE, open_keys
from accord.crypto.card import card_fields, card_message, card_text, parse_card
from accord.crypto.keys import SealedKeySet
from accord.crypto.tls import TlsIdentity
from accord.errors import (
    CardInvalid,
    CardSignatureInvalid,
    CertificateMismatch,
    IntegrityError,
    InvalidInput,
    KeyMismatch,
    NodeExists,
    NotANode,
    OwnCard,
    PeerConflict,
    PeerRefused,
    PeerRejected,
    PeerRowTampered,
    PeerUnavailable,
    UnknownPeer,
)
from accord.model.node import CardSignature, NodeCard, PeerStatus
from accord.model.party import Party
from accord.service import Exchange, MasterKey
from accord.service.node import Node
from accord.service.peer_client import PeerClient
from tests.nodes import Made, Recorder, dump, make_node, reopen
from tests.stores import execute

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def kor(tmp_path: Path) -> Made:
    return make_node(tmp_path / "kor", "KOR")


@pytest.fixture
def jpn(tmp_path: Path) -> Made:
    return make_node(tmp_path / "jpn", "JPN")


@pytest.fixture
def paired(kor: Made, jpn: Made) -> tuple[Made, Made]:
    kor.node.trust(jpn.node.card_text().encode(), "jpn.card")
    jpn.node.trust(kor.node.card_text().encode(), "kor.card")
    return kor, jpn


def _key_sets(made: Made) -> list[SealedKeySet]:
    with made.node.exchange.store.transaction() as tx:
        return [
            SealedKeySet(r.owner, r.version, r.x25519_public, r.ed25519_public, r.sealed_private)
            for r in tx.key_sets()
        ]


def _resign(made: Made, doc: dict[str, object]) -> bytes:
    """``doc`` signed by ``made``'s party key, as a forger with that key could."""
    with made.node.exchange.store.transaction() as tx:
        keys = made.node.exchange.vault.keyring(tx, tx.revision()).current(made.party)
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    signature = keys.ed25519.sign(b"accord node card v1\n" + rfc8785.dumps(unsigned))
    return json.dumps(
        {**unsigned, "signature": {"key_version": keys.version, "ed25519": signature.hex()}}
    ).encode()


def _certificate(
    party: str,
    host: str = "127.0.0.1",
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    signer: ec.EllipticCurvePrivateKey | None = None,
    start: dt.datetime | None = None,
    days: int = 30,
) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A certificate made here with ``cryptography`` (not by accord's code)."""
    import ipaddress

    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, party)])
    begin = start or NOW - dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(signer or key, hashes.SHA256())
    )
    return key, cert.public_bytes(Encoding.PEM).decode()


def _spki(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    der = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


# --- init -----------------------------------------------------------------------------------------


def test_a_node_store_holds_only_its_own_partys_private_keys(kor: Made) -> None:
    kor.node.exchange.add_party(Party("JPN", "Japan", "Asia/Tokyo", ("SECRET",)))
    kor.node.exchange.add_party(Party("USA", "USA", "America/New_York", ("SECRET",)))
    sealed = _key_sets(kor)
    assert sorted({s.owner for s in sealed}) == [EXCHANGE, "KOR"]
    for row in sealed:  # every private key in the store opens, and is KOR's or the node's own
        assert open_keys(row, kor.master).owner in (EXCHANGE, "KOR")
    tls = kor.node.identity().private_key.private_bytes(
        Encoding.DER, PrivateFormat.PKCS8, NoEncryption()
    )
    raw = kor.db.read_bytes() + b"".join(p.read_bytes() for p in kor.db.parent.glob("*.db-wal"))
    assert tls not in raw and tls[-32:] not in raw  # the TLS key is sealed, never in clear


def test_a_second_init_is_refused_and_changes_nothing(kor: Made) -> None:
    before = dump(kor.db)
    with pytest.raises(NodeExists):
        reopen(kor).init("KOR", kor.url)
    with pytest.raises(NodeExists):
        reopen(kor).init("JPN", "https://127.0.0.1:9")
    assert dump(kor.db) == before


def test_init_on_an_exchange_with_keys_is_refused(tmp_path: Path) -> None:
    master = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{tmp_path / 'x.db'}", master=lambda: master)
    exchange.init_keys()
    before = dump(tmp_path / "x.db")
    with pytest.raises(NodeExists, match="already has keys"):
        Node(exchange).init("KOR", "https://127.0.0.1:7001")
    assert dump(tmp_path / "x.db") == before


@pytest.mark.parametrize(
    ("party", "url", "field"),
    [
        ("KOR", "http://127.0.0.1:7001", "--url"),
        ("KOR", "https://127.0.0.1", "--url"),
        ("KOR", "https://127.0.0.1:7001/path", "--url"),
        ("KOR", "https://user@127.0.0.1:7001", "--url"),
        ("@exchange", "https://127.0.0.1:7001", "PARTY"),
        (" KOR", "https://127.0.0.1:7001", "PARTY"),
    ],
)
def test_init_refuses_a_bad_party_or_url(tmp_path: Path, party: str, url: str, field: str) -> None:
    master = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{tmp_path / 'n.db'}", master=lambda: master)
    before = dump(tmp_path / "n.db")
    with pytest.raises(InvalidInput, match=field):
        Node(exchange).init(party, url)
    assert dump(tmp_path / "n.db") == before


def test_node_commands_on_a_plain_exchange_say_it_is_not_a_node(tmp_path: Path) -> None:
    master = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{tmp_path / 'x.db'}", master=lambda: master)
    exchange.init_keys()
    with pytest.raises(NotANode):
        Node(exchange).card()
    with pytest.raises(NotANode):
        Node(exchange).peers()


# --- the card ------------------------------------------------------------------------------------


def test_the_card_is_signed_by_the_party_and_names_what_it_should(kor: Made) -> None:
    doc = json.loads(kor.node.card_text())
    assert doc["format"] == "accord-node-card/1"
    assert (doc["party"], doc["url"]) == ("KOR", kor.url)
    assert doc["log_verifier_key"] == kor.node.exchange.verifier_key()
    # the key sets are the store's public keys
    sealed = [s for s in _key_sets(kor) if s.owner == "KOR"]
    assert doc["key_sets"] == [
        {"version": s.version, "x25519": s.x25519_public.hex(), "ed25519": s.ed25519_public.hex()}
        for s in sealed
    ]
    # the signature checks with nothing but rfc8785 and an Ed25519 (independent of accord)
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(doc["key_sets"][-1]["ed25519"]))
    public.verify(
        bytes.fromhex(doc["signature"]["ed25519"]),
        b"accord node card v1\n" + rfc8785.dumps(unsigned),
    )
    cert = x509.load_pem_x509_certificate(doc["tls"]["certificate"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "KOR"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert _spki(doc["tls"]["certificate"]) == doc["tls"]["key_sha256"]


def test_a_card_survives_its_codec(kor: Made) -> None:
    card = kor.node.card()
    assert parse_card(card_text(card), "c") == card
    assert card_message(card_fields(card)).startswith(b"accord node card v1\n")


# --- trust ---------------------------------------------------------------------------------------


def test_trust_pins_a_peer_and_again_changes_nothing(kor: Made, jpn: Made) -> None:
    peer = kor.node.trust(jpn.node.card_text().encode(), "jpn.card")
    assert (peer.party, peer.status) == ("JPN", PeerStatus.PINNED)
    assert peer.fingerprint == jpn.node.identity().fingerprint
    before = dump(kor.db)
    again = reopen(kor).trust(jpn.node.card_text().encode(), "jpn.card")
    assert again.fingerprint == peer.fingerprint
    assert dump(kor.db) == before
    [listed] = reopen(kor).peers()
    assert (listed.party, listed.card.url, listed.fingerprint) == ("JPN", jpn.url, peer.fingerprint)


def _refused(made: Made, text: bytes, error: type[Exception], match: str) -> None:
    before = dump(made.db)
    with pytest.raises(error, match=match):
        reopen(made).trust(text, "peer.card")
    assert dump(made.db) == before


def test_a_card_for_a_party_pinned_with_another_certificate_is_a_conflict(
    tmp_path: Path, paired: tuple[Made, Made]
) -> None:
    kor, _ = paired
    impostor = make_node(tmp_path / "other", "JPN")
    _refused(kor, impostor.node.card_text().encode(), PeerConflict, "JPN is already pinned")


def test_pinning_the_nodes_own_party_is_refused(tmp_path: Path, kor: Made) -> None:
    _refused(kor, kor.node.card_text().encode(), OwnCard, "own party")
    twin = make_node(tmp_path / "twin", "KOR")  # another store claiming KOR
    _refused(kor, twin.node.card_text().encode(), OwnCard, "own party")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"not json", "not a JSON node card"),
        (b"[]", "the card: \\[\\] is not a JSON object"),
        (b"{}", "format"),
        (b"\xff\xfe", "not a JSON node card"),
    ],
)
def test_a_malformed_card_is_refused(kor: Made, text: bytes, match: str) -> None:
    _refused(kor, text, CardInvalid, match)


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("party",), "", "party"),
        (("url",), "http://127.0.0.1:1", "url"),
        (("tls", "key_sha256"), "ABC", "tls.key_sha256"),
        (("key_sets",), [], "key_sets"),
        (("key_sets", 0, "ed25519"), "00", "key_sets\\[0\\].ed25519"),
        (("signature", "key_version"), True, "signature.key_version"),
        (("signature", "ed25519"), 7, "signature.ed25519"),
        (("extra",), 1, "unknown member 'extra'"),
    ],
)
def test_a_card_with_a_bad_field_names_it(
    kor: Made, jpn: Made, path: tuple[object, ...], value: object, match: str
) -> None:
    doc = json.loads(jpn.node.card_text())
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    _refused(kor, json.dumps(doc).encode(), CardInvalid, match)


def test_a_card_whose_signature_does_not_verify_is_refused(kor: Made, jpn: Made) -> None:
    doc = json.loads(jpn.node.card_text())
    doc["url"] = "https://127.0.0.1:1"  # changed after signing
    _refused(kor, json.dumps(doc).encode(), CardSignatureInvalid, "does not verify")


def test_a_certificate_that_does_not_match_its_card_is_refused(kor: Made, jpn: Made) -> None:
    doc = json.loads(jpn.node.card_text())
    # another certificate, the card still naming the first one's key
    _, other = _certificate("JPN")
    bad = {**doc, "tls": {**doc["tls"], "certificate": other}}
    _refused(kor, _resign(jpn, bad), CertificateMismatch, "not the key the card names")
    # a certificate for another party, or another host
    for cert in (_certificate("USA")[1], _certificate("JPN", "127.0.0.2")[1]):
        bad = {**doc, "tls": {"certificate": cert, "key_sha256": _spki(cert)}}
        _refused(kor, _resign(jpn, bad), CertificateMismatch, "tls.certificate")
    # not self-signed by its own key, or expired
    key, _ = _certificate("JPN")
    _, forged = _certificate("JPN", key=key, signer=ec.generate_private_key(ec.SECP256R1()))
    _, expired = _certificate("JPN", start=NOW - dt.timedelta(days=40))
    for cert, match in ((forged, "self-signed"), (expired, "valid from")):
        bad = {**doc, "tls": {"certificate": cert, "key_sha256": _spki(cert)}}
        _refused(kor, _resign(jpn, bad), CertificateMismatch, match)
    not_pem = {**doc, "tls": {**doc["tls"], "certificate": "-----BEGIN nothing"}}
    _refused(kor, _resign(jpn, not_pem), CertificateMismatch, "not a PEM")


def test_a_card_reusing_a_pinned_certificate_for_another_party_is_refused(
    tmp_path: Path, paired: tuple[Made, Made]
) -> None:
    kor, jpn = paired
    usa = make_node(tmp_path / "usa", "USA")
    doc = json.loads(usa.node.card_text())
    jpn_cert = json.loads(jpn.node.card_text())["tls"]
    # USA claims JPN's certificate (its CN names JPN, so it is caught as a mismatch either way)
    _refused(kor, _resign(usa, {**doc, "tls": jpn_cert}), CertificateMismatch, "tls.certificate")


def test_an_edited_peer_row_is_an_integrity_error_not_a_trusted_peer(
    tmp_path: Path, paired: tuple[Made, Made]
) -> None:
    kor, _ = paired
    impostor = make_node(tmp_path / "imp", "JPN")
    card = json.loads(impostor.node.card_text())
    fingerprint = impostor.node.identity().fingerprint
    execute(
        kor.db,
        "update node_peers set card = ?, fingerprint = ? where party = 'JPN'",
        json.dumps(card),
        fingerprint,
    )
    with pytest.raises(PeerRowTampered, match="JPN"):
        reopen(kor).peers()
    with pytest.raises(PeerRowTampered):
        reopen(kor).client("JPN")


def test_an_inserted_or_redated_peer_row_is_refused(tmp_path: Path, kor: Made, jpn: Made) -> None:
    kor.node.trust(jpn.node.card_text().encode(), "jpn.card")
    execute(kor.db, "update node_peers set pinned_at = pinned_at + 1")
    with pytest.raises(PeerRowTampered):
        reopen(kor).peers()
    execute(kor.db, "update node_peers set pinned_at = pinned_at - 1")
    assert [p.party for p in reopen(kor).peers()] == ["JPN"]
    usa = make_node(tmp_path / "usa", "USA")
    execute(
        kor.db,
        "insert into node_peers values ('USA', ?, ?, 0, x'00')",
        usa.node.identity().fingerprint,
        usa.node.card_text(),
    )
    with pytest.raises(PeerRowTampered, match="USA"):
        reopen(kor).peers()


def test_an_edited_identity_row_is_refused(kor: Made) -> None:
    execute(kor.db, "update node_identity set url = 'https://127.0.0.1:1'")
    with pytest.raises(PeerRowTampered, match="identity"):
        reopen(kor).card()


def test_the_audit_log_explains_node_rows(paired: tuple[Made, Made]) -> None:
    kor, _ = paired
    report = reopen(kor).exchange.audit_verify()
    assert report.rows == 4  # two key sets, the identity and the pinned peer
    execute(kor.db, "update node_peers set pinned_at = pinned_at + 1")
    with pytest.raises(IntegrityError, match="node_peers"):
        reopen(kor).exchange.audit_verify()


def test_an_unknown_peer_is_refused_on_connect(kor: Made) -> None:
    with pytest.raises(UnknownPeer, match="'USA' is not a pinned peer"):
        kor.node.client("USA")


# --- the channel ---------------------------------------------------------------------------------


def _serve(made: Made, handler: Recorder | None = None, **settings: object):  # type: ignore[no-untyped-def]
    options = NodeServerSettings("127.0.0.1", made.port, **settings)  # type: ignore[arg-type]
    return node_endpoint(reopen(made), handler or Recorder(), options).start()


def test_a_pinned_peers_post_arrives_with_its_party(paired: tuple[Made, Made]) -> None:
    kor, jpn = paired
    recorder = Recorder(answer=b"receipt")
    with _serve(jpn, recorder), kor.node.client("JPN") as client:
        assert client.post("/node/v1/messages", b"\x00fact\xff", timeout=10) == b"receipt"
        card = parse_card(client.get("/node/v1/card", timeout=10), "served card")
    assert recorder.arrived == [("KOR", b"\x00fact\xff")]
    assert card == jpn.node.card()
    [peer] = reopen(jpn).peers()
    assert peer.status is PeerStatus.REACHABLE and peer.last_contact is not None


def test_a_client_with_an_unpinned_certificate_is_refused_and_logged(
    paired: tuple[Made, Made], caplog: pytest.LogCaptureFixture
) -> None:
    kor, jpn = paired
    recorder = Recorder()
    stranger = TlsIdentity.generate("KOR", "127.0.0.1", NOW)  # KOR's name, another key
    caplog.set_level(logging.WARNING, logger="accord.node")
    client = PeerClient(stranger, kor.node.peer("JPN").card)
    with _serve(jpn, recorder), client, pytest.raises(PeerRefused, match="handshake"):
        client.post("/node/v1/messages", b"forged", timeout=10)
    assert recorder.arrived == []
    assert any("refused a TLS handshake" in r.getMessage() for r in caplog.records)


def test_a_client_with_no_certificate_is_refused(paired: tuple[Made, Made]) -> None:
    kor, jpn = paired
    recorder = Recorder()
    context = ssl.create_default_context(cadata=kor.node.peer("JPN").card.certificate)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    request = b"POST /node/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
    with (
        _serve(jpn, recorder),
        socket.create_connection(("127.0.0.1", jpn.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        pytest.raises((ssl.SSLError, ConnectionError)),
    ):
        tls.sendall(request)
        if not tls.recv(1024):
            raise ConnectionError("closed")
    assert recorder.arrived == []


def test_a_server_whose_certificate_is_not_the_pinned_one_is_refused(
    tmp_path: Path, paired: tuple[Made, Made]
) -> None:
    kor, jpn = paired
    impostor = make_node(tmp_path / "imp", "JPN", port=jpn.port)  # same URL, another cert
    impostor.node.trust(kor.node.card_text().encode(), "kor.card")  # it would accept KOR
    recorder = Recorder()
    with _serve(impostor, recorder), kor.node.client("JPN") as client, pytest.raises(PeerRefused):
        client.post("/node/v1/messages", b"secret", timeout=10)
    assert recorder.arrived == []


def test_a_peer_that_is_down_is_unavailable(paired: tuple[Made, Made]) -> None:
    kor, _ = paired
    with kor.node.client("JPN") as client, pytest.raises(PeerUnavailable):
        client.post("/node/v1/messages", b"x", timeout=5)


def test_a_peer_that_does_not_answer_in_time_is_unavailable(paired: tuple[Made, Made]) -> None:
    kor, jpn = paired
    release = threading.Event()

    def slow(party: str, body: bytes) -> tuple[int, bytes]:
        release.wait(30)  # bounded: the test sets it as soon as the client gave up
        return 200, b""

    options = NodeServerSettings("127.0.0.1", jpn.port)
    with node_endpoint(reopen(jpn), slow, options).start(), kor.node.client("JPN") as client:
        try:
            with pytest.raises(PeerUnavailable, match="did not answer"):
                client.post("/node/v1/messages", b"x", timeout=0.5)
        finally:
            release.set()


def test_the_endpoint_limits_and_refuses_what_it_does_not_serve(paired: tuple[Made, Made]) -> None:
    kor, jpn = paired
    recorder = Recorder()
    with _serve(jpn, recorder, max_body=1024), kor.node.client("JPN") as client:
        with pytest.raises(PeerRejected) as big:
            client.post("/node/v1/messages", b"x" * 1025, timeout=10)
        assert big.value.status == 413
        assert client.post("/node/v1/messages", b"x" * 1024, timeout=10) == b"received"
        for method, path, status in (
            ("GET", "/node/v1/other", 404),
            ("POST", "/node/v1/card", 405),
            ("GET", "/node/v1/messages", 405),
        ):
            with pytest.raises(PeerRejected) as answer:
                if method == "GET":
                    client.get(path, timeout=10)
                else:
                    client.post(path, b"", timeout=10)
            assert answer.value.status == status
    assert recorder.arrived == [("KOR", b"x" * 1024)]


def test_a_handler_failure_is_a_500_that_says_nothing(paired: tuple[Made, Made]) -> None:
    kor, jpn = paired

    def broken(party: str, body: bytes) -> tuple[int, bytes]:
        raise RuntimeError("secret detail")

    options = NodeServerSettings("127.0.0.1", jpn.port)
    with (
        node_endpoint(reopen(jpn), broken, options).start(),
        kor.node.client("JPN") as client,
        pytest.raises(PeerRejected) as answer,
    ):
        client.post("/node/v1/messages", b"x", timeout=10)
    assert answer.value.status == 500
    assert b"secret" not in answer.value.body


def test_a_peer_not_pinned_when_the_server_started_is_refused(
    tmp_path: Path, kor: Made, jpn: Made
) -> None:
    jpn.node.trust(kor.node.card_text().encode(), "kor.card")
    usa = make_node(tmp_path / "usa", "USA")
    usa.node.trust(jpn.node.card_text().encode(), "jpn.card")
    recorder = Recorder()
    with _serve(jpn, recorder), usa.node.client("JPN") as client, pytest.raises(PeerRefused):
        client.post("/node/v1/messages", b"x", timeout=10)
    assert recorder.arrived == []


def test_a_card_is_a_typed_value() -> None:
    card = NodeCard("KOR", "https://h:1", "pem", "0" * 64, (), "k", CardSignature(1, "00"))
    assert card.key_set(1) is None


def test_a_probe_records_who_answered_with_the_pinned_card(
    tmp_path: Path, paired: tuple[Made, Made]
) -> None:
    kor, jpn = paired
    usa = make_node(tmp_path / "usa", "USA")
    kor.node.trust(usa.node.card_text().encode(), "usa.card")  # pinned, never started
    with _serve(jpn):
        found = {p.party: p for p in reopen(kor).probe(timeout=10)}
    assert found["JPN"].status is PeerStatus.REACHABLE
    assert (found["USA"].status, found["USA"].last_error) == (
        PeerStatus.FAILING,
        "peer-unavailable",
    )


def test_a_master_key_rotation_reseals_the_tls_key_too(paired: tuple[Made, Made]) -> None:
    kor, jpn = paired
    before = reopen(kor).identity()
    new = MasterKey.generate()
    kor.node.exchange.rotate_master(new)
    rotated = Node(Exchange.open(f"sqlite:///{kor.db}", master=lambda: new, create=False))
    after = rotated.identity()
    assert after.fingerprint == before.fingerprint
    assert after.private_key.private_numbers() == before.private_key.private_numbers()
    assert card_fields(rotated.card()) == card_fields(kor.node.card())
    rotated.exchange.audit_verify()  # the rewritten identity row is explained by the log
    with pytest.raises(KeyMismatch):
        reopen(kor).identity()  # the old master key opens nothing
    recorder = Recorder()
    with _serve(jpn, recorder), rotated.client("JPN") as client:
        client.post("/node/v1/messages", b"after rotation", timeout=10)
    assert recorder.arrived == [("KOR", b"after rotation")]


def test_keys_init_on_a_node_store_is_refused(kor: Made) -> None:
    before = dump(kor.db)
    with pytest.raises(InvalidInput, match="already has keys"):
        reopen(kor).exchange.init_keys()
    assert dump(kor.db) == before
