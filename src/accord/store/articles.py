"""Art. 6(g), 6(h), 17 facts to and from the rows of ``article_facts``.

One table holds them all, each row a ``kind`` and a JSON body, read back in the order written:
an item's retention (purpose, retain_until), an agreement's deadlines, the discovery instant of
a compromise report, reclassifications, investigation steps and release holds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from accord.errors import StoreError
from accord.model.acts import Compromise
from accord.model.classification import Reclassification
from accord.model.investigation import (
    Deadlines,
    HoldEvent,
    InvestigationConcluded,
    InvestigationEvent,
    InvestigationResult,
    InvestigationStarted,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.time import Duration, iso, parse_instant
from accord.model.world import World


class FactKind(StrEnum):
    RETENTION = "item-retention"
    DEADLINES = "agreement-deadlines"
    DISCOVERY = "compromise-discovery"
    RECLASSIFY = "reclassify"
    INVESTIGATION_STARTED = "investigation_started"
    INVESTIGATION_CONCLUDED = "investigation_concluded"
    RELEASE_HOLD = "release_hold"
    RELEASE_HOLD_LIFTED = "release_hold_lifted"


ArticleFact = Reclassification | InvestigationEvent | HoldEvent


def retention_body(
    item_id: str, purpose: str | None, retain_until: datetime | None
) -> dict[str, Any]:
    return {
        "item": item_id,
        "purpose": purpose,
        "retain_until": iso(retain_until) if retain_until else None,
    }


def deadlines_body(agreement_id: str, deadlines: Deadlines) -> dict[str, Any]:
    return {
        "agreement": agreement_id,
        "report_within": deadlines.report_within.text,
        "conclude_within": deadlines.conclude_within.text,
        "return_within": deadlines.return_within.text,
    }


def discovery_body(report: Compromise) -> dict[str, Any]:
    assert report.discovered_at is not None
    return {
        "item": report.item,
        "party": report.party,
        "at": iso(report.at),
        "discovered_at": iso(report.discovered_at),
    }


def fact_body(fact: ArticleFact) -> dict[str, Any]:
    if isinstance(fact, Reclassification):
        releasable = None if fact.releasable_to is None else sorted(fact.releasable_to)
        return {"item": fact.item, "by": fact.by, "level": fact.level, "releasable_to": releasable}
    if isinstance(fact, InvestigationConcluded):
        return {
            "item": fact.item,
            "party": fact.party,
            "result": fact.result.value,
            "measures": fact.measures,
        }
    if isinstance(fact, InvestigationStarted):
        return {"item": fact.item, "party": fact.party}
    return {"by": fact.by, "holder": fact.holder}


def apply_row(world: World, kind: str, at: datetime | None, body: dict[str, Any]) -> None:
    """Add one stored fact to ``world`` (rows come in the order they were written)."""
    if kind == FactKind.RETENTION:
        item = world.item(body["item"])
        until = body["retain_until"]
        world.replace_item(
            replace(
                item,
                purpose=body["purpose"],
                retain_until=parse_instant(until, "retain_until") if until else None,
            )
        )
        return
    if kind == FactKind.DEADLINES:
        agreement = world.agreement(body["agreement"])
        deadlines = Deadlines(
            Duration.parse(body["report_within"], "report_within"),
            Duration.parse(body["conclude_within"], "conclude_within"),
            Duration.parse(body["return_within"], "return_within"),
        )
        world.replace_agreement(replace(agreement, deadlines=deadlines))
        return
    if kind == FactKind.DISCOVERY:
        _discovered(world, body)
        return
    if at is None:
        raise StoreError(f"an article fact of kind {kind!r} has no instant")
    _timed(world, kind, at, body)


def _discovered(world: World, body: dict[str, Any]) -> None:
    at = parse_instant(body["at"], "at")
    for index in range(len(world.compromises) - 1, -1, -1):
        report = world.compromises[index]
        if (report.item, report.party, report.at) == (body["item"], body["party"], at):
            discovered = parse_instant(body["discovered_at"], "discovered_at")
            world.compromises[index] = replace(report, discovered_at=discovered)
            return
    raise StoreError("a compromise discovery names no stored report")


def _timed(world: World, kind: str, at: datetime, body: dict[str, Any]) -> None:
    if kind == FactKind.RECLASSIFY:
        releasable = body["releasable_to"]
        world.add_reclassification(
            Reclassification(
                at,
                body["item"],
                body["by"],
                body["level"],
                None if releasable is None else frozenset(releasable),
            )
        )
    elif kind == FactKind.INVESTIGATION_STARTED:
        world.add_investigation_event(InvestigationStarted(at, body["item"], body["party"]))
    elif kind == FactKind.INVESTIGATION_CONCLUDED:
        world.add_investigation_event(
            InvestigationConcluded(
                at,
                body["item"],
                body["party"],
                InvestigationResult(body["result"]),
                body["measures"],
            )
        )
    elif kind == FactKind.RELEASE_HOLD:
        world.add_hold_event(ReleaseHold(at, body["by"], body["holder"]))
    elif kind == FactKind.RELEASE_HOLD_LIFTED:
        world.add_hold_event(ReleaseHoldLifted(at, body["by"], body["holder"]))
    else:
        raise StoreError(f"unknown article fact kind {kind!r}")
