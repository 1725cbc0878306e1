"""The one table from outcomes and errors to exit codes.

An error's exit code comes from its category; a few classes have a code of their own (the key
and proof failures a script tells apart). A test walks the error tree and fails on any class
whose category has no row here.
"""

from __future__ import annotations

from accord.errors import (
    AccordError,
    Category,
    CheckpointInvalid,
    KeyMismatch,
    KeyUnavailable,
    ProofInvalid,
    SignatureUnchecked,
)

OK = 0
DENIED = 1  # a decision said deny, or a scenario expectation failed
INVALID = 2  # bad input: the message names the file, field and value; nothing was written
STORE = 3  # the store could not be opened or written
KEY_UNAVAILABLE = 4  # no master key, or its file or variable is not a key
KEY_MISMATCH = 5  # the master key does not open this exchange's keys
INTEGRITY = 6  # stored data failed its check: a ciphertext, a signature, the audit log
PROOF_INVALID = 7  # a Merkle proof does not verify
CHECKPOINT_INVALID = 8  # a checkpoint is malformed or its signature does not verify
UNSIGNED = 9  # a check that verified no signature (no --verifier-key, no checkpoint); --unsigned-ok
INTERNAL = 70  # a defect; no exception text is shown

# first match wins: the classes with a code of their own, then every category
TABLE: tuple[tuple[type[AccordError] | Category, int], ...] = (
    (KeyUnavailable, KEY_UNAVAILABLE),
    (KeyMismatch, KEY_MISMATCH),
    (ProofInvalid, PROOF_INVALID),
    (SignatureUnchecked, UNSIGNED),
    (CheckpointInvalid, CHECKPOINT_INVALID),
    (Category.DENIED, DENIED),
    (Category.CLIENT, INVALID),
    (Category.NOT_FOUND, INVALID),
    (Category.CONFLICT, INVALID),
    (Category.UNAVAILABLE, STORE),
    (Category.INTEGRITY, INTEGRITY),
    (Category.INTERNAL, INTERNAL),
)


def exit_code(error: AccordError) -> int:
    for match, code in TABLE:
        if _matches(match, error):
            return code
    return INTERNAL


def _matches(match: type[AccordError] | Category, error: AccordError) -> bool:
    """A category row matches its category; a class row matches the class and its subclasses
    that keep its category (a subclass with a category of its own gets that category's row)."""
    if isinstance(match, Category):
        return error.category == match
    return isinstance(error, match) and error.category == match.category
