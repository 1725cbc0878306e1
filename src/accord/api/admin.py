"""The admin REST API (FastAPI): parties, agreements and their events, amendments by mutual
consent, matter states, reclassifications, investigations, release holds, duties, users,
consents, impact and tokens, described at ``/openapi.json``. Only admin tokens may use it
(``accord user token USER --admin``); there are no default credentials. Errors use the same
table and body as TAXII.

Agreements, amendments and the acts of the articles are read from the request body by the
scenario codec's own readers (``accord.scenario``), so a body means exactly what the same
fields mean in a scenario file.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from accord.api import responses
from accord.api.admin_rules import StandingAdmin
from accord.api.context import Server
from accord.api.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    answer,
    http_error,
)
from accord.api.workers import Workers
from accord.errors import AccordError, DuplicateId, InvalidInput, OutOfOrder, ScenarioInvalid
from accord.model.acts import Consent
from accord.model.agreement import (
    Agreement,
    AgreementEvent,
    Amendment,
    NoticeSuspended,
    NoticeWithdrawn,
    SuspensionLifted,
    TerminationNotice,
)
from accord.model.party import CODE, Party
from accord.model.time import Duration, iso, require_aware
from accord.model.user import User
from accord.model.world import World
from accord.policy.lifecycle import Timeline
from accord.policy.reasons import Decision
from accord.scenario.definitions import Definitions
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.source import Source
from accord.scenario.timeline import ACTS
from accord.service.credentials import Principal, TokenInfo

Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
# the model checks codes, levels and zones and names the field and value in a 400; the schema
# only documents them (and bounds their length: IANA names are at most 32 characters)
PartyCode = Annotated[str, Field(max_length=32, json_schema_extra={"pattern": CODE.pattern})]
Level = Annotated[str, Field(max_length=200)]
Zone = Annotated[str, Field(max_length=64, description="an IANA time zone such as Asia/Seoul")]
Period = Annotated[str, Field(max_length=40, description="an ISO 8601 duration: P1Y, P90D")]
Topics = Literal["all"] | Annotated[list[Text], Field(min_length=1)]
Equivalence = Annotated[
    list[dict[PartyCode, Level]],
    Field(min_length=1, description="rows of equal levels, each {party code: level}"),
]
BODY = "request body"
JSON = "application/json"
log = logging.getLogger("accord.api")


class ErrorOut(BaseModel):
    title: str
    description: str
    error_code: str
    http_status: str


class PartyOut(BaseModel):
    code: str
    name: str
    timezone: str
    levels: list[str]


class AgreementOut(BaseModel):
    id: str
    title: str
    parties: list[str]
    hub: str | None
    in_force_from: str
    timezone: str
    state: dict[str, Any]


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: PartyCode
    name: Text
    timezone: Zone
    levels: list[Level] = Field(
        json_schema_extra={"minItems": 1, "uniqueItems": True},
        description="the party's classification levels, lowest first",
    )


class AgreementIn(BaseModel):
    """An agreement, with the fields and meaning of an agreement in a scenario file."""

    model_config = ConfigDict(extra="forbid")

    id: Text
    title: Annotated[str, Field(max_length=200)] = ""
    parties: list[PartyCode] = Field(json_schema_extra={"minItems": 2, "uniqueItems": True})
    in_force_from: datetime
    timezone: Zone
    term: Period | None = Field(None, description="null: indefinite")
    renewal: Literal["automatic", "none"] | SkipJsonSchema[None] = Field(
        None, description="default: automatic with a term, none without"
    )
    notice_period: Period | None = None
    topics: Topics
    equivalence: Equivalence
    hub: PartyCode | None = None


class EventOut(BaseModel):
    at: str
    kind: str
    by: str | None = None
    effective_at: str | None = None
    changes: list[str] | None = Field(None, description="the terms an amendment changed")


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["termination_notice", "notice_suspended", "suspension_lifted", "notice_withdrawn"]
    by: Text
    at: datetime | None = None
    effective_at: datetime | None = None


class ChangesIn(BaseModel):
    """New values for some terms, as in a scenario's amendment event; ``term: null`` makes the
    agreement indefinite, ``notice_period: null`` removes the notice period."""

    model_config = ConfigDict(extra="forbid")

    parties: list[PartyCode] | SkipJsonSchema[None] = Field(
        None, json_schema_extra={"minItems": 2, "uniqueItems": True}
    )
    equivalence: Equivalence | SkipJsonSchema[None] = None
    topics: Topics | SkipJsonSchema[None] = None
    term: Period | None = None
    notice_period: Period | None = None
    renewal: Literal["automatic", "none"] | SkipJsonSchema[None] = None


NOT_NULL = ("parties", "equivalence", "topics", "renewal")


class AmendmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["amendment"]
    changes: ChangesIn
    at: datetime | None = None


AnyEventIn = Annotated[EventIn | AmendmentIn, Body(discriminator="type")]


class ReasonOut(BaseModel):
    code: str
    message: str
    agreement: str | None


class DecisionOut(BaseModel):
    allowed: bool
    reasons: list[ReasonOut]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text
    party: Text
    clearance: Text
    need_to_know: list[Text] = []


class UserOut(BaseModel):
    id: str
    party: str
    clearance: str
    need_to_know: list[str]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: Text
    by: Text
    holder: Text
    to: list[Text] = Field(min_length=1)
    granted: bool = True
    at: datetime | None = None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Text
    expires: Annotated[str, Field(min_length=2, max_length=40)] = "P90D"
    admin: bool = False


class TokenOut(BaseModel):
    token_id: str
    user: str
    admin: bool
    issued_at: str
    expires_at: str | None
    revoked_at: str | None


class IssuedOut(TokenOut):
    token: str = Field(description="shown once; only a slow salted hash is stored")


class MatterStateIn(BaseModel):
    """A matter's new state (R15), as a scenario's ``matter_state`` event."""

    model_config = ConfigDict(extra="forbid")

    state: Text
    by: Text
    at: datetime | None = None


class ProposalIn(BaseModel):
    """A proposed amendment (Art. 21(2)): it changes nothing until every other party accepts."""

    model_config = ConfigDict(extra="forbid")

    id: Text
    by: Text
    changes: ChangesIn
    at: datetime | None = None


class AcceptanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Text
    effective_at: datetime = Field(description="in force from here, once every party accepted")
    at: datetime | None = None


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Text = Field(description="the proposer")
    at: datetime | None = None


class ReclassifyIn(BaseModel):
    """The originator's change of an item's level and/or releasable-to list (Art. 6(g))."""

    model_config = ConfigDict(extra="forbid")

    by: Text
    level: Level | SkipJsonSchema[None] = Field(None, description="a level of the originator")
    releasable_to: list[PartyCode] | SkipJsonSchema[None] = None
    at: datetime | None = None


class InvestigationIn(BaseModel):
    """A step of the investigation of a reported compromise of ``party``'s copy (Art. 17)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["investigation_started", "investigation_concluded"]
    party: Text
    result: Literal["compromised", "not-compromised", "undetermined"] | SkipJsonSchema[None] = None
    measures: Annotated[str, Field(max_length=2000)] | SkipJsonSchema[None] = None
    at: datetime | None = None


