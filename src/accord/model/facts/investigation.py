"""A step of the investigation of a reported compromise (Art. 17): started, or concluded with
its result and measures; the holder that investigates vouches for it. It restricts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.investigation import (
    InvestigationConcluded,
    InvestigationEvent,
    InvestigationResult,
    InvestigationStarted,
)
from accord.model.taint import Subject, holding_subject
from accord.model.world import World


def _encode(event: InvestigationEvent) -> Body:
    body: Body = {
        "kind": event.kind,
        "at": _body.instant(event.at),
        "item": event.item,
        "party": event.party,
    }
    if isinstance(event, InvestigationConcluded):
        body |= {"result": event.result.value, "measures": event.measures}
    return body


def _decode(body: Mapping[str, Any]) -> InvestigationEvent:
    at = _body.read_instant(body, "at")
    if body["kind"] == "investigation_started":
        return InvestigationStarted(at, body["item"], body["party"])
    if body["kind"] == "investigation_concluded":
        result = InvestigationResult(body["result"])
        return InvestigationConcluded(at, body["item"], body["party"], result, body["measures"])
    raise ValueError(f"unknown investigation step {body['kind']!r}")


def _vouchers(event: InvestigationEvent, _world: World) -> tuple[str, ...]:
    return (event.party,)


def _subjects(event: InvestigationEvent) -> tuple[Subject, ...]:
    return (holding_subject(event.item, event.party),)


DEFINITION: Definition[InvestigationEvent] = Definition(
    FactKind.INVESTIGATION,
    (InvestigationStarted, InvestigationConcluded),
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_investigation_event,
    restricts=True,
)
