"""Every copy under its own key: items sealed by their originator, keys wrapped per holding party.

An item's title, content and STIX object are encrypted once under a fresh data key; its metadata
(id, originator, level, topics, caveat, creation) is bound as associated data, so a marking
changed in the store makes decryption fail. The data key is wrapped for each party holding a live
copy, bound to that copy's marking (R2); destroying the copy deletes that wrapped key (R10). The
originator signs the metadata with a digest of the payload; every read verifies it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from accord.crypto import (
    EXCHANGE,
    Keyring,
    MasterKey,
    PartyKeys,
    SealedKeySet,
    Signature,
    WrappedKey,
    decrypt,
    encrypt,
    item_message,
    new_data_key,
    open_keys,
    reseal,
    seal_keys,
    sign_item,
    unwrap,
    verify,
    wrap_for,
    wrap_for_self,
)
from accord.errors import IntegrityError, KeyMismatch, KeyUnavailable
from accord.model.item import Holding, Item
from accord.model.time import iso
from accord.service.progress import Progress, tick
from accord.store.sql import KeySetRow, SealedItem, StoreTx

_CHUNK = 500  # ids per query
_VERIFIED_MAX = 200_000  # signature checks remembered


def binding(item: Item) -> dict[str, Any]:
    """The metadata an item's envelope and signature are bound to."""
    return {
        "item": item.id,
        "originator": item.originator,
        "level": item.level,
        "topics": sorted(item.topics),
        "releasable_to": sorted(item.releasable_to),
        "created": iso(item.created),
    }


def item_aad(item: Item) -> bytes:
    """The envelope's associated data: the item's metadata as a JSON array (an injective,
    deterministic encoding; only the signature needs RFC 8785's canonical object form)."""
    fields = [
        "accord item v1",
        item.id,
        item.originator,
        item.level,
        sorted(item.topics),
        sorted(item.releasable_to),
        iso(item.created),
    ]
    return _array(fields).encode("utf-8")


def copy_aad(holding: Holding) -> bytes:
    """A wrapped data key is bound to the copy's marking: party, its level, originator's level."""
    return _array(
        [
            "accord copy v1",
            holding.item,
            holding.party,
            holding.level,
            holding.originator,
            holding.originator_level,
        ]
    ).encode("utf-8")


_array = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def payload_of(item: Item) -> bytes:
    body = {"title": item.title, "content": item.content, "stix": item.stix}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _row(sealed: SealedKeySet, at: datetime) -> KeySetRow:
    return KeySetRow(
        sealed.owner,
        sealed.version,
        sealed.x25519_public,
        sealed.ed25519_public,
        sealed.sealed_private,
        at,
    )


def _checked(rows: Sequence[KeySetRow], master: MasterKey) -> list[SealedKeySet]:
    """The key sets, each opened with the master key first (its public keys are bound to its
    sealed private keys): a master key that opens none is ``KeyMismatch``; one that opens some
    but not a row means that row's public keys were replaced, so nothing signed with them can
    be trusted (``IntegrityError``)."""
    sealed = [_sealed(row) for row in rows]
    failed: list[SealedKeySet] = []
    for one in sealed:
        try:
            open_keys(one, master)
        except KeyMismatch:
            failed.append(one)
    if failed and len(failed) < len(sealed):
        raise IntegrityError(
            f"{failed[0].describe()}: its stored public keys are not the ones sealed with it"
        )
    return sealed


def _sealed(row: KeySetRow) -> SealedKeySet:
    return SealedKeySet(
        row.owner, row.version, row.x25519_public, row.ed25519_public, row.sealed_private
    )