class HoldIn(BaseModel):
    """The originator holds (or lifts its hold on) its releases to a holder (Art. 17, R9)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["release_hold", "release_hold_lifted"]
    by: Text
    holder: Text
    at: datetime | None = None


class DutyOut(BaseModel):
    """One thing a party owes (R2, R6, R9, R10, R15; Art. 6(g), 6(h), 17, 21)."""

    kind: Literal[
        "termination-notice",
        "apply-reclassification",
        "report-compromise",
        "conclude-investigation",
        "destroy",
        "changed-condition",
    ]
    party: str
    rule: str
    article: str
    due: str = Field(description="the instant it is due, ISO 8601 in UTC")
    state: Literal["pending", "late", "done"]
    late: bool = Field(description="late now, or done after it was due")
    item: str | None
    agreement: str | None
    done_at: str | None
    informational: bool
    message: str


class DutiesOut(BaseModel):
    party: str
    at: str
    duties: list[DutyOut]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "Bad request"),
        (401, "Missing or invalid credentials"),
        (403, "Not an admin token"),
        (404, "No such resource"),
        (409, "Conflict"),
        (422, "Policy did not allow it"),
        (503, "Store unavailable"),
    )
}

_BEARER = Depends(HTTPBearer(auto_error=False, description="an admin token (Bearer) or HTTP Basic"))


def _decision(decision: Decision) -> DecisionOut:
    return DecisionOut(
        allowed=decision.allowed,
        reasons=[
            ReasonOut(code=r.code.value, message=r.message, agreement=r.agreement)
            for r in decision.reasons
        ],
    )


def _token(info: TokenInfo) -> TokenOut:
    return TokenOut(
        token_id=info.token_id,
        user=info.user,
        admin=info.admin,
        issued_at=iso(info.issued_at),
        expires_at=iso(info.expires_at) if info.expires_at else None,
        revoked_at=iso(info.revoked_at) if info.revoked_at else None,
    )


def _event(event: AgreementEvent) -> EventOut:
    effective = getattr(event, "effective_at", None)
    return EventOut(
        at=iso(event.at),
        kind=event.kind,
        by=getattr(event, "by", None),
        effective_at=iso(effective) if effective else None,
        changes=sorted(event.changes) if isinstance(event, Amendment) else None,
    )


@contextmanager
def _from_body(*, prefix: str = "") -> Iterator[None]:
    """Build model objects from a request body: a value the model refuses is a 400 whose
    description is the model's message, which names the field and the value. The caller is an
    admin, who may see every definition such a message can name; errors of the API itself and
    duplicate ids keep their own mapping."""
    try:
        yield
    except (ApiError, DuplicateId):
        raise
    except InvalidInput as error:
        text = error.detail if isinstance(error, ScenarioInvalid) else error.message
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :].removeprefix(".").removeprefix(": ")
        raise BadRequest(text) from None


def _entry(data: dict[str, Any], key: str | None = None) -> Entry:
    """A request body (or its field ``key``) as the scenario codec reads one mapping of a file;
    a body has no lines, so the codec's messages name only the field and the value."""
    if key is None:
        return Entry(Source(BODY, data, {}), (), data)
    return Entry(Source(BODY, {key: data}, {}), (key,), data)


