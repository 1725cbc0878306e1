"""One error tree for accord.

Adapters map these classes to exit codes (``cli.exits``) and, later, HTTP statuses, each in one
table. Messages are written for the person who sent the input: they name the file, field and
value, and never carry another exception's text.
"""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error accord raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AccordError):
    """Input that is malformed or refers to something that does not exist."""

    code = "invalid-input"


class NaiveDatetime(InvalidInput):
    """A datetime without a UTC offset; accord never guesses a zone."""

    code = "naive-datetime"


class UnknownReference(InvalidInput):
    """An id, party, level or topic that the exchange does not know."""

    code = "unknown-reference"


class DuplicateId(InvalidInput):
    """An id that is already taken."""

    code = "duplicate-id"


class ScenarioInvalid(InvalidInput):
    """A scenario file that cannot be loaded; names the file and, where known, the line."""

    code = "scenario-invalid"

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.detail = message


class OutOfOrder(InvalidInput):
    """An act dated before the latest one already recorded: the record is append-only in time."""

    code = "out-of-order"


class Refused(AccordError):
    """A state change that policy did not allow; carries the decision's reason codes."""

    code = "refused"

    def __init__(self, message: str, reasons: tuple[str, ...]) -> None:
        super().__init__(message)
        self.reasons = reasons


class StoreError(AccordError):
    """The store could not be opened or written."""

    code = "store-error"


class Busy(StoreError):
    """The store's write lock was not had in time (other writers held it): a transient
    conflict, not a fault of the request. Nothing was changed, and the same request may be
    sent again as it is; adapters answer it as *unavailable* (HTTP 503 with ``Retry-After``)."""

    code = "busy"
    retry_after = 1  # seconds a client should wait before it retries


class Unauthenticated(AccordError):
    """Credentials that are missing, malformed, unknown, revoked or expired (never says which)."""

    code = "unauthenticated"


class KeyUnavailable(AccordError):
    """The master key is missing, or its file or variable cannot be read as a key."""

    code = "key-unavailable"


class KeyMismatch(AccordError):
    """The master key given does not open this exchange's keys."""

    code = "key-mismatch"


class IntegrityError(AccordError):
    """Stored data failed its cryptographic check: a ciphertext, a signature or the audit log.

    Crypto failures are one opaque error: the message says what was being checked, never why the
    primitive failed.
    """

    code = "integrity"


class ProofInvalid(AccordError):
    """A Merkle inclusion or consistency proof that does not verify against the given tree."""

    code = "proof-invalid"


class CheckpointInvalid(AccordError):
    """A log checkpoint that cannot be parsed or whose signature does not verify."""

    code = "checkpoint-invalid"
