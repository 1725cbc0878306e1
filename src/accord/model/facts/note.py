"""A diplomatic note or amendment on an agreement; its sender vouches for it, and an amendment
made by mutual written consent (Art. 21(2)) needs every party to the agreement (and any party it
adds). It restricts: a notice or suspension is what stops flows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from accord.model.agreement import AgreementEvent, Amendment
from accord.model.facts import _body
from accord.model.facts.codec import event_body, event_from_row
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(event: AgreementEvent) -> Body:
    return {
        "kind": event.kind,
        "agreement": event.agreement,
        "at": _body.instant(event.at),
        **event_body(event),
    }


def _decode(body: Mapping[str, Any]) -> AgreementEvent:
    return event_from_row(
        str(body["kind"]), str(body["agreement"]), _body.read_instant(body, "at"), body
    )


def _vouchers(event: AgreementEvent, world: World) -> tuple[str, ...]:
    if isinstance(event, Amendment):
        parties = set(world.agreement(event.agreement).terms.parties)
        added = event.changes.get("parties", frozenset())
        return tuple(sorted(parties | set(added)))  # type: ignore[call-overload]
    return (event.by,)


def _subjects(event: AgreementEvent) -> tuple[Subject, ...]:
    return ((SubjectKind.AGREEMENT, event.agreement),)


DEFINITION: Definition[AgreementEvent] = Definition(
    FactKind.NOTE,
    get_args(AgreementEvent),
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_agreement_event,
    restricts=True,
)
