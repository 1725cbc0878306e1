"""Art. 6(g), R2, R3, R5: an item's classification and each copy's marking at an instant.

A reclassification by the originator changes, from its instant on, the item's level in the
originator's scheme and/or its releasable-to list. Every copy is re-marked at that instant
through the equivalence table of the agreement it was received under (its terms at that
instant, R2); when that table has no equivalent for the new level, the copy is protected at
its holder's highest level and flagged ``not-covered``. Both are pure functions of the facts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from accord.model.classification import MarkingFlag, Reclassification
from accord.model.item import Holding, Item
from accord.policy.facts import Facts


class Marking(NamedTuple):
    """A copy's marking at an instant: the copy (level re-marked) and its flag, if any."""

    holding: Holding
    flag: MarkingFlag | None = None
    changed_at: datetime | None = None  # the reclassification it follows, if any

    @property
    def level(self) -> str:
        return self.holding.level


def changes_until(facts: Facts, item_id: str, at: datetime) -> list[Reclassification]:
    """The item's reclassifications at or before ``at``, in the order recorded."""
    return [c for c in facts.world.reclassifications.get(item_id, ()) if c.at <= at]


def classified(facts: Facts, item: Item, at: datetime) -> Item:
    """``item`` with the level and releasable-to list in force at ``at``."""
    changes = facts.world.reclassifications.get(item.id)
    if not changes:
        return item
    level, releasable = item.level, item.releasable_to
    for change in changes:
        if change.at > at:
            break
        level = change.level if change.level is not None else level
        releasable = change.releasable_to if change.releasable_to is not None else releasable
    if level == item.level and releasable == item.releasable_to:
        return item
    return replace(item, level=level, releasable_to=releasable)


def marking(facts: Facts, holding: Holding, at: datetime) -> Marking:
    """``holding``'s marking at ``at``: as received, unless a change of level came at or after
    its receipt and at or before ``at``; then as the latest such change makes it."""
    changes = facts.world.reclassifications.get(holding.item)
    if not changes:
        return Marking(holding)
    latest: Reclassification | None = None
    level = holding.originator_level
    for change in changes:
        if change.at > at:
            break
        if change.level is not None:
            level = change.level
            if change.at >= holding.received_at:
                latest = change
    if latest is None:
        return Marking(holding)
    return _remarked(facts, holding, level, latest.at)


def current_marking(facts: Facts, holding: Holding) -> Marking:
    """The marking after every recorded change: the one the copy's key is bound to now."""
    changes = facts.world.reclassifications.get(holding.item)
    if not changes:
        return Marking(holding)
    return marking(facts, holding, max(c.at for c in changes))


def _remarked(facts: Facts, holding: Holding, level: str, at: datetime) -> Marking:
    if holding.party == holding.originator:
        copy = holding._replace(level=level, originator_level=level)
        return Marking(copy, None, at)
    equivalent = None
    if holding.agreement is not None and holding.agreement in facts.world.agreements:
        _, terms = facts.status_terms(holding.agreement, at)
        equivalent = terms.equivalence.equivalent(holding.originator, level, holding.party)
    if equivalent is None:
        highest = facts.world.party(holding.party).levels[-1]
        copy = holding._replace(level=highest, originator_level=level)
        return Marking(copy, MarkingFlag.NOT_COVERED, at)
    return Marking(holding._replace(level=equivalent, originator_level=level), None, at)
