"""A release of an item from one party to another (through a hub); the sender vouches for it.
The copies it makes are holdings, each vouched for by its holder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.acts import Release
from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, holding_subject
from accord.model.world import World


def _encode(release: Release) -> Body:
    return {
        "at": _body.instant(release.at),
        "item": release.item,
        "from": release.from_party,
        "to": release.to_party,
        "via": release.via,
        "agreement": release.agreement,
    }


def _decode(body: Mapping[str, Any]) -> Release:
    return Release(
        _body.read_instant(body, "at"),
        body["item"],
        body["from"],
        body["to"],
        body["via"],
        body["agreement"],
    )


def _vouchers(release: Release, _world: World) -> tuple[str, ...]:
    return (release.from_party,)


def _subjects(release: Release) -> tuple[Subject, ...]:
    return (holding_subject(release.item, release.to_party),)


DEFINITION: Definition[Release] = Definition(
    FactKind.RELEASE, Release, _encode, _decode, _vouchers, _subjects, World.add_release
)
