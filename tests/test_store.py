"""One conformance suite for every store backend: what the service writes, it reads back the
same; failed or refused work writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select

from accord.errors import NaiveDatetime, OutOfOrder, StoreError, UnknownReference
from accord.model.acts import Compromise, Consent, Destruction
from accord.model.agreement import (
    Agreement,
    Amendment,
    EquivalenceTable,
    NoticeSuspended,
    Renewal,
    SuspensionLifted,
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
from accord.service import Exchange, MasterKey
from accord.store import schema


def T(text: str) -> datetime:
    return parse_instant(text, "test")


KOR = Party(
    "KOR", "Republic of Korea", "Asia/Seoul", ("군사III급비밀", "군사II급비밀", "군사I급비밀")
)
JPN = Party("JPN", "Japan", "Asia/Tokyo", ("秘", "極秘", "機密"))
USA = Party("USA", "United States", "America/New_York", ("CONFIDENTIAL", "SECRET", "TOP SECRET"))
GSOMIA = Agreement(
    "rok-japan-gsomia",
    T("2016-11-23T00:00:00+09:00"),
    "Asia/Seoul",
    Terms(
        frozenset({"KOR", "JPN"}),
        EquivalenceTable(
            ({"KOR": "군사II급비밀", "JPN": "極秘"}, {"KOR": "군사III급비밀", "JPN": "秘"})
        ),
        TopicScope(None),
        Duration.parse("P1Y", "term"),
        Renewal.AUTOMATIC,
        Duration.parse("P90D", "notice"),
    ),
)
TISA = Agreement(
    "tisa",
    T("2014-12-29T00:00:00+09:00"),
    "Asia/Seoul",
    Terms(
        frozenset({"KOR", "JPN", "USA"}),
        EquivalenceTable(({"USA": "SECRET", "KOR": "군사II급비밀", "JPN": "極秘"},)),
        TopicScope(frozenset({"nk-missile", "nk-nuclear"})),
        None,
        Renewal.NONE,
        None,
    ),
    hub="USA",
)
REPORT = Item(
    "report-1",
    "KOR",
    "군사II급비밀",
    frozenset({"nk-missile"}),
    frozenset({"JPN", "USA"}),
    T("2019-10-31T17:00:00+09:00"),
    "Launch report",
    "Two SRBMs from Sondok.",
)
OTHER = Item(
    "report-2",
    "KOR",
    "군사II급비밀",
    frozenset({"nk-missile"}),
    frozenset({"JPN", "USA"}),
    T("2019-10-31T18:00:00+09:00"),
    "Second report",
    "Apogee 90 km.",
)


def build(exchange: Exchange) -> None:
    for topic in ("nk-missile", "nk-nuclear", "cyber"):
        exchange.add_topic(topic)
    for party in (KOR, JPN, USA):
        exchange.add_party(party)
    exchange.add_agreement(GSOMIA)
    exchange.add_agreement(TISA)
    exchange.add_user(User("jpn-analyst", "JPN", "極秘", frozenset({"nk-missile"})))
    assert exchange.record(
        TerminationNotice(T("2019-08-23T15:25:00+09:00"), GSOMIA.id, "KOR")
    ).allowed
    exchange.add_item(REPORT)
    exchange.add_item(OTHER)
    assert exchange.release(
        ReleaseRequest("report-1", "KOR", "JPN"), T("2019-11-01T09:00:00+09:00")
    ).allowed
    assert exchange.consent(
        Consent(T("2019-11-02T09:00:00+09:00"), "report-2", "KOR", "USA", frozenset({"JPN"}))
    ).allowed
    assert exchange.release(
        ReleaseRequest("report-2", "KOR", "JPN", "USA"), T("2019-11-03T09:00:00+09:00")
    ).allowed
    assert exchange.report_compromise(
        Compromise(T("2019-11-04T09:00:00+09:00"), "report-2", "JPN", "laptop lost")
    ).allowed
    assert exchange.destroy(Destruction(T("2019-11-05T09:00:00+09:00"), "report-2", "JPN")).allowed
    assert exchange.record(
        NoticeSuspended(T("2019-11-22T18:00:00+09:00"), GSOMIA.id, "KOR")
    ).allowed
    amendment = Amendment(
        T("2020-01-01T00:00:00+09:00"), GSOMIA.id, {"topics": TopicScope(frozenset({"nk-missile"}))}
    )
    assert exchange.record(amendment).allowed
    lifted = SuspensionLifted(
        T("2020-02-01T00:00:00+09:00"), GSOMIA.id, "KOR", T("2020-03-01T00:00:00+09:00")
    )
    assert exchange.record(lifted).allowed


@pytest.fixture
def open_exchange(store_url: str) -> Iterator[Callable[[], Exchange]]:
    """Exchanges on the backend's store, closed before the store is dropped."""
    opened: list[Exchange] = []
    master = MasterKey.generate()

    def make() -> Exchange:
        exchange = Exchange.open(store_url, master=lambda: master)
        if not opened:
            exchange.init_keys()
        opened.append(exchange)
        return exchange

    yield make
    for exchange in opened:
        exchange.store.close()


