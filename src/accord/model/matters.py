"""Matters outside an agreement, their recorded states, and conditions tied to them (R15).

A *matter* is a named question outside the agreement (``japan-export-controls``, ``wto-ds590``)
with the states it may take and the state it starts in. A party records each change of state
as a ``MatterState`` fact. A diplomatic note may carry ``Condition`` s on matters; each names
the states in which it holds and its ``Consequence`` when it fails. How conditions act on an
agreement is for ``accord.policy.conditions`` and ``accord.policy.lifecycle``; this module only
holds the facts and checks that they name what exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.errors import InvalidInput, UnknownReference
from accord.model.ids import check_id
from accord.model.time import Duration, require_aware

MATTER_STATE = "matter_state"


@dataclass(frozen=True, slots=True)
class Matter:
    """A named question outside any agreement, with its states and its initial state."""

    id: str
    states: tuple[str, ...]
    initial: str

    def __post_init__(self) -> None:
        check_id(self.id, "matter")
        if not self.states:
            raise InvalidInput(f"matter {self.id}: states must name at least one state")
        for state in self.states:
            if not state or state != state.strip():
                raise InvalidInput(
                    f"matter {self.id}: state {state!r} must be a non-empty name"
                    " without surrounding spaces"
                )
        if len(set(self.states)) != len(self.states):
            raise InvalidInput(f"matter {self.id}: states are listed twice")
        if self.initial not in self.states:
            raise UnknownReference(
                f"matter {self.id}: initial state {self.initial!r} is not one of its states"
                f" ({', '.join(self.states)})"
            )

    def check_state(self, state: str, where: str) -> str:
        """``state`` when this matter defines it; otherwise an error naming what it defines."""
        if state not in self.states:
            raise UnknownReference(
                f"{where}: matter {self.id} has no state {state!r}"
                f" (its states: {', '.join(self.states)})"
            )
        return state


@dataclass(frozen=True, slots=True)
class MatterState:
    """A party records that ``matter`` is in ``state`` from ``at`` on."""

    at: datetime
    matter: str
    state: str
    by: str
    kind: str = MATTER_STATE

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, f"matter_state of {self.matter}: at"))


class ConsequenceKind(StrEnum):
    """What follows when a condition of a suspension fails."""

    END_AFTER = "end_after"  # the notice resumes; the agreement ends that long after the failure
    END_AT_TERM_END = "end_at_term_end"  # it ends at the first term end after the failure
    NONE = "none"  # recorded and shown; the notifying party may still lift at any time


ZERO_DURATIONS = frozenset({"P0D", "PT0S", "P0Y", "P0M", "PT0H", "PT0M"})


@dataclass(frozen=True, slots=True)
class Consequence:
    """``END_AFTER`` with ``period`` None means at the failure instant itself (``P0D``)."""

    kind: ConsequenceKind
    period: Duration | None = None

    def __post_init__(self) -> None:
        if self.period is not None and self.kind is not ConsequenceKind.END_AFTER:
            raise InvalidInput("on_failure: only end_after takes a duration")

    @classmethod
    def end_after(cls, text: str, field: str) -> Consequence:
        """``{end_after: DURATION}``; ``P0D`` (or any zero duration) ends at the failure."""
        if text in ZERO_DURATIONS:
            return cls(ConsequenceKind.END_AFTER, None)
        return cls(ConsequenceKind.END_AFTER, Duration.parse(text, field))

    @property
    def text(self) -> str:
        """The scenario spelling: ``end_after P30D``, ``end_at_term_end`` or ``none``."""
        if self.kind is ConsequenceKind.END_AFTER:
            return f"end_after {self.period.text if self.period else 'P0D'}"
        return self.kind.value

    def describe(self) -> str:
        if self.kind is ConsequenceKind.END_AFTER:
            if self.period is None:
                return "the notice resumes and the agreement ends at the failure instant"
            return f"the notice resumes and the agreement ends {self.period.text} after the failure"
        if self.kind is ConsequenceKind.END_AT_TERM_END:
            return (
                "the notice resumes and the agreement ends at the first term end after the failure"
            )
        return (
            "the failure is recorded; the notifying party may still lift the suspension at any time"
        )


@dataclass(frozen=True, slots=True)
class Condition:
    """The note holds while ``matter`` is in one of ``holds_while``; ``on_failure`` follows
    the first instant it is not."""

    matter: str
    holds_while: frozenset[str]
    on_failure: Consequence

    def holds_in(self, state: str) -> bool:
        return state in self.holds_while

    def check(self, matters: Mapping[str, Matter], where: str) -> None:
        """The matter exists and defines every state named."""
        matter = matters.get(self.matter)
        if matter is None:
            known = ", ".join(sorted(matters)) or "none defined"
            raise UnknownReference(f"{where}: unknown matter {self.matter!r} (matters: {known})")
        if not self.holds_while:
            raise InvalidInput(f"{where}: holds_while must name at least one state")
        for state in sorted(self.holds_while):
            matter.check_state(state, f"{where}: holds_while")
