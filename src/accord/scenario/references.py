"""Resolving a scenario's references (parties, levels, topics, items, users, agreements).

Every name a scenario uses must be defined in it. Lookups go through the dry-run ``World``
the definitions were added to, and a miss names the field, the value, its line and what is
known instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from accord.model.agreement import Agreement, EquivalenceTable, TopicScope
from accord.model.item import Item
from accord.model.matters import Matter
from accord.model.party import Party
from accord.model.user import User
from accord.model.world import World
from accord.scenario.entry import Entry
from accord.scenario.source import show

ALL_TOPICS = "all"
T = TypeVar("T")


def _named(entry: Entry, key: str, table: Mapping[str, T], kind: str) -> T:
    """The ``kind`` that ``entry[key]`` names; an unknown name fails at the entry's line."""
    name = entry.text(key)
    found = table.get(name)
    if found is None:
        raise entry.fail(
            f"{entry.where(key)}: unknown {kind} {show(name)} ({kind}s: {_known(table)})", key
        )
    return found


def _known(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none defined"


@dataclass(frozen=True, slots=True)
class References:
    world: World

    def party(self, entry: Entry, key: str) -> Party:
        """The party whose code is the value of ``key``."""
        return self._party_named(entry.text(key), entry, key, entry.where(key))

    def _party_named(self, code: str, entry: Entry, key: str, where: str) -> Party:
        party = self.world.parties.get(code)
        if party is None:
            raise entry.fail(
                f"{where}: unknown party {show(code)} (parties: {_known(self.world.parties)})",
                key,
            )
        return party

    def optional_party(self, entry: Entry, key: str) -> Party | None:
        return self.party(entry, key) if entry.data.get(key) is not None else None

    def party_codes(self, entry: Entry, key: str) -> frozenset[str]:
        codes = entry.texts(key)
        for index, code in enumerate(codes):
            if code not in self.world.parties:
                raise entry.source.fail(
                    f"{entry.where(key)}[{index}]: unknown party {show(code)}"
                    f" (parties: {_known(self.world.parties)})",
                    (*entry.path, key, index),
                )
        return frozenset(codes)

    def level(self, entry: Entry, key: str, party: Party) -> str:
        level = entry.text(key)
        if not party.has_level(level):
            raise entry.fail(
                f"{entry.where(key)}: {party.code} has no level {show(level)}"
                f" (its levels, lowest first: {', '.join(party.levels)})",
                key,
            )
        return level

    def topics(self, entry: Entry, key: str) -> frozenset[str]:
        names = entry.texts(key)
        for index, name in enumerate(names):
            if name not in self.world.topics:
                raise entry.source.fail(
                    f"{entry.where(key)}[{index}]: unknown topic {show(name)}"
                    f" (declared topics: {_known(self.world.topics)})",
                    (*entry.path, key, index),
                )
        return frozenset(names)

    def topic_scope(self, entry: Entry, key: str) -> TopicScope:
        if entry.data.get(key) == ALL_TOPICS:
            return TopicScope(None)
        return TopicScope(self.topics(entry, key))

    def equivalence(self, entry: Entry, key: str) -> EquivalenceTable:
        """Rows of equal levels; every party and level must exist (membership and order are
        checked against the agreement by the model)."""
        rows: list[dict[str, str]] = []
        for row in entry.children(key):
            for code in row.data:
                self.level(row, code, self._party_named(code, row, code, row.where()))
            rows.append({str(code): str(level) for code, level in row.data.items()})
        with entry.located(key):
            return EquivalenceTable(tuple(rows))

    def item(self, entry: Entry, key: str = "item") -> Item:
        return _named(entry, key, self.world.items, "item")

    def user(self, entry: Entry, key: str = "user") -> User:
        return _named(entry, key, self.world.users, "user")

    def agreement(self, entry: Entry, key: str = "agreement") -> Agreement:
        return _named(entry, key, self.world.agreements, "agreement")

    def matter(self, entry: Entry, key: str = "matter") -> Matter:
        return _named(entry, key, self.world.matters, "matter")

    def matter_state(self, entry: Entry, key: str, matter: Matter) -> str:
        """A state ``matter`` defines; any other fails at the entry's line."""
        state = entry.text(key)
        if state not in matter.states:
            raise entry.fail(
                f"{entry.where(key)}: matter {matter.id} has no state {show(state)}"
                f" (its states: {', '.join(matter.states)})",
                key,
            )
        return state
