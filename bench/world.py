"""A deterministic benchmark world: three parties, four agreements, users, items and holdings.

``build(users, items, seed)`` always makes the same world for the same arguments. Parties, levels,
the ROK–Japan GSOMIA (Art. 4 table, the 2019 notice, suspension and 2023 withdrawal) and TISA
(USA as hub) follow the built-in scenario (src/accord/scenario/builtin/gsomia-2019.yaml). The US–ROK and US–Japan agreements are illustrative: their tables
follow the three parties' level names, their dates are approximate, and the 2021 amendment of
the US–Japan table is invented so that terms change over time.

Copies at other parties are made by real policy decisions (``decide_release``, with the
originator's consent where a hub or a third party needs it), applied to the world in time order,
so every holding carries the marking the policy gave it (R2). Acts on one item are made in time
order (decisions about an item depend only on its own history and on the agreements).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from accord.model.acts import Consent, Destruction, Release
from accord.model.agreement import (
    Agreement,
    AgreementEvent,
    Amendment,
    EquivalenceTable,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    TerminationNotice,
    Terms,
    TopicScope,
)
from accord.model.item import Item
from accord.model.party import Party
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import Duration, parse_instant
from accord.model.user import User
from accord.model.world import World
from accord.policy.acts import decide_consent
from accord.policy.facts import Facts
from accord.policy.reasons import Decision
from accord.policy.release import decide_release

KOR_LEVELS = ("군사III급비밀", "군사II급비밀", "군사I급비밀")
JPN_LEVELS = ("秘", "極秘", "機密")
USA_LEVELS = ("CONFIDENTIAL", "SECRET", "TOP SECRET")

# topic -> relative frequency among items
TOPICS: dict[str, int] = {
    "nk-missile": 30,
    "nk-nuclear": 14,
    "nk-cyber": 8,
    "nk-maritime": 8,
    "cn-maritime": 8,
    "cn-missile": 6,
    "ru-far-east": 6,
    "space": 4,
    "counter-terrorism": 4,
    "cyber": 6,
    "logistics": 3,
    "sigint-tech": 3,
}
PARTY_WEIGHTS = {"KOR": 4, "JPN": 3, "USA": 3}
LEVEL_WEIGHTS = (35, 45, 20)  # lowest first
CLEARANCE_WEIGHTS = (50, 35, 15)

FIRST_ITEM = datetime(2015, 1, 1, tzinfo=UTC)
LAST_ITEM = datetime(2024, 3, 1, tzinfo=UTC)
READ_AT = datetime(2024, 6, 1, tzinfo=UTC)
"""The instant read decisions are asked at: after every act in the world."""
RELEASE_WINDOW = (datetime(2015, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))
NOTICE_WINDOW = (datetime(2019, 8, 1, tzinfo=UTC), datetime(2019, 12, 31, tzinfo=UTC))

T = TypeVar("T")


def _t(text: str) -> datetime:
    return parse_instant(text, "bench")


def _d(text: str) -> Duration:
    return Duration.parse(text, "bench")


def parties() -> list[Party]:
    return [
        Party("KOR", "Republic of Korea", "Asia/Seoul", KOR_LEVELS),
        Party("JPN", "Japan", "Asia/Tokyo", JPN_LEVELS),
        Party("USA", "United States", "America/New_York", USA_LEVELS),
    ]


def agreements() -> list[Agreement]:
    gsomia = Agreement(
        "rok-japan-gsomia",
        _t("2016-11-23T00:00:00+09:00"),
        "Asia/Seoul",
        Terms(
            frozenset({"KOR", "JPN"}),
            EquivalenceTable(
                ({"KOR": "군사II급비밀", "JPN": "極秘"}, {"KOR": "군사III급비밀", "JPN": "秘"})
            ),
            TopicScope(None),
            _d("P1Y"),
            Renewal.AUTOMATIC,
            _d("P90D"),
        ),
        title="ROK–Japan GSOMIA",
    )
    tisa = Agreement(
        "tisa",
        _t("2014-12-29T00:00:00+09:00"),
        "Asia/Seoul",
        Terms(
            frozenset({"USA", "KOR", "JPN"}),
            EquivalenceTable(({"USA": "SECRET", "KOR": "군사II급비밀", "JPN": "極秘"},)),
            TopicScope(frozenset({"nk-missile", "nk-nuclear"})),
            None,
            Renewal.NONE,
            None,
        ),
        hub="USA",
        title="Trilateral Information Sharing Arrangement",
    )
    us_rok = Agreement(
        "us-rok-gsomia",
        _t("1987-09-24T00:00:00+09:00"),
        "Asia/Seoul",
        Terms(
            frozenset({"USA", "KOR"}),
            EquivalenceTable(
                (
                    {"USA": "TOP SECRET", "KOR": "군사I급비밀"},
                    {"USA": "SECRET", "KOR": "군사II급비밀"},
                    {"USA": "CONFIDENTIAL", "KOR": "군사III급비밀"},
                )
            ),
            TopicScope(None),
            None,
            Renewal.NONE,
            _d("P90D"),
        ),
        title="US–ROK security agreement (illustrative)",
    )
    us_japan = Agreement(
        "us-japan-gsomia",
        _t("2007-08-10T00:00:00+09:00"),
        "Asia/Tokyo",
        Terms(
            frozenset({"USA", "JPN"}),
            EquivalenceTable(
                ({"USA": "SECRET", "JPN": "極秘"}, {"USA": "CONFIDENTIAL", "JPN": "秘"})
            ),
            TopicScope(None),
            None,
            Renewal.NONE,
            _d("P90D"),
        ),
        title="US–Japan GSOMIA (illustrative)",
    )
    return [gsomia, tisa, us_rok, us_japan]


def agreement_events() -> list[AgreementEvent]:
    return [
        TerminationNotice(_t("2019-08-23T15:25:00+09:00"), "rok-japan-gsomia", "KOR"),
        NoticeSuspended(_t("2019-11-22T18:00:00+09:00"), "rok-japan-gsomia", "KOR"),
        # invented: the US–Japan table gains its top row
        Amendment(
            _t("2021-01-01T00:00:00+09:00"),
            "us-japan-gsomia",
            {
                "equivalence": EquivalenceTable(
                    (
                        {"USA": "TOP SECRET", "JPN": "機密"},
                        {"USA": "SECRET", "JPN": "極秘"},
                        {"USA": "CONFIDENTIAL", "JPN": "秘"},
                    )
                )
            },
        ),
        NoticeWithdrawn(_t("2023-03-21T10:00:00+09:00"), "rok-japan-gsomia", "KOR"),
    ]


@dataclass
class BenchWorld:
    """A built world and what the benchmark needs to sample from it."""

    world: World
    facts: Facts
    seed: int
    read_at: datetime
    user_ids: list[str]
    item_ids: list[str]
    held_by: dict[str, list[str]]  # party -> items it holds at ``read_at``
    holders: dict[str, list[str]]  # item -> parties that ever held it
    stats: dict[str, int] = field(default_factory=dict)


def _pick(rng: random.Random, weighted: dict[T, int]) -> T:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _uniform(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span))


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = World()
        self.facts = Facts(self.world)
        self.stats: Counter[str] = Counter()

    def setup(self) -> None:
        for topic in TOPICS:
            self.world.add_topic(topic)
        for party in parties():
            self.world.add_party(party)
        for agreement in agreements():
            self.world.add_agreement(agreement)
        for event in agreement_events():
            self.world.add_agreement_event(event)
            self.facts.timeline(event.agreement)  # checks the event now, in order

    def users(self, count: int) -> list[str]:
        rng, ids = self.rng, []
        names = list(TOPICS)
        for n in range(count):
            code = _pick(rng, PARTY_WEIGHTS)
            levels = self.world.parties[code].levels
            clearance = rng.choices(levels, weights=CLEARANCE_WEIGHTS)[0]
            need = frozenset(rng.sample(names, rng.randint(2, 6)))
            user = User(f"{code.lower()}-u{n:04d}", code, clearance, need)
            self.world.add_user(user)
            ids.append(user.id)
        return ids

    def _apply(self, decision: Decision, release: Release) -> bool:
        if not decision.allowed:
            self.stats["release-denied"] += 1
            return False
        for holding in decision.holdings:
            self.world.add_holding(holding)
        self.world.add_release(release)
        self.stats["release-allowed"] += 1
        return True

    def _release(self, item: Item, sender: str, to: str, at: datetime, via: str | None) -> bool:
        request = ReleaseRequest(item.id, sender, to, via)
        decision = decide_release(self.facts, request, at)
        agreement = decision.reasons[0].agreement if decision.allowed else None
        return self._apply(decision, Release(at, item.id, sender, to, via, agreement))

    def _consent(self, item: Item, holder: str, to: str, at: datetime) -> None:
        consent = Consent(at, item.id, item.originator, holder, frozenset({to}))
        if decide_consent(self.facts, consent).allowed:
            self.world.add_consent(consent)
            self.stats["consents"] += 1

    def item(self, n: int, created: datetime) -> Item:
        rng = self.rng
        originator = _pick(rng, PARTY_WEIGHTS)
        level = rng.choices(self.world.parties[originator].levels, weights=LEVEL_WEIGHTS)[0]
        topics: set[str] = set()
        for _ in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
            topics.add(_pick(rng, TOPICS))
        others = [p for p in PARTY_WEIGHTS if p != originator]
        roll = rng.random()
        releasable = (
            frozenset(others)
            if roll < 0.8
            else frozenset({rng.choice(others)})
            if roll < 0.92
            else frozenset()
        )
        item = Item(
            f"item-{n:05d}",
            originator,
            level,
            frozenset(topics),
            releasable,
            created,
            title=f"report {n}",
            content=f"content of report {n}",
        )
        self.world.add_item(item)
        return item

    def share(self, item: Item) -> None:
        """Release to each releasable-to party, through the hub if the direct route is closed."""
        rng, origin = self.rng, item.originator
        at = item.created + timedelta(minutes=rng.randint(60, 7 * 24 * 60))
        closed = [
            to
            for to in sorted(item.releasable_to)
            if rng.random() < 0.75 and not self._release(item, origin, to, at, None)
        ]
        for to in closed:
            if {origin, to} == {"KOR", "JPN"} and "USA" in item.releasable_to:
                later = at + timedelta(minutes=1)
                self._consent(item, "USA", to, later)
                self._release(item, origin, to, later, "USA")
        # now and then a holder that is not the originator passes the item on (R4)
        if rng.random() < 0.1:
            holders = [
                p
                for p in PARTY_WEIGHTS
                if p != origin and self.world.holding(item.id, p, at + timedelta(minutes=2))
            ]
            targets = [p for p in item.releasable_to if p not in holders]
            if holders and targets:
                holder, to = rng.choice(holders), rng.choice(targets)
                later = at + timedelta(hours=rng.randint(1, 48))
                self._consent(item, holder, to, later)
                self._release(item, holder, to, later, None)

    def destroy_some(self, item_ids: list[str], rate: float) -> None:
        rng = self.rng
        for item_id in item_ids:
            for party in PARTY_WEIGHTS:
                copies = self.world.holdings.get((item_id, party))
                if not copies or copies[-1].originator == party or rng.random() >= rate:
                    continue
                at = copies[-1].received_at + timedelta(days=rng.randint(30, 400))
                if at < READ_AT:
                    self.world.add_destruction(Destruction(at, item_id, party))
                    self.stats["destroyed"] += 1


def build(users: int = 1000, items: int = 10_000, seed: int = 2019) -> BenchWorld:
    """The same world for the same arguments."""
    builder = _Builder(seed)
    builder.setup()
    user_ids = builder.users(users)
    created = sorted(_uniform(builder.rng, FIRST_ITEM, LAST_ITEM) for _ in range(items))
    item_ids = []
    for n, at in enumerate(created):
        item = builder.item(n, at)
        builder.share(item)
        item_ids.append(item.id)
    builder.destroy_some(item_ids, 0.01)
    world = builder.world
    held_by: dict[str, list[str]] = {p: [] for p in world.parties}
    holders: dict[str, list[str]] = {i: [] for i in item_ids}
    for (item_id, party), copies in world.holdings.items():
        holders[item_id].append(party)
        if copies[-1].held_at(READ_AT):
            held_by[party].append(item_id)
    for ids in held_by.values():
        ids.sort()
    stats = dict(builder.stats)
    stats["holdings"] = sum(len(c) for c in world.holdings.values())
    for party, ids in held_by.items():
        stats[f"held-{party}"] = len(ids)
    return BenchWorld(
        world, builder.facts, seed, READ_AT, user_ids, item_ids, held_by, holders, stats
    )


def read_requests(bench: BenchWorld, count: int, seed: int) -> list[ReadRequest]:
    """Random (user, item) pairs: nine in ten an item the user's party holds, else any item."""
    rng = random.Random(seed)
    world, out = bench.world, []
    for _ in range(count):
        user = world.users[rng.choice(bench.user_ids)]
        pool = bench.held_by[user.party]
        item = rng.choice(pool) if pool and rng.random() < 0.9 else rng.choice(bench.item_ids)
        out.append(ReadRequest(user.id, item))
    return out


def release_requests(
    bench: BenchWorld, count: int, seed: int
) -> list[tuple[ReleaseRequest, datetime]]:
    """Random releases of random items: four in five at an instant after the item was made,
    one in five at any instant around the 2019 notice (so before some items exist).

    Senders are mostly parties that hold the item at some time, recipients mostly parties that
    never do; a quarter of KOR–JPN requests go through the USA hub.
    """
    rng = random.Random(seed)
    codes = sorted(bench.world.parties)
    out = []
    for _ in range(count):
        item_id = rng.choice(bench.item_ids)
        if rng.random() < 0.2:
            at = _uniform(rng, *NOTICE_WINDOW)
        else:
            at = _uniform(rng, bench.world.items[item_id].created, RELEASE_WINDOW[1])
        holders = bench.holders[item_id]
        sender = rng.choice(holders) if rng.random() < 0.85 else rng.choice(codes)
        others = [c for c in codes if c != sender]
        lacking = [c for c in others if c not in holders]
        recipient = rng.choice(lacking if lacking and rng.random() < 0.75 else others)
        via = None
        if {sender, recipient} == {"KOR", "JPN"} and rng.random() < 0.25:
            via = "USA"
        out.append((ReleaseRequest(item_id, sender, recipient, via), at))
    return out