def summary(world: World) -> dict[str, object]:
    return {
        "topics": sorted(world.topics),
        "parties": world.parties,
        "agreements": world.agreements,
        "events": world.agreement_events,
        "users": world.users,
        "items": world.items,
        "holdings": world.holdings,
        "releases": world.releases,
        "consents": world.consents,
        "destructions": world.destructions,
        "compromises": world.compromises,
        "latest": world.latest,
    }


def test_round_trip_through_a_fresh_process_view(open_exchange: Callable[[], Exchange]) -> None:
    writer = open_exchange()
    build(writer)
    reader = open_exchange()
    assert summary(reader.snapshot()) == summary(writer.snapshot())
    at = T("2020-02-15T00:00:00+09:00")
    assert reader.agreement_state(GSOMIA.id, at) == writer.agreement_state(GSOMIA.id, at)
    assert (
        reader.agreement_state(GSOMIA.id, T("2020-03-01T00:00:00+09:00")).status.value
        == "terminated"
    )
    read = ReadRequest("jpn-analyst", "report-1")
    assert reader.check_read(read, at).allowed
    assert reader.check_read(ReadRequest("jpn-analyst", "report-2"), at).codes == ("destroyed",)


def counts(exchange: Exchange) -> dict[str, int]:
    with exchange.store.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in schema.metadata.sorted_tables
        }


def test_a_failed_batch_writes_nothing(open_exchange: Callable[[], Exchange]) -> None:
    exchange = open_exchange()
    build(exchange)
    before = counts(exchange)
    with pytest.raises(UnknownReference), exchange.batch():
        exchange.add_topic("nk-space")
        exchange.add_user(User("x", "KOR", "군사II급비밀", frozenset({"no-such-topic"})))
    assert counts(exchange) == before
    assert "nk-space" not in exchange.snapshot().topics


def test_refused_and_out_of_order_acts_write_nothing_but_the_refusal(
    open_exchange: Callable[[], Exchange],
) -> None:
    exchange = open_exchange()
    build(exchange)
    before = counts(exchange)
    late = T("2020-03-02T00:00:00+09:00")
    denied = exchange.release(ReleaseRequest("report-1", "JPN", "KOR"), late)
    assert not denied.allowed
    with pytest.raises(OutOfOrder):
        exchange.release(
            ReleaseRequest("report-1", "KOR", "USA", None), T("2019-01-01T00:00:00+09:00")
        )
    after = counts(exchange)
    # the refused release is recorded (R12) and changes nothing else; bad input records nothing
    assert after.pop("audit_entries") == before.pop("audit_entries") + 1
    assert after.pop("audit_nodes") >= before.pop("audit_nodes")  # the log's subtrees
    assert after == before


def test_two_exchanges_on_one_store_see_each_others_writes(
    open_exchange: Callable[[], Exchange],
) -> None:
    first, second = open_exchange(), open_exchange()
    build(first)
    assert second.snapshot().items.keys() == {"report-1", "report-2"}
    second.add_user(User("kor-analyst", "KOR", "군사II급비밀", frozenset({"nk-missile"})))
    assert "kor-analyst" in first.snapshot().users


def test_naive_instants_never_reach_the_store(open_exchange: Callable[[], Exchange]) -> None:
    exchange = open_exchange()
    with pytest.raises(NaiveDatetime):
        exchange.check_read(ReadRequest("u", "i"), datetime(2019, 11, 23))


def test_an_unreachable_store_is_a_clear_error() -> None:
    with pytest.raises(StoreError) as caught:
        Exchange.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    assert "secret" not in caught.value.message
