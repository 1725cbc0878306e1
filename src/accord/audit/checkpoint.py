"""Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, signed with Ed25519.

A signed note is a text ending in a newline, a blank line, and one or more lines
``— <key name> base64(key hash || signature)``; the signature covers the text, final newline
included. The key hash is SHA-256(key name || 0x0A || 0x01 || public key)[:4] for Ed25519 (type
0x01). A checkpoint's text is its origin, its tree size in decimal and the base64 RFC 9162 root
hash, one per line, then optional extension lines (c2sp.org/tlog-checkpoint). A verifier key,
``<name>+<hex key hash>+base64(0x01 || public key)``, is all a party needs to check one offline
(the format of golang.org/x/mod/sumdb/note).

Fail closed: anything malformed, unknown or not verifying raises ``CheckpointInvalid``.
Signature lines of other keys are kept and ignored, as the note spec requires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accord.audit.hasher import HASH_SIZE
from accord.errors import CheckpointInvalid

SIGNATURE_PREFIX = "\u2014 "  # em dash, space
ED25519 = 0x01  # the signature type byte of c2sp.org/signed-note
KEY_HASH_SIZE = 4
ED25519_SIGNATURE_SIZE = 64
MAX_SIGNATURES = 100  # the spec asks for at least 16; Go's sumdb/note stops at 100
MAX_NOTE_BYTES = 1 << 20
MAX_TREE_SIZE = 2**64 - 1

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX8 = re.compile(r"[0-9a-f]{8}")


# --- keys ------------------------------------------------------------------------------------


class VerifierKey(NamedTuple):
    """A key name and an Ed25519 public key, as ``parse_verifier_key`` reads them."""

    name: str
    key: Ed25519PublicKey


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4], the note key ID."""
    _check_name(name, "key name")
    return hashlib.sha256(name.encode() + b"\n" + _encoded_key(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key string ``name+hash+base64(0x01 || public key)``."""
    encoded = _encoded_key(public_key)
    return f"{name}+{key_hash(name, public_key).hex()}+{_b64(encoded)}"


def parse_verifier_key(text: str) -> VerifierKey:
    """Read a verifier key string; refuses any other type, length or a hash that does not fit."""
    if not isinstance(text, str):
        raise CheckpointInvalid("a verifier key is text")
    name, _, rest = text.partition("+")
    hex_hash, _, encoded = rest.partition("+")
    _check_name(name, "verifier key name")
    if not _HEX8.fullmatch(hex_hash):
        raise CheckpointInvalid(f"verifier key {name!r}: the key hash is not 8 hex digits")
    raw = _b64decode(encoded, f"verifier key {name!r}")
    if len(raw) != 33 or raw[0] != ED25519:
        raise CheckpointInvalid(f"verifier key {name!r} is not an Ed25519 key (type 0x01)")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise CheckpointInvalid(f"verifier key {name!r} is not an Ed25519 public key") from None
    if key_hash(name, public_key).hex() != hex_hash:
        raise CheckpointInvalid(f"verifier key {name!r}: the key hash does not match the key")
    return VerifierKey(name, public_key)


# --- signed notes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key's name, its 4-byte key hash and the signature bytes."""

    name: str
    key_hash: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_name(self.name, "signature key name")
        if not isinstance(self.key_hash, bytes) or len(self.key_hash) != KEY_HASH_SIZE:
            raise CheckpointInvalid(f"the key hash of {self.name!r} is not 4 bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise CheckpointInvalid(f"the signature of {self.name!r} is empty")

    def line(self) -> str:
        """``— name base64(key hash || signature)`` and a newline."""
        return f"{SIGNATURE_PREFIX}{self.name} {_b64(self.key_hash + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note text (``body``, ending in a newline) and its signature lines, in order."""

    body: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        _check_text(self.body, "the note text")
        if not self.body.endswith("\n"):
            raise CheckpointInvalid("the note text does not end with a newline")
        _check_signatures(self.signatures)

    def text(self) -> str:
        """The note as sent: body, a blank line, one line per signature."""
        return self.body + "\n" + "".join(s.line() for s in self.signatures)

    def countersign(self, name: str, key: Ed25519PrivateKey) -> SignedNote:
        """The same note with one more signature line (replacing one by the same key)."""
        mine = _sign(self.body, name, key)
        kept = tuple(s for s in self.signatures if (s.name, s.key_hash) != (name, mine.key_hash))
        return SignedNote(self.body, (*kept, mine))

    def verify(self, name: str, key: Ed25519PublicKey) -> None:
        """Check the lines of this name and key hash: at least one, and every one verifies."""
        expected = key_hash(name, key)
        mine = [s for s in self.signatures if s.name == name and s.key_hash == expected]
        if not mine:
            signers = ", ".join(sorted({f"{s.name}+{s.key_hash.hex()}" for s in self.signatures}))
            raise CheckpointInvalid(
                f"no signature by {name}+{expected.hex()}; the note is signed by {signers}"
            )
        message = self.body.encode()
        for s in mine:
            if len(s.signature) != ED25519_SIGNATURE_SIZE or not _verifies(key, s, message):
                raise CheckpointInvalid(f"the signature by {name}+{expected.hex()} does not verify")


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> SignedNote:
    """``body`` signed by ``key`` under ``name``."""
    return SignedNote(body, (_sign(body, name, key),))


def parse_note(text: str) -> SignedNote:
    """Read a signed note: split at its last blank line, then read every signature line."""
    _check_note_size(text)
    _check_text(text, "the note")
    cut = text.rfind("\n\n")
    if cut < 0:
        raise CheckpointInvalid("the note has no blank line before its signatures")
    body, lines = text[: cut + 1], text[cut + 2 :]
    if not lines:
        raise CheckpointInvalid("the note has no signature lines after its last blank line")
    if not lines.endswith("\n"):
        raise CheckpointInvalid("the note's last signature line does not end with a newline")
    rows = lines[:-1].split("\n")
    if len(rows) > MAX_SIGNATURES:
        raise CheckpointInvalid(f"the note has {len(rows)} signatures, more than {MAX_SIGNATURES}")
    return SignedNote(body, tuple(_signature_line(n, row) for n, row in enumerate(rows, 1)))


# --- checkpoints -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's origin, tree size and RFC 9162 root hash, with any extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "the origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise CheckpointInvalid(f"the tree size must be an integer, not {self.size!r}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointInvalid(f"the tree size {self.size} is outside 0 … 2**64 - 1")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointInvalid(f"the root hash is not {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise CheckpointInvalid("the extension lines must be a tuple of text")
        for n, extension in enumerate(self.extensions, 1):
            _check_line(extension, f"extension line {n}")

    def body(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` and the extension lines."""
        lines = (self.origin, str(self.size), _b64(self.root), *self.extensions)
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint and the signature lines over its body."""

    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.checkpoint, Checkpoint):
            raise CheckpointInvalid("a signed checkpoint needs a Checkpoint")
        _check_signatures(self.signatures)

    def note(self) -> SignedNote:
        """This checkpoint as a signed note."""
        return SignedNote(self.checkpoint.body(), self.signatures)

    def text(self) -> str:
        """The full note: checkpoint body, a blank line, the signature lines."""
        return self.note().text()

    def countersign(self, name: str, key: Ed25519PrivateKey) -> SignedCheckpoint:
        """The same checkpoint with this party's signature line added."""
        return SignedCheckpoint(self.checkpoint, self.note().countersign(name, key).signatures)

    def verify(self, name: str, key: Ed25519PublicKey) -> None:
        """Raise ``CheckpointInvalid`` unless ``name`` with ``key`` signed this checkpoint."""
        self.note().verify(name, key)


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> SignedCheckpoint:
    """``checkpoint`` signed by ``key`` under the key name ``name``."""
    if not isinstance(checkpoint, Checkpoint):
        raise CheckpointInvalid("only a Checkpoint can be signed as one")
    return SignedCheckpoint(checkpoint, (_sign(checkpoint.body(), name, key),))


def parse_signed_checkpoint(text: str) -> SignedCheckpoint:
    """Read a signed checkpoint note; its signatures are not checked here (``verify`` does)."""
    note = parse_note(text)
    return SignedCheckpoint(parse_checkpoint_body(note.body), note.signatures)


def parse_checkpoint_body(body: str) -> Checkpoint:
    """Read a tlog-checkpoint note text: origin, tree size, root hash, extension lines."""
    if not isinstance(body, str) or not body.endswith("\n"):
        raise CheckpointInvalid("a checkpoint body is text ending with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointInvalid(
            f"a checkpoint has an origin, a tree size and a root hash line; this has {len(lines)}"
        )
    origin, size, root, *extensions = lines
    if not _DECIMAL.fullmatch(size):
        raise CheckpointInvalid(f"the tree size line {size[:40]!r} is not a decimal number")
    return Checkpoint(origin, int(size), _b64decode(root, "the root hash line"), tuple(extensions))


# --- pieces ----------------------------------------------------------------------------------


def _sign(body: str, name: str, key: Ed25519PrivateKey) -> NoteSignature:
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointInvalid("a note is signed with an Ed25519 private key")
    _check_text(body, "the note text")
    return NoteSignature(name, key_hash(name, key.public_key()), key.sign(body.encode()))


def _verifies(key: Ed25519PublicKey, signature: NoteSignature, message: bytes) -> bool:
    try:
        key.verify(signature.signature, message)
    except InvalidSignature:
        return False
    return True


def _signature_line(n: int, row: str) -> NoteSignature:
    if not row.startswith(SIGNATURE_PREFIX):
        raise CheckpointInvalid(f"signature line {n} does not start with an em dash and a space")
    name, space, encoded = row[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space:
        raise CheckpointInvalid(f"signature line {n} has no signature after its key name")
    _check_name(name, f"the key name of signature line {n}")
    raw = _b64decode(encoded, f"signature line {n}")
    if len(raw) <= KEY_HASH_SIZE:
        raise CheckpointInvalid(f"signature line {n} is too short for a key hash and a signature")
    return NoteSignature(name, raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:])


def _encoded_key(public_key: Ed25519PublicKey) -> bytes:
    if not isinstance(public_key, Ed25519PublicKey):
        raise CheckpointInvalid("a note key is an Ed25519 public key")
    return bytes([ED25519]) + public_key.public_bytes_raw()


def _check_signatures(signatures: tuple[NoteSignature, ...]) -> None:
    if not isinstance(signatures, tuple) or not signatures:
        raise CheckpointInvalid("a signed note has a tuple of one or more signatures")
    if not all(isinstance(s, NoteSignature) for s in signatures):
        raise CheckpointInvalid("a note's signatures must be NoteSignature values")
    if len(signatures) > MAX_SIGNATURES:
        raise CheckpointInvalid(f"a note has at most {MAX_SIGNATURES} signatures")


def _check_name(name: str, what: str) -> None:
    """Key names are non-empty, without Unicode spaces or '+' (c2sp.org/signed-note)."""
    if not isinstance(name, str) or not name:
        raise CheckpointInvalid(f"{what} is empty")
    if "+" in name or any(c.isspace() for c in name):
        raise CheckpointInvalid(f"{what} {name[:60]!r} contains a space or a '+'")
    _check_text(name, what)


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str) or not line:
        raise CheckpointInvalid(f"{what} is empty")
    if "\n" in line:
        raise CheckpointInvalid(f"{what} contains a newline")
    _check_text(line, what)


def _check_text(text: str, what: str) -> None:
    """Valid UTF-8, and no control character other than the newline."""
    if not isinstance(text, str):
        raise CheckpointInvalid(f"{what} is not text")
    bad = _CONTROL.search(text)
    if bad is not None:
        raise CheckpointInvalid(f"{what} contains control character {bad.group()!r}")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise CheckpointInvalid(f"{what} is not valid UTF-8") from None


def _check_note_size(text: str) -> None:
    if not isinstance(text, str):
        raise CheckpointInvalid("a signed note is text")
    if len(text) > MAX_NOTE_BYTES or len(text.encode(errors="replace")) > MAX_NOTE_BYTES:
        raise CheckpointInvalid(f"the note is longer than {MAX_NOTE_BYTES} bytes")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Standard, padded, canonical base64 (RFC 4648 §4): what ``_b64`` writes back unchanged."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointInvalid(f"{what} is not base64") from None
    if _b64(raw) != text:
        raise CheckpointInvalid(f"{what} is not canonical base64")
    return raw
