"""Stable reason codes, the rule each one cites, and decisions built from them (R11).

``RULE`` is the one table from code to rule; docs/rules.md states each rule and lists its codes
(a test keeps the two in step).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from accord.model.item import Holding


class Code(StrEnum):
    # allow
    RELEASE_ALLOWED = "release-allowed"
    READ_ALLOWED = "read-allowed"
    EVENT_ALLOWED = "event-allowed"
    CONSENT_RECORDED = "consent-recorded"
    DESTRUCTION_RECORDED = "destruction-recorded"
    COMPROMISE_RECORDED = "compromise-recorded"
    # release and read denials
    NO_AGREEMENT = "no-agreement"
    AGREEMENT_NOT_IN_FORCE = "agreement-not-in-force"
    LEVEL_NOT_COVERED = "level-not-covered"
    TOPIC_OUT_OF_SCOPE = "topic-out-of-scope"
    NOT_RELEASABLE_TO = "not-releasable-to"
    NO_ORIGINATOR_CONSENT = "no-originator-consent"
    NOT_HELD = "not-held"
    DESTROYED = "destroyed"
    CLEARANCE_TOO_LOW = "clearance-too-low"
    NO_NEED_TO_KNOW = "no-need-to-know"
    NO_HUB_ROUTE = "no-hub-route"
    ALREADY_HELD = "already-held"
    # diplomatic-event and act refusals
    NOT_A_PARTY = "not-a-party"
    NOTICE_ALREADY_GIVEN = "notice-already-given"
    NO_NOTICE = "no-notice"
    NOTICE_NOT_SUSPENDED = "notice-not-suspended"
    NOTICE_ALREADY_SUSPENDED = "notice-already-suspended"
    NOT_NOTIFYING_PARTY = "not-notifying-party"
    EFFECTIVE_BEFORE_EVENT = "effective-before-event"
    TERM_ALREADY_ELAPSED = "term-already-elapsed"
    INVALID_AMENDMENT = "invalid-amendment"
    NOT_ORIGINATOR = "not-originator"
    # conditions (R15) and amendments by mutual consent (Art. 21(2), R13)
    INVALID_CONDITION = "invalid-condition"
    CONDITION_FAILS = "condition-fails"
    UNKNOWN_AMENDMENT = "unknown-amendment"
    AMENDMENT_WITHDRAWN = "amendment-withdrawn"
    AMENDMENT_AGREED = "amendment-agreed"
    NOT_PROPOSER = "not-proposer"
    OWN_PROPOSAL = "own-proposal"
    ALREADY_ACCEPTED = "already-accepted"
    # Art. 6(g), Art. 17: classification changes, investigations, release holds
    RECLASSIFICATION_RECORDED = "reclassification-recorded"
    INVESTIGATION_RECORDED = "investigation-recorded"
    RELEASE_HOLD_RECORDED = "release-hold-recorded"
    RELEASE_HELD = "release-held"
    INVESTIGATION_CONCLUDED = "investigation-concluded"
    NO_RELEASE_HOLD = "no-release-hold"
    RELEASE_HOLD_IN_FORCE = "release-hold-in-force"


RULE: dict[Code, str] = {
    Code.RELEASE_ALLOWED: "R1",
    Code.READ_ALLOWED: "R3",
    Code.EVENT_ALLOWED: "R6",
    Code.CONSENT_RECORDED: "R4",
    Code.DESTRUCTION_RECORDED: "R10",
    Code.COMPROMISE_RECORDED: "R9",
    Code.NO_AGREEMENT: "R1",
    Code.AGREEMENT_NOT_IN_FORCE: "R1",
    Code.LEVEL_NOT_COVERED: "R1",
    Code.TOPIC_OUT_OF_SCOPE: "R1",
    Code.NOT_RELEASABLE_TO: "R5",
    Code.NO_ORIGINATOR_CONSENT: "R4",
    Code.NOT_HELD: "R11",
    Code.DESTROYED: "R10",
    Code.CLEARANCE_TOO_LOW: "R3",
    Code.NO_NEED_TO_KNOW: "R3",
    Code.NO_HUB_ROUTE: "R8",
    Code.ALREADY_HELD: "R11",
    Code.NOT_A_PARTY: "R6",
    Code.NOTICE_ALREADY_GIVEN: "R6",
    Code.NO_NOTICE: "R6",
    Code.NOTICE_NOT_SUSPENDED: "R6",
    Code.NOTICE_ALREADY_SUSPENDED: "R6",
    Code.NOT_NOTIFYING_PARTY: "R6",
    Code.EFFECTIVE_BEFORE_EVENT: "R6",
    Code.TERM_ALREADY_ELAPSED: "R6",
    Code.INVALID_AMENDMENT: "R6",
    Code.NOT_ORIGINATOR: "R4",
    Code.INVALID_CONDITION: "R15",
    Code.CONDITION_FAILS: "R15",
    Code.UNKNOWN_AMENDMENT: "R13",
    Code.AMENDMENT_WITHDRAWN: "R13",
    Code.AMENDMENT_AGREED: "R13",
    Code.NOT_PROPOSER: "R13",
    Code.OWN_PROPOSAL: "R13",
    Code.ALREADY_ACCEPTED: "R13",
    Code.RECLASSIFICATION_RECORDED: "R2",
    Code.INVESTIGATION_RECORDED: "R9",
    Code.RELEASE_HOLD_RECORDED: "R9",
    Code.RELEASE_HELD: "R9",
    Code.INVESTIGATION_CONCLUDED: "R9",
    Code.NO_RELEASE_HOLD: "R9",
    Code.RELEASE_HOLD_IN_FORCE: "R9",
}

SUMMARY: dict[Code, str] = {
    Code.RELEASE_ALLOWED: "an agreement in force covers the item's level and topics",
    Code.READ_ALLOWED: "the user's clearance and need-to-know cover the holding",
    Code.EVENT_ALLOWED: "the event is valid for the agreement's state",
    Code.CONSENT_RECORDED: "the originator's answer on onward release is recorded",
    Code.DESTRUCTION_RECORDED: "the copy is destroyed and unreadable from now on",
    Code.COMPROMISE_RECORDED: "the report of loss or compromise is recorded for the originator",
    Code.NO_AGREEMENT: "no agreement covers a direct release between these parties",
    Code.AGREEMENT_NOT_IN_FORCE: "the agreement is not in force at this instant",
    Code.LEVEL_NOT_COVERED: "the agreement's equivalence table does not cover the level",
    Code.TOPIC_OUT_OF_SCOPE: "the item has topics outside the agreement's scope",
    Code.NOT_RELEASABLE_TO: "the originator's releasable-to caveat excludes the recipient",
    Code.NO_ORIGINATOR_CONSENT: "a non-originator holder needs the originator's consent",
    Code.NOT_HELD: "the party holds no copy of the item at this instant",
    Code.DESTROYED: "the party's copy was destroyed",
    Code.CLEARANCE_TOO_LOW: "the user's clearance is below the holding's level",
    Code.NO_NEED_TO_KNOW: "the user lacks need-to-know for a topic of the item",
    Code.NO_HUB_ROUTE: "no arrangement routes between these parties through that hub",
    Code.ALREADY_HELD: "the recipient already holds a copy",
    Code.NOT_A_PARTY: "the acting party is not a party to the agreement",
    Code.NOTICE_ALREADY_GIVEN: "a termination notice is already outstanding",
    Code.NO_NOTICE: "there is no termination notice to act on",
    Code.NOTICE_NOT_SUSPENDED: "the notice is not suspended",
    Code.NOTICE_ALREADY_SUSPENDED: "the notice is already suspended",
    Code.NOT_NOTIFYING_PARTY: "only the party that gave the notice may act on it",
    Code.EFFECTIVE_BEFORE_EVENT: "the agreement cannot end before the event that ends it",
    Code.TERM_ALREADY_ELAPSED: "the amended term would already have ended",
    Code.INVALID_AMENDMENT: "the amendment's new terms are invalid",
    Code.NOT_ORIGINATOR: "only the originator may answer for consent or change a classification",
    Code.INVALID_CONDITION: "a condition names a matter or state that is not defined",
    Code.CONDITION_FAILS: "a condition of the suspension does not hold at its instant",
    Code.UNKNOWN_AMENDMENT: "no amendment with that id was proposed on the agreement",
    Code.AMENDMENT_WITHDRAWN: "the amendment was withdrawn by its proposer",
    Code.AMENDMENT_AGREED: "every party has already accepted the amendment",
    Code.NOT_PROPOSER: "only the proposing party may withdraw an amendment",
    Code.OWN_PROPOSAL: "the proposing party does not accept its own amendment",
    Code.ALREADY_ACCEPTED: "the party has already accepted the amendment",
    Code.RECLASSIFICATION_RECORDED: "every copy is re-marked from this instant (Art. 6(g))",
    Code.INVESTIGATION_RECORDED: "the investigation's step is recorded for the originator",
    Code.RELEASE_HOLD_RECORDED: "the originator's hold on releases is recorded (Art. 17)",
    Code.RELEASE_HELD: "the originator holds its releases to this party pending an investigation",
    Code.INVESTIGATION_CONCLUDED: "the investigation is already concluded",
    Code.NO_RELEASE_HOLD: "there is no release hold in force to lift",
    Code.RELEASE_HOLD_IN_FORCE: "a release hold is already in force",
}


class Reason(NamedTuple):
    """One reason of a decision: a stable code, the rule it applies, and a sentence."""

    code: Code
    message: str
    agreement: str | None = None

    @property
    def rule(self) -> str:
        return RULE[self.code]

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code.value,
            "rule": self.rule,
            "agreement": self.agreement,
            "message": self.message,
        }


class Decision(NamedTuple):
    """Allowed or not, with every reason that applies (R11: default deny)."""

    allowed: bool
    reasons: tuple[Reason, ...]
    holdings: tuple[Holding, ...] = ()  # the copies an allowed release creates, marked per R2

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code.value for r in self.reasons)

    def as_dict(self) -> dict[str, object]:
        return {
            "decision": "allow" if self.allowed else "deny",
            "reasons": [r.as_dict() for r in self.reasons],
        }


def allow(
    code: Code, message: str, agreement: str | None = None, holdings: tuple[Holding, ...] = ()
) -> Decision:
    return Decision(True, (Reason(code, message, agreement),), holdings)


def deny(reasons: list[Reason]) -> Decision:
    """A denial; with no reason given, default deny still says why."""
    if not reasons:
        reasons = [Reason(Code.NO_AGREEMENT, "nothing allows this (default deny)")]
    return Decision(False, tuple(reasons))
