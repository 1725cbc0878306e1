"""The web console in a real browser (Playwright driving Debian's Chromium) against a real
``accord serve`` on 127.0.0.1, compared with the CLI (``accord agreement status``, ``accord
impact --json``, ``accord read``) run as separate processes on the same store.

Skipped, with the reason, when the ``playwright`` package or a Chromium binary is missing
(``scripts/test`` installs Debian's ``chromium`` when it can). Screenshots of each view are saved
under ``$ACCORD_ARTIFACTS`` (default ``tmp/artifacts`` in the work tree). Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from accord.service import Exchange, MasterKey
from accord.service.journal import decode_entry
from accord.service.scenarios import apply_scenario
from tests.stores import BUILTIN, clone, execute, query
from tests.test_taxii_support import free_port, issue

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
CHROMIUM = Path(os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium, or set $ACCORD_CHROMIUM)",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("ACCORD_ARTIFACTS", ROOT / "tmp" / "artifacts"))
NO_SUSPENSION = ROOT / "tests" / "scenarios" / "gsomia-2019-no-suspension.yaml"
EVE = "2019-11-22T23:59:59+09:00"
MIDNIGHT = "2019-11-23T00:00:00+09:00"
LATER = "2019-12-01T00:00:00+09:00"
WAIT_MS = 15_000  # the longest any page or element is waited for
START_SECONDS = 60


@dataclass(frozen=True)
class World:
    db: Path
    key_file: Path
    base: str
    jpn: str  # jpn-analyst's token
    admin: str  # an admin token of kor-analyst

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "accord", "--db", f"sqlite:///{self.db}"]
        command += ["--key-file", str(self.key_file), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _load(path: Path, master: MasterKey, scenario: Path) -> tuple[str, str]:
    from accord.scenario import load_scenario

    exchange = Exchange.open(f"sqlite:///{path}", master=lambda: master)
    try:
        exchange.init_keys()
        apply_scenario(exchange, load_scenario(scenario), strict=True)
        return issue(exchange, "jpn-analyst"), issue(exchange, "kor-analyst", admin=True)
    finally:
        exchange.store.close()


@contextmanager
def served(db: Path, key_file: Path, log: Path) -> Iterator[str]:
    """``accord serve`` on a free port in its own process group, stopped at the end."""
    port = free_port()
    command = [sys.executable, "-m", "accord", "--db", f"sqlite:///{db}"]
    command += ["--key-file", str(key_file), "serve", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"accord serve did not start: {log.read_text(errors='replace')}"
                )
            try:
                requests.get(f"{base}/console/signin", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _world(tmp: Path, scenario: Path) -> Iterator[World]:
    master = MasterKey.generate()
    key_file = tmp / "master.key"
    master.write(key_file)
    db = tmp / "exchange.db"
    jpn, admin = _load(db, master, scenario)
    with served(db, key_file, tmp / "serve.log") as base:
        yield World(db, key_file, base, jpn, admin)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The 2019 world as it happened (with the suspension), served."""
    yield from _world(tmp_path_factory.mktemp("console-2019"), BUILTIN)


