"""An originator's standing consent: a holder may pass its matching items on to named
recipients (R4); the originator vouches for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.facts.standing_rule import decode_window, encode_window
from accord.model.rules import StandingConsent
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(consent: StandingConsent) -> Body:
    return {
        "id": consent.id,
        "by": consent.by,
        "holder": consent.holder,
        "to": _body.sorted_list(consent.recipients),
        "topics": _body.sorted_list(consent.topics),
        "max_level": consent.max_level,
        **encode_window(consent.window),
    }


def _decode(body: Mapping[str, Any]) -> StandingConsent:
    return StandingConsent(
        body["id"],
        body["by"],
        body["holder"],
        frozenset(body["to"]),
        frozenset(body["topics"]),
        body["max_level"],
        decode_window(body),
    )


def _vouchers(consent: StandingConsent, _world: World) -> tuple[str, ...]:
    return (consent.by,)


def _subjects(consent: StandingConsent) -> tuple[Subject, ...]:
    return ((SubjectKind.PARTY, consent.by),)


DEFINITION: Definition[StandingConsent] = Definition(
    FactKind.STANDING_CONSENT,
    StandingConsent,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_standing_consent,
)
