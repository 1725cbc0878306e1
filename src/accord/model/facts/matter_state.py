"""A matter's state as a party records it (R15); the recording party vouches for it.

It restricts: a condition on a note may end an agreement on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.matters import MatterState
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(fact: MatterState) -> Body:
    return {"at": _body.instant(fact.at), "matter": fact.matter, "state": fact.state, "by": fact.by}


def _decode(body: Mapping[str, Any]) -> MatterState:
    return MatterState(_body.read_instant(body, "at"), body["matter"], body["state"], body["by"])


def _vouchers(fact: MatterState, _world: World) -> tuple[str, ...]:
    return (fact.by,)


def _subjects(fact: MatterState) -> tuple[Subject, ...]:
    return ((SubjectKind.MATTER, fact.matter),)


DEFINITION: Definition[MatterState] = Definition(
    FactKind.MATTER_STATE,
    MatterState,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_matter_state,
    restricts=True,
)