@pytest.fixture(scope="module")
def lapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The same timeline without the suspension, served."""
    yield from _world(tmp_path_factory.mktemp("console-lapse"), NO_SUSPENSION)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) at 1280×800, failing on any script error and on any
    request that leaves 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="UTC")
    context.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    outside: list[str] = []

    def check_request(request: Any) -> None:
        url = request.url
        if not (url.startswith("http://127.0.0.1:") or url.startswith("data:")):
            outside.append(url)

    new = context.new_page()
    new.on("pageerror", lambda e: errors.append(str(e)))
    new.on("request", check_request)
    try:
        yield new
    finally:
        context.close()
    assert errors == []
    assert outside == []


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, base: str, user: str, token: str) -> None:
    page.goto(f"{base}/console/")
    page.wait_for_url("**/console/signin")
    page.fill("#user", user)
    page.fill("#token", token)
    page.click("form.signin button[type=submit]")
    page.wait_for_url(f"{base}/console/")


def network_at(page: Any, base: str, at: str) -> dict[str, tuple[str, str]]:
    """agreement -> (status, edge) from the drawn table, once the page shows ``at``."""
    page.fill("#at", at)
    page.click("#instant-form button[type=submit]")
    wanted = datetime.fromisoformat(at).astimezone(UTC).isoformat().replace("+00:00", "Z")
    page.wait_for_selector(f"#shown[data-at='{wanted}']")
    rows = page.query_selector_all("#states tbody tr")
    drawn = {
        g.get_attribute("data-agreement"): g.get_attribute("data-edge")
        for g in page.query_selector_all("#network g.edge")
    }
    table = {
        r.get_attribute("data-agreement"): (
            r.get_attribute("data-status"),
            r.get_attribute("data-edge"),
        )
        for r in rows
    }
    assert drawn == {a: edge for a, (_, edge) in table.items()}
    return table


# --- sign-in, sign-out, CSRF ----------------------------------------------------------------------


def test_sign_in_sets_a_strict_http_only_session_cookie_and_sign_out_ends_it(
    page: Any, world: World
) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    cookie = next(c for c in page.context.cookies() if c["name"] == "accord_console")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP on 127.0.0.1; Secure when served over TLS
    assert cookie["expires"] > time.time()
    assert page.inner_text(".who") == "jpn-analyst (JPN)"
    shot(page, "network")
    page.click("form.signout button")
    page.wait_for_url("**/console/signin")
    assert not [c for c in page.context.cookies() if c["name"] == "accord_console"]
    page.context.add_cookies([{**cookie}])  # the old session id no longer signs anyone in
    page.goto(f"{world.base}/console/items")
    page.wait_for_url("**/console/signin")


def test_a_wrong_token_is_refused_and_sets_no_session(page: Any, world: World) -> None:
    page.goto(f"{world.base}/console/signin")
    page.fill("#user", "jpn-analyst")
    page.fill("#token", world.jpn[:-2] + ("AA" if not world.jpn.endswith("AA") else "BB"))
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form.signin button[type=submit]")
    assert answer.value.status == 401
    assert page.inner_text("[role=alert]") == "The user id or token is not valid."
    assert not [c for c in page.context.cookies() if c["name"] == "accord_console"]
    shot(page, "signin-refused")


def test_a_token_of_another_user_is_refused(page: Any, world: World) -> None:
    page.goto(f"{world.base}/console/signin")
    page.fill("#user", "kor-analyst")
    page.fill("#token", world.jpn)
    page.click("form.signin button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert page.url.endswith("/console/signin")


def test_state_changing_requests_without_the_csrf_token_are_refused(
    page: Any, world: World
) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    api = page.context.request
    out = api.post(f"{world.base}/console/signout", form={"csrf": "wrong"}, max_redirects=0)
    assert out.status == 403
    read = api.post(
        f"{world.base}/console/items/kor-kn25-1031/read", form={"at": LATER}, max_redirects=0
    )
    assert read.status == 403
    page.goto(f"{world.base}/console/items")  # still signed in: nothing was done
    assert page.url.endswith("/console/items")
    assert page.inner_text(".who") == "jpn-analyst (JPN)"


def test_a_sign_in_post_without_its_form_value_is_refused(page: Any, world: World) -> None:
    answer = page.context.request.post(
        f"{world.base}/console/signin",
        form={"user": "jpn-analyst", "token": world.jpn},
        max_redirects=0,
    )
    assert answer.status == 403
    assert not [c for c in page.context.cookies() if c["name"] == "accord_console"]


def test_pages_ask_for_sign_in_and_data_answers_401(page: Any, world: World) -> None:
    answer = page.context.request.get(f"{world.base}/console/api/network", max_redirects=0)
    assert answer.status == 401
    page.goto(f"{world.base}/console/record")
    page.wait_for_url("**/console/signin")


# --- the network at an instant ---------------------------------------------------------------------


def _cli_status(world: World, agreement: str, at: str) -> dict[str, Any]:
    done = world.cli("agreement", "status", agreement, "--at", at, "--json")
    assert done.returncode == 0, done.stderr
    state: dict[str, Any] = json.loads(done.stdout)
    return state


def _expected_edge(state: dict[str, Any]) -> str:
    notice = state["notice"]
    if state["status"] == "in_force" and notice is not None and notice["suspended"]:
        return "suspended_notice"
    return str(state["status"])


@pytest.mark.parametrize("which", ["world", "lapse"])
def test_the_network_draws_each_agreement_as_accord_agreement_status_gives_it(
    page: Any, which: str, request: pytest.FixtureRequest
) -> None:
    chosen: World = request.getfixturevalue(which)
    sign_in(page, chosen.base, "jpn-analyst", chosen.jpn)
    for at in (EVE, MIDNIGHT):
        drawn = network_at(page, chosen.base, at)
        assert set(drawn) == {"japan-us-gsomia", "rok-japan-gsomia", "tisa"}  # JPN is in these
        for agreement, (status, edge) in drawn.items():
            state = _cli_status(chosen, agreement, at)
            assert (agreement, status, edge) == (agreement, state["status"], _expected_edge(state))
        shot(page, f"network-{which}-{'eve' if at == EVE else 'midnight'}")


def test_the_gsomia_stays_in_force_with_the_suspension_and_lapses_without_it(
    page: Any, world: World, lapse: World
) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    assert network_at(page, world.base, MIDNIGHT)["rok-japan-gsomia"][1] == "suspended_notice"
    assert page.query_selector("#network g.route-lit") is None
    sign_in(page, lapse.base, "jpn-analyst", lapse.jpn)
    assert network_at(page, lapse.base, EVE)["rok-japan-gsomia"][1] == "notice_pending"
    assert page.query_selector("#network g.route-lit") is None
    countdown = page.inner_text("#states tr[data-agreement='rok-japan-gsomia'] .countdown")
    assert countdown == "0d 00h 00m 01s"
    assert network_at(page, lapse.base, MIDNIGHT)["rok-japan-gsomia"][1] == "terminated"
    assert page.query_selector("#network g.route-lit[data-agreement='tisa']") is not None
    shot(page, "network-lapse-route-through-usa")


def test_the_slider_moves_the_instant_and_the_page_follows(page: Any, lapse: World) -> None:
    sign_in(page, lapse.base, "jpn-analyst", lapse.jpn)
    network_at(page, lapse.base, EVE)
    slider = page.locator("#slider")
    slider.focus()
    before = page.get_attribute("#shown", "data-at")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # one step: a minute later
    page.wait_for_function(
        "b => document.getElementById('shown').dataset.at !== b", arg=before, timeout=WAIT_MS
    )
    page.wait_for_selector("#states tr[data-agreement='rok-japan-gsomia'][data-edge='terminated']")
    assert "at=" in page.url


def test_a_bad_instant_is_a_400_naming_the_field_and_value(page: Any, world: World) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    answer = page.goto(f"{world.base}/console/items?at=2019-11-22T23:59:59")
    assert answer.status == 400
    assert "at: '2019-11-22T23:59:59' is not an ISO 8601 instant" in page.inner_text("[role=alert]")
    data = page.context.request.get(f"{world.base}/console/api/network?at=yesterday")
    assert data.status == 400
    assert "'yesterday'" in data.json()["message"]


# --- impact, items --------------------------------------------------------------------------------


def test_the_impact_view_agrees_with_accord_impact_json(page: Any, lapse: World) -> None:
    done = lapse.cli("impact", "rok-japan-gsomia", "--at", MIDNIGHT, "--json")
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)
    sign_in(page, lapse.base, "jpn-analyst", lapse.jpn)
    page.goto(
        f"{lapse.base}/console/agreements/rok-japan-gsomia/impact?at={MIDNIGHT.replace('+', '%2B')}"
    )
    flows = [
        (
            r.get_attribute("data-from"),
            r.get_attribute("data-to"),
            r.get_attribute("data-after"),
            r.get_attribute("data-via") or None,
            r.get_attribute("data-items"),
        )
        for r in page.query_selector_all("#flows tbody tr[data-from]")
    ]
    assert flows == [
        (f["from"], f["to"], f["after"], f["via"], ",".join(f["items"])) for f in expected["flows"]
    ]
    assert flows  # the flows the GSOMIA carried, each with what happens to it at midnight
    assert all(f[3] == "USA" for f in flows if f[2] == "needs-consent")  # the route via the hub
    drawn = [g.get_attribute("data-after") for g in page.query_selector_all("svg.impact g.flow")]
    assert drawn == [f[2] for f in flows]
    kept = [
        (r.get_attribute("data-item"), r.get_attribute("data-party"))
        for r in page.query_selector_all("#protected tbody tr[data-item]")
    ]
    assert kept == [(h["item"], h["party"]) for h in expected["protected_holdings"]]
    assert page.get_attribute("#actual", "data-status") == expected["actual_state"]["status"]
    shot(page, "impact")


def test_the_items_list_is_what_accord_readable_gives_and_filters(page: Any, world: World) -> None:
    done = world.cli("readable", "jpn-analyst", "--at", LATER, "--json")
    assert done.returncode == 0, done.stderr
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    page.goto(f"{world.base}/console/items?at={LATER.replace('+', '%2B')}")
    listed = {
        r.get_attribute("data-item") for r in page.query_selector_all("#items tbody tr[data-item]")
    }
    assert listed == set(json.loads(done.stdout))
    page.fill("#originator", "JPN")
    page.click(".filters button")
    page.wait_for_url("**originator=JPN**")
    only = {
        r.get_attribute("data-item") for r in page.query_selector_all("#items tbody tr[data-item]")
    }
    assert only == {i for i in listed if i.startswith("jpn-")}
    shot(page, "items")


def test_an_item_page_banner_is_the_one_accord_read_prints(page: Any, world: World) -> None:
    done = world.cli("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", LATER)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    page.goto(f"{world.base}/console/items/kor-kn25-1031?at={LATER.replace('+', '%2B')}")
    assert page.inner_text("#banner-top") == lines[0]
    assert page.inner_text("#banner-bottom") == lines[0]
    assert page.inner_text("#decision") == "allow"
    assert "rok-japan-gsomia" in page.inner_text("#route")
    page.click("text=Read the content (logged)")
    page.wait_for_selector("#content")
    assert page.inner_text("#content") == lines[2]
    shot(page, "item")


def test_an_item_the_user_cannot_read_answers_exactly_like_a_missing_one(
    page: Any, world: World
) -> None:
    done = world.cli("check", "read", "kor-top-eve", "--user", "jpn-analyst", "--at", LATER)
    assert done.returncode == 1  # denied: the item exists, JPN may not read it
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    at = LATER.replace("+", "%2B")
    api = page.context.request
    hidden = api.get(f"{world.base}/console/items/kor-top-eve?at={at}")
    missing = api.get(f"{world.base}/console/items/no-such-item?at={at}")
    assert (hidden.status, hidden.body()) == (missing.status, missing.body())
    assert hidden.status == 404
    for name in ("content-type", "content-length"):
        assert hidden.headers[name] == missing.headers[name]
    read = page.locator("meta[name=csrf-token]").get_attribute("content")
    posted = [
        api.post(f"{world.base}/console/items/{i}/read", form={"csrf": read, "at": LATER})
        for i in ("kor-top-eve", "no-such-item")
    ]
    assert (posted[0].status, posted[0].body()) == (posted[1].status, posted[1].body())
    hidden_impact = api.get(f"{world.base}/console/agreements/rok-us-security-agreement/impact")
    missing_impact = api.get(f"{world.base}/console/agreements/no-such/impact")
    assert (hidden_impact.status, hidden_impact.body()) == (
        missing_impact.status,
        missing_impact.body(),
    )


def test_admin_views_are_hidden_from_a_user_like_a_missing_page(page: Any, world: World) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    api = page.context.request
    missing = api.get(f"{world.base}/console/api/nothing-here")
    status = api.get(f"{world.base}/console/api/record/verify")
    assert (status.status, status.body()) == (missing.status, missing.body())
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    started = api.post(f"{world.base}/console/api/record/verify", headers={"X-CSRF-Token": csrf})
    posted = api.post(f"{world.base}/console/api/nothing-here", headers={"X-CSRF-Token": csrf})
    assert (started.status, started.body()) == (posted.status, posted.body())
    page.goto(f"{world.base}/console/record")
    assert page.query_selector("#verify") is None  # the party's view: no verify button


def _entries(db: Path) -> list[dict[str, Any]]:
    rows = query(db, "select seq, leaf from audit_entries order by seq")
    return [decode_entry(bytes(leaf), seq) for seq, leaf in rows]


def _seq(db: Path, kind: str, **subject: object) -> int:
    (found,) = [
        e["seq"]
        for e in _entries(db)
        if e["kind"] == kind and all(e["subject"].get(k) == v for k, v in subject.items())
    ]
    return int(found)


def test_a_party_sees_its_own_entries_of_the_record_and_not_another_partys(
    page: Any, world: World
) -> None:
    ours = _seq(world.db, "release", item="kor-kn25-0824", to="JPN")  # KOR → JPN
    kor_item = _seq(world.db, "item", item="kor-top-eve")  # a KOR item never given to JPN
    released = world.cli(  # a KOR → USA release, after the world's last act
        "release", "kor-kn25-1128", "--from", "KOR", "--to", "USA", "--at", "2024-01-01T00:00:00Z"
    )
    assert released.returncode == 0, released.stdout + released.stderr
    kor_to_usa = _seq(world.db, "release", item="kor-kn25-1128", to="USA")
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    page.click("nav a[href='/console/record']")
    page.wait_for_url("**/console/record")
    shown = {
        int(str(r.get_attribute("data-seq")))
        for r in page.query_selector_all("#entries tr[data-seq]")
    }
    assert ours in shown
    assert kor_item not in shown and kor_to_usa not in shown
    assert int(str(page.get_attribute("#party-count", "data-count"))) == len(shown)
    size = int(str(page.get_attribute("#size", "data-size")))
    assert size == len(_entries(world.db))  # the log's size is public to every party
    shot(page, "record-party")
    page.click(f"#entries a[href='/console/record/proof?entry={ours}']")
    page.wait_for_url(f"**/record/proof?entry={ours}")
    text = page.inner_text("main")
    proved = json.loads(world.cli("audit", "prove", str(ours)).stdout)
    assert proved["leaf_hash"] in text and proved["root"] in text
    assert "kor-kn25-0824" in text
    api = page.context.request
    missing = api.get(f"{world.base}/console/record/proof?entry={size + 1000}")
    assert missing.status == 404
    for hidden in (kor_item, kor_to_usa):
        answer = api.get(f"{world.base}/console/record/proof?entry={hidden}")
        assert (answer.status, answer.body()) == (missing.status, missing.body())
        for name in ("content-type", "content-length"):
            assert answer.headers[name] == missing.headers[name]


# --- the record -----------------------------------------------------------------------------------


def verify_on_page(page: Any, base: str) -> str:
    page.goto(f"{base}/console/record")
    page.click("#verify")
    page.wait_for_selector("#verify-result[data-state='ok'], #verify-result[data-state='failed']")
    return str(page.get_attribute("#verify-result", "data-state"))


def test_the_record_page_verifies_the_log(page: Any, world: World) -> None:
    published = world.cli("audit", "checkpoint")
    assert published.returncode == 0, published.stderr
    size = published.stdout.splitlines()[1]
    signed = world.cli("audit", "countersign", size, "--party", "JPN")
    assert signed.returncode == 0, signed.stderr
    sign_in(page, world.base, "kor-analyst", world.admin)
    assert verify_on_page(page, world.base) == "ok"
    assert int(str(page.get_attribute("#size", "data-size"))) > int(size)
    row = page.inner_text(f"#published tbody tr:has(td:text-is('{size}'))")
    assert "accord-exchange" in row and "accord-party-JPN" in row
    assert page.inner_text("#verify-result").startswith("Verified ")
    shot(page, "record")
    page.fill("#entry", "0")
    page.click("text=Show its inclusion proof")
    page.wait_for_url("**/record/proof?entry=0")
    assert "inclusion" in page.inner_text("main")


def test_the_record_page_names_the_tampered_entry_of_a_tampered_copy(
    page: Any, world: World, tmp_path: Path
) -> None:
    copy = clone(world.db, tmp_path / "tampered.db")
    item_fact = "kind = 'item' and json_extract(body, '$.id') = 'kor-kn25-1031'"
    ((seq, rel),) = query(
        copy, f"select seq, json_extract(body, '$.releasable_to') from facts where {item_fact}"
    )
    assert "JPN" in rel
    execute(
        copy,
        f"update facts set body = json_set(body, '$.releasable_to', json('[]')) where {item_fact}",
    )
    with served(copy, world.key_file, tmp_path / "serve.log") as base:
        sign_in(page, base, "kor-analyst", world.admin)
        assert verify_on_page(page, base) == "failed"
        shot(page, "record-tampered")
        text = page.inner_text("#verify-result").removeprefix("Failed: ")
    cli = World(copy, world.key_file, "", "", "").cli("audit", "verify")
    assert cli.returncode != 0
    assert text in cli.stderr  # the same entry and row as `accord audit verify` names
    assert "audit entry" in text and f"facts row {seq} (item kor-kn25-1031" in text


# --- accessibility and narrow screens -------------------------------------------------------------


def test_the_main_views_pass_axe_core(page: Any, world: World) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page.goto(f"{world.base}/console/signin")
    assert axe.run(page).response["violations"] == []
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    views = [
        "/console/",
        f"/console/items?at={LATER.replace('+', '%2B')}",
        f"/console/items/kor-kn25-1031?at={LATER.replace('+', '%2B')}",
        f"/console/agreements/rok-japan-gsomia?at={MIDNIGHT.replace('+', '%2B')}",
        f"/console/agreements/rok-japan-gsomia/impact?at={MIDNIGHT.replace('+', '%2B')}",
        "/console/feed",
        "/console/record",
        "/console/record/proof?entry=5",
    ]
    for view in views:
        page.goto(world.base + view)
        if view == "/console/":
            page.wait_for_selector("body[data-drawn]")
        violations = axe.run(page).response["violations"]
        assert [(v["id"], view) for v in violations] == []


def test_keyboard_reaches_the_controls_in_order(page: Any, world: World) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    page.wait_for_selector("body[data-drawn]")
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    assert "at" in reached and "slider" in reached and "Sign out" in reached


def test_views_fit_a_narrow_screen(browser: Any, world: World) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        sign_in(page, world.base, "jpn-analyst", world.jpn)
        page.wait_for_selector("body[data-drawn]")
        for view in ("/console/", f"/console/items/kor-kn25-1031?at={LATER.replace('+', '%2B')}"):
            page.goto(world.base + view)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390
        shot(page, "item-narrow")
    finally:
        context.close()


# --- the live feed --------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Exchange, Any, str]]:
    """The built-in world on the real clock, served in this process by the same app
    ``accord serve`` builds, so that the test can release an item while the page watches."""
    from accord.api.app import create_app
    from accord.api.settings import ApiSettings
    from accord.cli.serve import with_console
    from accord.scenario import load_scenario
    from accord.service.credentials import Credentials
    from tests.test_taxii_support import serving

    master = MasterKey.generate()
    url = f"sqlite:///{tmp_path / 'live.db'}"
    exchange = Exchange.open(url, master=lambda: master)
    exchange.init_keys()
    apply_scenario(exchange, load_scenario(BUILTIN), strict=True)
    token = issue(exchange, "jpn-analyst")
    credentials = Credentials(exchange)
    app = with_console(create_app(ApiSettings(url), exchange, credentials), credentials)
    try:
        with serving(app) as base:
            yield base, exchange, credentials.exchange_lock, token
    finally:
        exchange.store.close()


def test_the_feed_shows_a_new_item_soon_after_its_release(
    page: Any, live: tuple[str, Exchange, Any, str]
) -> None:
    from accord.model.item import Item
    from accord.model.requests import ReleaseRequest

    base, exchange, lock, token = live
    sign_in(page, base, "jpn-analyst", token)
    page.goto(f"{base}/console/feed")
    page.wait_for_selector("#feed-status:has-text('checked')")
    before = len(page.query_selector_all("#feed li"))
    now = datetime.now(UTC)
    item = Item(
        "kor-live-1",
        "KOR",
        "군사II급비밀",
        frozenset({"nk-missile"}),
        frozenset({"JPN", "USA"}),
        now,
        title="Live launch report",
        content="One SRBM.",
    )
    with lock:
        exchange.add_item(item)
        assert exchange.release(ReleaseRequest("kor-live-1", "KOR", "JPN"), now).allowed
    released = time.monotonic()
    # the feed polls four times a second; the wait is bounded, and the latency is reported
    page.wait_for_selector("#feed li[data-item='kor-live-1']", timeout=5_000)
    latency = time.monotonic() - released
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "feed-latency.txt").write_text(f"{latency:.3f} s\n")
    entry = page.inner_text("#feed li[data-item='kor-live-1']")
    assert "極秘 (JPN) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA" in entry
    assert "rok-japan-gsomia" in entry
    assert len(page.query_selector_all("#feed li")) == before + 1
    shot(page, "feed")


# --- decisions on demand --------------------------------------------------------------------------


def _decided(page: Any) -> list[tuple[str | None, str, str]]:
    return [
        (
            r.get_attribute("data-code"),
            r.query_selector_all("td")[1].inner_text(),
            r.query_selector_all("td")[3].inner_text(),
        )
        for r in page.query_selector_all("#reasons tbody tr")
    ]


def test_decisions_on_demand_give_every_reason_as_accord_check_does(
    page: Any, world: World
) -> None:
    after = "2019-11-23T00:00:01+09:00"
    done = world.cli(
        "check",
        "release",
        "kor-missile-eve",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--via",
        "USA",
        "--at",
        after,
        "--json",
    )
    expected = json.loads(done.stdout)
    sign_in(page, world.base, "kor-analyst", world.admin)
    page.goto(f"{world.base}/console/decide")
    page.fill("#r-item", "kor-missile-eve")
    page.fill("#r-from", "KOR")
    page.fill("#r-to", "JPN")
    page.fill("#r-via", "USA")
    page.fill("#r-at", after)
    page.click("text=Decide the release")
    page.wait_for_selector("#answer")
    assert page.get_attribute("#answer", "data-decision") == expected["decision"] == "deny"
    assert _decided(page) == [(r["code"], r["rule"], r["message"]) for r in expected["reasons"]]
    shot(page, "decide")
    read = world.cli(
        "check", "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", LATER, "--json"
    )
    expected_read = json.loads(read.stdout)
    page.fill("#d-item", "kor-kn25-1031")
    page.fill("#d-user", "jpn-analyst")
    page.fill("#d-at", LATER)
    page.click("text=Decide the read")
    page.wait_for_selector("#answer")
    assert page.get_attribute("#answer", "data-decision") == expected_read["decision"] == "allow"
    assert _decided(page) == [
        (r["code"], r["rule"], r["message"]) for r in expected_read["reasons"]
    ]


def test_a_user_cannot_ask_about_what_they_may_not_see(page: Any, world: World) -> None:
    sign_in(page, world.base, "jpn-analyst", world.jpn)
    api = page.context.request
    at = LATER.replace("+", "%2B")
    hidden = api.get(
        f"{world.base}/console/decide?kind=release&item=kor-top-eve&from=KOR&to=JPN&at={at}"
    )
    missing = api.get(
        f"{world.base}/console/decide?kind=release&item=nothing&from=KOR&to=JPN&at={at}"
    )
    assert (hidden.status, hidden.body()) == (missing.status, missing.body())
    other = api.get(
        f"{world.base}/console/decide?kind=read&item=kor-kn25-1031&user=usa-analyst&at={at}"
    )
    assert (other.status, other.body()) == (missing.status, missing.body())


# --- launch events on a map -----------------------------------------------------------------------


def test_a_launch_event_is_drawn_from_its_coordinates_after_the_read(
    page: Any, tmp_path: Path
) -> None:
    from accord.api.app import create_app
    from accord.api.settings import ApiSettings
    from accord.cli.serve import with_console
    from accord.scenario.launch_file import read_launches
    from accord.service.console_map import point
    from accord.service.credentials import Credentials
    from accord.service.replay import Replayer
    from tests.test_launch_replay import NOW, SAMPLE, settings, world
    from tests.test_taxii_support import serving

    url, exchange = world(tmp_path)
    launches = read_launches(SAMPLE)
    Replayer(exchange).run(launches, settings(), lambda _: None)
    with_site = next(
        r.launch for r in launches.rows if r.launch.site.latitude is not None and r.launch.distance
    )
    item_id = next(
        i.id for i in exchange.snapshot().items.values() if i.created == with_site.detected
    )
    token = issue(exchange, "kor-analyst")
    credentials = Credentials(exchange)
    app = with_console(create_app(ApiSettings(url, at=NOW), exchange, credentials), credentials)
    try:
        with serving(app) as base:
            sign_in(page, base, "kor-analyst", token)
            page.goto(f"{base}/console/items/{item_id}")
            assert page.query_selector("#launch-map") is None  # sealed until read
            page.click("text=Read the content (logged)")
            page.wait_for_selector("#launch-map .launch-site")
            site = with_site.site
            assert site.latitude is not None and site.longitude is not None
            x, y = point(site.latitude, site.longitude)
            drawn = page.locator("#launch-map .launch-site")
            assert (
                float(drawn.get_attribute("cx") or 0),
                float(drawn.get_attribute("cy") or 0),
            ) == (x, y)
            assert page.query_selector("#launch-map ellipse") is not None  # the distance ring
            shot(page, "launch-map")
    finally:
        exchange.store.close()


def test_the_console_lives_beside_taxii_on_one_server(world: World) -> None:
    bare = requests.get(f"{world.base}/console", allow_redirects=False, timeout=30)
    assert (bare.status_code, bare.headers["location"]) == (308, "/console/")
    assert requests.get(f"{world.base}/taxii2/", timeout=30).status_code == 401  # TAXII as ever
    assert requests.get(f"{world.base}/console/static/network.js", timeout=30).status_code == 200


def test_a_wall_clock_time_is_read_in_the_chosen_zone(page: Any, lapse: World) -> None:
    sign_in(page, lapse.base, "jpn-analyst", lapse.jpn)
    page.wait_for_selector("body[data-drawn]")
    page.select_option("#zone", "Asia/Seoul")
    page.fill("#at", "2019-11-23 00:00")
    page.click("#instant-form button[type=submit]")
    page.wait_for_selector("#shown[data-at='2019-11-22T15:00:00Z']")
    row = page.locator("#states tr[data-agreement='rok-japan-gsomia']")
    assert row.get_attribute("data-edge") == "terminated"
    assert "(Asia/Seoul)" in page.inner_text("#shown")
    page.fill("#at", "the day after")
    page.click("#instant-form button[type=submit]")
    page.wait_for_selector("#shown:has-text('is not a date and time')")
