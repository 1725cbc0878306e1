"""The node's own log as the protocol uses it: entries for what crossed, and the checkpoint
and consistency proof a message carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from accord.audit import parse_signed_checkpoint
from accord.errors import IntegrityError
from accord.service import auditor, journal
from accord.service.vault import Vault
from accord.store.sql import StoreTx


def log(
    tx: StoreTx,
    vault: Vault,
    kind: str,
    at: datetime,
    recorded_at: datetime,
    subject: Mapping[str, object],
) -> None:
    """Append one entry (no rows: the protocol's tables are bookkeeping) and sign the log."""
    pending = journal.Pending()
    pending.bodies.append(journal.entry_body(kind, at, recorded_at, subject, None, []))
    journal.flush(tx, pending, vault.keyring(tx, tx.revision()))


def latest_checkpoint(tx: StoreTx) -> str:
    note = tx.meta(journal.LATEST)
    if note is None:
        raise IntegrityError("this node's log has no checkpoint: was `accord keys init` run?")
    return note


def consistency_from(tx: StoreTx, old: int, new: int) -> tuple[bytes, ...]:
    """The proof that our log of ``old`` entries is a prefix of our log of ``new``."""
    if old in (0, new):
        return ()
    proof = auditor.consistency(tx, old, new)
    return tuple(bytes.fromhex(h) for h in proof["proof"])


def size_of(note: str | None) -> int:
    return 0 if note is None else parse_signed_checkpoint(note).checkpoint.size
