"""A scenario's definitions (topics, parties, agreements, users, items) as model objects.

Each definition is built, then added to a dry-run ``World`` so that the model's own checks
(order-preserving equivalence tables, hubs that are parties, ...) apply exactly as they will
when the scenario is loaded into an exchange. Any failure names the entry's line.

Read against a store's world (``accord load``), the dry run starts from the store's definitions:
references may name them, and a definition under a stored id must equal the stored one
(``accord.scenario.stored``); it is then kept aside as known instead of being added again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from accord.model.agreement import Agreement, Renewal, Terms
from accord.model.item import Item
from accord.model.matters import Matter
from accord.model.party import Party
from accord.model.rules import StandingConsent, StandingRule
from accord.model.time import zone
from accord.model.user import User
from accord.model.world import World
from accord.scenario.articles import deadlines, retention
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.source import show
from accord.scenario.standing import standing_consent, standing_rule
from accord.scenario.stored import check_same, dry_run_world

T = TypeVar("T")


class Definitions:
    """Builds the definitions of one document, in dependency order."""

    def __init__(self, root: Entry, stored: World | None = None) -> None:
        self.root = root
        self.stored = stored
        self.world = World() if stored is None else dry_run_world(stored)
        self.references = References(self.world)
        self.line_of: dict[str, int] = {}
        self.known: dict[str, list[Any]] = defaultdict(list)  # by kind: what the store holds

    def topics(self) -> tuple[str, ...]:
        names = self.root.texts("topics")
        added: list[str] = []
        for index, name in enumerate(names):
            if self.stored is not None and name in self.stored.topics:
                self.known["topic"].append(name)
                continue
            with self.root.located("topics"):
                self.world.add_topic(name)
            added.append(name)
            line = self.root.source.line(("topics", index))
            if line is not None:
                self.line_of[f"topic:{name}"] = line
        return tuple(added)

    def parties(self) -> tuple[Party, ...]:
        stored = self.stored.parties if self.stored is not None else None
        return self._define("parties", "party", "code", self._party, self.world.add_party, stored)

    def agreements(self) -> tuple[Agreement, ...]:
        # what the model checks on adding an agreement beyond our own checks is its table
        return self._define(
            "agreements",
            "agreement",
            "id",
            self._agreement,
            self.world.add_agreement,
            self.stored.agreements if self.stored is not None else None,
            "equivalence",
        )

    def matters(self) -> tuple[Matter, ...]:
        """Matters outside the agreements, for conditions of notes (R15)."""
        stored = self.stored.matters if self.stored is not None else None
        return self._define("matters", "matter", "id", self._matter, self.world.add_matter, stored)

    def users(self) -> tuple[User, ...]:
        stored = self.stored.users if self.stored is not None else None
        return self._define("users", "user", "id", self._user, self.world.add_user, stored)

    def standing_rules(self) -> tuple[StandingRule, ...]:
        stored = self.stored.standing_rules if self.stored is not None else None
        build = partial(standing_rule, refs=self.references)
        add = self.world.add_standing_rule
        return self._define("standing_rules", "standing rule", "id", build, add, stored)

    def standing_consents(self) -> tuple[StandingConsent, ...]:
        stored = self.stored.standing_consents if self.stored is not None else None
        build = partial(standing_consent, refs=self.references)
        add = self.world.add_standing_consent
        return self._define("standing_consents", "standing consent", "id", build, add, stored)

    def items(self) -> tuple[Item, ...]:
        stored = self.stored.items if self.stored is not None else None
        return self._define("items", "item", "id", self._item, self.world.add_item, stored)

    # --- one definition -------------------------------------------------------------------------

    def _define(
        self,
        section: str,
        kind: str,
        id_field: str,
        build: Callable[[Entry], T],
        add: Callable[[T], None],
        stored: Mapping[str, T] | None,
        checked_field: str | None = None,
    ) -> tuple[T, ...]:
        """The new definitions of ``section``; those the store holds go to ``known``."""
        built: list[T] = []
        for entry in self.root.children(section):
            name = entry.text(id_field)
            self._claim(entry, kind, name, id_field)
            value = build(entry)
            held = stored.get(name) if stored is not None else None
            if held is not None:
                check_same(entry, kind, value, held)
                self.known[kind].append(value)
                continue
            with entry.located(checked_field):
                add(value)
            built.append(value)
        return tuple(built)

    def _claim(self, entry: Entry, kind: str, name: str, id_field: str) -> None:
        """Refuse a second definition of the same id."""
        key = f"{kind}:{name}"
        first = self.line_of.get(key)
        if first is not None:
            raise entry.fail(
                f"{entry.where(id_field)}: duplicate {kind} id {show(name)}"
                f" (already defined at line {first})",
                id_field,
            )
        line = entry.line
        if line is not None:
            self.line_of[key] = line

    def _party(self, entry: Entry) -> Party:
        timezone = entry.text("timezone")
        with entry.located("timezone"):
            zone(timezone, entry.where("timezone"))
        with entry.located():
            return Party(entry.text("code"), entry.text("name"), timezone, entry.texts("levels"))

    def _agreement(self, entry: Entry) -> Agreement:
        refs = self.references
        term = entry.duration("term")
        renewal = entry.data.get("renewal") or ("automatic" if term is not None else "none")
        terms = Terms(
            parties=refs.party_codes(entry, "parties"),
            equivalence=refs.equivalence(entry, "equivalence"),
            topics=refs.topic_scope(entry, "topics"),
            term=term,
            renewal=Renewal(renewal),
            notice_period=entry.duration("notice_period"),
        )
        hub = refs.optional_party(entry, "hub")
        timezone = entry.text("timezone")
        with entry.located("timezone"):
            zone(timezone, entry.where("timezone"))
        with entry.located("hub" if hub is not None else None):
            return Agreement(
                id=entry.text("id"),
                in_force_from=entry.instant("in_force_from"),
                timezone=timezone,
                terms=terms,
                hub=hub.code if hub is not None else None,
                title=entry.text("title"),
                deadlines=deadlines(entry),
            )

    def _matter(self, entry: Entry) -> Matter:
        with entry.located("initial"):
            return Matter(entry.text("id"), entry.texts("states"), entry.text("initial"))

    def _user(self, entry: Entry) -> User:
        party = self.references.party(entry, "party")
        return User(
            id=entry.text("id"),
            party=party.code,
            clearance=self.references.level(entry, "clearance", party),
            need_to_know=self.references.topics(entry, "need_to_know"),
        )

    def _item(self, entry: Entry) -> Item:
        originator = self.references.party(entry, "originator")
        stix = entry.data.get("stix")
        purpose, retain_until = retention(entry, entry.instant("created"))
        return Item(
            id=entry.text("id"),
            originator=originator.code,
            level=self.references.level(entry, "level", originator),
            topics=self.references.topics(entry, "topics"),
            releasable_to=self.references.party_codes(entry, "releasable_to"),
            created=entry.instant("created"),
            title=entry.text("title"),
            content=entry.text("content"),
            stix=dict(stix) if stix is not None else None,
            purpose=purpose,
            retain_until=retain_until,
        )
