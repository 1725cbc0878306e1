"""A node's TLS identity and the mutual-TLS contexts made from it (``ssl`` and ``cryptography``).

The identity is an ECDSA P-256 key and a self-signed X.509 certificate naming the party (subject
CN) and the node URL's host (subjectAltName: an IP address or a DNS name). P-256, not Ed25519:
every TLS 1.3 stack verifies ECDSA P-256 certificates (Ed25519 certificates are still refused by
many clients and proxies), and OpenSSL, Python's ``ssl`` and httpx all do.

At rest the private key is PKCS#8 DER sealed under the master key, bound to the party and the
certificate's SHA-256, so a sealed key moved to another certificate does not open. It is never
written in clear: ``ssl`` loads a key only from a file, so it is written as an encrypted PEM
under a one-off random password into a fresh 0700 directory, which is deleted as soon as
``load_cert_chain`` has read it.

Both contexts are TLS 1.3 only, require a certificate from the other side, and trust only the
pinned certificates given (as trust anchors, with partial chains allowed, so a pinned
self-signed leaf is the whole chain). Callers still compare the exact certificate fingerprint
after the handshake.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
import shutil
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.crypto.keys import check_owner
from accord.crypto.master import MasterKey
from accord.errors import IntegrityError, InvalidInput
from accord.model.time import require_aware

TLS_KEY_LABEL = b"accord node tls key v1\x00"
VALIDITY = timedelta(days=5 * 365)
BACKDATE = timedelta(hours=1)  # a peer whose clock is a little behind still accepts the cert


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 of the certificate's DER encoding, lowercase hex."""
    return der_fingerprint(load_certificate(pem).public_bytes(Encoding.DER))


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def spki_sha256(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's SubjectPublicKeyInfo (DER), lowercase hex."""
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def load_certificate(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput("the certificate is not a PEM X.509 certificate") from None


def host_name(host: str) -> x509.GeneralName:
    """The subjectAltName entry for ``host``: an IP address, else a DNS name."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


@dataclass(frozen=True)
class TlsIdentity:
    """A node's certificate (PEM) and its private key; ``repr`` shows no key."""

    party: str
    certificate_pem: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate_pem)

    @classmethod
    def generate(cls, party: str, host: str, at: datetime) -> TlsIdentity:
        """A new P-256 key and a certificate valid from ``at`` (an hour back) for five years."""
        check_owner(party)
        at = require_aware(at, "at")
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, party),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "accord node"),
            ]
        )
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,  # it signs itself: OpenSSL then sees a self-signed certificate
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        purposes = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(at - BACKDATE)
            .not_valid_after(at + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([host_name(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(party, certificate.public_bytes(Encoding.PEM).decode("ascii"), key)


def _tls_aad(party: str, certificate_pem: str) -> bytes:
    encoded = check_owner(party)
    fingerprint = bytes.fromhex(certificate_fingerprint(certificate_pem))
    return TLS_KEY_LABEL + bytes([len(encoded)]) + encoded + fingerprint


def seal_identity(identity: TlsIdentity, master: MasterKey) -> bytes:
    """The private key as PKCS#8 DER, sealed under the master key, bound to party and cert."""
    der = identity.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return master.seal(der, _tls_aad(identity.party, identity.certificate_pem))


def open_identity(
    party: str, certificate_pem: str, sealed: bytes, master: MasterKey
) -> TlsIdentity:
    """The identity whose sealed key is ``sealed``; ``IntegrityError`` when it does not open or
    its key is not the certificate's."""
    what = f"the TLS key of node {party}"
    der = master.unseal(sealed, _tls_aad(party, certificate_pem), what=what)
    key = load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IntegrityError(f"{what} is not an ECDSA key")
    certificate = load_certificate(certificate_pem)
    ours = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    theirs = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if ours != theirs:
        raise IntegrityError(f"{what} is not the key of its certificate")
    return TlsIdentity(party, certificate_pem, key)


# --- contexts ------------------------------------------------------------------------------------


def load_chain(context: ssl.SSLContext, identity: TlsIdentity) -> None:
    """Give ``context`` our certificate and key without the key ever in clear on disk."""
    password = base64.urlsafe_b64encode(secrets.token_bytes(32))
    encrypted = identity.private_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(password)
    )
    folder = Path(tempfile.mkdtemp(prefix="accord-tls-"))  # mode 0700
    try:
        cert_file, key_file = folder / "cert.pem", folder / "key.pem"
        cert_file.write_text(identity.certificate_pem, encoding="ascii")
        key_file.write_bytes(encrypted)
        context.load_cert_chain(cert_file, key_file, password=password)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pin(context: ssl.SSLContext, anchors: Sequence[str]) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if anchors:
        context.load_verify_locations(cadata="".join(anchors))


def server_context(identity: TlsIdentity, pinned: Sequence[str]) -> ssl.SSLContext:
    """TLS 1.3, a client certificate required, the ``pinned`` certificates (PEM) the only trust
    anchors: a client presenting anything else fails the handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _pin(context, pinned)
    load_chain(context, identity)
    return context


def client_context(identity: TlsIdentity, peer_certificate: str) -> ssl.SSLContext:
    """TLS 1.3, our certificate offered, the peer's pinned certificate the only trust anchor,
    and the peer's host checked against it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _pin(context, [peer_certificate])
    context.check_hostname = True
    load_chain(context, identity)
    return context
