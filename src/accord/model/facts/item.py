"""An item's metadata (and its retention, Art. 6(h)); its originator vouches for it. The item's
title, content and STIX object are not part of the fact: they are sealed apart, under the item's
own data key, and signed by the originator over this metadata and their digest. A later version
of an object is a new item, vouched for by the same originator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.item import Item
from accord.model.taint import Subject, SubjectKind, holding_subject
from accord.model.world import World


def _encode(item: Item) -> Body:
    return {
        "id": item.id,
        "originator": item.originator,
        "level": item.level,
        "topics": sorted(item.topics),
        "releasable_to": sorted(item.releasable_to),
        "created": _body.instant(item.created),
        "purpose": item.purpose,
        "retain_until": _body.maybe_instant(item.retain_until),
    }


def _decode(body: Mapping[str, Any]) -> Item:
    return Item(
        body["id"],
        body["originator"],
        body["level"],
        frozenset(body["topics"]),
        frozenset(body["releasable_to"]),
        _body.read_instant(body, "created"),
        purpose=body["purpose"],
        retain_until=_body.read_maybe_instant(body, "retain_until"),
    )


def _vouchers(item: Item, _world: World) -> tuple[str, ...]:
    return (item.originator,)


def _subjects(item: Item) -> tuple[Subject, ...]:
    return ((SubjectKind.ITEM, item.id), holding_subject(item.id, item.originator))


DEFINITION: Definition[Item] = Definition(
    FactKind.ITEM, Item, _encode, _decode, _vouchers, _subjects, World.add_item
)
