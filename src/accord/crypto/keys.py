"""A party's key set, versioned for rotation, and the keyring of unsealed sets in a process.

Each set has an X25519 key (the HPKE recipient key: other parties wrap data keys to it), an
Ed25519 key (signing), and a symmetric *holding key* derived from the X25519 private key with
HKDF-SHA256 (info ``accord holding key v1``), under which the party wraps data keys for itself.

At rest (``SealedKeySet``) the two raw private keys (X25519 then Ed25519, 64 bytes) are sealed
under the master key; the associated data binds the owner, the version and both public keys, so
a sealed row moved to another party, version or public key does not open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.crypto.master import MasterKey, hkdf_sha256
from accord.errors import DuplicateId, IntegrityError, InvalidInput, KeyUnavailable

EXCHANGE = "@exchange"
HOLDING_INFO = b"accord holding key v1"
KEY_SET_LABEL = b"accord key set v1\x00"
PUBLIC_KEYS_LABEL = b"accord public keys v1\x00"
RAW = 32
MAX_VERSION = 2**32 - 1


def check_owner(owner: str) -> bytes:
    """The owner's UTF-8 bytes, which the binary formats carry after a one-byte length."""
    if not isinstance(owner, str) or not owner or owner != owner.strip():
        raise InvalidInput(f"a key owner must be a non-empty party code, not {owner!r}")
    encoded = owner.encode("utf-8")
    if len(encoded) > 255:
        raise InvalidInput(f"a key owner is at most 255 bytes of UTF-8, not {owner[:20]!r}…")
    return encoded


def check_version(version: int) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidInput(f"a key version is an integer from 1 to {MAX_VERSION}, not {version!r}")
    return version


def bound_identity(owner: str, version: int) -> bytes:
    """``version`` (4 bytes, big-endian), ``len(owner)`` (1 byte), owner (UTF-8)."""
    encoded = check_owner(owner)
    return check_version(version).to_bytes(4, "big") + bytes([len(encoded)]) + encoded


