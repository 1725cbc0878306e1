"""A copy received (the receipt): the party that holds it vouches for the copy as marked (R2).
The originator's own copy is part of the item; every other copy is a holding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.item import Holding
from accord.model.taint import Subject, holding_subject
from accord.model.world import World


def _encode(holding: Holding) -> Body:
    return {
        "item": holding.item,
        "party": holding.party,
        "level": holding.level,
        "originator": holding.originator,
        "originator_level": holding.originator_level,
        "received_at": _body.instant(holding.received_at),
        "agreement": holding.agreement,
        "via": holding.via,
    }


def _decode(body: Mapping[str, Any]) -> Holding:
    return Holding(
        body["item"],
        body["party"],
        body["level"],
        body["originator"],
        body["originator_level"],
        _body.read_instant(body, "received_at"),
        body["agreement"],
        body["via"],
    )


def _vouchers(holding: Holding, _world: World) -> tuple[str, ...]:
    return (holding.party,)


def _subjects(holding: Holding) -> tuple[Subject, ...]:
    return (holding_subject(holding.item, holding.party),)


DEFINITION: Definition[Holding] = Definition(
    FactKind.HOLDING, Holding, _encode, _decode, _vouchers, _subjects, World.add_holding
)
