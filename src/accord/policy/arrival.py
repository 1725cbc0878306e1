"""Time across nodes: whether a message and its facts are accepted by their instants.

Each node has its own clock, so a receiving node judges the sender's instants against its own
arrival instant with a tolerance, the skew:

* the message's ``sent_at`` must be within the skew of its arrival, either way: a message
  claiming to be sent long ago (a replay of old traffic) or in the future (a clock far off) is
  refused. The sender stamps ``sent_at`` when it sends, each attempt anew, so a fact that waited
  in an outbox while the peer was down arrives in a fresh message;
* a fact is judged by its own instant, however long ago that was: a fact may not claim an
  instant after the message that carries it (the sender signed it before sending), and may not
  claim an instant before an earlier fact of the same vouching party from the same sending node;
  equal instants are allowed. Facts of other parties, or of the same party through another node,
  never make a fact "out of order".

Both boundaries are inclusive: a message exactly ``skew`` away is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from accord.errors import InvalidInput
from accord.model.messages import Refusal
from accord.model.time import require_aware

DEFAULT_SKEW = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class ArrivalRules:
    """The tolerance a node allows between a sender's clock and its own."""

    skew: timedelta = DEFAULT_SKEW

    def __post_init__(self) -> None:
        if not isinstance(self.skew, timedelta) or self.skew < timedelta(0):
            raise InvalidInput(f"skew: {self.skew!r} must be a non-negative duration")


@dataclass(frozen=True, slots=True)
class TimeVerdict:
    """``None`` refusal: accepted. Otherwise the refusal and what it was about."""

    refusal: Refusal | None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.refusal is None


ACCEPTED = TimeVerdict(None)


def judge_message(sent_at: datetime, arrived_at: datetime, rules: ArrivalRules) -> TimeVerdict:
    """The message's own instant against its arrival."""
    sent = require_aware(sent_at, "sent_at")
    arrived = require_aware(arrived_at, "arrived_at")
    off = arrived - sent
    if abs(off) <= rules.skew:
        return ACCEPTED
    way = "before" if off > timedelta(0) else "after"
    return TimeVerdict(
        Refusal.CLOCK_SKEW,
        f"sent_at {sent.isoformat()} is {abs(off).total_seconds():g} s {way} its arrival "
        f"{arrived.isoformat()}; the allowed skew is {rules.skew.total_seconds():g} s",
    )


def judge_fact(
    instant: datetime, sent_at: datetime, latest_of_party: datetime | None
) -> TimeVerdict:
    """A fact's instant against the message carrying it and the latest earlier fact of the same
    party from the same sending node (``None``: there is none)."""
    claimed = require_aware(instant, "instant")
    if claimed > require_aware(sent_at, "sent_at"):
        return TimeVerdict(
            Refusal.CLOCK_SKEW,
            f"the fact claims {claimed.isoformat()}, after the message carrying it was sent "
            f"({sent_at.isoformat()})",
        )
    if latest_of_party is not None and claimed < require_aware(latest_of_party, "latest"):
        return TimeVerdict(
            Refusal.SENDER_REGRESS,
            f"the fact claims {claimed.isoformat()}, before {latest_of_party.isoformat()} of an "
            "earlier fact of the same party from the same node",
        )
    return ACCEPTED
