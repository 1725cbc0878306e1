"""A scenario read against a store's world (what `accord load` does), in process: every field of
every kind of definition is compared, written differently it is still the same, and a recorded
act is recognised."""

from __future__ import annotations

import pytest

from accord.errors import DefinitionConflict
from accord.model.acts import Release
from accord.model.agreement import TerminationNotice
from accord.model.world import World
from accord.scenario import Scenario, parse_scenario
from tests.test_cli_load import BASE

TITLED = BASE.replace("    timezone: Asia/Seoul\n", "    timezone: Asia/Seoul\n    title: GSOMIA\n")


def stored_world(scenario: Scenario) -> World:
    """The world a store holds after loading ``scenario`` (definitions and allowed acts)."""
    world = World()
    for topic in scenario.topics:
        world.add_topic(topic)
    for party in scenario.parties:
        world.add_party(party)
    for agreement in scenario.agreements:
        world.add_agreement(agreement)
    for user in scenario.users:
        world.add_user(user)
    for item in scenario.items:
        world.add_item(item)
    for event in scenario.events:
        act = event.act
        if isinstance(act, Release):
            world.add_release(act)
        else:
            assert isinstance(act, TerminationNotice)
            world.add_agreement_event(act)
    return world


@pytest.fixture(scope="module")
def stored() -> World:
    return stored_world(parse_scenario(TITLED, "base.yaml"))


CHANGES = [
    ("name: Japan", "name: Nippon", "parties[1].name"),
    ("timezone: Asia/Tokyo", "timezone: Asia/Seoul", "parties[1].timezone"),
    ("levels: [III, II, I]", "levels: [III, II, I, Zero]", "parties[0].levels"),
    ("in_force_from: 2016-11-23T00:00:00+09:00", "in_force_from: 2016-11-23T00:00:01+09:00",
     "agreements[0].in_force_from"),
    ("    timezone: Asia/Seoul\n", "    timezone: Asia/Tokyo\n", "agreements[0].timezone"),
    ("term: P1Y", "term: P2Y", "agreements[0].term"),
    ("term: P1Y", "term: P1Y\n    renewal: none", "agreements[0].renewal"),
    ("notice_period: P90D", "notice_period: P91D", "agreements[0].notice_period"),
    ("topics: all", "topics: [nk-missile]", "agreements[0].topics"),
    ("{KOR: III, JPN: 秘}", "{KOR: I, JPN: 機密}", "agreements[0].equivalence"),
    ("title: GSOMIA", "title: GSOMIA 2016", "agreements[0].title"),
    ("clearance: 極秘", "clearance: 秘", "users[0].clearance"),
    ("need_to_know: [nk-missile]", "need_to_know: [nk-missile, cyber]", "users[0].need_to_know"),
    ("level: II,", "level: I,", "items[0].level"),
    ("topics: [nk-missile], releasable_to", "topics: [cyber], releasable_to", "items[0].topics"),
    ("releasable_to: [JPN]", "releasable_to: []", "items[0].releasable_to"),
    ("created: 2019-10-31T17:00:00+09:00", "created: 2019-10-31T17:00:00+08:00", "items[0].created"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "field"), CHANGES, ids=[c[2] for c in CHANGES])
def test_every_field_that_differs_is_named(stored: World, old: str, new: str, field: str) -> None:
    assert old in TITLED
    with pytest.raises(DefinitionConflict) as caught:
        parse_scenario(TITLED.replace(old, new, 1), "other.yaml", stored)
    error = caught.value
    assert error.field == field, error.message
    assert error.message.startswith(f"other.yaml:{error.line}: {field}: ")
    assert "is already in the store with" in error.message and "this file gives" in error.message


def test_instants_in_a_conflict_are_shown_in_the_files_offset(stored: World) -> None:
    text = TITLED.replace("created: 2019-10-31T17:00:00+09:00", "created: 2019-10-31T17:00:00Z")
    with pytest.raises(DefinitionConflict) as caught:
        parse_scenario(text, "other.yaml", stored)
    assert caught.value.detail.endswith(
        "with created 2019-10-31T08:00:00+00:00; this file gives 2019-10-31T17:00:00+00:00"
    )


def test_the_same_definitions_written_otherwise_are_known_not_new(stored: World) -> None:
    text = (
        TITLED.replace("term: P1Y", "term: P12M\n    renewal: automatic")
        .replace("2016-11-23T00:00:00+09:00", "2016-11-22T10:00:00-05:00")
        .replace("      - {KOR: II, JPN: 極秘}\n      - {KOR: III, JPN: 秘}\n",
                 "      - {JPN: 秘, KOR: III}\n      - {JPN: 極秘, KOR: II}\n")
    )  # fmt: skip
    scenario = parse_scenario(text, "same.yaml", stored)
    assert (scenario.topics, scenario.parties, scenario.agreements) == ((), (), ())
    assert (scenario.users, scenario.items, scenario.events) == ((), (), ())
    known = scenario.known
    assert [p.code for p in known.parties] == ["KOR", "JPN"]
    assert [a.id for a in known.agreements] == ["gsomia"]
    assert known.events == 2 and set(known.topics) == {"nk-missile", "cyber"}


def test_an_event_at_another_instant_is_new(stored: World) -> None:
    text = TITLED.replace("2019-11-01T09:00:00+09:00", "2019-11-01T09:00:01+09:00")
    scenario = parse_scenario(text, "later.yaml", stored)
    assert scenario.known.events == 1
    assert [e.act.at.isoformat() for e in scenario.events] == ["2019-11-01T00:00:01+00:00"]


def test_reading_against_a_store_leaves_its_world_unchanged(stored: World) -> None:
    users, agreements_of = dict(stored.users), {k: set(v) for k, v in stored.agreements_of.items()}
    text = (
        "parties:\n  - {code: USA, name: United States, timezone: America/New_York,"
        " levels: [C, S]}\n"
        "agreements:\n  - {id: us-jpn, parties: [USA, JPN], in_force_from: 2020-01-01T00:00:00Z,"
        " timezone: UTC, topics: all, equivalence: [{USA: S, JPN: 極秘}]}\n"
        "users:\n  - {id: jpn-second, party: JPN, clearance: 秘, need_to_know: [cyber]}\n"
    )
    scenario = parse_scenario(text, "more.yaml", stored)
    assert [u.id for u in scenario.users] == ["jpn-second"]
    assert stored.users == users and "USA" not in stored.parties
    assert {k: set(v) for k, v in stored.agreements_of.items()} == agreements_of
