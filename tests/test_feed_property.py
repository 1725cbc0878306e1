"""A property of whole feeds: random creations, consents, releases (direct, through the hub,
onward from the hub) and destructions, with each user's consumer subscribing, reading pages
and reconnecting from its last cursor at random points. Every user's delivered sequence must
equal, in order, what the oracle below computes from the acts' outcomes: it decides reads by
itself (rank of the user's clearance in their party's scheme against the copy's level, and
need-to-know), and keeps its own record of open copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import AccordError
from accord.model.acts import Consent, Destruction
from accord.model.item import Item
from accord.model.requests import ReleaseRequest
from accord.model.world import World
from accord.policy.reasons import Decision
from accord.service import Exchange
from accord.service.feed import FeedService
from tests.feeds import LATE, START, USERS, bare_exchange, service

PARTIES = ("KOR", "JPN", "USA")
TOPICS = ("nk-missile", "nk-nuclear", "cyber")


@dataclass
class Oracle:
    world: World
    copies: dict[tuple[str, str], str] = field(default_factory=dict)  # live copy -> its level
    topics: dict[str, frozenset[str]] = field(default_factory=dict)
    originator: dict[str, str] = field(default_factory=dict)
    open: set[tuple[str, str]] = field(default_factory=set)
    events: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def users(self, party: str) -> list[str]:
        return sorted(u.id for u in self.world.users.values() if u.party == party)

    def readable(self, user: str, item: str) -> bool:
        u = self.world.users[user]
        level = self.copies.get((item, u.party))
        if level is None:
            return False
        scheme = list(self.world.parties[u.party].levels)
        return scheme.index(u.clearance) >= scheme.index(level) and (
            self.topics[item] <= u.need_to_know
        )

    def emit(self, user: str, kind: str, item: str) -> None:
        self.events.setdefault(user, []).append((kind, item))
        if kind == "available":
            self.open.add((user, item))
        elif kind == "destroyed":
            self.open.discard((user, item))

    def created(self, it: Item) -> None:
        self.copies[(it.id, it.originator)] = it.level
        self.topics[it.id] = it.topics
        self.originator[it.id] = it.originator
        for user in self.users(it.originator):
            if self.readable(user, it.id):
                self.emit(user, "available", it.id)

    def released(self, item: str, decision: Decision) -> None:
        for user in self.users(self.originator[item]):
            if self.readable(user, item):
                self.emit(user, "routing", item)
        if not decision.allowed:
            return
        for holding in sorted(decision.holdings, key=lambda h: h.party):
            self.copies[(item, holding.party)] = holding.level
            for user in self.users(holding.party):
                if self.readable(user, item) and (user, item) not in self.open:
                    self.emit(user, "available", item)

    def destroyed(self, item: str, party: str) -> None:
        self.copies.pop((item, party), None)
        for user in self.users(party):
            if (user, item) in self.open:
                self.emit(user, "destroyed", item)


@dataclass
class Consumer:
    """A subscriber: subscribed from the start or from the end at some point; reads pages;
    reconnects from the text of its last event's cursor."""

    base: int  # oracle events before it subscribed (from the end) or 0 (from the start)
    position: int
    cursor: str | None = None
    seen: list[tuple[str, str]] = field(default_factory=list)
    objects: list[bool] = field(default_factory=list)  # whether it came with its object
    readable: list[bool] = field(default_factory=list)  # whether the oracle could read it then

    def read(self, feed: FeedService, user: str, limit: int, oracle: Oracle) -> bool:
        batch = feed.fetch(user, self.position, limit, LATE)
        assert batch.gap is None
        for event in batch.events:
            assert event.n == self.position + 1  # no hole, no repeat
            self.position = event.n
            self.cursor = event.cursor
            self.seen.append((event.kind.value, event.item))
            self.objects.append(event.hit is not None)
            self.readable.append(
                event.kind.value == "available" and oracle.readable(user, event.item)
            )
        return batch.more

    def reconnect(self, feed: FeedService, user: str) -> None:
        if self.cursor is not None:
            self.position = feed.start(user, self.cursor)


