"""Art. 6(g): may a party change an item's classification at an instant."""

from __future__ import annotations

from accord.errors import InvalidInput
from accord.model.classification import Reclassification
from accord.model.time import iso
from accord.policy.facts import Facts
from accord.policy.marking import classified
from accord.policy.reasons import Code, Decision, Reason, allow, deny


def check_reclassification(facts: Facts, change: Reclassification) -> None:
    """Bad input from the originator: an unknown level or party, or nothing to change."""
    world = facts.world
    item = world.item(change.item)
    if change.level is None and change.releasable_to is None:
        raise InvalidInput(f"reclassify of {item.id}: give a level, releasable_to or both")
    if change.level is not None:
        world.party(item.originator).rank(change.level)  # UnknownReference names the scheme
    for code in sorted(change.releasable_to or ()):
        world.party(code)


def decide_reclassification(facts: Facts, change: Reclassification) -> Decision:
    """Only the originator changes a classification; it reaches every copy from its instant."""
    world = facts.world
    item = classified(facts, world.item(change.item), change.at)
    world.party(change.by)
    if change.at < item.created:
        raise InvalidInput(
            f"reclassify of {item.id} at {iso(change.at)}: the item does not exist before"
            f" {iso(item.created)}"
        )
    if change.by != item.originator:
        return deny(
            [
                Reason(
                    Code.NOT_ORIGINATOR,
                    f"{change.by} is not the originator of {item.id} ({item.originator} is);"
                    " only the originator changes its classification (Art. 6(g))",
                )
            ]
        )
    check_reclassification(facts, change)
    parts = []
    if change.level is not None:
        parts.append(f"level {item.level} → {change.level}")
    if change.releasable_to is not None:
        new = ", ".join(sorted(change.releasable_to)) or "originator only"
        parts.append(f"releasable to {new}")
    return allow(
        Code.RECLASSIFICATION_RECORDED,
        f"{item.originator} reclassifies {item.id} from {iso(change.at)}: {'; '.join(parts)}",
    )
