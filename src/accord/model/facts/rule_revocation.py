"""The revocation of a standing rule or consent from an instant on; its originator vouches for
it. It restricts: it is what stops a standing rule or consent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.rules import RuleRevoked
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def _encode(revocation: RuleRevoked) -> Body:
    return {"at": _body.instant(revocation.at), "rule": revocation.rule, "by": revocation.by}


def _decode(body: Mapping[str, Any]) -> RuleRevoked:
    return RuleRevoked(_body.read_instant(body, "at"), body["rule"], body["by"])


def _vouchers(revocation: RuleRevoked, _world: World) -> tuple[str, ...]:
    return (revocation.by,)


def _subjects(revocation: RuleRevoked) -> tuple[Subject, ...]:
    return ((SubjectKind.PARTY, revocation.by),)


DEFINITION: Definition[RuleRevoked] = Definition(
    FactKind.RULE_REVOCATION,
    RuleRevoked,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_rule_revocation,
    restricts=True,
)
