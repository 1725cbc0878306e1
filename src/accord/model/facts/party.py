"""A party: its name, time zone and classification levels; the party vouches for itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.party import Party
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(party: Party) -> Body:
    return {
        "code": party.code,
        "name": party.name,
        "timezone": party.timezone,
        "levels": list(party.levels),
    }


def _decode(body: Mapping[str, Any]) -> Party:
    return Party(body["code"], body["name"], body["timezone"], tuple(body["levels"]))


def _vouchers(party: Party, _world: World) -> tuple[str, ...]:
    return (party.code,)


def _subjects(party: Party) -> tuple[Subject, ...]:
    return ((SubjectKind.PARTY, party.code),)


DEFINITION: Definition[Party] = Definition(
    FactKind.PARTY, Party, _encode, _decode, _vouchers, _subjects, World.add_party
)
