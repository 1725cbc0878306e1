"""The console's pages: the network, an agreement's timeline and impact, items, the record.

Every page takes ``?at=INSTANT`` (ISO 8601 with its offset; default: the exchange's now) and
shows the world as of then. Pages are rendered on the server; the network page draws itself
from ``/console/api/network`` so that the slider can move it without a reload.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from accord.errors import InvalidInput
from accord.model.console import EdgeState
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import iso, parse_instant
from accord.service.console import PAGE_SIZE, ItemQuery, decide_read, decide_release
from accord.service.console_map import launch_map
from accord.service.console_sessions import ConsoleSession
from accord.web.context import Console, instant_param
from accord.web.signin import CSRF_REFUSED, csrf_ok, form


def _at(console: Console, request: Request) -> datetime:
    return console.queries.instant(instant_param(request))


async def network(console: Console, request: Request, session: ConsoleSession) -> Response:
    at = instant_param(request)
    zones = await console.run(console.queries.zones, session.principal)
    return console.page(
        request,
        "network.html",
        session=session,
        at=request.query_params.get("at", "").strip() if at is not None else "",
        states=list(EdgeState),
        zones=zones,
    )


async def agreement(console: Console, request: Request, session: ConsoleSession) -> Response:
    at = _at(console, request)
    agreement_id = request.path_params["agreement"]
    found = await console.run(console.queries.agreement, session.principal, agreement_id, at)
    if found is None:
        return console.not_found(request, session)
    return console.page(request, "agreement.html", session=session, at=iso(at), a=found)


async def impact(console: Console, request: Request, session: ConsoleSession) -> Response:
    at = _at(console, request)
    agreement_id = request.path_params["agreement"]
    report = await console.run(console.queries.impact, session.principal, agreement_id, at)
    if report is None:
        return console.not_found(request, session)
    return console.page(request, "impact.html", session=session, at=iso(at), report=report)


def _item_query(request: Request) -> ItemQuery:
    params = request.query_params
    page_text = params.get("page", "1").strip() or "1"
    if (
        not (page_text.isascii() and page_text.isdigit())
        or not 1 <= int(page_text[:8]) <= 1_000_000
    ):
        raise InvalidInput(f"page: {page_text[:32]!r} is not a page number (1, 2, …)")
    return ItemQuery(
        text=params.get("q", "").strip()[:200],
        topic=params.get("topic", "").strip()[:200],
        level=params.get("level", "").strip()[:200],
        originator=params.get("originator", "").strip()[:200],
        created_from=instant_param(request, "from"),
        created_to=instant_param(request, "to"),
        page=int(page_text),
    )


async def items(console: Console, request: Request, session: ConsoleSession) -> Response:
    at = _at(console, request)
    query = _item_query(request)
    found, total = await console.run(console.queries.items, session.principal, at, query)
    pages = max(1, -(-total // PAGE_SIZE))
    return console.page(
        request,
        "items.html",
        session=session,
        at=iso(at),
        items=found,
        total=total,
        query=query,
        pages=pages,
        params=dict(request.query_params),
    )


async def item(console: Console, request: Request, session: ConsoleSession) -> Response:
    at = _at(console, request)
    item_id = request.path_params["item"]
    found = await console.run(console.queries.item, session.principal, item_id, at)
    if found is None:
        return console.not_found(request, session)
    return console.page(request, "item.html", session=session, at=iso(at), read=None, **found)


async def read_item(console: Console, request: Request, session: ConsoleSession) -> Response:
    """The logged read (POST, with the CSRF token): the content between its two banners."""
    fields = await form(request)
    if not csrf_ok(session, request, fields):
        return console.page(request, "error.html", 403, session, message=CSRF_REFUSED)
    text = fields.get("at", "").strip()
    at = console.queries.instant(parse_instant(text, "at") if text else None)
    item_id = request.path_params["item"]
    result = await console.run(console.queries.read, session.principal, item_id, at)
    found = await console.run(console.queries.item, session.principal, item_id, at)
    if result is None or found is None:
        return console.not_found(request, session)
    if result.item is not None:  # the STIX object is sealed content: it comes with the read
        found["launch_map"] = launch_map(result.item)
    return console.page(request, "item.html", session=session, at=iso(at), read=result, **found)


async def feed_page(console: Console, request: Request, session: ConsoleSession) -> Response:
    return console.page(request, "feed.html", session=session)


async def decide(console: Console, request: Request, session: ConsoleSession) -> Response:
    """The two questions on demand; an answer only when the form was filled in."""
    params = request.query_params
    kind = params.get("kind", "")
    at = _at(console, request)
    field = {
        name: params.get(name, "").strip()[:200] for name in ("item", "from", "to", "via", "user")
    }
    decision = None
    asked = False
    if kind == "release" and field["item"] and field["from"] and field["to"]:
        asked = True
        release = ReleaseRequest(field["item"], field["from"], field["to"], field["via"] or None)
        decision = await console.run(
            decide_release, console.queries, session.principal, release, at
        )
    elif kind == "read" and field["item"] and field["user"]:
        asked = True
        read = ReadRequest(field["user"], field["item"])
        decision = await console.run(decide_read, console.queries, session.principal, read, at)
    elif kind:
        raise InvalidInput(
            f"kind: {kind[:32]!r} needs item, from and to (release) or item and user (read)"
        )
    if asked and decision is None:
        return console.not_found(request, session)
    return console.page(
        request,
        "decide.html",
        session=session,
        at=iso(at),
        kind=kind,
        field=field,
        decision=decision,
    )
