"""A party: its name, time zone and classification levels, as this store registers it.

The store's own key (``@exchange``: the exchange, or the node) vouches for the registration: a
node registers its peers without holding their keys, and a party's own keys are bound to it by its
key set (in one exchange) or by its pinned card (on a node)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts.definition import EXCHANGE, Body, Definition, FactKind
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
    return (EXCHANGE,)


def _subjects(party: Party) -> tuple[Subject, ...]:
    return ((SubjectKind.PARTY, party.code),)


DEFINITION: Definition[Party] = Definition(
    FactKind.PARTY, Party, _encode, _decode, _vouchers, _subjects, World.add_party
)
