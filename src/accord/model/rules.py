"""Standing release rules and standing consents: an originator's decisions made in advance.

A standing rule pre-approves the release of the originator's new items on some topics, up to a
level, to recipients in order, by the first lawful route of its list. A standing consent lets a
holder (typically a hub) pass the originator's matching items on to named recipients (R4).
Either is revoked from an instant on; a revocation names the rule or consent by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.errors import InvalidInput
from accord.model.time import iso, require_aware

DIRECT = "direct"
VIA = "via "


class RouteOutcome(StrEnum):
    """What the standing rules did for one item and recipient."""

    RELEASED = "released"
    NONE = "none"  # no route was lawful: nothing released, each route's reasons kept


@dataclass(frozen=True, slots=True, order=True)
class Route:
    """``direct`` (``via`` None) or through a hub: ``via USA``."""

    via: str | None = None

    @property
    def label(self) -> str:
        return DIRECT if self.via is None else f"{VIA}{self.via}"

    @classmethod
    def parse(cls, text: str, where: str) -> Route:
        """``direct`` or ``via CODE``; anything else is ``InvalidInput`` naming ``where``."""
        if text == DIRECT:
            return cls(None)
        if text.startswith(VIA) and text[len(VIA) :].strip() and " " not in text[len(VIA) :]:
            return cls(text[len(VIA) :])
        raise InvalidInput(f"{where}: route {text!r} is neither 'direct' nor 'via PARTY'")


@dataclass(frozen=True, slots=True)
class Window:
    """From ``start`` on, until ``until`` (excluded) when given."""

    start: datetime
    until: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "from"))
        if self.until is not None:
            until = require_aware(self.until, "until")
            object.__setattr__(self, "until", until)
            if until <= self.start:
                raise InvalidInput(
                    f"until {iso(until)} is not after from {iso(self.start)}: the window is empty"
                )

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.until is None or at < self.until)


@dataclass(frozen=True, slots=True)
class StandingRule:
    """The originator's pre-approval of releases of its own new items."""

    id: str
    originator: str
    topics: frozenset[str]
    max_level: str
    recipients: tuple[str, ...]
    routes: tuple[Route, ...]
    window: Window

    def __post_init__(self) -> None:
        where = f"standing rule {self.id}"
        if not self.id:
            raise InvalidInput(f"{where}: id must not be empty")
        if not self.topics:
            raise InvalidInput(f"{where}: topics must name at least one topic")
        if not self.recipients:
            raise InvalidInput(f"{where}: to must name at least one recipient")
        if len(set(self.recipients)) != len(self.recipients):
            raise InvalidInput(f"{where}: to names a recipient twice")
        if not self.routes:
            raise InvalidInput(f"{where}: routes must list at least one route")
        if len(set(self.routes)) != len(self.routes):
            raise InvalidInput(f"{where}: routes lists a route twice")
        if self.originator in self.recipients:
            raise InvalidInput(f"{where}: the originator {self.originator} cannot be a recipient")


@dataclass(frozen=True, slots=True)
class StandingConsent:
    """The originator ``by`` lets ``holder`` pass matching items on to ``recipients`` (R4)."""

    id: str
    by: str
    holder: str
    recipients: frozenset[str]
    topics: frozenset[str]
    max_level: str
    window: Window

    def __post_init__(self) -> None:
        where = f"standing consent {self.id}"
        if not self.id:
            raise InvalidInput(f"{where}: id must not be empty")
        if not self.topics:
            raise InvalidInput(f"{where}: topics must name at least one topic")
        if not self.recipients:
            raise InvalidInput(f"{where}: to must name at least one recipient")
        if self.holder == self.by or self.holder in self.recipients:
            raise InvalidInput(f"{where}: the holder must differ from the originator and 'to'")


@dataclass(frozen=True, slots=True)
class RuleRevoked:
    """A standing rule or consent ``rule`` revoked by its originator from ``at`` on."""

    at: datetime
    rule: str
    by: str

    @property
    def kind(self) -> str:
        return "rule_revoked"

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"revocation of {self.rule}: at"))
