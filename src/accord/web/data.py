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
from accord.service.party_record import PARTY_PAGE, party_entries, party_proof
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
    """The whole record for an admin token; for anyone else, their party's view of it."""
    summary = await console.run(record_summary, console.exchange)
    if not session.principal.admin:
        return await _party_record(console, request, session, summary)
    job = console.verifier.job.as_dict()
    return console.page(request, "record.html", session=session, record=summary, job=job)


async def _party_record(
    console: Console, request: Request, session: ConsoleSession, summary: dict[str, object]
) -> Response:
    page = _number(request, "page", "a page number (1, 2, …)", "1")
    if page < 1:
        raise InvalidInput(f"page: {page} is not a page number (1, 2, …)")
    party = session.principal.party
    entries, total, _ = await console.run(party_entries, console.exchange, party, page)
    return console.page(
        request,
        "party_record.html",
        session=session,
        record=summary,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PARTY_PAGE)),
    )


def _number(request: Request, name: str, what: str, default: str | None = None) -> int:
    text = request.query_params.get(name, "").strip() or (default or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidInput(f"{name}: {text[:32]!r} is not {what}")
    return int(text)


async def proof(console: Console, request: Request, session: ConsoleSession) -> Response:
    """An entry's inclusion proof: any entry for an admin token; for anyone else only an entry
    that concerns their party, and the page of what does not exist for every other."""
    seq = _number(request, "entry", "an entry number (0, 1, …)")
    if session.principal.admin:
        found = await console.run(console.exchange.audit_prove, seq)
    else:
        party = session.principal.party
        shown = await console.run(party_proof, console.exchange, party, seq)
        if shown is None:
            return console.not_found(request, session)
        found = shown
    return console.page(request, "proof.html", session=session, proof=found, entry=seq)


async def verify_start(console: Console, request: Request, session: ConsoleSession) -> Response:
    if not csrf_ok(session, request, {}):
        return JSONResponse({"error": "csrf", "message": CSRF_REFUSED}, 403)
    return JSONResponse(console.verifier.start().as_dict(), 202)


async def verify_status(console: Console, request: Request, session: ConsoleSession) -> Response:
    return JSONResponse(console.verifier.job.as_dict())
