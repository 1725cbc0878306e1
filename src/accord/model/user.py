"""Users: people of one party with a clearance and need-to-know topics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class User:
    id: str
    party: str
    clearance: str
    need_to_know: frozenset[str]
