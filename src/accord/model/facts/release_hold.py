"""An originator's hold on its releases to a holder pending an investigation, or its lifting
(Art. 17, R9); the originator vouches for it. It restricts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.investigation import HoldEvent, ReleaseHold, ReleaseHoldLifted
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(event: HoldEvent) -> Body:
    return {
        "kind": event.kind,
        "at": _body.instant(event.at),
        "by": event.by,
        "holder": event.holder,
    }


def _decode(body: Mapping[str, Any]) -> HoldEvent:
    at = _body.read_instant(body, "at")
    if body["kind"] == "release_hold":
        return ReleaseHold(at, body["by"], body["holder"])
    if body["kind"] == "release_hold_lifted":
        return ReleaseHoldLifted(at, body["by"], body["holder"])
    raise ValueError(f"unknown release hold event {body['kind']!r}")


def _vouchers(event: HoldEvent, _world: World) -> tuple[str, ...]:
    return (event.by,)


def _subjects(event: HoldEvent) -> tuple[Subject, ...]:
    return ((SubjectKind.PARTY, event.holder),)


DEFINITION: Definition[HoldEvent] = Definition(
    FactKind.RELEASE_HOLD,
    (ReleaseHold, ReleaseHoldLifted),
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_hold_event,
    restricts=True,
)
