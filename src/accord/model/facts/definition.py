"""What a definition of a kind of fact holds, and the vocabulary it uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from accord.model.taint import Subject
from accord.model.world import World

EXCHANGE = "@exchange"  # the exchange (or node) itself, for facts no party vouches for


class FactKind(StrEnum):
    """Every kind of fact a world is made of (one definition each, in ``registry``)."""

    TOPIC = "topic"
    PARTY = "party"
    AGREEMENT = "agreement"
    MATTER = "matter"
    NOTE = "agreement-event"
    MATTER_STATE = "matter-state"
    USER = "user"
    ITEM = "item"
    HOLDING = "holding"
    RELEASE = "release"
    CONSENT = "consent"
    DESTRUCTION = "destruction"
    COMPROMISE = "compromise"
    RECLASSIFICATION = "reclassification"
    INVESTIGATION = "investigation"
    RELEASE_HOLD = "release-hold"
    STANDING_RULE = "standing-rule"
    STANDING_CONSENT = "standing-consent"
    RULE_REVOCATION = "rule-revocation"


F = TypeVar("F")
Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Definition(Generic[F]):
    """One kind of fact.

    ``encode`` gives the canonical body (JSON values only, instants as ISO 8601 UTC, sets as
    sorted lists) and ``decode`` reads it back (``decode(encode(f)) == f``); ``vouchers`` are
    the parties whose signatures the fact needs, worked out on the world before it is applied;
    ``subjects`` what it is about; ``apply`` adds it to the world. A kind that ``restricts``
    (a note, a consent, a destruction...) may take away what other facts grant: one that fails
    its check taints the whole world, since what it restricted can no longer be known."""

    kind: FactKind
    type: type[F] | tuple[type, ...]
    encode: Callable[[F], Body]
    decode: Callable[[Mapping[str, Any]], F]
    vouchers: Callable[[F, World], tuple[str, ...]]
    subjects: Callable[[F], tuple[Subject, ...]]
    apply: Callable[[World, F], None]
    restricts: bool = False
