"""What a party owes and by when: the vocabulary of ``accord.policy.duties``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.model.time import iso


class DutyKind(StrEnum):
    TERMINATION_NOTICE = "termination-notice"  # informational: last instant for the next term end
    APPLY_RECLASSIFICATION = "apply-reclassification"
    REPORT_COMPROMISE = "report-compromise"
    CONCLUDE_INVESTIGATION = "conclude-investigation"
    DESTROY = "destroy"  # return or destroy a copy (not-covered level, or its purpose ended)
    CHANGED_CONDITION = (
        "changed-condition"  # a condition of a suspended notice whose matter changed
    )


class DutyState(StrEnum):
    PENDING = "pending"
    LATE = "late"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Duty:
    """One thing ``party`` owes: its kind, the rule and article it comes from, when it is due and
    where it stands at the instant asked. ``done_at`` is set when it is done (``late`` says
    whether that was after ``due``)."""

    kind: DutyKind
    party: str
    rule: str
    article: str
    due: datetime
    state: DutyState
    message: str
    item: str | None = None
    agreement: str | None = None
    done_at: datetime | None = None
    informational: bool = False

    @property
    def late(self) -> bool:
        if self.state is DutyState.LATE:
            return True
        return self.done_at is not None and self.done_at > self.due

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "party": self.party,
            "rule": self.rule,
            "article": self.article,
            "due": iso(self.due),
            "state": self.state.value,
            "late": self.late,
            "item": self.item,
            "agreement": self.agreement,
            "done_at": iso(self.done_at) if self.done_at else None,
            "informational": self.informational,
            "message": self.message,
        }