def _raw_public(key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKeys:
    """A party's public keys of one version: raw 32-byte X25519 and Ed25519 keys."""

    owner: str
    version: int
    x25519: bytes
    ed25519: bytes

    def __post_init__(self) -> None:
        check_owner(self.owner)
        check_version(self.version)
        for name in ("x25519", "ed25519"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != RAW:
                raise InvalidInput(f"a raw {name} public key is {RAW} bytes")

    def fingerprint(self) -> str:
        """SHA-256 over the label, owner, version and both keys; first 16 bytes as hex."""
        material = PUBLIC_KEYS_LABEL + bound_identity(self.owner, self.version)
        return hashlib.sha256(material + self.x25519 + self.ed25519).hexdigest()[:32]

    @cached_property
    def x25519_key(self) -> X25519PublicKey:
        """The X25519 key as a ``cryptography`` object (parsed once per instance)."""
        return X25519PublicKey.from_public_bytes(self.x25519)

    @cached_property
    def ed25519_key(self) -> Ed25519PublicKey:
        """The Ed25519 key as a ``cryptography`` object (parsed once per instance)."""
        return Ed25519PublicKey.from_public_bytes(self.ed25519)


class PartyKeys:
    """A party's private keys of one version; in memory only (``repr`` shows no key)."""

    __slots__ = ("_ed25519", "_holding", "_owner", "_public", "_version", "_x25519")

    def __init__(
        self, owner: str, version: int, x25519: X25519PrivateKey, ed25519: Ed25519PrivateKey
    ) -> None:
        check_owner(owner)
        check_version(version)
        self._owner = owner
        self._version = version
        self._x25519 = x25519
        self._ed25519 = ed25519
        x_raw = x25519.private_bytes_raw()
        self._holding = AESGCM(hkdf_sha256(x_raw, HOLDING_INFO))
        self._public = PublicKeys(
            owner, version, _raw_public(x25519.public_key()), _raw_public(ed25519.public_key())
        )

    @classmethod
    def generate(cls, owner: str, version: int = 1) -> PartyKeys:
        return cls(owner, version, X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(
        cls, owner: str, version: int, x25519: bytes, ed25519: bytes
    ) -> PartyKeys:
        """From the raw 32-byte private keys (as ``private_bytes_raw`` gives them)."""
        if len(x25519) != RAW or len(ed25519) != RAW:
            raise InvalidInput(f"raw X25519 and Ed25519 private keys are {RAW} bytes each")
        return cls(
            owner,
            version,
            X25519PrivateKey.from_private_bytes(x25519),
            Ed25519PrivateKey.from_private_bytes(ed25519),
        )

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def version(self) -> int:
        return self._version

    @property
    def x25519(self) -> X25519PrivateKey:
        """The HPKE recipient key: data keys wrapped to this party open with it."""
        return self._x25519

    @property
    def ed25519(self) -> Ed25519PrivateKey:
        """The signing key."""
        return self._ed25519

    def public(self) -> PublicKeys:
        return self._public

    @property
    def holding(self) -> AESGCM:
        """AES-256-GCM under the holding key (for ``accord.crypto.envelope``)."""
        return self._holding

    def __repr__(self) -> str:
        return f"PartyKeys(owner={self.owner!r}, version={self.version})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("PartyKeys are not pickled; seal them with seal_keys()")


@dataclass(frozen=True)
class SealedKeySet:
    """What the store keeps for a party's key set of one version."""

    owner: str
    version: int
    x25519_public: bytes
    ed25519_public: bytes
    sealed_private: bytes = field(repr=False)

    def public(self) -> PublicKeys:
        """The public keys of the row, unchecked until ``open_keys`` opens it."""
        return PublicKeys(self.owner, self.version, self.x25519_public, self.ed25519_public)

    def describe(self) -> str:
        return f"the keys of {self.owner} version {self.version}"


def _key_set_aad(owner: str, version: int, x25519: bytes, ed25519: bytes) -> bytes:
    return KEY_SET_LABEL + bound_identity(owner, version) + x25519 + ed25519


def seal_keys(keys: PartyKeys, master: MasterKey) -> SealedKeySet:
    public = keys.public()
    private = keys.x25519.private_bytes_raw() + keys.ed25519.private_bytes_raw()
    aad = _key_set_aad(keys.owner, keys.version, public.x25519, public.ed25519)
    return SealedKeySet(
        keys.owner, keys.version, public.x25519, public.ed25519, master.seal(private, aad)
    )


def open_keys(sealed: SealedKeySet, master: MasterKey) -> PartyKeys:
    """``KeyMismatch`` if the master key does not open the row (or the row was changed);
    ``IntegrityError`` if it opens to private keys whose public keys are not the row's."""
    what = sealed.describe()
    try:
        row = sealed.public()
    except InvalidInput:
        raise IntegrityError(f"{what}: the stored row is malformed") from None
    aad = _key_set_aad(row.owner, row.version, row.x25519, row.ed25519)
    private = master.unseal(sealed.sealed_private, aad, what=what)
    if len(private) != 2 * RAW:
        raise IntegrityError(f"{what}: the sealed private keys have the wrong length")
    keys = PartyKeys.from_private_bytes(sealed.owner, sealed.version, private[:RAW], private[RAW:])
    public = keys.public()
    if public.x25519 != sealed.x25519_public or public.ed25519 != sealed.ed25519_public:
        raise IntegrityError(f"{what}: the public keys stored do not match the private keys")
    return keys


def reseal(sealed: SealedKeySet, old: MasterKey, new: MasterKey) -> SealedKeySet:
    """The same key set sealed under ``new`` (master-key rotation)."""
    return seal_keys(open_keys(sealed, old), new)


class Keyring:
    """The unsealed key sets the service holds during a process, by owner and version."""

    __slots__ = ("_keys", "_master")

    def __init__(self, master: MasterKey) -> None:
        self._master = master
        self._keys: dict[str, dict[int, PartyKeys]] = {}

    def add(self, keys: PartyKeys) -> None:
        """Add a key set; adding the same set again is harmless, a different one is refused."""
        versions = self._keys.setdefault(keys.owner, {})
        held = versions.get(keys.version)
        if held is not None and held.public() != keys.public():
            raise DuplicateId(
                f"the keyring already has other keys for {keys.owner} version {keys.version}"
            )
        versions[keys.version] = keys

    def load(self, sealed: Iterable[SealedKeySet]) -> None:
        """Open every sealed set with the master key, then add them all (or none)."""
        opened = [open_keys(row, self._master) for row in sealed]
        for keys in opened:
            self.add(keys)

    def current(self, owner: str) -> PartyKeys:
        """The highest version of ``owner``'s keys."""
        versions = self._keys.get(owner)
        if not versions:
            raise KeyUnavailable(f"no keys for party {owner}: run accord keys init")
        return versions[max(versions)]

    def get(self, owner: str, version: int) -> PartyKeys:
        keys = self._keys.get(owner, {}).get(version)
        if keys is None:
            raise KeyUnavailable(f"no keys for party {owner} version {version} in the keyring")
        return keys

    def public(self, owner: str, version: int) -> PublicKeys:
        return self.get(owner, version).public()

    def owners(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def versions(self, owner: str) -> tuple[int, ...]:
        return tuple(sorted(self._keys.get(owner, {})))

    def __repr__(self) -> str:
        return f"Keyring(master={self._master.key_id!r}, owners={list(self.owners())!r})"
