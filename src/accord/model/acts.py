"""The acts parties perform on items: releases, consents, destructions, compromise reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Release:
    """Giving an item to another party, directly or through a hub (``via``)."""

    at: datetime
    item: str
    from_party: str
    to_party: str
    via: str | None = None
    agreement: str | None = None


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


@dataclass(frozen=True, slots=True)
class Destruction:
    at: datetime
    item: str
    party: str


@dataclass(frozen=True, slots=True)
class Compromise:
    """A report of loss or compromise of a holding, addressed to the originator (R9)."""

    at: datetime
    item: str
    party: str
    description: str
