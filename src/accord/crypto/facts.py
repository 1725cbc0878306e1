"""What a fact's signatures are over, and its id.

A fact is signed, by each party that vouches for it, over
``FACT_PREFIX || canonical_json({"kind", "seq", "vouchers"}) || "\\n" || body`` where ``body`` is
the fact's canonical JSON (RFC 8785) as stored: the signature binds the fact to its kind, its
place in the record (so a fact moved, or another put in its place, fails) and who vouches for it.
The id is the SHA-256 of the kind and the body alone: the same fact has the same id wherever it
is recorded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence

from accord.crypto.canonical import canonical_json
from accord.crypto.keys import PartyKeys, PublicKeys
from accord.crypto.signing import Signature, sign, verify
from accord.errors import IntegrityError

FACT_PREFIX = b"accord fact v1\n"


def fact_message(seq: int, kind: str, vouchers: Sequence[str], body: str) -> bytes:
    header = canonical_json({"kind": kind, "seq": seq, "vouchers": list(vouchers)})
    return FACT_PREFIX + header + b"\n" + body.encode("utf-8")


def fact_id(kind: str, body: str) -> str:
    return hashlib.sha256(kind.encode("utf-8") + b"\n" + body.encode("utf-8")).hexdigest()


def sign_fact(keys: PartyKeys, message: bytes) -> str:
    """One voucher's signature over a fact's message, as stored (base64 of ``Signature``)."""
    return base64.b64encode(sign(keys, message).to_bytes()).decode("ascii")


def stored_signature(text: str, *, what: str) -> Signature:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise IntegrityError(f"{what}: the stored signature is malformed") from None
    return Signature.from_bytes(raw, what=what)


def verify_fact(public: PublicKeys, message: bytes, signature: Signature, *, what: str) -> None:
    verify(public, message, signature, what=what)
