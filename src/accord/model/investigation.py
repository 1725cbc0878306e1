"""Investigations of loss or compromise (Art. 17, R9) and the originator's release holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.model.time import Duration, require_aware


class InvestigationState(StrEnum):
    REPORTED = "reported"
    UNDER_INVESTIGATION = "under-investigation"
    CONCLUDED = "concluded"


class InvestigationResult(StrEnum):
    COMPROMISED = "compromised"
    NOT_COMPROMISED = "not-compromised"
    UNDETERMINED = "undetermined"


DEFAULT_REPORT_WITHIN = Duration.parse("P1D", "report_within")
DEFAULT_CONCLUDE_WITHIN = Duration.parse("P30D", "conclude_within")
DEFAULT_RETURN_WITHIN = Duration.parse("P30D", "return_within")


@dataclass(frozen=True, slots=True)
class Deadlines:
    """How soon an agreement wants a compromise reported (after discovery), an investigation
    concluded (after the report), and a copy it no longer covers returned or destroyed (after
    the reclassification that uncovered it)."""

    report_within: Duration = DEFAULT_REPORT_WITHIN
    conclude_within: Duration = DEFAULT_CONCLUDE_WITHIN
    return_within: Duration = DEFAULT_RETURN_WITHIN


DEFAULT_DEADLINES = Deadlines()


@dataclass(frozen=True, slots=True)
class InvestigationStarted:
    """The holder starts investigating the compromise it reported of its copy of ``item``."""

    at: datetime
    item: str
    party: str
    kind: str = "investigation_started"

    def __post_init__(self) -> None:
        where = f"{self.kind} of {self.item}: at"
        object.__setattr__(self, "at", require_aware(self.at, where))


@dataclass(frozen=True, slots=True)
class InvestigationConcluded:
    """The holder's result and the measures taken against recurrence, sent to the originator."""

    at: datetime
    item: str
    party: str
    result: InvestigationResult
    measures: str
    kind: str = "investigation_concluded"

    def __post_init__(self) -> None:
        where = f"{self.kind} of {self.item}: at"
        object.__setattr__(self, "at", require_aware(self.at, where))


@dataclass(frozen=True, slots=True)
class ReleaseHold:
    """Pending an investigation, the originator ``by`` holds its releases to ``holder``."""

    at: datetime
    by: str
    holder: str
    kind: str = "release_hold"

    def __post_init__(self) -> None:
        where = f"{self.kind} by {self.by}: at"
        object.__setattr__(self, "at", require_aware(self.at, where))


@dataclass(frozen=True, slots=True)
class ReleaseHoldLifted:
    at: datetime
    by: str
    holder: str
    kind: str = "release_hold_lifted"

    def __post_init__(self) -> None:
        where = f"{self.kind} by {self.by}: at"
        object.__setattr__(self, "at", require_aware(self.at, where))


HoldEvent = ReleaseHold | ReleaseHoldLifted
InvestigationEvent = InvestigationStarted | InvestigationConcluded