def _build_agreement(body: AgreementIn, world: World, at: datetime) -> Agreement:
    """An agreement built and checked exactly as a scenario's agreement is, against a dry-run
    world holding the exchange's parties and topics (the exchange's own world is not touched);
    terms that run past the calendar, or whose state at ``at`` cannot be told, are refused here,
    before anything is stored."""
    with _from_body(prefix="agreements[0]"):
        definitions = Definitions(_entry({"agreements": [body.model_dump(mode="json")]}))
        definitions.world.topics.update(world.topics)
        definitions.world.parties.update(world.parties)
        (agreement,) = definitions.agreements()
        Timeline(agreement).state(at)
    return agreement


def _build_amendment(agreement_id: str, body: AmendmentIn, world: World, at: datetime) -> Amendment:
    """An amendment read as a scenario's amendment event is (whether it may happen is for the
    exchange to decide)."""
    changes = body.changes.model_dump(mode="json", exclude_unset=True)
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise BadRequest(f"changes.{name} may not be null (only term and notice_period may)")
    with _from_body():
        entry = _entry({**changes, "agreement": agreement_id}, "changes")
        act = ACTS["amendment"](entry, References(world), at)
    assert isinstance(act, Amendment)
    return act


def _build_act(kind: str, data: dict[str, Any], world: World, at: datetime) -> Any:
    """A body read as the scenario event of type ``kind`` is (its fields named as in a file)."""
    fields = {k: v for k, v in data.items() if v is not None and k not in ("at", "type")}
    with _from_body():
        return ACTS[kind](_entry(fields), References(world), at)


@contextmanager
def _acting() -> Iterator[None]:
    """An act the exchange finds bad input (an investigation never opened) is a 400 whose
    description names it; an act earlier than the latest recorded one keeps its 409."""
    try:
        yield
    except (ApiError, DuplicateId, OutOfOrder):
        raise
    except InvalidInput as error:
        raise BadRequest(error.message) from None


