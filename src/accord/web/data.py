"""The console's JSON: the network at an instant, the live feed, the record and its verification.

Only the console's own pages call these (same origin, the session cookie); a state-changing call
carries the session's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accord.errors import InvalidInput
from accord.model.time import iso
from accord.service.console import record_summary
from accord.service.console_sessions import ConsoleSession
from accord.web.context import Console, instant_param
from accord.web.signin import CSRF_REFUSED, csrf_ok


async def network(console: Console, request: Request, session: ConsoleSession) -> Response:
    asked = instant_param(request)
    now = console.queries.instant(None)
    at = asked if asked is not None else now
    data = await console.run(console.queries.network, session.principal, at, now)
    data["now"] = iso(now)
    data["live"] = asked is None
    return JSONResponse(data)


async def feed(console: Console, request: Request, session: ConsoleSession) -> Response:
    since = instant_param(request, "since")
    now = console.queries.instant(None)
    entries = await console.run(console.queries.feed, session.principal, now, since)
    return JSONResponse({"now": iso(now), "items": entries})


async def record_page(console: Console, request: Request, session: ConsoleSession) -> Response:
    summary = await console.run(record_summary, console.exchange)
    job = console.verifier.job.as_dict()
    return console.page(request, "record.html", session=session, record=summary, job=job)


async def proof(console: Console, request: Request, session: ConsoleSession) -> Response:
    text = request.query_params.get("entry", "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidInput(f"entry: {text[:32]!r} is not an entry number (0, 1, …)")
    found = await console.run(console.exchange.audit_prove, int(text))
    return console.page(request, "proof.html", session=session, proof=found, entry=int(text))


async def verify_start(console: Console, request: Request, session: ConsoleSession) -> Response:
    if not csrf_ok(session, request, {}):
        return JSONResponse({"error": "csrf", "message": CSRF_REFUSED}, 403)
    return JSONResponse(console.verifier.start().as_dict(), 202)


async def verify_status(console: Console, request: Request, session: ConsoleSession) -> Response:
    return JSONResponse(console.verifier.job.as_dict())
