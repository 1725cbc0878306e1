"""Classification changes (Art. 6(g)): the originator re-marks an item from an instant on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.model.time import require_aware


class MarkingFlag(StrEnum):
    """What a copy's marking says beyond its level."""

    NOT_COVERED = "not-covered"  # the agreement it came under has no equivalent for the new level


@dataclass(frozen=True, slots=True)
class Reclassification:
    """The originator's written notice that ``item`` is, from ``at`` on, at ``level`` (in its own
    scheme) and/or releasable to ``releasable_to``. A field left ``None`` keeps its value."""

    at: datetime
    item: str
    by: str
    level: str | None = None
    releasable_to: frozenset[str] | None = None
    kind: str = "reclassify"

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"reclassify of {self.item}: at"))
