"""A report of loss or compromise of a copy (R9), with when it was discovered (Art. 17); the
holder vouches for it. It restricts (it opens an investigation and may hold releases)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.acts import Compromise
from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, holding_subject
from accord.model.world import World


def _encode(report: Compromise) -> Body:
    return {
        "at": _body.instant(report.at),
        "item": report.item,
        "party": report.party,
        "description": report.description,
        "discovered_at": _body.maybe_instant(report.discovered_at),
    }


def _decode(body: Mapping[str, Any]) -> Compromise:
    return Compromise(
        _body.read_instant(body, "at"),
        body["item"],
        body["party"],
        body["description"],
        _body.read_maybe_instant(body, "discovered_at"),
    )


def _vouchers(report: Compromise, _world: World) -> tuple[str, ...]:
    return (report.party,)


def _subjects(report: Compromise) -> tuple[Subject, ...]:
    return (holding_subject(report.item, report.party),)


DEFINITION: Definition[Compromise] = Definition(
    FactKind.COMPROMISE,
    Compromise,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_compromise,
    restricts=True,
)
