"""The server against hostile clients and bad input, over real HTTP on 127.0.0.1 (uvicorn with
accord's connection limits, httpx as the client): every bad input gets its 4xx in the TAXII
error body and changes nothing; unknown methods get 405 with ``Allow``; HEAD answers wherever
GET does; admin bodies are authenticated and bounded before they are read; slow headers and
bodies are cut off; key failures are a bare 500; a creation POST does not tell whether an id
the poster may not read exists; denied reads are logged; edited token rows grant nothing."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from accord.api import ApiSettings, create_app
from accord.api.context import HOLDINGS, collection_id
from accord.api.server import config
from accord.errors import IntegrityError
from accord.model.user import User
from accord.service import Exchange
from accord.service.journal import decode_entry
from tests.test_taxii_support import (
    LATER,
    TAXII,
    Clock,
    bearer,
    envelope,
    indicator,
    issue,
    posting,
    scenario_exchange,
)

KOR = collection_id(HOLDINGS, "KOR")
OBJECTS = f"/taxii2/KOR/collections/{KOR}/objects/"
ERROR_KEYS = {"title", "description", "error_code", "http_status"}


@contextmanager
def live(app: Any, settings: ApiSettings) -> Iterator[str]:
    """``app`` under uvicorn with ``settings``' connection limits, in a thread on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(config(app, settings, "127.0.0.1", port, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, Exchange]:
    url, exchange = scenario_exchange(tmp_path, Clock(LATER))
    exchange.add_user(User("kor-junior", "KOR", "군사III급비밀", frozenset({"nk-missile"})))
    return url, exchange


@pytest.fixture
def site(world: tuple[str, Exchange]) -> Iterator[tuple[str, Exchange, ApiSettings]]:
    url, exchange = world
    settings = ApiSettings(
        url, body_timeout=1.0, header_timeout=1.0, idle_timeout=1.0, auth_failures=1_000
    )
    with live(create_app(settings, exchange), settings) as base:
        yield base, exchange, settings


def taxii_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= ERROR_KEYS and body["http_status"] == str(status), body
    assert "detail" not in body
    return body


def item_count(exchange: Exchange) -> int:
    return len(exchange.snapshot().items)


def entry_count(exchange: Exchange) -> int:
    with exchange.store.transaction() as tx:
        return tx.entry_count()


def last_entry(exchange: Exchange) -> dict[str, Any]:
    with exchange.store.transaction() as tx:
        seq = tx.entry_count() - 1
        found = tx.entry(seq)
    assert found is not None
    return decode_entry(found[0], seq)


# --- numbers, text and nesting that JSON or STIX does not allow ---------------------------------


@pytest.mark.parametrize(
    "number",
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9007199254740992", "-9007199254740992"],
)
def test_numbers_json_or_stix_does_not_allow_are_refused(
    site: tuple[str, Exchange, ApiSettings], number: str
) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    raw = envelope(indicator(1, confidence=0)).replace(
        b'"confidence": 0', f'"confidence": {number}'.encode()
    )
    assert number.encode() in raw
    before = item_count(exchange), entry_count(exchange)
    with httpx.Client(base_url=base) as http:
        body = taxii_error(http.post(OBJECTS, headers=posting(kor), content=raw), 400)
        assert body["error_code"] == "bad-request"
        # the largest integers STIX allows are fine
        edge = raw.replace(number.encode(), b"9007199254740991")
        assert http.post(OBJECTS, headers=posting(kor), content=edge).status_code == 202
    assert item_count(exchange) == before[0] + 1


