"""The console over HTTP without a browser: sign-in throttling and logging, sessions and their
expiry, CSRF, security headers, and bad input. The real app over a real SQLite store."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.model.console import EdgeState
from accord.model.time import Duration
from accord.service import Exchange, MasterKey
from accord.service.console_sessions import ConsoleSessions, StoredSessions
from accord.service.credentials import Credentials, Principal
from accord.web.app import STATIC, console_app
from accord.web.context import ConsoleSettings
from tests import stores
from tests.test_taxii_support import TestClient, issue

CONSOLE = "http://testserver/console"
LATER = "2019-12-01T00:00:00%2B09:00"


@pytest.fixture
def exchange(db: Path, master: MasterKey) -> Iterator[Exchange]:
    opened = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    yield opened
    opened.store.close()


def client(exchange: Exchange, **settings: object) -> TestClient:
    app = console_app(Credentials(exchange), ConsoleSettings(**settings))  # type: ignore[arg-type]
    from starlette.applications import Starlette
    from starlette.routing import Mount

    return TestClient(Starlette(routes=[Mount("/console", app)]), follow_redirects=False)


def nonce(web: TestClient) -> str:
    page = web.get(f"{CONSOLE}/signin")
    found = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def sign_in(web: TestClient, user: str, token: str) -> int:
    answer = web.post(f"{CONSOLE}/signin", data={"nonce": nonce(web), "user": user, "token": token})
    return answer.status_code


def csrf(web: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', web.get(f"{CONSOLE}/").text)
    assert found is not None
    return found.group(1)


def test_failed_sign_ins_are_logged_and_limited_per_address(
    exchange: Exchange, caplog: pytest.LogCaptureFixture
) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange, sign_in_failures=3, sign_in_window=3600.0)
    with caplog.at_level(logging.WARNING, logger="accord.console"):
        assert [sign_in(web, "jpn-analyst", "bad.token") for _ in range(3)] == [401] * 3
    assert sum("sign-in failed for user 'jpn-analyst'" in r.message for r in caplog.records) == 3
    assert all("bad.token" not in r.message for r in caplog.records)  # never the token
    refused = web.post(
        f"{CONSOLE}/signin", data={"nonce": nonce(web), "user": "jpn-analyst", "token": token}
    )
    assert refused.status_code == 429  # even the right token: nothing is checked
    assert int(refused.headers["retry-after"]) > 0
    assert "accord_console=" not in refused.headers.get("set-cookie", "")


def test_a_right_sign_in_forgives_its_own_attempt(exchange: Exchange) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange, sign_in_failures=2)
    assert sign_in(web, "jpn-analyst", "bad.token") == 401
    for _ in range(3):
        assert sign_in(web, "jpn-analyst", token) == 303
        web.cookies.clear()


def test_the_session_cookie_and_every_answer_carry_the_security_headers(
    exchange: Exchange,
) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange)
    web.get(f"{CONSOLE}/signin")
    answer = web.post(
        f"{CONSOLE}/signin", data={"nonce": nonce(web), "user": "jpn-analyst", "token": token}
    )
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("accord_console=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # plain HTTP
    for path in ("/", "/items", "/static/console.css", "/no-such-page"):
        got = web.get(CONSOLE + path)
        csp = got.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
        assert got.headers["x-content-type-options"] == "nosniff"
    assert web.get(f"{CONSOLE}/items").headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_over_tls(exchange: Exchange) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange)
    web.base_url = "https://testserver"  # type: ignore[assignment]
    page = web.get("https://testserver/console/signin")
    value = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert value is not None
    answer = web.post(
        "https://testserver/console/signin",
        data={"nonce": value.group(1), "user": "jpn-analyst", "token": token},
    )
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("accord_console=")
    )
    assert "Secure" in cookie


def test_a_signed_in_json_post_needs_the_csrf_header(exchange: Exchange) -> None:
    token = issue(exchange, "kor-analyst", admin=True)
    web = client(exchange)
    assert sign_in(web, "kor-analyst", token) == 303
    assert web.post(f"{CONSOLE}/api/record/verify").status_code == 403
    started = web.post(f"{CONSOLE}/api/record/verify", headers={"x-csrf-token": csrf(web)})
    assert started.status_code == 202
    deadline = time.monotonic() + 120
    while web.get(f"{CONSOLE}/api/record/verify").json()["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert web.get(f"{CONSOLE}/api/record/verify").json()["result"]["entries"] > 0


def test_bad_query_input_names_the_field_and_changes_nothing(exchange: Exchange) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange)
    assert sign_in(web, "jpn-analyst", token) == 303
    before = exchange.snapshot().revision
    cases = (
        ("at=2019-11-22", "at"),
        ("page=0", "page"),
        ("page=%D9%A3", "page"),
        ("from=soon", "from"),
    )
    for query, field in cases:
        got = web.get(f"{CONSOLE}/items?{query}")
        assert got.status_code == 400
        assert f"{field}: " in got.text
        assert "Traceback" not in got.text
    assert exchange.snapshot().revision == before


def test_the_network_data_is_the_exchanges_agreement_state(exchange: Exchange) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange)
    assert sign_in(web, "jpn-analyst", token) == 303
    for at in ("2019-11-22T23:59:59%2B09:00", "2019-11-23T00:00:00%2B09:00"):
        data = web.get(f"{CONSOLE}/api/network?at={at}").json()
        instant = datetime.fromisoformat(data["at"])
        for a in data["agreements"]:
            state = exchange.agreement_state(a["id"], instant)
            assert a["status"] == state.status.value
            suspended = state.notice is not None and state.notice.suspended
            if a["status"] == "in_force" and suspended:
                assert a["edge"] == EdgeState.SUSPENDED_NOTICE
            else:
                assert a["edge"] == a["status"]
        assert {a["id"] for a in data["agreements"]} == set(
            exchange.snapshot().agreements_of["JPN"]
        )


# --- sessions ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


PRINCIPAL = Principal("jpn-analyst", "JPN", "t1", False)


def test_a_session_ends_exactly_at_its_expiry() -> None:
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
    sessions = ConsoleSessions(timedelta(hours=1), clock=clock)
    session_id, session = sessions.open(PRINCIPAL)
    clock.now += timedelta(hours=1) - timedelta(microseconds=1)
    assert sessions.get(session_id) == session
    clock.now += timedelta(microseconds=1)
    assert sessions.get(session_id) is None
    assert len(sessions) == 0


def test_sessions_keep_only_a_hash_of_their_id_and_stay_bounded() -> None:
    sessions = ConsoleSessions(limit=2, clock=Clock(datetime(2026, 1, 1, tzinfo=UTC)))
    ids = [sessions.open(PRINCIPAL)[0] for _ in range(3)]
    assert sessions.get(ids[0]) is None  # the oldest was dropped
    assert sessions.get(ids[2]) is not None
    assert all(key != i.encode() and len(key) == 32 for key in sessions._sessions for i in ids)
    sessions.close(ids[2])
    assert sessions.get(ids[2]) is None
    assert sessions.get("") is None and sessions.get("x" * 500) is None


def test_a_naive_clock_is_refused() -> None:
    from accord.errors import NaiveDatetime

    sessions = ConsoleSessions(clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(NaiveDatetime):
        sessions.open(PRINCIPAL)


def test_the_console_is_small_and_self_contained() -> None:
    files = sorted(STATIC.iterdir())
    templates = sorted((STATIC.parent / "templates").iterdir())
    total = sum(f.stat().st_size for f in files + templates)
    assert total < 300 * 1024
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text


def test_an_admin_token_sees_every_agreement_and_the_record(exchange: Exchange) -> None:
    token = issue(exchange, "kor-analyst", admin=True)
    web = client(exchange)
    assert sign_in(web, "kor-analyst", token) == 303
    data = web.get(f"{CONSOLE}/api/network?at=2019-11-23T00:00:00%2B09:00").json()
    assert {a["id"] for a in data["agreements"]} == set(exchange.snapshot().agreements)
    assert web.get(f"{CONSOLE}/record").status_code == 200
    bad = web.get(f"{CONSOLE}/record/proof?entry=%D9%A3")  # an Arabic-Indic three
    assert bad.status_code == 400 and "entry: " in bad.text
    assert web.get(f"{CONSOLE}/record/proof?entry=99999").status_code == 400  # past the log
    user = issue(exchange, "kor-analyst")  # the same user without admin: KOR's view of it
    other = client(exchange)
    assert sign_in(other, "kor-analyst", user) == 303
    assert "The record for KOR" in other.get(f"{CONSOLE}/record").text
    assert other.get(f"{CONSOLE}/api/record/verify").status_code == 404
    mine = other.get(f"{CONSOLE}/api/network?at=2019-11-23T00:00:00%2B09:00").json()
    assert {a["id"] for a in mine["agreements"]} == set(exchange.snapshot().agreements_of["KOR"])


def test_a_partys_record_view_hides_other_entries_like_missing_ones(exchange: Exchange) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange)
    assert sign_in(web, "jpn-analyst", token) == 303
    page = web.get(f"{CONSOLE}/record")
    assert page.status_code == 200 and "The record for JPN" in page.text
    shown = {int(n) for n in re.findall(r'<tr data-seq="(\d+)">', page.text)}
    assert 5 in shown and 4 not in shown  # JPN's party entry, not KOR's
    missing = web.get(f"{CONSOLE}/record/proof?entry=99999")
    hidden = web.get(f"{CONSOLE}/record/proof?entry=4")
    assert missing.status_code == 404
    assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
    assert web.get(f"{CONSOLE}/record/proof?entry=5").status_code == 200
    for bad, field in (("entry=-1", "entry"), ("entry=x", "entry"), ("page=0", "page")):
        answer = web.get(f"{CONSOLE}/record{'/proof' if field == 'entry' else ''}?{bad}")
        assert answer.status_code == 400 and f"{field}: " in answer.text


def _stored(exchange: Exchange, clock: Clock, limit: int = 10_000) -> StoredSessions:
    return StoredSessions(Credentials(exchange), timedelta(hours=1), limit, clock)


def test_stored_sessions_are_shared_by_every_process_on_the_store(
    db: Path, master: MasterKey
) -> None:
    """Two exchanges opened on one store stand for two worker processes."""
    first = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    second = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    try:
        clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
        a, b = _stored(first, clock), _stored(second, clock)
        session_id, session = a.open(PRINCIPAL)
        assert b.get(session_id) == session  # the same principal, CSRF token and expiry
        assert b.get(session_id + "x") is None and b.get("") is None and b.get("x" * 500) is None
        ((digest, user),) = stores.query(db, "select digest, user from console_sessions")
        assert len(digest) == 32 and session_id.encode() not in digest and user == "jpn-analyst"
        assert session.csrf not in str(stores.query(db, "select * from console_sessions"))
        clock.now += timedelta(hours=1) - timedelta(microseconds=1)
        assert a.get(session_id) == session
        clock.now += timedelta(microseconds=1)
        assert a.get(session_id) is None and b.get(session_id) is None  # ends exactly then
        again, _ = b.open(PRINCIPAL)
        assert len(a) == 1  # the expired one was forgotten when the next one opened
        a.close(again)
        assert b.get(again) is None and len(b) == 0
    finally:
        first.store.close()
        second.store.close()


def test_stored_sessions_stay_bounded_dropping_the_oldest(exchange: Exchange) -> None:
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
    sessions = _stored(exchange, clock, limit=2)
    ids = []
    for _ in range(3):
        ids.append(sessions.open(PRINCIPAL)[0])
        clock.now += timedelta(seconds=1)
    assert sessions.get(ids[0]) is None
    assert sessions.get(ids[1]) is not None and sessions.get(ids[2]) is not None
    assert len(sessions) == 2


def test_the_console_signs_in_and_out_with_sessions_in_the_store(exchange: Exchange) -> None:
    token = issue(exchange, "jpn-analyst")
    web = client(exchange, shared_sessions=True)
    assert sign_in(web, "jpn-analyst", token) == 303
    assert web.get(f"{CONSOLE}/items?at={LATER}").status_code == 200
    other = client(exchange, shared_sessions=True)  # another process's console on the store
    other.cookies.set("accord_console", web.cookies["accord_console"])
    assert other.get(f"{CONSOLE}/items?at={LATER}").status_code == 200
    signed_out = web.post(f"{CONSOLE}/signout", data={"csrf": csrf(web)})
    assert signed_out.status_code == 303
    assert other.get(f"{CONSOLE}/items?at={LATER}").status_code == 303  # to sign in


@pytest.mark.parametrize("shared", [False, True])
def test_revoking_the_token_ends_its_console_session(exchange: Exchange, shared: bool) -> None:
    credentials = Credentials(exchange)
    issued = credentials.issue("jpn-analyst", Duration.parse("P1D", "expires"))
    web = client(exchange, shared_sessions=shared)
    assert sign_in(web, "jpn-analyst", issued.token) == 303
    assert web.get(f"{CONSOLE}/items?at={LATER}").status_code == 200
    credentials.revoke(issued.token_id)
    assert web.get(f"{CONSOLE}/items?at={LATER}").status_code == 303  # to sign in
    assert web.get(f"{CONSOLE}/api/feed").status_code == 401
