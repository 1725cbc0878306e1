"""Users: people of one party with a clearance and need-to-know topics."""

from __future__ import annotations

from dataclasses import dataclass

from accord.model.ids import check_id


@dataclass(frozen=True, slots=True)
class User:
    id: str
    party: str
    clearance: str
    need_to_know: frozenset[str]

    def __post_init__(self) -> None:
        check_id(self.id, "user")
