"""Helpers of the live-feed tests: the built-in world's parties, agreements and users without
its items and events, items to create in it, and each user's whole feed as (kind, item)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from accord.model.item import Item
from accord.scenario import load_scenario
from accord.service import Exchange
from accord.service.feed import FeedService
from accord.service.scenarios import apply_scenario
from accord.service.taxii import TaxiiService
from tests.stores import BUILTIN

START = datetime(2018, 1, 1, tzinfo=UTC)  # every agreement of the built-in world is in force
LATE = datetime(2030, 1, 1, tzinfo=UTC)
USERS = ("kor-analyst", "jpn-analyst", "jpn-junior", "jpn-cyber-analyst", "usa-analyst")


def define(exchange: Exchange) -> Exchange:
    """The built-in world's definitions in ``exchange`` (no item, no event)."""
    loaded = dataclasses.replace(
        load_scenario(BUILTIN), items=(), events=(), expectations=(), line_of={}
    )
    apply_scenario(exchange, loaded, strict=True)
    return exchange


def bare_exchange(url: str = "sqlite://") -> Exchange:
    return define(Exchange.open(url))


def item(
    n: int,
    originator: str = "KOR",
    level: str = "군사II급비밀",
    topics: frozenset[str] = frozenset({"nk-missile"}),
    rel: frozenset[str] = frozenset({"JPN", "USA"}),
    at: datetime | None = None,
) -> Item:
    created = at or START + timedelta(minutes=n)
    return Item(
        f"feed-item-{n}",
        originator,
        level,
        topics,
        rel,
        created,
        f"item {n}",
        f"content of item {n}",
    )


def kinds(feed: FeedService, user: str, after: int = 0) -> list[tuple[str, str]]:
    batch = feed.fetch(user, after, 10_000, LATE)
    return [(e.kind.value, e.item) for e in batch.events]


def service(exchange: Exchange, history: int = 100_000) -> FeedService:
    return FeedService(exchange, TaxiiService(exchange), history)
