"""A party's destruction of its copy (R10); the holder vouches for it. It restricts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.acts import Destruction
from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, holding_subject
from accord.model.world import World


def _encode(act: Destruction) -> Body:
    return {"at": _body.instant(act.at), "item": act.item, "party": act.party}


def _decode(body: Mapping[str, Any]) -> Destruction:
    return Destruction(_body.read_instant(body, "at"), body["item"], body["party"])


def _vouchers(act: Destruction, _world: World) -> tuple[str, ...]:
    return (act.party,)


def _subjects(act: Destruction) -> tuple[Subject, ...]:
    return (holding_subject(act.item, act.party),)


DEFINITION: Definition[Destruction] = Definition(
    FactKind.DESTRUCTION,
    Destruction,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_destruction,
    restricts=True,
)
