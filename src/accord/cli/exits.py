"""The one table from outcomes and error classes to exit codes."""

from __future__ import annotations

from accord.errors import AccordError, InvalidInput, Refused, StoreError

OK = 0
DENIED = 1  # a decision said deny, or a scenario expectation failed
INVALID = 2  # bad input: the message names the file, field and value; nothing was written
STORE = 3  # the store could not be opened or written
INTERNAL = 70  # a defect; no exception text is shown

# most specific class first
TABLE: tuple[tuple[type[AccordError], int], ...] = (
    (Refused, DENIED),
    (InvalidInput, INVALID),
    (StoreError, STORE),
    (AccordError, INVALID),
)


def exit_code(error: AccordError) -> int:
    for cls, code in TABLE:
        if isinstance(error, cls):
            return code
    return INVALID
