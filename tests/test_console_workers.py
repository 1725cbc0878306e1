"""The console under a real ``accord serve --workers 2`` on a SQLite file: a session opened on
one connection is known on every fresh connection (whichever worker takes it), sign-out ends it
everywhere, and a session outlives a restart of the server because it is kept in the store.
Every request is bounded in time and the loops in count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from accord.service import Exchange, MasterKey
from accord.service.scenarios import apply_scenario
from tests.stores import BUILTIN
from tests.test_taxii_support import issue
from tests.test_workers import serving

REQUESTS = 12  # fresh connections per check
SECONDS = 30


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    from accord.scenario import load_scenario

    master = MasterKey.generate()
    key_file = tmp_path / "master.key"
    master.write(key_file)
    url = f"sqlite:///{tmp_path / 'exchange.db'}"
    exchange = Exchange.open(url, master=lambda: master)
    try:
        exchange.init_keys()
        apply_scenario(exchange, load_scenario(BUILTIN), strict=True)
        token = issue(exchange, "jpn-analyst")
    finally:
        exchange.store.close()
    yield url, key_file, token


def sign_in(base: str, token: str) -> str:
    """The session cookie of a sign-in as jpn-analyst (one connection, then closed)."""
    with requests.Session() as web:
        form = web.get(f"{base}/console/signin", timeout=SECONDS)
        found = re.search(r'name="nonce" value="([^"]+)"', form.text)
        assert found is not None
        data = {"nonce": found.group(1), "user": "jpn-analyst", "token": token}
        answer = web.post(
            f"{base}/console/signin", data=data, allow_redirects=False, timeout=SECONDS
        )
        assert answer.status_code == 303, answer.text
        return str(web.cookies["accord_console"])


def fresh(base: str, cookie: str, path: str = "/console/record") -> requests.Response:
    """One request on its own connection (no keep-alive: any worker may take it)."""
    return requests.get(
        base + path,
        cookies={"accord_console": cookie},
        headers={"Connection": "close"},
        allow_redirects=False,
        timeout=SECONDS,
    )


def test_every_worker_knows_a_session_and_sign_out_ends_it_everywhere(
    store: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, key_file, token = store
    with serving(url, key_file, tmp_path / "serve.log") as (base, _):
        cookie = sign_in(base, token)
        answers = [fresh(base, cookie) for _ in range(REQUESTS)]
        assert [a.status_code for a in answers] == [200] * REQUESTS
        assert all("The record for JPN" in a.text for a in answers)
        page = fresh(base, cookie, "/console/")
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert found is not None
        out = requests.post(
            f"{base}/console/signout",
            data={"csrf": found.group(1)},
            cookies={"accord_console": cookie},
            headers={"Connection": "close"},
            allow_redirects=False,
            timeout=SECONDS,
        )
        assert out.status_code == 303
        after = [fresh(base, cookie).status_code for _ in range(REQUESTS)]
        assert after == [303] * REQUESTS  # sent to sign in, by every worker


def test_a_session_outlives_a_restart_of_the_server(
    store: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, key_file, token = store
    with serving(url, key_file, tmp_path / "first.log") as (base, _):
        cookie = sign_in(base, token)
    with serving(url, key_file, tmp_path / "second.log") as (base, _):
        answer = fresh(base, cookie)
        assert answer.status_code == 200 and "The record for JPN" in answer.text
        assert fresh(base, cookie + "x").status_code == 303
