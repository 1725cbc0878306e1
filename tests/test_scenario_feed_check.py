"""``check: feed`` and ``check: route`` with ``evaluated``/``agreement`` in scenario files: what
they check, and each bad input refused naming the file, line, field and value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.errors import ScenarioInvalid
from accord.scenario import load_scenario, parse_scenario
from accord.service.scenarios import run_scenario
from tests.test_scenario_codec import BASE, BASE_LINES, assert_names

SCENARIOS = Path(__file__).parent / "scenarios"
FEED = "  - {at: 2019-11-01T00:00:00+09:00, check: feed, user: jpn-analyst, "
WINDOW = "from: 2019-10-31T00:00:00+09:00, to: 2019-11-01T00:00:00+09:00"


def refused(expectation: str) -> ScenarioInvalid:
    with pytest.raises(ScenarioInvalid) as caught:
        parse_scenario(BASE + "expect:\n" + expectation + "\n", "world.yaml")
    return caught.value


def test_a_feed_check_is_read_with_its_window_and_items() -> None:
    scenario = parse_scenario(
        BASE + "expect:\n" + FEED + WINDOW + ", items: [report-1]}\n", "world.yaml"
    )
    (check,) = scenario.expectations
    assert check.check == "feed" and check.request == "jpn-analyst"  # type: ignore[union-attr]
    assert check.items == ("report-1",)  # type: ignore[union-attr]
    assert check.window == (  # type: ignore[union-attr]
        datetime(2019, 10, 30, 15, tzinfo=UTC),
        datetime(2019, 10, 31, 15, tzinfo=UTC),
    )


def test_an_unknown_user_is_refused_naming_it() -> None:
    error = refused(FEED.replace("jpn-analyst", "nobody") + WINDOW + ", items: []}")
    assert_names(error, "world.yaml", BASE_LINES + 2, "user", "nobody")


def test_from_after_to_is_refused_naming_both() -> None:
    window = "from: 2019-11-02T00:00:00+09:00, to: 2019-11-01T00:00:00+09:00"
    error = refused(FEED + window + ", items: []}")
    assert_names(error, "world.yaml", BASE_LINES + 2, "to", "2019-11-01T00:00:00+09:00", "from")


def test_an_unknown_item_is_refused_naming_its_index() -> None:
    error = refused(FEED + WINDOW + ", items: [report-1, ghost]}")
    assert_names(error, "world.yaml", BASE_LINES + 2, "items[1]", "ghost")


@pytest.mark.parametrize("missing", ["from", "to", "items", "user"])
def test_a_missing_field_is_refused_naming_it(missing: str) -> None:
    fields = {"user": "jpn-analyst", "from": "2019-10-31T00:00:00+09:00"}
    fields |= {"to": "2019-11-01T00:00:00+09:00", "items": "[]"}
    del fields[missing]
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    error = refused(f"  - {{at: 2019-11-01T00:00:00+09:00, check: feed, {body}}}")
    assert error.line == BASE_LINES + 2
    assert missing in str(error)


def test_a_naive_window_is_refused() -> None:
    error = refused(FEED + "from: 2019-10-31T00:00:00, to: 2019-11-01T00:00:00+09:00, items: []}")
    assert error.line == BASE_LINES + 2 and "from" in str(error)


def test_a_route_check_naming_an_unknown_agreement_is_refused() -> None:
    check = (
        "  - {at: 2019-11-01T00:00:00+09:00, check: route, item: report-1, to: JPN,"
        " route: direct, agreement: no-such-pact}"
    )
    error = refused(check)
    assert_names(error, "world.yaml", BASE_LINES + 2, "agreement", "no-such-pact")


def test_a_wrong_feed_or_route_expectation_fails_with_what_was_found() -> None:
    path = SCENARIOS / "standing-rules-reevaluated.yaml"
    text = path.read_text(encoding="utf-8")
    wrong = text.replace("items: [early-warning, later-warning]", "items: [later-warning]")
    wrong = wrong.replace(
        "route: direct, evaluated: 2016-11-23T00:00:00+09:00, agreement: rok-japan-gsomia",
        "route: direct, evaluated: 2016-11-22T23:00:00+09:00, agreement: tisa",
    )
    result = run_scenario(parse_scenario(wrong, "wrong.yaml"))
    messages = [f.message for f in result.failures]
    assert len(messages) == 2, messages
    assert any(
        "[early-warning, later-warning]" in m and "expected [later-warning]" in m for m in messages
    )
    assert any(
        "evaluated 2016-11-23T00:00:00+09:00" in m and "agreement rok-japan-gsomia" in m
        for m in messages
    )
    assert run_scenario(load_scenario(path)).failed == 0
