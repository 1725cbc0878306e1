"""Art. 6(g), 6(h), 17 through the exchange, the store, the CLI and the admin API: a re-marked
copy's key is rewrapped bound to its new marking, the acts are in the audit log, bad input is
refused naming file, line, field and value, and nothing is changed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from accord.crypto import MasterKey, WrappedKey, unwrap
from accord.errors import IntegrityError, InvalidInput, ScenarioInvalid, UnknownReference
from accord.model.classification import MarkingFlag, Reclassification
from accord.model.investigation import InvestigationConcluded, InvestigationResult
from accord.model.requests import ReadRequest
from accord.model.user import User
from accord.scenario import load_scenario
from accord.service import Exchange
from accord.service.scenarios import apply_scenario
from accord.service.vault import copy_aad
from accord.store.sql import SqlStore
from tests.test_cli import accord, new_db
from tests.worlds import US, T

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
INVALID = SCENARIOS / "invalid" / "articles"
CHANGE = T("2019-11-15T10:00:00+09:00")


def exchange_with(name: str, url: str = "sqlite://", master: MasterKey | None = None) -> Exchange:
    exchange = Exchange(SqlStore(url), master=(lambda: master) if master else None)
    if master is not None:
        exchange.init_keys()
    apply_scenario(exchange, load_scenario(SCENARIOS / name), strict=True)
    return exchange


def stored_key(exchange: Exchange, item: str, party: str) -> tuple[int, bytes]:
    with exchange.store.transaction() as tx:
        found = tx.wrapped_key(item, party)
    assert found is not None
    return found


# --- the rewrap ---------------------------------------------------------------------------------


def test_a_re_marked_copy_opens_only_with_its_new_marking() -> None:
    exchange = exchange_with("reclassify-downgrade.yaml")  # 군사III급비밀 = 秘 from CHANGE
    up = T("2019-11-25T00:00:00+09:00")
    assert exchange.reclassify(Reclassification(up, "report-1", "KOR", "군사I급비밀")).allowed
    world = exchange.snapshot()
    received = world.holding("report-1", "JPN", up)
    assert received is not None and received.level == "極秘"  # the row as received
    before = exchange.marking("report-1", "JPN", up - US)
    assert before is not None and before.holding.level == "秘" and before.flag is None
    marked = exchange.marking("report-1", "JPN", up)
    assert marked is not None and marked.flag is MarkingFlag.NOT_COVERED
    new = marked.holding
    assert (new.level, new.originator_level) == ("機密", "군사I급비밀")
    version, blob = stored_key(exchange, "report-1", "JPN")
    with exchange.store.transaction() as tx:
        keyring = exchange.vault.keyring(tx, tx.revision())
    keys = keyring.get("JPN", version)
    data_key = unwrap(keys, WrappedKey(version, blob), copy_aad(new), what="test")
    assert len(data_key) == 32
    for old in (received, before.holding):
        with pytest.raises(IntegrityError):
            unwrap(keys, WrappedKey(version, blob), copy_aad(old), what="test")
    # the originator's own copy is re-marked and rewrapped too
    own = world.holding("report-1", "KOR", up)
    assert own is not None
    kv, kb = stored_key(exchange, "report-1", "KOR")
    with pytest.raises(IntegrityError):
        unwrap(keyring.get("KOR", kv), WrappedKey(kv, kb), copy_aad(own), what="test")


def test_reads_decrypt_after_the_change_and_after_a_restart(tmp_path: Path) -> None:
    master = MasterKey.generate()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    exchange = exchange_with("reclassify-downgrade.yaml", url, master)
    after = T("2019-11-20T00:00:00+09:00")
    result = exchange.read(ReadRequest("jpn-junior", "report-1"), after)
    assert result.decision.allowed and result.item is not None and result.item.id == "report-1"
    exchange.store.close()
    again = Exchange(SqlStore(url), master=lambda: master)
    reopened = again.read(ReadRequest("jpn-junior", "report-1"), after)
    assert reopened.item is not None
    assert again.read(ReadRequest("jpn-junior", "report-1"), CHANGE - US).item is None
    assert again.rotate_keys("JPN") == (2, 1)  # rewrapped under the re-marked binding
    assert again.read(ReadRequest("jpn-junior", "report-1"), after).item is not None
    report = again.audit_verify()
    assert report.entries > 0
    again.store.close()


def test_the_reclassification_and_each_new_marking_are_in_the_log(tmp_path: Path) -> None:
    master = MasterKey.generate()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    exchange = exchange_with("reclassify-not-covered.yaml", url, master)
    exchange.audit_verify()
    exchange.store.close()
    with sqlite3.connect(tmp_path / "x.db") as conn:
        leaves = [bytes(r[0]) for r in conn.execute("select leaf from audit_entries order by seq")]
    entries = [json.loads(leaf[leaf.index(b"{") :]) for leaf in leaves]
    (entry,) = [e for e in entries if e.get("kind") == "reclassify"]
    text = json.dumps(entry, ensure_ascii=False)
    assert "not-covered" in text and "機密" in text and "wrapped_keys" in text


# --- bad input changes nothing ------------------------------------------------------------------

INVALID_ARTICLES = {
    "reclassify-not-originator.yaml": (
        21,
        ["events[1].by", "'JPN'", "not the originator of report-1", "KOR is"],
    ),
    "reclassify-unknown-level.yaml": (20, ["events[0].level", "KOR has no level", "'極秘'"]),
    "conclude-never-opened.yaml": (
        21,
        ["events[1].type", "investigation_concluded", "no investigation was opened"],
    ),
    "retain-before-created.yaml": (
        18,
        ["items[0].retain_until", "'2019-10-31T16:59:59+09:00'", "before the item is created"],
    ),
}


@pytest.mark.parametrize("name", sorted(INVALID_ARTICLES))
def test_bad_article_input_names_file_line_field_and_value(name: str) -> None:
    line, values = INVALID_ARTICLES[name]
    path = INVALID / name
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path)
    error = caught.value
    assert error.file == str(path) and error.line == line
    assert str(error).startswith(f"{path}:{line}: ")
    for value in values:
        assert value in str(error), (value, str(error))


def test_every_invalid_article_fixture_is_listed() -> None:
    assert {p.name for p in INVALID.glob("*.yaml")} == set(INVALID_ARTICLES)


@pytest.mark.parametrize("name", sorted(INVALID_ARTICLES))
def test_loading_bad_article_input_changes_nothing(tmp_path: Path, name: str) -> None:
    db = new_db(tmp_path / "x.db")
    before = _rows(db)
    result = accord("load", str(INVALID / name), db=db)
    assert result.returncode == 2 and f"{name}:{INVALID_ARTICLES[name][0]}:" in result.stderr
    assert _rows(db) == before


def _rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in names}


def test_the_service_refuses_a_non_originator_and_keeps_the_keys() -> None:
    exchange = exchange_with("reclassify-downgrade.yaml")
    before = stored_key(exchange, "report-1", "JPN")
    later = T("2019-11-20T00:00:00+09:00")
    decision = exchange.reclassify(Reclassification(later, "report-1", "JPN", "秘"))
    assert not decision.allowed and decision.codes == ("not-originator",)
    assert stored_key(exchange, "report-1", "JPN") == before
    assert len(exchange.snapshot().reclassifications["report-1"]) == 1
    with pytest.raises(UnknownReference, match="KOR has no level"):
        exchange.reclassify(Reclassification(later, "report-1", "KOR", "秘"))
    assert stored_key(exchange, "report-1", "JPN") == before


def test_the_service_refuses_an_investigation_never_opened() -> None:
    exchange = exchange_with("reclassify-downgrade.yaml")
    event = InvestigationConcluded(
        T("2019-11-20T00:00:00+09:00"), "report-1", "JPN", InvestigationResult.UNDETERMINED, "-"
    )
    with pytest.raises(UnknownReference, match="no investigation was opened"):
        exchange.record_investigation(event)
    assert exchange.snapshot().investigation_events == {}
    with pytest.raises(InvalidInput):
        exchange.investigation("nope", "JPN", CHANGE)


# --- the CLI and the admin API ------------------------------------------------------------------


def test_accord_duties_lists_what_a_party_owes(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    assert accord("load", str(SCENARIOS / "investigation-late.yaml"), db=db).returncode == 0
    at = "2019-12-08T00:00:00+09:00"
    result = accord("duties", "JPN", "--at", at, "--json", db=db)
    assert result.returncode == 0, result.stderr
    owed = json.loads(result.stdout)["duties"]
    kinds = {(d["kind"], d["state"], d["late"]) for d in owed}
    assert ("report-compromise", "done", True) in kinds
    assert ("conclude-investigation", "late", True) in kinds
    assert ("termination-notice", "pending", False) in kinds
    table = accord("duties", "JPN", "--at", at, db=db)
    assert "conclude-investigation" in table.stdout and "Art. 17" in table.stdout
    shown = accord("investigation", "show", "report-1", "--party", "JPN", "--at", at, db=db)
    assert "state: under-investigation" in shown.stdout
    done = accord(
        "investigation", "conclude", "report-1", "--party", "JPN", "--result", "undetermined",
        "--measures", "again", "--at", "2019-12-12T00:00:00+09:00", db=db,
    )  # fmt: skip
    assert done.returncode == 1 and "investigation-concluded" in done.stdout
    unknown = accord("duties", "XXX", "--at", at, db=db)
    assert unknown.returncode == 2 and "unknown party 'XXX'" in unknown.stderr


def test_cli_reclassify_and_hold(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    assert accord("load", str(SCENARIOS / "reclassify-downgrade.yaml"), db=db).returncode == 0
    at = "2019-11-25T00:00:00+09:00"
    up = accord(
        "reclassify", "report-1", "--by", "KOR", "--level", "군사I급비밀", "--at", at, db=db
    )
    assert up.returncode == 0, up.stderr
    shown = accord("marking", "report-1", "--party", "JPN", "--at", at, "--json", db=db)
    assert json.loads(shown.stdout)["flag"] == "not-covered"
    wrong = accord("reclassify", "report-1", "--by", "JPN", "--level", "秘", "--at", at, db=db)
    assert wrong.returncode == 1 and "not-originator" in wrong.stdout
    hold = accord("release-hold", "place", "--by", "KOR", "--holder", "USA", "--at", at, db=db)
    assert hold.returncode == 0, hold.stderr
    check = accord(
        "check", "release", "report-1", "--from", "KOR", "--to", "USA", "--at", at, "--json",
        db=db,
    )  # fmt: skip
    assert "release-held" in check.stdout


def test_admin_api_lists_duties(tmp_path: Path) -> None:
    from accord.api import ApiSettings, create_app
    from tests.test_taxii_support import LATER, Clock, TestClient, issue, scenario_exchange

    url, exchange = scenario_exchange(
        tmp_path, Clock(LATER), scenario=SCENARIOS / "investigation-late.yaml"
    )
    api = TestClient(create_app(ApiSettings(url), exchange))
    exchange.add_user(User("kor-admin", "KOR", "군사II급비밀", frozenset()))
    h = {"Authorization": f"Bearer {issue(exchange, 'kor-admin', admin=True)}"}
    r = api.get("/admin/duties/JPN?at=2019-12-08T00:00:00%2B09:00", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["party"] == "JPN" and body["at"] == "2019-12-07T15:00:00Z"
    states = {(d["kind"], d["state"]) for d in body["duties"]}
    assert ("conclude-investigation", "late") in states
    assert api.get("/admin/duties/XXX", headers=h).status_code == 404
    assert api.get("/admin/duties/JPN").status_code == 401
    doc = api.get("/openapi.json").json()
    assert "/admin/duties/{party}" in doc["paths"]


def test_an_items_retention_is_kept_and_owed_by_its_recipients(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    assert accord("load", str(SCENARIOS / "release-hold.yaml"), db=db).returncode == 0
    add = ["item", "add", "r-9", "--originator", "KOR", "--level", "군사II급비밀", "--topics"]
    add += ["nk-missile", "--releasable-to", "JPN", "--created", "2019-11-22T00:00:00+09:00"]
    before = _rows(db)
    early = accord(*add, "--retain-until", "2019-11-21T23:59:59.999999+09:00", db=db)
    assert (
        early.returncode == 2
        and "retain_until" in early.stderr
        and "before created" in early.stderr
    )
    assert _rows(db) == before
    until = "2019-12-31T00:00:00+09:00"
    assert accord(*add, "--purpose", "exercise", "--retain-until", until, db=db).returncode == 0
    sent = accord(
        "release", "r-9", "--from", "KOR", "--to", "JPN", "--at", "2019-11-22T01:00:00+09:00", db=db
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    owed = json.loads(accord("duties", "JPN", "--at", until, "--json", db=db).stdout)["duties"]
    (duty,) = [d for d in owed if d["kind"] == "destroy"]
    assert (duty["due"], duty["state"], duty["article"]) == (
        "2019-12-30T15:00:00Z",
        "pending",
        "Art. 6(h)",
    )
