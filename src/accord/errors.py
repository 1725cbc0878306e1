"""One error tree for accord.

Every class has a ``category`` (what kind of failure it is, whoever reports it); the adapters map
categories (and, where a finer answer is owed, classes) to exit codes (``cli.exits``) and HTTP
statuses (``api.errors``), each in one table. Messages are written for the person who sent the
input: they name the file, field and value, and never carry another exception's text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Category(StrEnum):
    """What kind of failure an error is: the edges answer by category."""

    CLIENT = "client"  # the input is wrong; sending it again will not help
    NOT_FOUND = "not-found"  # it names something that does not exist (or may not be seen)
    CONFLICT = "conflict"  # it clashes with what is recorded
    DENIED = "denied"  # policy or credentials did not allow it
    INTEGRITY = "integrity"  # stored data or keys failed their check: the server's fault
    UNAVAILABLE = "unavailable"  # the store is busy or down: the same request may succeed later
    INTERNAL = "internal"  # a defect


class AccordError(Exception):
    """Base of every error accord raises on purpose."""

    code = "error"
    category: ClassVar[Category] = Category.CLIENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AccordError):
    """Input that is malformed or refers to something that does not exist."""

    code = "invalid-input"
    category = Category.CLIENT


class NaiveDatetime(InvalidInput):
    """A datetime without a UTC offset; accord never guesses a zone."""

    code = "naive-datetime"
    category = Category.CLIENT


class UnknownReference(InvalidInput):
    """An id, party, level or topic that the exchange does not know."""

    code = "unknown-reference"
    category = Category.NOT_FOUND


class DuplicateId(InvalidInput):
    """An id that is already taken."""

    code = "duplicate-id"
    category = Category.CONFLICT


class ScenarioInvalid(InvalidInput):
    """A scenario file that cannot be loaded; names the file and, where known, the line."""

    code = "scenario-invalid"
    category = Category.CLIENT

    def __init__(
        self, message: str, *, file: str, line: int | None = None, field: str | None = None
    ) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.field = field  # the offending value's path (``agreements[0].renewal``), if known
        self.detail = message


class DefinitionConflict(ScenarioInvalid):
    """A scenario definition that differs from what the store already holds under that id."""

    code = "definition-conflict"


class OutOfOrder(InvalidInput):
    """An act dated before the latest one already recorded: the record is append-only in time."""

    code = "out-of-order"
    category = Category.CONFLICT


class Refused(AccordError):
    """A state change that policy did not allow; carries the decision's reason codes."""

    code = "refused"
    category = Category.DENIED

    def __init__(self, message: str, reasons: tuple[str, ...]) -> None:
        super().__init__(message)
        self.reasons = reasons


class StoreError(AccordError):
    """The store could not be opened or written."""

    code = "store-error"
    category = Category.UNAVAILABLE


class Busy(StoreError):
    """The store's write lock was not had in time (other writers held it): a transient
    conflict, not a fault of the request. Nothing was changed, and the same request may be
    sent again as it is; adapters answer it as *unavailable* (HTTP 503 with ``Retry-After``)."""

    code = "busy"
    retry_after = 1  # seconds a client should wait before it retries


class Unauthenticated(AccordError):
    """Credentials that are missing, malformed, unknown, revoked or expired (never says which)."""

    code = "unauthenticated"
    category = Category.DENIED


class KeyUnavailable(AccordError):
    """The master key is missing, or its file or variable cannot be read as a key."""

    code = "key-unavailable"
    category = Category.INTEGRITY


class KeyMismatch(AccordError):
    """The master key given does not open this exchange's keys."""

    code = "key-mismatch"
    category = Category.INTEGRITY


class IntegrityError(AccordError):
    """Stored data failed its cryptographic check: a ciphertext, a signature or the audit log.

    Crypto failures are one opaque error: the message says what was being checked, never why the
    primitive failed.
    """

    code = "integrity"
    category = Category.INTEGRITY


class ProofInvalid(AccordError):
    """A Merkle inclusion or consistency proof that does not verify against the given tree."""

    code = "proof-invalid"
    category = Category.INTEGRITY


class CheckpointInvalid(AccordError):
    """A log checkpoint that cannot be parsed or whose signature does not verify."""

    code = "checkpoint-invalid"
    category = Category.INTEGRITY


class StoreMissing(StoreError):
    """No accord store where one was named; accord never creates one unless asked to."""

    code = "store-missing"


class StoreUnreachable(StoreError):
    """A database server that cannot be reached; the message names host, port and database, never
    the password."""

    code = "store-unreachable"


class SignatureUnchecked(CheckpointInvalid):
    """A check that verified no signature (no verifier key, or a tree without a checkpoint): it
    proves nothing about who vouched for the log, so it is not a success unless asked for."""

    code = "signature-unchecked"


class FeedCursorInvalid(InvalidInput):
    """A live-feed cursor (``Last-Event-ID`` or ``?after=``) that is not one."""

    code = "feed-cursor-invalid"
    category = Category.CLIENT


class FeedNotFound(UnknownReference):
    """No such feed for this user: another party's feed, or a cursor of another user's feed
    (one answer for both, and for a cursor never issued: nothing says what exists)."""

    code = "feed-not-found"
    category = Category.NOT_FOUND
