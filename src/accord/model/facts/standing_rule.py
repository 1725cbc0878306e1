"""An originator's standing release rule (pre-approval of its new items); the originator
vouches for it. It grants only: what it releases is recorded as releases of their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts import _body
from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.rules import Route, StandingRule, Window
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


def encode_window(window: Window) -> Body:
    return {"from": _body.instant(window.start), "until": _body.maybe_instant(window.until)}


def decode_window(body: Mapping[str, Any]) -> Window:
    return Window(_body.read_instant(body, "from"), _body.read_maybe_instant(body, "until"))


def _encode(rule: StandingRule) -> Body:
    return {
        "id": rule.id,
        "originator": rule.originator,
        "topics": _body.sorted_list(rule.topics),
        "max_level": rule.max_level,
        "to": list(rule.recipients),
        "routes": [route.label for route in rule.routes],
        **encode_window(rule.window),
    }


def _decode(body: Mapping[str, Any]) -> StandingRule:
    return StandingRule(
        body["id"],
        body["originator"],
        frozenset(body["topics"]),
        body["max_level"],
        tuple(body["to"]),
        tuple(Route.parse(str(r), "routes") for r in body["routes"]),
        decode_window(body),
    )


def _vouchers(rule: StandingRule, _world: World) -> tuple[str, ...]:
    return (rule.originator,)


def _subjects(rule: StandingRule) -> tuple[Subject, ...]:
    return ((SubjectKind.PARTY, rule.originator),)


DEFINITION: Definition[StandingRule] = Definition(
    FactKind.STANDING_RULE,
    StandingRule,
    _encode,
    _decode,
    _vouchers,
    _subjects,
    World.add_standing_rule,
)
