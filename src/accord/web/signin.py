"""Sign-in with a user id and token (the same credentials as TAXII), sign-out, and CSRF.

The sign-in form carries a one-time value that must equal its own HttpOnly cookie (a login
form cannot be posted from elsewhere); every other state-changing request must carry the
session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``). A failed sign-in is
logged (user id and address, never the token) and counted per client address: past the limit
the address gets 429 with ``Retry-After`` and nothing is checked. Every failure reads the same.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.errors import Unauthenticated
from accord.service.console_sessions import ConsoleSession
from accord.service.credentials import Principal
from accord.web.context import Console, log
from accord.web.security import SESSION_COOKIE, SIGN_IN_COOKIE, clear_cookie, set_cookie

MAX_FORM_BYTES = 16 * 1024
SIGN_IN_FAILED = "The user id or token is not valid."
CSRF_REFUSED = (
    "This form has expired or did not come from the console. Reload the page and try again."
)


async def form(request: Request) -> dict[str, str]:
    """The fields of an urlencoded form body (the first value of each), at most 16 KiB."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def csrf_ok(session: ConsoleSession, request: Request, fields: dict[str, str]) -> bool:
    presented = fields.get("csrf") or request.headers.get("x-csrf-token")
    return session.csrf_matches(presented)


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


async def sign_in_form(console: Console, request: Request) -> Response:
    if await console.session(request) is not None:
        return RedirectResponse("/console/", 303)
    return _form_page(console, request, "", 200)


def _form_page(console: Console, request: Request, message: str, status: int) -> Response:
    nonce = secrets.token_urlsafe(24)
    page = console.page(request, "signin.html", status, None, nonce=nonce, message=message)
    set_cookie(page, request, SIGN_IN_COOKIE, nonce, 600)
    return page


async def sign_in(console: Console, request: Request) -> Response:
    fields = await form(request)
    cookie = request.cookies.get(SIGN_IN_COOKIE, "")
    nonce = fields.get("nonce", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), nonce.encode()):
        return _form_page(console, request, CSRF_REFUSED, 403)
    address = _client(request)
    wait = console.throttle.retry_after(address)
    if wait is not None:
        log.warning("console sign-in refused: too many failures from %s", address)
        page = _form_page(console, request, "Too many failed sign-ins. Try again later.", 429)
        page.headers["retry-after"] = str(wait)
        return page
    user, token = fields.get("user", "").strip(), fields.get("token", "").strip()
    console.throttle.failed(address)  # counted before the slow hash, forgiven if it verifies
    try:
        if not user or not token:
            raise Unauthenticated("missing credentials")
        principal = await _verify(console, token, user)
    except Unauthenticated:
        log.warning("console sign-in failed for user %r from %s", user[:64], address)
        return _form_page(console, request, SIGN_IN_FAILED, 401)
    console.throttle.forgive(address)
    session_id, _ = await anyio.to_thread.run_sync(console.sessions.open, principal)
    log.info("console sign-in: user %s (%s) from %s", principal.user, principal.party, address)
    answer = RedirectResponse("/console/", 303)
    ttl = int(console.settings.session_ttl.total_seconds())
    set_cookie(answer, request, SESSION_COOKIE, session_id, ttl)
    clear_cookie(answer, request, SIGN_IN_COOKIE)
    return answer


async def _verify(console: Console, token: str, user: str) -> Principal:
    return await anyio.to_thread.run_sync(console.credentials.verify, token, user)


async def sign_out(console: Console, request: Request) -> Response:
    session = await console.session(request)
    fields = await form(request)
    if session is None:
        return RedirectResponse("/console/signin", 303)
    if not csrf_ok(session, request, fields):
        return console.page(request, "error.html", 403, session, message=CSRF_REFUSED)
    await anyio.to_thread.run_sync(console.sessions.close, request.cookies.get(SESSION_COOKIE))
    answer = RedirectResponse("/console/signin", 303)
    clear_cookie(answer, request, SESSION_COOKIE)
    return answer
