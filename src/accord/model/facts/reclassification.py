"""The originator's change of an item's classification or caveat (Art. 6(g)); the originator
vouches for it. It restricts (a raised level or narrowed caveat re-marks every copy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.classification import Reclassification
from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(change: Reclassification) -> Body:
    releasable = None if change.releasable_to is None else sorted(change.releasable_to)
    return {
        "at": _body.instant(change.at),
        "item": change.item,
        "by": change.by,
        "level": change.level,
        "releasable_to": releasable,
    }


def _decode(body: Mapping[str, Any]) -> Reclassification:
    releasable = body["releasable_to"]
    return Reclassification(
        _body.read_instant(body, "at"),
        body["item"],
        body["by"],
        body["level"],
        None if releasable is None else frozenset(releasable),
    )


def _vouchers(change: Reclassification, _world: World) -> tuple[str, ...]:
    return (change.by,)


def _subjects(change: Reclassification) -> tuple[Subject, ...]:
    return ((SubjectKind.ITEM, change.item),)


DEFINITION: Definition[Reclassification] = Definition(
    FactKind.RECLASSIFICATION,
    Reclassification,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_reclassification,
    restricts=True,
)