class _Admin:
    """The admin endpoints, as methods over one exchange."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.exchange = server.exchange
        self.credentials = server.credentials

    async def admin(self, request: Request, _: Any = _BEARER) -> Principal:
        """The admin principal: already checked by ``AdminGate`` for requests with a body."""
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):
            principal = await self.server.gate.principal(request)
        if not principal.admin:
            raise Forbidden("this API needs an admin token")
        return principal

    def at_of(self, value: datetime | None) -> datetime:
        return self.exchange.instant(require_aware(value, "at") if value is not None else None)

    @contextmanager
    def dated(self, value: datetime | None) -> Iterator[datetime]:
        """An act's instant, inside the act's own write transaction: ``value``, or, when none
        is given, the clock as read after the store's write lock is taken, so after every act
        another process committed (a live act is never out of order because another writer
        went first, and acts are dated in the order the log holds them)."""
        with self.exchange.batch():
            yield self.at_of(value)

    def known(self, agreement_id: str) -> None:
        if agreement_id not in self.exchange.snapshot().agreements:
            raise NotFound("no such agreement")

    def parties(self) -> list[PartyOut]:
        world = self.exchange.snapshot()
        return [
            PartyOut(code=p.code, name=p.name, timezone=p.timezone, levels=list(p.levels))
            for p in world.parties.values()
        ]

    def add_party(self, body: PartyIn) -> PartyOut:
        with _from_body():
            party = Party(body.code, body.name, body.timezone, tuple(body.levels))
        self.exchange.add_party(party)
        return PartyOut(
            code=party.code, name=party.name, timezone=party.timezone, levels=list(party.levels)
        )

    def agreement_out(self, agreement_id: str, at: datetime) -> AgreementOut:
        self.known(agreement_id)
        found = self.exchange.snapshot().agreements[agreement_id]
        state = self.exchange.agreement_state(agreement_id, at)
        return AgreementOut(
            id=found.id,
            title=found.title,
            parties=sorted(state.terms.parties),
            hub=found.hub,
            in_force_from=iso(found.in_force_from),
            timezone=found.timezone,
            state=state.as_dict(),
        )

    def agreements(self, at: datetime | None = None) -> list[AgreementOut]:
        instant = self.at_of(at)
        return [self.agreement_out(a, instant) for a in sorted(self.exchange.snapshot().agreements)]

    def agreement(self, agreement_id: str, at: datetime | None = None) -> AgreementOut:
        return self.agreement_out(agreement_id, self.at_of(at))

    def add_agreement(self, body: AgreementIn) -> AgreementOut:
        with self.dated(None) as at:
            agreement = _build_agreement(body, self.exchange.snapshot(), at)
            self.exchange.add_agreement(agreement)
        return self.agreement_out(agreement.id, at)

    def events(self, agreement_id: str) -> list[EventOut]:
        self.known(agreement_id)
        return [_event(e) for e in self.exchange.snapshot().agreement_events[agreement_id]]

    def record(self, agreement_id: str, body: AnyEventIn) -> DecisionOut:
        self.known(agreement_id)
        with self.dated(body.at) as at:
            return _decision(self.exchange.record(self._event(agreement_id, body, at)))

    def _event(self, agreement_id: str, body: AnyEventIn, at: datetime) -> AgreementEvent:
        event: AgreementEvent
        if isinstance(body, AmendmentIn):
            event = _build_amendment(agreement_id, body, self.exchange.snapshot(), at)
        elif body.type == "suspension_lifted":
            if body.effective_at is None:
                raise BadRequest("suspension_lifted needs effective_at")
            effective = require_aware(body.effective_at, "effective_at")
            event = SuspensionLifted(at, agreement_id, body.by, effective)
        elif body.type == "termination_notice":
            event = TerminationNotice(at, agreement_id, body.by)
        elif body.type == "notice_suspended":
            event = NoticeSuspended(at, agreement_id, body.by)
        else:
            event = NoticeWithdrawn(at, agreement_id, body.by)
        return event

    def impact(self, agreement_id: str, at: datetime | None = None) -> dict[str, Any]:
        self.known(agreement_id)
        return self.exchange.impact(agreement_id, self.at_of(at)).as_dict()

    def duties(self, party: str, at: datetime | None = None) -> DutiesOut:
        """What ``party`` owes as of ``at`` (default now) and by when, each pending, late or done."""
        if party not in self.exchange.snapshot().parties:
            raise NotFound("no such party")
        instant = self.at_of(at)
        owed = self.exchange.duties(party, instant)
        return DutiesOut(
            party=party,
            at=iso(instant),
            duties=[DutyOut.model_validate(duty.as_dict()) for duty in owed],
        )

    def act(self, kind: str, body: BaseModel, at: datetime, **fields: Any) -> Any:
        """The act of type ``kind`` a body states at ``at``, read as a scenario event of that
        type."""
        data = {**body.model_dump(mode="json"), **fields}
        return _build_act(kind, data, self.exchange.snapshot(), at)

    def decided(
        self, kind: str, body: BaseModel, apply: Callable[[Any], Decision], **fields: Any
    ) -> DecisionOut:
        """The act of type ``kind`` a body states, dated and decided in one write transaction
        (see ``dated``)."""
        with self.dated(getattr(body, "at", None)) as at:
            act = self.act(kind, body, at, **fields)
            with _acting():
                return _decision(apply(act))

    def matter_state(self, matter_id: str, body: MatterStateIn) -> DecisionOut:
        """Record a matter's state (R15); a state the matter does not define is a 400."""
        return self.decided(
            "matter_state", body, self.exchange.record_matter_state, matter=matter_id
        )

    def propose(self, agreement_id: str, body: ProposalIn) -> DecisionOut:
        self.known(agreement_id)
        changes = body.changes.model_dump(mode="json", exclude_unset=True)
        for name in NOT_NULL:
            if name in changes and changes[name] is None:
                raise BadRequest(
                    f"changes.{name} may not be null (only term and notice_period may)"
                )
        data = {"id": body.id, "by": body.by, "agreement": agreement_id, **changes}
        return self.decided("amendment_proposed", body, self.exchange.record, **data)

    def accept(self, agreement_id: str, amendment_id: str, body: AcceptanceIn) -> DecisionOut:
        self.known(agreement_id)
        fields = {"agreement": agreement_id, "amendment": amendment_id}
        return self.decided("amendment_accepted", body, self.exchange.record, **fields)

    def withdraw(self, agreement_id: str, amendment_id: str, body: WithdrawalIn) -> DecisionOut:
        self.known(agreement_id)
        fields = {"agreement": agreement_id, "amendment": amendment_id}
        return self.decided("amendment_withdrawn", body, self.exchange.record, **fields)

    def reclassify(self, item_id: str, body: ReclassifyIn) -> DecisionOut:
        """Only the originator, to a level of its own scheme (else a 400 naming it)."""
        if body.level is None and body.releasable_to is None:
            raise BadRequest("a reclassification needs level or releasable_to")
        return self.decided("reclassify", body, self.exchange.reclassify, item=item_id)

    def investigation(self, item_id: str, body: InvestigationIn) -> DecisionOut:
        """Start or conclude the investigation of a reported compromise; concluding one never
        opened is a 400."""
        return self.decided(body.type, body, self.exchange.record_investigation, item=item_id)

    def hold(self, body: HoldIn) -> DecisionOut:
        return self.decided(body.type, body, self.exchange.record_hold)

    def users(self) -> list[UserOut]:
        return [
            UserOut(
                id=u.id, party=u.party, clearance=u.clearance, need_to_know=sorted(u.need_to_know)
            )
            for u in self.exchange.snapshot().users.values()
        ]

    def add_user(self, body: UserIn) -> UserOut:
        ntk = frozenset(body.need_to_know)
        self.exchange.add_user(User(body.id, body.party, body.clearance, ntk))
        return UserOut(
            id=body.id, party=body.party, clearance=body.clearance, need_to_know=sorted(ntk)
        )

    def consent(self, body: ConsentIn) -> DecisionOut:
        with self.dated(body.at) as at:
            act = Consent(at, body.item, body.by, body.holder, frozenset(body.to), body.granted)
            return _decision(self.exchange.consent(act))

    def tokens(self, user: Annotated[str | None, Query(max_length=200)] = None) -> list[TokenOut]:
        return [_token(t) for t in self.credentials.tokens(user)]

    def issue(self, body: TokenIn) -> IssuedOut:
        expires = Duration.parse(body.expires, "expires")
        issued = self.credentials.issue(body.user, expires, admin=body.admin)
        return IssuedOut(
            token_id=issued.token_id,
            user=issued.user,
            admin=issued.admin,
            issued_at=iso(issued.issued_at),
            expires_at=iso(issued.expires_at),
            revoked_at=None,
            token=issued.token,
        )

    def revoke(self, token_id: str) -> TokenOut:
        return _token(self.credentials.revoke(token_id))


