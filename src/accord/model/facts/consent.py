"""The originator's answer on onward release of an item (R4, R8); the originator vouches for it.
It restricts: a withdrawn consent is what stops an onward release."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.acts import Consent
from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(consent: Consent) -> Body:
    return {
        "at": _body.instant(consent.at),
        "item": consent.item,
        "by": consent.by,
        "holder": consent.holder,
        "recipients": sorted(consent.recipients),
        "granted": consent.granted,
    }


def _decode(body: Mapping[str, Any]) -> Consent:
    return Consent(
        _body.read_instant(body, "at"),
        body["item"],
        body["by"],
        body["holder"],
        frozenset(body["recipients"]),
        bool(body["granted"]),
    )


def _vouchers(consent: Consent, _world: World) -> tuple[str, ...]:
    return (consent.by,)


def _subjects(consent: Consent) -> tuple[Subject, ...]:
    return ((SubjectKind.ITEM, consent.item),)


DEFINITION: Definition[Consent] = Definition(
    FactKind.CONSENT,
    Consent,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_consent,
    restricts=True,
)