creation = st.tuples(
    st.just("create"),
    st.sampled_from(PARTIES),
    st.integers(0, 1),  # the two lowest levels: both shared under every agreement
    st.frozensets(st.sampled_from(TOPICS), min_size=1, max_size=2),
    st.sampled_from([frozenset(PARTIES), frozenset(PARTIES), frozenset({"USA"}), frozenset()]),
)
release = st.tuples(
    st.just("release"),
    st.integers(0, 20),
    st.sampled_from(PARTIES),
    st.sampled_from([None, "USA"]),
    st.booleans(),  # onward from the hub rather than from the originator
)
consent = st.tuples(st.just("consent"), st.integers(0, 20), st.sampled_from(PARTIES))
destroy = st.tuples(st.just("destroy"), st.integers(0, 20), st.sampled_from(PARTIES))
subscribe = st.tuples(st.just("subscribe"), st.sampled_from(USERS), st.booleans())
read = st.tuples(st.just("read"), st.sampled_from(USERS), st.integers(1, 4))
reconnect = st.tuples(st.just("reconnect"), st.sampled_from(USERS))
steps = st.lists(
    st.one_of(creation, release, release, consent, destroy, subscribe, read, reconnect),
    min_size=8,
    max_size=40,
)


@settings(max_examples=40)
@given(steps)
def test_every_users_delivered_feed_is_the_oracles(plan: list[tuple[object, ...]]) -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    oracle = Oracle(exchange.snapshot())
    consumers: dict[str, Consumer] = {}
    items: list[str] = []
    for number, step in enumerate(plan):
        at = START + timedelta(minutes=number)
        _act(exchange, feed, oracle, consumers, items, step, at, number)
    for user in USERS:
        consumer = consumers.setdefault(user, Consumer(0, 0))
        while consumer.read(feed, user, 7, oracle):
            pass
        expected = oracle.events.get(user, [])[consumer.base :]
        assert consumer.seen == expected, user
        # an object exactly where the user may read it when it is delivered
        assert consumer.objects == consumer.readable, user


def _act(
    exchange: Exchange,
    feed: FeedService,
    oracle: Oracle,
    consumers: dict[str, Consumer],
    items: list[str],
    step: tuple[object, ...],
    at: datetime,
    number: int,
) -> None:
    kind = step[0]
    if kind == "create":
        _, party, level, topics, rel = step
        assert isinstance(party, str) and isinstance(level, int)
        scheme = oracle.world.parties[party].levels
        it = Item(
            f"p-{number}",
            party,
            scheme[level],
            frozenset(topics),  # type: ignore[arg-type]
            frozenset(rel) - {party},  # type: ignore[arg-type]
            at,
            "t",
            "c",
        )
        exchange.add_item(it)
        oracle.created(it)
        items.append(it.id)
    elif kind in ("release", "consent", "destroy"):
        if items:
            _item_act(exchange, oracle, items, step, at)
    else:
        _consumer_act(feed, oracle, consumers, step)


def _item_act(
    exchange: Exchange,
    oracle: Oracle,
    items: list[str],
    step: tuple[object, ...],
    at: datetime,
) -> None:
    kind = step[0]
    item = items[int(step[1]) % len(items)]  # type: ignore[call-overload]
    origin = oracle.originator[item]
    if kind == "release":
        _, _, to, via, onward = step
        sender = "USA" if onward else origin
        request = ReleaseRequest(item, sender, str(to), None if onward else via)  # type: ignore[arg-type]
        try:
            decision = exchange.release(request, at)
        except AccordError:
            return  # bad input: nothing decided, nothing logged
        oracle.released(item, decision)
    elif kind == "consent":
        act = Consent(at, item, origin, "USA", frozenset({str(step[2])}))
        try:
            exchange.consent(act)
        except AccordError:
            return
    else:
        party = str(step[2])
        try:
            decision = exchange.destroy(Destruction(at, item, party))
        except AccordError:
            return
        if decision.allowed:
            oracle.destroyed(item, party)


def _consumer_act(
    feed: FeedService,
    oracle: Oracle,
    consumers: dict[str, Consumer],
    step: tuple[object, ...],
) -> None:
    kind = step[0]
    if kind == "subscribe":
        user, from_start = str(step[1]), bool(step[2])
        if user not in consumers:
            base = 0 if from_start else len(oracle.events.get(user, []))
            consumers[user] = Consumer(base, feed.start(user, "0" if from_start else None))
    elif kind == "read":
        user = str(step[1])
        if user in consumers:
            consumers[user].read(feed, user, int(step[2]), oracle)  # type: ignore[call-overload]
    elif kind == "reconnect":
        user = str(step[1])
        if user in consumers:
            consumers[user].reconnect(feed, user)
