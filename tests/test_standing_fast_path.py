"""The write path's shortcuts with standing rules change no decision: an envelope of items
created in one unit of work (each release reusing the data key its copy was made with, the
feed's open-or-not checks reading without writing the buffered rows first) records exactly
what the plain path records, each item in a transaction of its own: the same routes, reasons
and triggers, releases and copies, feed events, and every copy opens to the item's content."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.model.item import Item
from accord.model.rules import Route, StandingConsent, StandingRule, Window
from accord.service import Exchange, standing
from accord.service.feed import FeedService
from accord.service.taxii import TaxiiService
from tests.feeds import LATE
from tests.test_standing_rules import LAPSE, START, world_exchange

TOPICS = ("nk-missile", "nk-nuclear")
LEVELS = ("군사III급비밀", "군사II급비밀", "군사I급비밀")
USERS = ("kor-analyst", "jpn-analyst", "usa-analyst")


def _nonempty(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.permutations(values).flatmap(
        lambda p: st.integers(1, len(p)).map(lambda n: tuple(p[:n]))
    )


RULES = st.lists(
    st.tuples(
        _nonempty(TOPICS),
        st.sampled_from(LEVELS[:2]),
        _nonempty(("JPN", "USA")),
        _nonempty(("direct", "via USA")),
        st.none() | st.integers(-90, 90),  # the rule's end, in seconds around the lapse
    ),
    min_size=1,
    max_size=3,
)
ITEMS = st.lists(
    st.tuples(
        st.integers(-120, 120),  # seconds around the lapse
        _nonempty(TOPICS),
        st.sampled_from(LEVELS),
        st.sets(st.sampled_from(("JPN", "USA"))),
    ),
    min_size=1,
    max_size=6,
)


def _route(label: str) -> Route:
    return Route(None) if label == "direct" else Route(label.removeprefix("via "))


def _world(rules: list[tuple[object, ...]], consent: bool, notice: bool) -> Exchange:
    exchange = world_exchange(notice=notice)
    for n, (topics, level, to, routes, end) in enumerate(rules):
        assert isinstance(topics, tuple) and isinstance(to, tuple) and isinstance(routes, tuple)
        until = None if end is None else LAPSE + timedelta(seconds=int(str(end)))
        standing.add_rule(
            exchange,
            StandingRule(
                f"rule-{n}",
                "KOR",
                frozenset(str(t) for t in topics),
                str(level),
                tuple(str(p) for p in to),
                tuple(_route(str(r)) for r in routes),
                Window(START, until),
            ),
        )
    if consent:
        standing.add_consent(
            exchange,
            StandingConsent(
                "usa-may-pass",
                "KOR",
                "USA",
                frozenset({"JPN"}),
                frozenset(TOPICS),
                LEVELS[1],
                Window(START),
            ),
        )
    return exchange


def _items(specs: list[tuple[int, tuple[str, ...], str, set[str]]]) -> list[Item]:
    return [
        Item(
            f"warning-{n}",
            "KOR",
            level,
            frozenset(topics),
            frozenset(rel),
            LAPSE + timedelta(seconds=offset),
            f"warning {n}",
            f"content of warning {n}",
        )
        for n, (offset, topics, level, rel) in enumerate(sorted(specs, key=lambda s: s[0]))
    ]


def _record(exchange: Exchange, items: list[Item]) -> dict[str, object]:
    """What the exchange recorded, without the instants the clock gave (log entry ``seq``)."""
    world = exchange.snapshot()
    feed = FeedService(exchange, TaxiiService(exchange), 100_000)
    feeds = {
        user: [(e.kind.value, e.item, e.body) for e in feed.fetch(user, 0, 10_000, LATE).events]
        for user in USERS
    }
    log = [
        (e.at, e.rule, e.item, e.to, e.route, e.reasons, e.trigger)
        for e in standing.routing_log(exchange)
    ]
    return {
        "log": log,
        "releases": list(world.releases),
        "holdings": {k: list(v) for k, v in sorted(world.holdings.items())},
        "feeds": feeds,
        "opened": _opened(exchange, items),
    }


def _opened(exchange: Exchange, items: list[Item]) -> dict[str, list[tuple[str, str]]]:
    """Each user's readable items, decrypted: every copy's key was wrapped right."""
    ids = [i.id for i in items]
    opened: dict[str, list[tuple[str, str]]] = {}
    for user in USERS:
        results = exchange.read_many(user, ids, LATE)
        opened[user] = [(i, r.item.content) for i, r in zip(ids, results, strict=True) if r.item]
    return opened


@settings(max_examples=30, deadline=None)
@given(
    rules=RULES,
    consent=st.booleans(),
    notice=st.booleans(),
    specs=ITEMS,
)
def test_an_envelope_in_one_unit_of_work_records_what_each_item_alone_records(
    rules: list[tuple[object, ...]],
    consent: bool,
    notice: bool,
    specs: list[tuple[int, tuple[str, ...], str, set[str]]],
) -> None:
    items = _items(specs)
    fast, plain = _world(rules, consent, notice), _world(rules, consent, notice)
    with fast.batch():
        fast.add_items(items)
    for item in items:
        plain.add_item(item)
    assert _record(fast, items) == _record(plain, items)


def test_a_release_in_the_same_unit_of_work_opens_for_the_hub_and_the_recipient() -> None:
    exchange = _world(
        [(("nk-missile",), LEVELS[1], ("USA", "JPN"), ("direct", "via USA"), None)], True, True
    )
    item = _items([(1, ("nk-missile",), LEVELS[1], {"JPN", "USA"})])
    with exchange.batch():
        exchange.add_items(item)
    # USA is served first, directly; the GSOMIA has lapsed: USA passes its new copy on to JPN
    assert [(e.to, e.route) for e in standing.routing_log(exchange)] == [
        ("USA", "direct"),
        ("JPN", "via USA"),
    ]
    opened = _opened(exchange, item)
    assert opened["usa-analyst"] == [("warning-0", "content of warning 0")]
    assert opened["jpn-analyst"] == [("warning-0", "content of warning 0")]
