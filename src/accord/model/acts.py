"""The acts parties perform on items: releases, consents, destructions, compromise reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.errors import InvalidInput
from accord.model.time import require_aware


@dataclass(frozen=True, slots=True)
class Release:
    """Giving an item to another party, directly or through a hub (``via``)."""

    at: datetime
    item: str
    from_party: str
    to_party: str
    via: str | None = None
    agreement: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"release of {self.item}: at"))


@dataclass(frozen=True, slots=True)
class Consent:
    """The originator's answer on whether ``holder`` may pass ``item`` on to ``recipients`` (R4).

    ``granted=False`` records a refusal; it also withdraws an earlier grant from its instant on.
    """

    at: datetime
    item: str
    by: str
    holder: str
    recipients: frozenset[str]
    granted: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"consent of {self.item}: at"))


@dataclass(frozen=True, slots=True)
class Destruction:
    at: datetime
    item: str
    party: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"destruction of {self.item}: at"))


@dataclass(frozen=True, slots=True)
class Compromise:
    """A report of loss or compromise of a holding, addressed to the originator (R9)."""

    at: datetime
    item: str
    party: str
    description: str
    discovered_at: datetime | None = None  # when the loss was discovered (Art. 17); else ``at``

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"compromise of {self.item}: at"))
        if self.discovered_at is not None:
            where = f"compromise of {self.item}: discovered_at"
            object.__setattr__(self, "discovered_at", require_aware(self.discovered_at, where))
            if self.discovered_at > self.at:
                raise InvalidInput(f"{where} is after the report ({self.at.isoformat()})")

    @property
    def discovered(self) -> datetime:
        return self.at if self.discovered_at is None else self.discovered_at