class Vault:
    """The exchange's keys during one process: opened from the store with the master key."""

    def __init__(self, master: Callable[[], MasterKey]) -> None:
        self._master_source = master
        self._master: MasterKey | None = None
        self._keyring: Keyring | None = None
        self._revision = -1
        self._verified: set[bytes] = set()

    @property
    def master(self) -> MasterKey:
        if self._master is None:
            self._master = self._master_source()
        return self._master

    def keyring(self, tx: StoreTx, revision: int) -> Keyring:
        """All key sets, unsealed; reopened when the store has changed since."""
        if self._keyring is None or revision != self._revision:
            rows = tx.key_sets()
            if not any(row.owner == EXCHANGE for row in rows):
                raise KeyUnavailable("this exchange has no keys yet: run `accord keys init`")
            keyring = Keyring(self.master)
            keyring.load(_checked(rows, self.master))
            self._keyring, self._revision = keyring, revision
        return self._keyring

    def keep(self, revision: int) -> None:
        """This process wrote revision ``revision``: the keyring it holds is still current."""
        if self._keyring is not None:
            self._revision = revision

    def forget(self) -> None:
        self._keyring = None

    # --- key sets -------------------------------------------------------------------------------

    def has_keys(self, tx: StoreTx) -> bool:
        return any(row.owner == EXCHANGE for row in tx.key_sets())

    def create(self, tx: StoreTx, owner: str, at: datetime, version: int = 1) -> PartyKeys:
        keys = PartyKeys.generate(owner, version)
        tx.add_key_set(_row(seal_keys(keys, self.master), at))
        if self._keyring is not None:
            self._keyring.add(keys)
        return keys

    def reseal_all(self, tx: StoreTx, new: MasterKey) -> int:
        """Seal every key set under ``new``; the old master key must open them all first."""
        rows = tx.key_sets()
        for row in rows:
            open_keys(_sealed(row), self.master)  # refuses a master key that does not open them
            fresh = reseal(_sealed(row), self.master, new)
            tx.reseal_key_set(row.owner, row.version, fresh.sealed_private)
        self._master, self._keyring = new, None
        return len(rows)

    # --- items ----------------------------------------------------------------------------------

    def seal(self, tx: StoreTx, keyring: Keyring, item: Item, own: Holding) -> bytes:
        """Store ``item`` encrypted and signed, with its data key wrapped for its originator;
        the data key (for the releases of the same unit of work: ``Session.data_keys``)."""
        payload = payload_of(item)
        data_key = new_data_key()
        envelope = encrypt(data_key, payload, item_aad(item))
        signer = keyring.current(item.originator)
        fields = {**binding(item), "payload_sha256": hashlib.sha256(payload).hexdigest()}
        signature = sign_item(signer, fields)
        tx.add_item(item.id, SealedItem(envelope, signature.to_bytes(), signature.key_version))
        wrapped = wrap_for_self(signer, data_key, copy_aad(own))
        tx.put_wrapped_key(item.id, item.originator, wrapped.key_version, wrapped.blob)
        return data_key

    def data_key(self, tx: StoreTx, keyring: Keyring, holding: Holding) -> bytes:
        """The data key of ``holding``'s item, unwrapped with its party's keys."""
        stored = tx.wrapped_key(holding.item, holding.party)
        what = f"item {holding.item}: {holding.party}'s copy"
        if stored is None:
            raise IntegrityError(f"{what} has no key in the store")
        version, blob = stored
        keys = keyring.get(holding.party, version)
        return unwrap(keys, WrappedKey(version, blob), copy_aad(holding), what=what)

    def share(self, tx: StoreTx, keyring: Keyring, data_key: bytes, copy: Holding) -> None:
        """Give a new copy's party the data key: wrapped to its current X25519 key with HPKE for
        the transfer, then, on receipt, opened by that party and kept under its own holding key
        (as every party keeps its copies), bound to the copy's marking (R2)."""
        recipient = keyring.current(copy.party)
        aad = copy_aad(copy)
        what = f"item {copy.item}: the key sent to {copy.party}"
        sent = wrap_for(recipient.public(), data_key, aad)
        kept = wrap_for_self(recipient, unwrap(recipient, sent, aad, what=what), aad)
        tx.put_wrapped_key(copy.item, copy.party, kept.key_version, kept.blob)

    def remark(self, tx: StoreTx, keyring: Keyring, before: Holding, after: Holding) -> None:
        """Art. 6(g): a re-marked copy's data key, rewrapped bound to its new marking (R2)."""
        if copy_aad(before) == copy_aad(after):
            return
        stored = tx.wrapped_key(before.item, before.party)
        what = f"item {before.item}: {before.party}'s copy"
        if stored is None:
            raise IntegrityError(f"{what} has no key in the store")
        version, blob = stored
        data_key = unwrap(
            keyring.get(before.party, version),
            WrappedKey(version, blob),
            copy_aad(before),
            what=what,
        )
        fresh = wrap_for_self(keyring.current(before.party), data_key, copy_aad(after))
        tx.rewrap_key(before.item, before.party, fresh.key_version, fresh.blob)

    def shred(self, tx: StoreTx, item_id: str, party: str) -> None:
        """R10: the party's wrapped key is deleted; nothing at that party can open the item."""
        if tx.wrapped_key(item_id, party) is not None:
            tx.delete_wrapped_key(item_id, party)

    def open_many(
        self, tx: StoreTx, keyring: Keyring, copies: Sequence[tuple[Item, Holding]]
    ) -> list[Item]:
        """Items with their title, content and STIX object, each decrypted with its copy's key
        and its originator's signature checked (two queries for all of them)."""
        opened: list[Item] = []
        for start in range(0, len(copies), _CHUNK):
            chunk = copies[start : start + _CHUNK]
            ids = [item.id for item, _ in chunk]
            sealed = tx.sealed_items(ids)
            wrapped = tx.wrapped_keys_for(chunk[0][1].party, ids) if chunk else {}
            opened += [self._open(keyring, item, h, sealed, wrapped) for item, h in chunk]
        return opened

    def _open(
        self,
        keyring: Keyring,
        item: Item,
        holding: Holding,
        sealed_items: Mapping[str, SealedItem],
        wrapped_keys: Mapping[str, tuple[int, bytes]],
    ) -> Item:
        what = f"item {item.id}"
        stored, sealed = wrapped_keys.get(item.id), sealed_items.get(item.id)
        if stored is None or sealed is None:
            raise IntegrityError(f"{what}: {holding.party}'s copy has no key or no envelope")
        keys = keyring.get(holding.party, stored[0])
        copy = f"{what}: {holding.party}'s copy"
        data_key = unwrap(keys, WrappedKey(*stored), copy_aad(holding), what=copy)
        aad = item_aad(item)
        payload = decrypt(data_key, sealed.payload, aad, what=what)
        digest = hashlib.sha256(payload).hexdigest()
        token = hashlib.sha256(b"\n".join((sealed.signature, aad, digest.encode()))).digest()
        if token not in self._verified:
            fields = {**binding(item), "payload_sha256": digest}
            self._check_signature(keyring, item, sealed, item_message(fields), what)
            if len(self._verified) >= _VERIFIED_MAX:
                self._verified.clear()
            self._verified.add(token)
        body = json.loads(payload)
        return replace(item, title=body["title"], content=body["content"], stix=body["stix"])

    def signs_payload(self, tx: StoreTx, keyring: Keyring, item: Item) -> bool:
        """Whether the stored item's sealed title, content and STIX object are ``item``'s: its
        originator's signature is checked over ``item``'s metadata and payload digest, so nothing
        is decrypted (``accord load`` comparing a file's item with the stored one)."""
        sealed = tx.sealed_items([item.id]).get(item.id)
        if sealed is None:
            return False
        fields = {**binding(item), "payload_sha256": hashlib.sha256(payload_of(item)).hexdigest()}
        try:
            self._check_signature(keyring, item, sealed, item_message(fields), f"item {item.id}")
        except IntegrityError:
            return False
        return True

    def _check_signature(
        self, keyring: Keyring, item: Item, sealed: SealedItem, message: bytes, what: str
    ) -> None:
        """The originator's signature over ``message``. A check that passed is remembered by the
        caller for this process, keyed by the signature, the metadata and the payload's digest:
        Ed25519 verification is deterministic for the same key, message and signature."""
        signature = Signature.from_bytes(sealed.signature, what=what)
        if (signature.signer, signature.key_version) != (item.originator, sealed.signer_version):
            raise IntegrityError(f"{what}: the signature is not its originator's")
        public = keyring.public(item.originator, signature.key_version)
        verify(public, message, signature, what=f"{what}: the originator's signature")

    def rotate(
        self,
        tx: StoreTx,
        keyring: Keyring,
        owner: str,
        at: datetime,
        copy_of: Callable[[str, str], Holding],
        progress: Progress | None = None,
    ) -> tuple[int, int]:
        """A new key version for ``owner``; its copies' data keys are rewrapped to it (each still
        bound to its copy's marking, from ``copy_of(item, party)``). Older versions stay, sealed,
        so that signatures made with them still verify."""
        old = keyring.current(owner)
        new = self.create(tx, owner, at, old.version + 1)
        rewrapped = 0
        copies = tx.wrapped_keys_of(owner)
        for item_id, version, blob in copies:
            keys = keyring.get(owner, version)
            what = f"item {item_id}: {owner}'s copy"
            aad = copy_aad(copy_of(item_id, owner))
            data_key = unwrap(keys, WrappedKey(version, blob), aad, what=what)
            fresh = wrap_for_self(new, data_key, aad)
            tx.rewrap_key(item_id, owner, fresh.key_version, fresh.blob)
            rewrapped += 1
            tick(progress, "copies", rewrapped, len(copies))
        return new.version, rewrapped
