"""Security agreements: their terms, equivalence tables and diplomatic events.

An agreement's state at an instant is a pure function of its definition and event log; that
function lives in ``accord.policy.lifecycle``. This module only holds the facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from accord.errors import InvalidInput, UnknownReference
from accord.model.ids import check_id
from accord.model.investigation import DEFAULT_DEADLINES, Deadlines
from accord.model.matters import Condition
from accord.model.party import Party
from accord.model.time import Duration, require_aware, zone


class Renewal(StrEnum):
    AUTOMATIC = "automatic"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class EquivalenceTable:
    """Rows of equal levels, one level per party in a row.

    A level that appears in no row cannot be shared under the agreement.
    """

    rows: tuple[Mapping[str, str], ...]
    _index: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], int] = {}
        for number, row in enumerate(self.rows):
            for party, level in row.items():
                if (party, level) in index:
                    raise InvalidInput(
                        f"equivalence: {party} level {level!r} appears in two rows"
                        " (the table would not be order-preserving)"
                    )
                index[(party, level)] = number
        object.__setattr__(self, "_index", index)

    def equivalent(self, party: str, level: str, other: str) -> str | None:
        """``other``'s level equal to ``party``'s ``level``, or None when not covered."""
        number = self._index.get((party, level))
        if number is None:
            return None
        return self.rows[number].get(other)

    def parties(self) -> frozenset[str]:
        return frozenset(p for row in self.rows for p in row)

    def validate(
        self, agreement_id: str, members: frozenset[str], schemes: Mapping[str, Party]
    ) -> None:
        """Every party is a member with that level, rows name two parties, and order is kept."""
        where = f"agreement {agreement_id}: equivalence"
        for number, row in enumerate(self.rows, start=1):
            if len(row) < 2:
                raise InvalidInput(f"{where} row {number} must name at least two parties")
            for party, level in row.items():
                if party not in members:
                    raise UnknownReference(
                        f"{where} row {number}: {party} is not a party to the agreement"
                    )
                scheme = schemes.get(party)
                if scheme is None:
                    raise UnknownReference(f"{where} row {number}: unknown party {party}")
                if not scheme.has_level(level):
                    raise UnknownReference(
                        f"{where} row {number}: {party} has no level {level!r}"
                        f" (its levels: {', '.join(scheme.levels)})"
                    )
        self._check_order(where, schemes)

    def _check_order(self, where: str, schemes: Mapping[str, Party]) -> None:
        for i, first in enumerate(self.rows):
            for second in self.rows[i + 1 :]:
                common = [p for p in first if p in second]
                signs = {
                    p: (schemes[p].rank(first[p]) > schemes[p].rank(second[p])) for p in common
                }
                if len(set(signs.values())) > 1:
                    detail = ", ".join(f"{p} {first[p]!r} vs {second[p]!r}" for p in common)
                    raise InvalidInput(f"{where} is not order-preserving: {detail}")


@dataclass(frozen=True, slots=True)
class TopicScope:
    """The topics an agreement covers: all of them, or a listed set."""

    topics: frozenset[str] | None  # None means all topics

    def covers(self, topics: frozenset[str]) -> bool:
        return self.topics is None or topics <= self.topics

    def outside(self, topics: frozenset[str]) -> frozenset[str]:
        return frozenset() if self.topics is None else topics - self.topics

    def describe(self) -> str:
        return "all" if self.topics is None else ", ".join(sorted(self.topics))


@dataclass(frozen=True, slots=True)
class Terms:
    """The parts of an agreement that an amendment may change."""

    parties: frozenset[str]
    equivalence: EquivalenceTable
    topics: TopicScope
    term: Duration | None
    renewal: Renewal
    notice_period: Duration | None


@dataclass(frozen=True, slots=True)
class Agreement:
    """A bilateral agreement or a multilateral arrangement, optionally routed through a hub."""

    id: str
    in_force_from: datetime
    timezone: str
    terms: Terms
    hub: str | None = None
    title: str = ""
    deadlines: Deadlines = DEFAULT_DEADLINES  # Art. 17 and 6(h): how soon reports etc. are due

    def __post_init__(self) -> None:
        check_id(self.id, "agreement")
        object.__setattr__(
            self,
            "in_force_from",
            require_aware(self.in_force_from, f"agreement {self.id}: in_force_from"),
        )
        zone(self.timezone, f"agreement {self.id}: timezone")
        if len(self.terms.parties) < 2:
            raise InvalidInput(f"agreement {self.id}: parties must name at least two parties")
        if self.hub is not None and self.hub not in self.terms.parties:
            raise InvalidInput(f"agreement {self.id}: hub {self.hub} is not one of its parties")

    def validate(self, schemes: Mapping[str, Party], known_topics: frozenset[str]) -> None:
        for party in sorted(self.terms.parties):
            if party not in schemes:
                raise UnknownReference(f"agreement {self.id}: unknown party {party}")
        self.terms.equivalence.validate(self.id, self.terms.parties, schemes)
        unknown = (self.terms.topics.topics or frozenset()) - known_topics
        if unknown:
            raise UnknownReference(
                f"agreement {self.id}: unknown topics {', '.join(sorted(unknown))}"
            )


# --- diplomatic events --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TerminationNotice:
    at: datetime
    agreement: str
    by: str
    kind: str = "termination_notice"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "at", require_aware(self.at, f"{self.kind} on {self.agreement}: at")
        )


@dataclass(frozen=True, slots=True)
class NoticeSuspended:
    """A suspension of the notice's effect; with ``conditions`` it holds only while every one
    of them holds (R15), and each names what follows when it fails."""

    at: datetime
    agreement: str
    by: str
    kind: str = "notice_suspended"
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "at", require_aware(self.at, f"{self.kind} on {self.agreement}: at")
        )


@dataclass(frozen=True, slots=True)
class SuspensionLifted:
    """Lifting a suspension names the instant the agreement then ends."""

    at: datetime
    agreement: str
    by: str
    effective_at: datetime
    kind: str = "suspension_lifted"

    def __post_init__(self) -> None:
        where = f"{self.kind} on {self.agreement}"
        object.__setattr__(self, "at", require_aware(self.at, f"{where}: at"))
        object.__setattr__(
            self, "effective_at", require_aware(self.effective_at, f"{where}: effective_at")
        )


@dataclass(frozen=True, slots=True)
class NoticeWithdrawn:
    at: datetime
    agreement: str
    by: str
    kind: str = "notice_withdrawn"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "at", require_aware(self.at, f"{self.kind} on {self.agreement}: at")
        )


@dataclass(frozen=True, slots=True)
class Amendment:
    """New values for some of the agreement's terms, from ``at`` on.

    A field left as ``UNCHANGED`` keeps its value; ``term=None`` makes the agreement indefinite.
    """

    at: datetime
    agreement: str
    changes: Mapping[str, object]
    kind: str = "amendment"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "at", require_aware(self.at, f"{self.kind} on {self.agreement}: at")
        )

    def apply(self, terms: Terms) -> Terms:
        return replace(terms, **dict(self.changes))  # type: ignore[arg-type]


# --- amendments by mutual consent (Art. 21(2)) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmendmentProposed:
    """One party proposes new values for some terms; nothing changes until every other party
    has accepted (``AmendmentAccepted``), and then only from the effective instant."""

    at: datetime
    agreement: str
    by: str
    id: str
    changes: Mapping[str, object]
    kind: str = "amendment_proposed"

    def __post_init__(self) -> None:
        check_id(self.id, "amendment")
        object.__setattr__(
            self, "at", require_aware(self.at, f"{self.kind} on {self.agreement}: at")
        )

    def apply(self, terms: Terms) -> Terms:
        return replace(terms, **dict(self.changes))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AmendmentAccepted:
    """Another party accepts proposal ``amendment``, in force from ``effective_at`` on."""

    at: datetime
    agreement: str
    by: str
    amendment: str
    effective_at: datetime
    kind: str = "amendment_accepted"

    def __post_init__(self) -> None:
        where = f"{self.kind} of {self.amendment} on {self.agreement}"
        object.__setattr__(self, "at", require_aware(self.at, f"{where}: at"))
        object.__setattr__(
            self, "effective_at", require_aware(self.effective_at, f"{where}: effective_at")
        )


@dataclass(frozen=True, slots=True)
class AmendmentWithdrawn:
    """The proposer withdraws a proposal that is not yet in force."""

    at: datetime
    agreement: str
    by: str
    amendment: str
    kind: str = "amendment_withdrawn"

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "at",
            require_aware(self.at, f"{self.kind} of {self.amendment} on {self.agreement}: at"),
        )


MutualAmendmentEvent = AmendmentProposed | AmendmentAccepted | AmendmentWithdrawn

AgreementEvent = (
    TerminationNotice
    | NoticeSuspended
    | SuspensionLifted
    | NoticeWithdrawn
    | Amendment
    | AmendmentProposed
    | AmendmentAccepted
    | AmendmentWithdrawn
)

AMENDABLE = ("parties", "equivalence", "topics", "term", "renewal", "notice_period")
