"""Items of intelligence and the holdings (copies) parties keep of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from accord.errors import InvalidInput
from accord.model.ids import check_id
from accord.model.time import iso, require_aware


@dataclass(frozen=True, slots=True)
class Item:
    """A piece of intelligence as its originator made it.

    ``level`` is in the originator's scheme; ``releasable_to`` is the originator's caveat (R5):
    no party outside it may ever receive the item. An empty list means originator only.
    """

    id: str
    originator: str
    level: str
    topics: frozenset[str]
    releasable_to: frozenset[str]
    created: datetime
    title: str = ""
    content: str = ""
    stix: dict[str, Any] | None = None
    # Art. 6(h): what the item is shared for, and until when a recipient may keep its copy
    purpose: str | None = None
    retain_until: datetime | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "item")
        object.__setattr__(self, "created", require_aware(self.created, f"item {self.id}: created"))
        if self.retain_until is not None:
            retain = require_aware(self.retain_until, f"item {self.id}: retain_until")
            object.__setattr__(self, "retain_until", retain)
            if retain < self.created:
                raise InvalidInput(
                    f"item {self.id}: retain_until {iso(retain)} is before created {iso(self.created)}"
                )


class Holding(NamedTuple):
    """A party's copy of an item, marked with its own level beside the originator's (R2).

    An immutable named tuple: copies are made on the decision hot path.

    ``agreement`` is the agreement the copy was received under (None for the originator's own
    copy); ``via`` the hub it passed through, if any.
    """

    item: str
    party: str
    level: str
    originator: str
    originator_level: str
    received_at: datetime
    agreement: str | None = None
    via: str | None = None
    destroyed_at: datetime | None = None

    def held_at(self, at: datetime) -> bool:
        return self.received_at <= at and (self.destroyed_at is None or at < self.destroyed_at)
