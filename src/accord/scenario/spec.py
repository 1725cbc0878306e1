"""A scenario as typed objects: the world it defines, its timeline of acts and its expectations.

These are the spec models; ``accord.scenario.codec`` turns YAML into them. Requests in
expectations are the scenario's own small types (the scenario layer does not import policy);
their field names match ``accord.model.requests`` so a runner converts them field for field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TypeAlias

from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import Agreement, AgreementEvent
from accord.model.classification import Reclassification
from accord.model.duties import DutyKind, DutyState
from accord.model.investigation import (
    HoldEvent,
    InvestigationEvent,
    InvestigationResult,
    InvestigationState,
)
from accord.model.item import Item
from accord.model.matters import Matter, MatterState
from accord.model.party import Party
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.rules import RuleRevoked, StandingConsent, StandingRule
from accord.model.user import User

ArticleAct: TypeAlias = Reclassification | InvestigationEvent | HoldEvent
Act: TypeAlias = (
    AgreementEvent
    | Release
    | Consent
    | Destruction
    | Compromise
    | MatterState
    | ArticleAct
    | RuleRevoked
)

EVENT_OUTCOMES = ("allow", "deny")
DECISIONS = ("allow", "deny")
CHECKS = (
    "release",
    "read",
    "agreement",
    "condition",
    "marking",
    "duty",
    "investigation",
    "route",
    "feed",
)
ROUTE_NONE = "none"
STATUSES = ("in_force", "notice_pending", "terminated", "not_yet_in_force")


@dataclass(frozen=True, slots=True)
class ScenarioEvent:
    """One act of the timeline and the outcome the scenario expects policy to give it.

    ``reason``, when given, must be among the codes of the decision on the act.
    """

    line: int | None
    act: Act
    expect: str = "allow"
    reason: str | None = None
    written_zone: tzinfo = UTC  # the offset the file wrote ``at`` in, to show it back so

    @property
    def at(self) -> datetime:
        return self.act.at


@dataclass(frozen=True, slots=True)
class Expectation:
    """A question asked at ``at`` and the answer the scenario expects.

    ``check`` is ``release`` or ``read`` (``request`` is a ``ReleaseRequest`` or ``ReadRequest`` and
    ``decision`` is set) or ``agreement`` (``request`` is the agreement id and ``status`` is
    set; ``expires_at`` and ``term_end`` are checked only when given) or ``condition``
    (``request`` is the agreement id and ``holds`` is set; ``matter``, when given, picks the
    condition on that matter, otherwise all the suspension's conditions must hold).
    """

    line: int | None
    at: datetime
    check: str
    request: ReleaseRequest | ReadRequest | str
    decision: str | None = None
    reason: str | None = None
    status: str | None = None
    expires_at: datetime | None = None
    term_end: datetime | None = None
    written_zone: tzinfo = UTC  # the offset the file wrote ``at`` in, to show it back so
    holds: bool | None = None
    matter: str | None = None
    route: str | None = None  # check: route (``request`` is the item): direct | via CODE | none
    recipient: str | None = None  # check: route: the recipient asked about
    evaluated: datetime | None = None  # check: route: the instant of the standing decision
    agreement: str | None = None  # check: route: the agreement change that triggered it
    window: tuple[datetime, datetime] | None = None  # check: feed (``request`` is the user)
    items: tuple[str, ...] = ()  # check: feed: the items made available, in delivery order


@dataclass(frozen=True, slots=True)
class Known:
    """What of a scenario the store already held, identically (accepted, not added again).

    ``items`` are the file's own items (with their content), for the service to compare with
    the sealed copies."""

    topics: tuple[str, ...] = ()
    parties: tuple[Party, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    users: tuple[User, ...] = ()
    items: tuple[Item, ...] = ()
    events: int = 0


# --- checks of Art. 6(g), 6(h) and 17 -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkingCheck:
    """``party``'s copy of ``item`` is marked ``level`` at ``at``; ``flag`` is checked when
    given (``""`` for no flag)."""

    line: int | None
    at: datetime
    item: str
    party: str
    level: str
    flag: str | None = None
    check: str = "marking"


@dataclass(frozen=True, slots=True)
class DutyCheck:
    """``party`` owes a duty of ``kind`` due at ``due`` (on ``item``/``agreement`` when given),
    as of ``at``; its ``state`` and lateness are checked when given."""

    line: int | None
    at: datetime
    party: str
    kind: DutyKind
    due: datetime
    item: str | None = None
    agreement: str | None = None
    state: DutyState | None = None
    late: bool | None = None
    check: str = "duty"


@dataclass(frozen=True, slots=True)
class InvestigationCheck:
    """The investigation of ``party``'s copy of ``item`` is in ``state`` at ``at`` (None: none
    was opened); its result and lateness are checked when given."""

    line: int | None
    at: datetime
    item: str
    party: str
    state: InvestigationState | None
    result: InvestigationResult | None = None
    reported_late: bool | None = None
    concluded_late: bool | None = None
    check: str = "investigation"


ArticleCheck: TypeAlias = MarkingCheck | DutyCheck | InvestigationCheck


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario file, validated: every reference in it resolves."""

    file: str
    name: str
    description: str
    topics: tuple[str, ...]
    parties: tuple[Party, ...]
    agreements: tuple[Agreement, ...]
    users: tuple[User, ...]
    items: tuple[Item, ...]
    events: tuple[ScenarioEvent, ...]
    expectations: tuple[Expectation | ArticleCheck, ...]
    line_of: dict[str, int]
    known: Known = field(default_factory=Known)
    matters: tuple[Matter, ...] = ()
    standing_rules: tuple[StandingRule, ...] = ()
    standing_consents: tuple[StandingConsent, ...] = ()
