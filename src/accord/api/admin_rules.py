"""Admin endpoints for standing release rules and consents: record, revoke, list, and read
what the rules did with each new item (the same acts as ``accord rule``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from accord.api.errors import ApiError, BadRequest, NotFound
from accord.errors import DuplicateId, InvalidInput, OutOfOrder
from accord.model.rules import Route, RuleRevoked, StandingConsent, StandingRule, Window
from accord.model.time import iso
from accord.service import standing
from accord.service.exchange import Exchange

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
Names = Annotated[list[Text], Field(min_length=1, max_length=50)]


class StandingRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: Text
    originator: Text
    topics: Names
    max_level: Text
    to: Names
    routes: Names
    start: datetime = Field(alias="from")
    until: datetime | None = None


class StandingConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: Text
    by: Text
    holder: Text
    to: Names
    topics: Names
    max_level: Text
    start: datetime = Field(alias="from")
    until: datetime | None = None


class RevocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None


@contextmanager
def _acting() -> Iterator[None]:
    """Bad input is a 400 naming the field and value; a taken id or an act out of time order
    keeps its 409."""
    try:
        yield
    except (ApiError, DuplicateId, OutOfOrder):
        raise
    except InvalidInput as error:
        raise BadRequest(error.message) from None


class StandingAdmin:
    """The endpoints, over one exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def add_rule(self, body: StandingRuleIn) -> dict[str, Any]:
        with _acting():
            made = StandingRule(
                body.id,
                body.originator,
                frozenset(body.topics),
                body.max_level,
                tuple(body.to),
                tuple(Route.parse(r, f"routes[{n}]") for n, r in enumerate(body.routes)),
                Window(body.start, body.until),
            )
            standing.add_rule(self.exchange, made)
        return standing.rule_json(made, None)

    def add_consent(self, body: StandingConsentIn) -> dict[str, Any]:
        with _acting():
            made = StandingConsent(
                body.id,
                body.by,
                body.holder,
                frozenset(body.to),
                frozenset(body.topics),
                body.max_level,
                Window(body.start, body.until),
            )
            standing.add_consent(self.exchange, made)
        return standing.consent_json(made, None)

    def listing(self) -> dict[str, Any]:
        rules, consents, revoked = standing.standing(self.exchange)
        return {
            "rules": [standing.rule_json(r, revoked.get(r.id)) for r in rules],
            "consents": [standing.consent_json(c, revoked.get(c.id)) for c in consents],
        }

    def revoke(self, rule_id: str, body: RevocationIn) -> dict[str, Any]:
        with self.exchange.batch():
            world = self.exchange.snapshot()
            rule = world.standing_rules.get(rule_id)
            consent = world.standing_consents.get(rule_id)
            owner = rule.originator if rule else consent.by if consent else None
            if owner is None:
                raise NotFound("no such standing rule or consent")
            with _acting():
                at = self.exchange.instant(body.at)
                standing.revoke(self.exchange, RuleRevoked(at, rule_id, owner))
        return {"rule": rule_id, "by": owner, "at": iso(at)}

    def log(
        self,
        rule: Annotated[str | None, Query(max_length=200)] = None,
        item: Annotated[str | None, Query(max_length=200)] = None,
    ) -> list[dict[str, Any]]:
        return [e.as_dict() for e in standing.routing_log(self.exchange, rule, item)]