def _offloaded(workers: Workers, handler: Callable[..., Any]) -> Callable[..., Any]:
    """An async endpoint running the synchronous ``handler`` in a worker thread (FastAPI reads
    its parameters from ``handler``'s signature, through ``__wrapped__``)."""

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await workers.exchange(handler, *args, **kwargs)

    return run


def admin_router(server: Server) -> APIRouter:
    a = _Admin(server)
    rules = StandingAdmin(server.exchange)
    router = APIRouter(prefix="/admin", dependencies=[Depends(a.admin)], responses=ERRORS)
    table: list[tuple[str, str, Any, Any, int, str]] = [
        ("GET", "/parties", a.parties, list[PartyOut], 200, "parties"),
        ("POST", "/parties", a.add_party, PartyOut, 201, "parties"),
        ("GET", "/agreements", a.agreements, list[AgreementOut], 200, "agreements"),
        ("POST", "/agreements", a.add_agreement, AgreementOut, 201, "agreements"),
        ("GET", "/agreements/{agreement_id}", a.agreement, AgreementOut, 200, "agreements"),
        ("GET", "/agreements/{agreement_id}/events", a.events, list[EventOut], 200, "agreements"),
        ("POST", "/agreements/{agreement_id}/events", a.record, DecisionOut, 200, "agreements"),
        ("GET", "/agreements/{agreement_id}/impact", a.impact, dict[str, Any], 200, "agreements"),
        ("GET", "/duties/{party}", a.duties, DutiesOut, 200, "duties"),
        ("POST", "/matters/{matter_id}/states", a.matter_state, DecisionOut, 200, "matters"),
        (
            "POST",
            "/agreements/{agreement_id}/amendments",
            a.propose,
            DecisionOut,
            200,
            "amendments",
        ),
        (
            "POST",
            "/agreements/{agreement_id}/amendments/{amendment_id}/acceptances",
            a.accept,
            DecisionOut,
            200,
            "amendments",
        ),
        (
            "POST",
            "/agreements/{agreement_id}/amendments/{amendment_id}/withdrawal",
            a.withdraw,
            DecisionOut,
            200,
            "amendments",
        ),
        ("POST", "/items/{item_id}/reclassifications", a.reclassify, DecisionOut, 200, "items"),
        ("POST", "/items/{item_id}/investigation", a.investigation, DecisionOut, 200, "items"),
        ("POST", "/release-holds", a.hold, DecisionOut, 200, "items"),
        ("GET", "/users", a.users, list[UserOut], 200, "users"),
        ("POST", "/users", a.add_user, UserOut, 201, "users"),
        ("POST", "/consents", a.consent, DecisionOut, 200, "consents"),
        ("GET", "/standing-rules", rules.listing, dict[str, Any], 200, "standing rules"),
        ("POST", "/standing-rules", rules.add_rule, dict[str, Any], 201, "standing rules"),
        ("POST", "/standing-consents", rules.add_consent, dict[str, Any], 201, "standing rules"),
        (
            "POST",
            "/standing-rules/{rule_id}/revocation",
            rules.revoke,
            dict[str, Any],
            200,
            "standing rules",
        ),
        ("GET", "/standing-rules/log", rules.log, list[dict[str, Any]], 200, "standing rules"),
        ("GET", "/tokens", a.tokens, list[TokenOut], 200, "tokens"),
        ("POST", "/tokens", a.issue, IssuedOut, 201, "tokens"),
        ("DELETE", "/tokens/{token_id}", a.revoke, TokenOut, 200, "tokens"),
    ]
    for method, path, handler, model, status, tag in table:
        router.add_api_route(
            path,
            _offloaded(server.workers, handler),
            methods=[method],
            response_model=model,
            status_code=status,
            tags=[tag],
        )
    return router


