"""Parties and their national classification schemes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from accord.errors import InvalidInput, UnknownReference
from accord.model.time import zone

CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")


def check_code(code: str, field_name: str) -> str:
    if not CODE.match(code):
        raise InvalidInput(f"{field_name}: {code!r} is not a party code (capitals, digits, - or _)")
    return code


@dataclass(frozen=True, slots=True)
class Party:
    """A nation or organisation with its own ordered classification levels, lowest first."""

    code: str
    name: str
    timezone: str
    levels: tuple[str, ...]
    _ranks: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_code(self.code, "party.code")
        zone(self.timezone, f"party {self.code}: timezone")
        if not self.levels:
            raise InvalidInput(f"party {self.code}: levels must list at least one level")
        ranks: dict[str, int] = {}
        for rank, level in enumerate(self.levels):
            if not level or level in ranks:
                raise InvalidInput(f"party {self.code}: level {level!r} is empty or listed twice")
            ranks[level] = rank
        object.__setattr__(self, "_ranks", ranks)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def has_level(self, level: str) -> bool:
        return level in self._ranks

    def rank(self, level: str) -> int:
        """Position of ``level`` in this party's scheme (0 is the lowest)."""
        try:
            return self._ranks[level]
        except KeyError:
            raise UnknownReference(
                f"party {self.code} has no level {level!r} (its levels: {', '.join(self.levels)})"
            ) from None
