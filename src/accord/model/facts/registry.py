"""The one definition of each kind of fact, by kind (listed here explicitly)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import (
    agreement,
    compromise,
    consent,
    destruction,
    holding,
    investigation,
    item,
    matter,
    matter_state,
    note,
    party,
    reclassification,
    release,
    release_hold,
    rule_revocation,
    standing_consent,
    standing_rule,
    topic,
    user,
)
from accord.model.facts.definition import Definition, FactKind

DEFINITIONS: Mapping[FactKind, Definition[Any]] = {
    d.kind: d
    for d in (
        topic.DEFINITION,
        party.DEFINITION,
        agreement.DEFINITION,
        matter.DEFINITION,
        note.DEFINITION,
        matter_state.DEFINITION,
        user.DEFINITION,
        item.DEFINITION,
        holding.DEFINITION,
        release.DEFINITION,
        consent.DEFINITION,
        destruction.DEFINITION,
        compromise.DEFINITION,
        reclassification.DEFINITION,
        investigation.DEFINITION,
        release_hold.DEFINITION,
        standing_rule.DEFINITION,
        standing_consent.DEFINITION,
        rule_revocation.DEFINITION,
    )
}


def definition(kind: FactKind | str) -> Definition[Any]:
    """The definition of ``kind``; ``KeyError`` for a kind accord does not know."""
    return DEFINITIONS[FactKind(kind)]
