"""A matter outside the agreements that notes may be conditional on (R15); the exchange vouches
for its definition (the states it can take)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts.definition import EXCHANGE, Body, Definition, FactKind
from accord.model.matters import Matter
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(matter: Matter) -> Body:
    return {"id": matter.id, "states": list(matter.states), "initial": matter.initial}


def _decode(body: Mapping[str, Any]) -> Matter:
    return Matter(body["id"], tuple(body["states"]), body["initial"])


def _vouchers(_matter: Matter, _world: World) -> tuple[str, ...]:
    return (EXCHANGE,)


def _subjects(matter: Matter) -> tuple[Subject, ...]:
    return ((SubjectKind.MATTER, matter.id),)


DEFINITION: Definition[Matter] = Definition(
    FactKind.MATTER, Matter, _encode, _decode, _vouchers, _subjects, World.add_matter
)
