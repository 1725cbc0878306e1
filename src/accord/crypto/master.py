"""The master key: 32 random bytes that seal every party's private keys at rest.

Nothing is encrypted under the master key itself. Two keys are derived from it with HKDF-SHA256
(no salt): a sealing key (info ``accord master seal key v1``) for AES-256-GCM, and the public
``key_id`` (info ``accord master key id v1``, 8 bytes shown as 16 hex digits), which says which
master key a store was sealed under without revealing it.

A sealed blob is ``01 4d`` (format version 1, tag ``M``), a random 96-bit nonce, then the
AES-256-GCM ciphertext and tag; the associated data is those two header bytes followed by the
caller's ``aad``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from accord.errors import IntegrityError, InvalidInput, KeyMismatch, KeyUnavailable

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_VERSION = 1
SEALED_HEADER = bytes([FORMAT_VERSION]) + b"M"
SEAL_INFO = b"accord master seal key v1"
KEY_ID_INFO = b"accord master key id v1"
DEFAULT_ENV = "ACCORD_MASTER_KEY"
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def hkdf_sha256(key: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    """HKDF-SHA256 (RFC 5869) with no salt: ``key`` is already uniformly random."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)


def split_header(blob: bytes, header: bytes, *, kind: str, what: str) -> bytes:
    """The blob after its two header bytes; ``IntegrityError`` if they are not ``header``."""
    if len(blob) < len(header):
        raise IntegrityError(f"{what}: the {kind} is truncated")
    if blob[0] != header[0]:
        raise IntegrityError(
            f"{what}: the {kind} has format version {blob[0]}, which this accord does not know"
        )
    if blob[1:2] != header[1:2]:
        raise IntegrityError(f"{what}: the {kind} is not of the kind expected here")
    return blob[len(header) :]


class MasterKey:
    """32 random bytes; never shown by ``repr`` or ``str`` (only ``key_id`` is)."""

    __slots__ = ("__raw", "_key_id", "_sealer")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != KEY_BYTES:
            raise InvalidInput(f"a master key is {KEY_BYTES} bytes")
        self.__raw = raw
        self._sealer = AESGCM(hkdf_sha256(raw, SEAL_INFO))
        self._key_id = hkdf_sha256(raw, KEY_ID_INFO, 8).hex()

    # --- making and reading --------------------------------------------------------------------

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str, source: str) -> MasterKey:
        """URL-safe base64 of 32 bytes (padding optional, surrounding white space ignored).

        ``source`` names where the text came from (``$ACCORD_MASTER_KEY``, a file path) for the
        error message, which never contains the text itself.
        """
        stripped = "".join(text.split())
        if not stripped:
            raise KeyUnavailable(f"the master key in {source} is empty")
        try:
            if not _URLSAFE_B64.fullmatch(stripped):
                raise ValueError(source)
            raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
        except (binascii.Error, ValueError):
            raise KeyUnavailable(
                f"the master key in {source} is not url-safe base64"
                " (make one with: accord --key-file PATH keys init)"
            ) from None
        if len(raw) != KEY_BYTES:
            raise KeyUnavailable(
                f"the master key in {source} is {len(raw)} bytes; a master key is {KEY_BYTES}"
            )
        return cls(raw)

    @classmethod
    def from_file(cls, path: Path) -> MasterKey:
        try:
            text = Path(path).read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyUnavailable(f"the master key file {path} does not exist") from None
        except PermissionError:
            raise KeyUnavailable(
                f"the master key file {path} cannot be read (permission)"
            ) from None
        except UnicodeDecodeError:
            raise KeyUnavailable(f"the master key in {path} is not url-safe base64") from None
        except OSError:
            raise KeyUnavailable(f"the master key file {path} cannot be read") from None
        return cls.from_text(text, str(path))

    @classmethod
    def from_env(cls, name: str = DEFAULT_ENV) -> MasterKey:
        """The key in the environment variable ``name``: the one place accord.crypto reads it."""
        value = os.environ.get(name, "")
        if not value.strip():
            raise KeyUnavailable(f"${name} is not set: give the master key there or in a file")
        return cls.from_text(value, f"${name}")

    def text(self) -> str:
        """URL-safe base64, padded: what ``from_text`` reads."""
        return base64.urlsafe_b64encode(self.__raw).decode("ascii")

    def write(self, path: Path) -> None:
        """Create ``path`` with mode 0600 holding ``text()``; never overwrites a file."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise InvalidInput(
                f"{path} already exists; a master key file is never overwritten"
            ) from None
        except FileNotFoundError:
            raise InvalidInput(f"cannot create {path}: its directory does not exist") from None
        except PermissionError:
            raise InvalidInput(f"cannot create {path}: permission denied") from None
        except OSError:
            raise InvalidInput(f"cannot create {path}") from None
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (self.text() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- identity ------------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        """A public fingerprint (16 hex digits) derived with HKDF; reveals nothing of the key."""
        return self._key_id

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self._key_id!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return hmac.compare_digest(self.__raw, other.__raw)

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a MasterKey is not pickled; write it with .write() or .text()")

    # --- sealing -------------------------------------------------------------------------------

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """AES-256-GCM under the derived sealing key: ``01 4d || nonce || ciphertext+tag``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return SEALED_HEADER + nonce + self._sealer.encrypt(nonce, plaintext, SEALED_HEADER + aad)

    def unseal(self, blob: bytes, aad: bytes, *, what: str = "the sealed data") -> bytes:
        """The plaintext of ``seal``; ``KeyMismatch`` when the tag does not verify (the wrong
        master key, or the blob or ``aad`` changed), ``IntegrityError`` for a blob that is not a
        sealed blob of a known format."""
        body = split_header(blob, SEALED_HEADER, kind="sealed blob", what=what)
        if len(body) < NONCE_BYTES + TAG_BYTES:
            raise IntegrityError(f"{what}: the sealed blob is truncated")
        try:
            return self._sealer.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], SEALED_HEADER + aad)
        except InvalidTag:
            raise KeyMismatch(
                f"the master key {self._key_id} does not open {what}"
                " (a different master key, or the sealed data was changed)"
            ) from None