def _allowed(router: APIRouter, request: Request) -> tuple[str, ...]:
    methods: set[str] = set()
    for route in router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE and isinstance(route, APIRoute):
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET (``AdminGate``)
    return tuple(sorted(methods))


def _schema_error(exc: RequestValidationError) -> BadRequest:
    """A body, path or query the schema refuses: its first error, naming the field and the
    value given (at most 80 characters of it)."""
    errors = exc.errors()
    if not errors:
        return BadRequest("the request does not match the API's schema")
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or BODY
    shown = json.dumps(first.get("input"), ensure_ascii=False, default=str)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return BadRequest(
        f"{where}: {first.get('msg', 'invalid')} (got {shown}); the request does not match"
        " the API's schema"
    )


def admin_app(server: Server) -> FastAPI:
    app = FastAPI(
        title=f"{server.settings.title} admin API",
        version="1",
        description=(
            "Admin REST API of an accord exchange. Every endpoint needs an admin token "
            "(Authorization: Bearer TOKEN, or HTTP Basic with the user id). The TAXII 2.1 "
            "endpoints live under /taxii2/ (see docs/taxii.md)."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    router = admin_router(server)
    app.include_router(router)

    @app.exception_handler(AccordError)
    async def accord_error(request: Request, exc: AccordError) -> Response:
        if answer(exc).status >= 500:  # the server's fault: logged here, no detail sent
            log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc)
        return responses.error(exc, JSON)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        return responses.error(_schema_error(exc), JSON)

    @app.exception_handler(StarletteHTTPException)
    async def routing(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # every method of the path, not only the first route's
            allow = _allowed(router, request)
            return responses.error(MethodNotAllowed("the resource lacks this method", allow), JSON)
        return responses.error(http_error(exc), JSON)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return responses.error(exc, JSON)

    return app
