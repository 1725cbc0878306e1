"""An agreement's definition (terms, hub, deadlines); every party to it vouches for it.

It restricts: its terms are what limit every flow under it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.agreement import Agreement
from accord.model.facts import _body
from accord.model.facts.codec import terms_from_json, terms_to_json
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.investigation import Deadlines
from accord.model.taint import Subject, SubjectKind
from accord.model.time import Duration
from accord.model.world import World


def _encode(agreement: Agreement) -> Body:
    deadlines = agreement.deadlines
    return {
        "id": agreement.id,
        "title": agreement.title,
        "hub": agreement.hub,
        "in_force_from": _body.instant(agreement.in_force_from),
        "timezone": agreement.timezone,
        "terms": terms_to_json(agreement.terms),
        "deadlines": {
            "report_within": deadlines.report_within.text,
            "conclude_within": deadlines.conclude_within.text,
            "return_within": deadlines.return_within.text,
        },
    }


def _decode(body: Mapping[str, Any]) -> Agreement:
    d = body["deadlines"]
    deadlines = Deadlines(
        Duration.parse(d["report_within"], "report_within"),
        Duration.parse(d["conclude_within"], "conclude_within"),
        Duration.parse(d["return_within"], "return_within"),
    )
    return Agreement(
        body["id"],
        _body.read_instant(body, "in_force_from"),
        body["timezone"],
        terms_from_json(body["terms"]),
        body["hub"],
        body["title"],
        deadlines,
    )


def _vouchers(agreement: Agreement, _world: World) -> tuple[str, ...]:
    return tuple(sorted(agreement.terms.parties))


def _subjects(agreement: Agreement) -> tuple[Subject, ...]:
    return ((SubjectKind.AGREEMENT, agreement.id),)


DEFINITION: Definition[Agreement] = Definition(
    FactKind.AGREEMENT,
    Agreement,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_agreement,
    restricts=True,
)
