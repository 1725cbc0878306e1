"""The one table from outcomes and error classes to exit codes."""

from __future__ import annotations

from accord.errors import (
    AccordError,
    CheckpointInvalid,
    IntegrityError,
    InvalidInput,
    KeyMismatch,
    KeyUnavailable,
    ProofInvalid,
    Refused,
    SignatureUnchecked,
    StoreError,
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

# most specific class first
TABLE: tuple[tuple[type[AccordError], int], ...] = (
    (Refused, DENIED),
    (InvalidInput, INVALID),
    (StoreError, STORE),
    (KeyUnavailable, KEY_UNAVAILABLE),
    (KeyMismatch, KEY_MISMATCH),
    (IntegrityError, INTEGRITY),
    (ProofInvalid, PROOF_INVALID),
    (SignatureUnchecked, UNSIGNED),
    (CheckpointInvalid, CHECKPOINT_INVALID),
    (AccordError, INVALID),
)


def exit_code(error: AccordError) -> int:
    for cls, code in TABLE:
        if isinstance(error, cls):
            return code
    return INVALID