def test_nesting_deeper_than_the_limit_is_refused(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, exchange, settings = site
    kor = issue(exchange, "kor-analyst")
    before = item_count(exchange)
    with httpx.Client(base_url=base) as http:
        for depth in (settings.max_json_depth + 1, 1_000, 100_000):
            nested = b"[" * depth + b"]" * depth
            raw = b'{"objects": [' + nested + b"]}"
            taxii_error(http.post(OBJECTS, headers=posting(kor), content=raw), 400)
        # exactly at the limit it is JSON (and then not an envelope of STIX objects)
        inside = settings.max_json_depth - 2
        raw = b'{"objects": [' + b"[" * inside + b"]" * inside + b"]}"
        body = taxii_error(http.post(OBJECTS, headers=posting(kor), content=raw), 400)
        assert "not a JSON object" in body["description"]
    assert item_count(exchange) == before


@pytest.mark.parametrize(
    "text", [b'"\\ud800"', b'"\\udfff tail"', b'"x\\ud83d"', b'"\\ude00\\ud83d"']
)
def test_lone_surrogates_are_refused(site: tuple[str, Exchange, ApiSettings], text: bytes) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    raw = envelope(indicator(2, name="NAME")).replace(b'"NAME"', text)
    before = item_count(exchange)
    with httpx.Client(base_url=base) as http:
        taxii_error(http.post(OBJECTS, headers=posting(kor), content=raw), 400)
        # a pair is one character, and fine
        paired = raw.replace(text, b'"\\ud83d\\ude00"')
        assert http.post(OBJECTS, headers=posting(kor), content=paired).status_code == 202
    assert item_count(exchange) == before + 1


def test_bytes_that_are_not_utf8_are_refused(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    raw = envelope(indicator(3, name="NAME")).replace(b"NAME", b"\xed\xa0\x80")
    with httpx.Client(base_url=base) as http:
        taxii_error(http.post(OBJECTS, headers=posting(kor), content=raw), 400)


@pytest.mark.parametrize(
    "query",
    [
        "limit=١٠",  # Arabic-Indic digits
        "limit=１０",  # fullwidth digits
        "limit=" + "9" * 5000,
        "added_after=٢٠١٩-11-23T00:00:00Z",
        "match[version]=٢٠٢٤-01-01T00:00:00.000Z",
        "limit=-1",
        "limit=0",
    ],
)
def test_query_digits_outside_ascii_are_refused(
    site: tuple[str, Exchange, ApiSettings], query: str
) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    before = entry_count(exchange)
    with httpx.Client(base_url=base) as http:
        taxii_error(http.get(f"{OBJECTS}?{query}", headers=bearer(kor)), 400)
        assert http.get(f"{OBJECTS}?limit=10", headers=bearer(kor)).status_code == 200
    assert entry_count(exchange) == before + 1  # only the good read was logged


def test_undecodable_query_text_is_refused_or_ignored(
    site: tuple[str, Exchange, ApiSettings],
) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    with httpx.Client(base_url=base) as http:
        r = http.get(f"{OBJECTS}?match[id]=%ED%A0%80", headers=bearer(kor))
        assert r.status_code in (200, 400), r.text


# --- methods -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE", "PUT"])
def test_unknown_methods_get_405_with_allow(
    site: tuple[str, Exchange, ApiSettings], method: str
) -> None:
    base, exchange, _ = site
    admin = issue(exchange, "kor-analyst", admin=True)
    with httpx.Client(base_url=base) as http:
        for path, allowed in (
            ("/taxii2/", {"GET", "HEAD"}),
            ("/taxii2/KOR/", {"GET", "HEAD"}),
            (OBJECTS, {"GET", "HEAD", "POST"}),
            ("/admin/parties", {"GET", "POST"}),
            ("/admin/tokens/abc", {"DELETE"}),
        ):
            r = http.request(method, path, headers=bearer(admin))
            taxii_error(r, 405)
            assert set(r.headers["allow"].replace(" ", "").split(",")) >= allowed, path


def test_head_answers_wherever_get_does(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst", admin=True)
    with httpx.Client(base_url=base) as http:
        for path in ("/taxii2/", "/taxii2/KOR/", f"/taxii2/KOR/collections/{KOR}/", OBJECTS):
            got, head = http.get(path, headers=bearer(kor)), http.head(path, headers=bearer(kor))
            assert got.status_code == head.status_code == 200, path
            assert (
                head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
            )
        assert http.head("/taxii2/", headers=bearer("x.y")).status_code == 401
        h = {"Authorization": f"Bearer {kor}"}
        got, head = http.get("/admin/parties", headers=h), http.head("/admin/parties", headers=h)
        assert got.status_code == head.status_code == 200 and head.content == b""


# --- unknown routes, validation errors, 401s -----------------------------------------------------


def test_unknown_routes_and_validation_errors_use_the_error_body(
    site: tuple[str, Exchange, ApiSettings],
) -> None:
    base, exchange, _ = site
    admin = {"Authorization": f"Bearer {issue(exchange, 'kor-analyst', admin=True)}"}
    with httpx.Client(base_url=base) as http:
        for path in ("/nothing", "/admin/nothing", "/taxii2/KOR/nothing/", "/admin"):
            taxii_error(http.get(path, headers=admin), 404)
        r = http.post("/admin/users", headers=admin, json={"id": "x"})  # fields missing
        taxii_error(r, 400)
        r = http.get("/admin/tokens?user=" + "x" * 300, headers=admin)
        taxii_error(r, 400)


def test_admin_401s_carry_www_authenticate(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, _, _ = site
    with httpx.Client(base_url=base) as http:
        for r in (
            http.get("/admin/parties"),
            http.post("/admin/users", json={}),
            http.get("/admin/parties", headers={"Authorization": "Bearer a.b"}),
        ):
            taxii_error(r, 401)
            assert r.headers["www-authenticate"].startswith("Basic")


# --- admin bodies: authenticated, then bounded -------------------------------------------------


def _raw(base: str, request: bytes, *, wait: float = 5.0) -> bytes:
    """Send ``request`` on a raw socket; what the server answers before closing (bounded)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(request)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def test_admin_bodies_are_authenticated_before_they_are_read(
    site: tuple[str, Exchange, ApiSettings],
) -> None:
    base, exchange, settings = site
    before = entry_count(exchange)
    # 150 MB announced, nothing sent: the 401 comes without the server waiting for the body
    head = (
        b"POST /admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 157286400\r\nConnection: close\r\n\r\n"
    )
    answer = _raw(base, head)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"www-authenticate" in answer.lower()
    # an admin's body over the limit is refused, announced or streamed
    admin = {"Authorization": f"Bearer {issue(exchange, 'kor-analyst', admin=True)}"}
    big = b'{"id": "' + b"x" * settings.max_admin_body + b'"}'
    with httpx.Client(base_url=base) as http:
        taxii_error(http.post("/admin/users", headers=admin, content=big), 413)
        taxii_error(http.post("/admin/users", headers=admin, content=iter([big])), 413)
        # NaN and deep nesting are refused in admin bodies too
        nan = b'{"id": "u", "party": "KOR", "clearance": NaN}'
        taxii_error(http.post("/admin/users", headers=admin, content=nan), 400)
        deep = b'{"id": ' + b"[" * 100 + b"]" * 100 + b"}"
        taxii_error(http.post("/admin/users", headers=admin, content=deep), 400)
        ok = {"id": "kor-new", "party": "KOR", "clearance": "군사III급비밀"}
        assert http.post("/admin/users", headers=admin, json=ok).status_code == 201
    assert "kor-new" in exchange.snapshot().users
    assert entry_count(exchange) == before + 2  # the token issued and the user added


# --- timeouts ------------------------------------------------------------------------------------


def test_slow_headers_are_cut_off(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, _, settings = site
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")  # never finished
        started = time.monotonic()
        assert s.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 10  # the socket's own timeout did not fire
    # a connection that trickles bytes is cut off just the same (within 20 rounds of 0.25 s)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.settimeout(0.25)
        closed = False
        for _ in range(20):
            try:
                s.sendall(b"X")
                closed = s.recv(1024) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
            if closed:
                break
        assert closed and settings.header_timeout < 5


def test_slow_bodies_get_408(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    request = (
        f"POST {OBJECTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {kor}\r\n"
        f"Accept: {TAXII}\r\nContent-Type: {TAXII}\r\nContent-Length: 1000\r\n\r\n"
    ).encode() + b'{"objects": ['
    answer = _raw(base, request, wait=10)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_idle_connections_are_closed(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, exchange, _ = site
    kor = issue(exchange, "kor-analyst")
    request = (
        f"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {kor}\r\nAccept: {TAXII}\r\n\r\n"
    ).encode()
    answer = _raw(base, request, wait=10)  # keep-alive: returns when the server closes it
    assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1") == 1


# --- server-side failures say nothing ------------------------------------------------------------


def test_key_failures_are_a_bare_500(world: tuple[str, Exchange], tmp_path: Path) -> None:
    url, exchange = world
    token = issue(exchange, "kor-analyst")
    keyless = Exchange.open(url, Clock(LATER))  # no master key given
    settings = ApiSettings(url)
    with live(create_app(settings, keyless), settings) as base, httpx.Client(base_url=base) as http:
        body = taxii_error(http.get("/taxii2/", headers=bearer(token)), 500)
    assert body == {
        "title": "Internal Server Error",
        "description": "The server hit an internal error.",
        "error_code": "internal",
        "http_status": "500",
    }


# --- no existence oracle; denied reads are logged ------------------------------------------------


def _answer(r: httpx.Response) -> Any:
    body = r.json()
    for key in ("id", "request_timestamp"):
        body.pop(key)
    return r.status_code, body


def test_a_creation_post_does_not_tell_whether_an_unreadable_id_exists(
    site: tuple[str, Exchange, ApiSettings],
) -> None:
    base, exchange, _ = site
    senior, junior = issue(exchange, "kor-analyst"), issue(exchange, "kor-junior")
    secret = indicator(10)  # 군사II급비밀: above the junior's clearance
    low = "군사III급비밀"
    with httpx.Client(base_url=base) as http:
        assert (
            http.post(OBJECTS, headers=posting(senior), content=envelope(secret)).status_code == 202
        )
        taken = http.post(
            OBJECTS, headers=posting(junior), content=envelope(indicator(10, level=low))
        )
        fresh = http.post(
            OBJECTS, headers=posting(junior), content=envelope(indicator(11, level=low))
        )
        assert _answer(taken)[0] == _answer(fresh)[0] == 202
        assert [s["message"] for s in taken.json()["successes"]] == ["created"]
        assert taken.json()["successes"][0]["id"] == secret["id"]
        assert (
            _answer(taken)[1]["successes"][0]["message"]
            == _answer(fresh)[1]["successes"][0]["message"]
        )
        # a retry of one's own post is answered exactly as the first was, and stores nothing
        count = item_count(exchange)
        again = http.post(
            OBJECTS, headers=posting(junior), content=envelope(indicator(11, level=low))
        )
        assert _answer(again) == _answer(fresh)
        assert item_count(exchange) == count
        assert last_entry(exchange)["kind"] == "taxii-repost"
        # the senior's object is unchanged: the junior's post did not replace it
        got = http.get(f"{OBJECTS}{secret['id']}/", headers=bearer(senior)).json()
        assert got["objects"][0]["extensions"]
        levels = [r for r in got["objects"][0]["object_marking_refs"] if "marking-definition" in r]
        assert levels


def test_denied_reads_are_logged(site: tuple[str, Exchange, ApiSettings]) -> None:
    base, exchange, _ = site
    senior, junior = issue(exchange, "kor-analyst"), issue(exchange, "kor-junior")
    secret = indicator(20)
    with httpx.Client(base_url=base) as http:
        assert (
            http.post(OBJECTS, headers=posting(senior), content=envelope(secret)).status_code == 202
        )
        denied = http.get(f"{OBJECTS}{secret['id']}/", headers=bearer(junior))
        taxii_error(denied, 404)
        entry = last_entry(exchange)
        assert entry["kind"] == "read" and entry["subject"]["user"] == "kor-junior"
        (read,) = entry["subject"]["items"]
        assert read["allowed"] is False and "clearance-too-low" in read["reasons"]
        missing = http.get(
            f"{OBJECTS}indicator--00000000-0000-4000-8000-999999999999/", headers=bearer(junior)
        )
        assert missing.content == denied.content  # the same bytes
        entry = last_entry(exchange)
        assert entry["kind"] == "read" and entry["subject"] == {"user": "kor-junior", "items": []}


def _one_entry(exchange: Exchange, get: Any) -> tuple[httpx.Response, dict[str, Any]]:
    """A GET's response and the one log entry it made."""
    before = entry_count(exchange)
    r = get()
    assert entry_count(exchange) == before + 1
    return r, last_entry(exchange)


def test_denied_reads_in_listings_manifests_and_versions_are_logged(
    site: tuple[str, Exchange, ApiSettings],
) -> None:
    """Every TAXII listing is one log entry, allowed or not, naming the copies the user was
    denied with the reasons; the answers are those of a collection without those copies."""
    base, exchange, _ = site
    senior, junior = issue(exchange, "kor-analyst"), issue(exchange, "kor-junior")
    secret = indicator(30)  # 군사II급비밀: above the junior's clearance
    item = f"KOR~{secret['id']}~{secret['modified']}"
    manifest = f"/taxii2/KOR/collections/{KOR}/manifest/?match[type]=indicator"
    listing = f"{OBJECTS}?match[type]=indicator"
    versions = f"{OBJECTS}{secret['id']}/versions/"
    missing = f"{OBJECTS}indicator--00000000-0000-4000-8000-999999999998/versions/"
    with httpx.Client(base_url=base) as http:

        def get(path: str) -> httpx.Response:
            return http.get(path, headers=bearer(junior))

        empty = {path: get(path).content for path in (listing, manifest)}
        assert (
            http.post(OBJECTS, headers=posting(senior), content=envelope(secret)).status_code == 202
        )
        for path, kind in ((listing, "read"), (manifest, "metadata-read")):
            r, entry = _one_entry(exchange, lambda p=path: get(p))  # type: ignore[misc]
            assert r.status_code == 200 and r.content == empty[path]
            assert entry["kind"] == kind and entry["subject"]["user"] == "kor-junior"
            (denied,) = [i for i in entry["subject"]["items"] if i["item"] == item]
            assert denied["allowed"] is False and "clearance-too-low" in denied["reasons"]
        r, entry = _one_entry(exchange, lambda: get(versions))
        assert entry["kind"] == "metadata-read"
        assert entry["subject"]["items"] == [
            {"item": item, "allowed": False, "reasons": ["clearance-too-low"]}
        ]
        gone, entry = _one_entry(exchange, lambda: get(missing))
        assert r.content == gone.content and r.status_code == 404  # the same bytes
        assert entry["subject"] == {"user": "kor-junior", "items": []}
        # what the senior may read is logged as allowed, in the same shape
        _, entry = _one_entry(exchange, lambda: http.get(versions, headers=bearer(senior)))
        assert entry["subject"]["items"] == [{"item": item, "allowed": True, "reasons": []}]


class LockProbe:
    """A clock that notes, each time it is read, whether the store's write lock was held then
    (another connection's ``BEGIN IMMEDIATE`` fails at once)."""

    def __init__(self, now: Any) -> None:
        self.now = now
        self.path: str | None = None  # set once the store exists: readings are taken from then
        self.readings: list[bool] = []

    def __call__(self) -> Any:
        if self.path is not None:
            self.readings.append(self._locked(self.path))
        return self.now

    @staticmethod
    def _locked(path: str) -> bool:
        db = sqlite3.connect(path, timeout=0.0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        else:
            db.execute("ROLLBACK")
            return False
        finally:
            db.close()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/admin/consents",
            {"item": "kor-missile-eve", "by": "KOR", "holder": "USA", "to": ["JPN"]},
        ),
        ("/admin/agreements/rok-japan-gsomia/events", {"type": "notice_suspended", "by": "JPN"}),
        (
            "/admin/agreements/rok-japan-gsomia/amendments",
            {"id": "am-late", "by": "KOR", "changes": {"notice_period": "P180D"}},
        ),
    ],
)
def test_admin_acts_without_at_are_dated_inside_the_write_lock(
    tmp_path: Path, path: str, body: dict[str, Any]
) -> None:
    """Dated before the lock, an act could be dated earlier than one another process wrote
    while it waited (and be refused as out of order, or logged out of order)."""
    probe = LockProbe(LATER)
    url, exchange = scenario_exchange(tmp_path, probe)
    token = issue(exchange, "kor-analyst", admin=True)
    settings = ApiSettings(url)
    with (
        live(create_app(settings, exchange), settings) as base,
        httpx.Client(base_url=base) as http,
    ):
        probe.path = url.removeprefix("sqlite:///")
        r = http.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)
        probe.path = None
    assert r.status_code == 200, r.text
    assert probe.readings and all(probe.readings), probe.readings


# --- token rows ----------------------------------------------------------------------------------


def _edit(url: str, sql: str, *args: Any) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute(sql, args)


def test_an_edited_token_row_grants_nothing_and_audit_verify_names_it(
    site: tuple[str, Exchange, ApiSettings], caplog: pytest.LogCaptureFixture
) -> None:
    base, exchange, settings = site
    url = settings.db_url
    from accord.service.credentials import Credentials

    credentials = Credentials(exchange)
    token = issue(exchange, "kor-analyst")
    token_id = token.split(".")[0]
    with httpx.Client(base_url=base) as http:
        assert http.get("/taxii2/", headers=bearer(token)).status_code == 200
        credentials.revoke(token_id)
        assert http.get("/taxii2/", headers=bearer(token)).status_code == 401
        exchange.audit_verify()  # the revocation was logged: the store matches the log
        _edit(url, "UPDATE api_tokens SET revoked_at = NULL WHERE id = ?", token_id)
        with caplog.at_level(logging.ERROR, logger="accord.credentials"):
            r = http.get("/taxii2/", headers=bearer(token))
        assert r.status_code == 500  # an integrity failure, with no detail
        assert "MAC" not in r.text and token_id not in r.text
    assert any("fails its MAC" in m for m in caplog.messages)
    with pytest.raises(IntegrityError, match=r"api_tokens row .* differs in revoked_at"):
        exchange.audit_verify()


@pytest.mark.parametrize(
    ("column", "value"),
    [("admin", 1), ("expires_at", 250_000_000_000_000_000), ("user", "jpn-analyst")],
)
def test_token_row_edits_of_rights_are_refused(
    world: tuple[str, Exchange], column: str, value: Any
) -> None:
    url, exchange = world
    from accord.service.credentials import Credentials

    token = issue(exchange, "kor-analyst")
    _edit(url, f"UPDATE api_tokens SET {column} = ?", value)
    with pytest.raises(IntegrityError, match="fails its MAC"):
        Credentials(exchange).verify(token)
    with pytest.raises(IntegrityError, match=f"differs in {column}"):
        exchange.audit_verify()


# --- bad tokens: limited per address, and no one else is held up ---------------------------------


def test_failed_authentications_are_limited_per_address(world: tuple[str, Exchange]) -> None:
    url, exchange = world
    settings = ApiSettings(url, auth_failures=3, auth_window=600.0, auth_delay=0.01)
    good, fresh = issue(exchange, "kor-analyst"), issue(exchange, "jpn-analyst")
    with (
        live(create_app(settings, exchange), settings) as base,
        httpx.Client(base_url=base) as http,
    ):
        assert http.get("/taxii2/", headers=bearer(good)).status_code == 200  # verified, cached
        bad = bearer(good.split(".")[0] + "." + "A" * 43)
        for _ in range(3):
            taxii_error(http.get("/taxii2/", headers=bad), 401)
        limited = http.get("/taxii2/", headers=bad)
        taxii_error(limited, 429)
        assert 1 <= int(limited.headers["retry-after"]) <= 600
        # a token this process already verified still works from the same address
        assert http.get("/taxii2/", headers=bearer(good)).status_code == 200
        # one it has not verified waits like any other (documented)
        taxii_error(http.get("/taxii2/", headers=bearer(fresh)), 429)


def test_a_flood_of_bad_tokens_leaves_a_legitimate_client_correct(
    world: tuple[str, Exchange],
) -> None:
    url, exchange = world
    settings = ApiSettings(url, auth_failures=5, auth_delay=0.05)
    kor = issue(exchange, "kor-analyst")
    with live(create_app(settings, exchange), settings) as base:
        with httpx.Client(base_url=base) as http:
            expected = http.get(OBJECTS, headers=bearer(kor)).json()

        def flood(n: int) -> set[int]:
            seen = set()
            with httpx.Client(base_url=base) as http:
                for i in range(15):  # bounded: 150 bad attempts in all, 5 of them hashed
                    r = http.get("/taxii2/", headers=bearer(f"{n:016x}.{'B' * 42}{i % 10}"))
                    seen.add(r.status_code)
            return seen

        def legit() -> list[Any]:
            with httpx.Client(base_url=base) as http:
                return [http.get(OBJECTS, headers=bearer(kor)).json() for _ in range(20)]

        with ThreadPoolExecutor(max_workers=12) as pool:
            floods = [pool.submit(flood, n) for n in range(10)]
            answers = pool.submit(legit).result(timeout=120)
            statuses = set().union(*(f.result(timeout=120) for f in floods))
    assert answers == [expected] * 20
    assert statuses <= {401, 429} and 429 in statuses


def test_token_cache_is_bounded(world: tuple[str, Exchange]) -> None:
    from accord.service.credentials import Credentials

    _, exchange = world
    credentials = Credentials(exchange, cache_limit=2)
    tokens = [issue(exchange, "kor-analyst") for _ in range(3)]
    for token in tokens:
        credentials.verify(token)
    assert [credentials.cached(t) for t in tokens] == [False, True, True]
    assert credentials.verify(tokens[0]).user == "kor-analyst"  # verified again, slowly


def test_throttle_windows_and_bounds() -> None:
    from accord.service.throttle import FailureThrottle

    now = [0.0]
    throttle = FailureThrottle(limit=2, window=10.0, clients=2, clock=lambda: now[0])
    throttle.failed("a")
    assert throttle.retry_after("a") is None
    throttle.failed("a")
    assert throttle.retry_after("a") == 10
    now[0] = 9.999999
    assert throttle.retry_after("a") == 1
    now[0] = 10.0  # the window is over
    assert throttle.retry_after("a") is None
    for address in ("a", "a", "b", "c"):  # "a" is forgotten: at most 2 addresses are kept
        throttle.failed(address)
    assert throttle.retry_after("a") is None
    assert json.dumps(sorted(throttle._failures)) == '["b", "c"]'
    throttle.failed("b")
    assert throttle.retry_after("b") == 10
    throttle.forgive("b")  # an attempt that verified is taken back
    assert throttle.retry_after("b") is None
