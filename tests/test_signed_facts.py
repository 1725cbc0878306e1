"""Every kind of fact defined once: each round-trips through its one definition (encode → sign →
store → load → the same fact), each is vouched for by the party the agreements say, and a store
of the previous schema is refused with a clear error."""

from __future__ import annotations

import ast
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.crypto import canonical_json
from accord.errors import StoreError
from accord.model.acts import Consent
from accord.model.facts import EXCHANGE, FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.model.user import User
from accord.service import Exchange, MasterKey
from accord.service.ledger import Ledger
from tests.stores import query

FACTS_PACKAGE = Path(__file__).resolve().parents[1] / "src" / "accord" / "model" / "facts"


@pytest.fixture
def opened(master: MasterKey) -> Iterator[Callable[[Path], Exchange]]:
    made: list[Exchange] = []

    def open_(path: Path) -> Exchange:
        exchange = Exchange.open(f"sqlite:///{path}", master=lambda: master)
        made.append(exchange)
        return exchange

    yield open_
    for exchange in made:
        exchange.store.close()


# --- one definition per kind ------------------------------------------------------------------


def _modules_defining() -> dict[str, str]:
    """Each module of the facts package that defines ``DEFINITION``, with the kind it names."""
    found: dict[str, str] = {}
    for path in sorted(FACTS_PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "DEFINITION":
                call = node.value
                assert isinstance(call, ast.Call)
                kind = call.args[0]
                assert isinstance(kind, ast.Attribute)
                found[path.stem] = kind.attr
    return found


def test_the_exchange_vouches_under_the_name_of_its_key_set() -> None:
    from accord.crypto import EXCHANGE as KEY_SET_OWNER

    assert EXCHANGE == KEY_SET_OWNER


def test_every_kind_has_exactly_one_definition() -> None:
    modules = _modules_defining()
    kinds = sorted(modules.values())
    assert kinds == sorted(k.name for k in FactKind)  # each kind once, no module without one
    assert set(DEFINITIONS) == set(FactKind)
    for kind, definition in DEFINITIONS.items():
        assert definition.kind is kind
        assert modules[definition.encode.__module__.rsplit(".", 1)[1]] == kind.name


# --- round trips ------------------------------------------------------------------------------


def test_every_stored_fact_of_the_built_in_world_round_trips(db: Path) -> None:
    """Each stored body decodes to a fact whose encoding is exactly the stored (signed) text."""
    rows = query(db, "select kind, body from facts order by seq")
    assert {kind for kind, _ in rows} >= {
        "topic", "party", "agreement", "agreement-event", "user", "item", "holding", "release",
        "consent",
    }  # fmt: skip
    for kind, body in rows:
        definition = DEFINITIONS[FactKind(kind)]
        fact = definition.decode(json.loads(body))
        assert canonical_json(definition.encode(fact)).decode() == body, kind
        assert definition.decode(definition.encode(fact)) == fact


def test_the_loaded_world_is_the_world_that_was_written(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    """A world rebuilt from the signed facts alone equals the world the writes left."""
    written = opened(db)
    before = written.snapshot()
    with written.store.transaction() as tx:
        again = Ledger().load(tx)
    assert again.taints == {}
    for name in ("topics", "parties", "agreements", "users", "items", "holdings", "releases"):
        assert getattr(again, name) == getattr(before, name), name
    assert again.consents == before.consents and again.agreement_events == before.agreement_events


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1)
INSTANTS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@given(
    clearance=st.sampled_from(["秘", "極秘", "機密"]),
    topics=st.frozensets(st.sampled_from(["nk-missile", "nk-nuclear", "cyber"])),
    name=NAMES.filter(lambda n: n == n.strip()),
)
def test_a_user_round_trips_through_sign_store_and_load(
    clearance: str, topics: frozenset[str], name: str
) -> None:
    exchange = _three_party_exchange()
    user = User(f"u-{name}", "JPN", clearance, topics)
    exchange.add_user(user)
    with exchange.store.transaction() as tx:
        world = Ledger().load(tx)
    assert world.taints == {} and world.users[user.id] == user
    ((vouchers,),) = _rows(exchange, "select vouchers from facts where kind = 'user'")
    assert json.loads(vouchers) == ["JPN"]


@given(at=INSTANTS, granted=st.booleans(), recipients=st.sampled_from([["JPN"], ["JPN", "USA"]]))
def test_a_consent_body_round_trips(at: datetime, granted: bool, recipients: list[str]) -> None:
    consent = Consent(at, "x", "KOR", "USA", frozenset(recipients), granted)
    definition = DEFINITIONS[FactKind.CONSENT]
    body = json.loads(canonical_json(definition.encode(consent)))
    assert definition.decode(body) == consent


def _three_party_exchange() -> Exchange:
    from accord.model.party import Party

    exchange = Exchange.open("sqlite://")
    for code in ("KOR", "JPN", "USA"):
        exchange.add_party(Party(code, code, "UTC", ("秘", "極秘", "機密")))
    for topic in ("nk-missile", "nk-nuclear", "cyber"):
        exchange.add_topic(topic)
    return exchange


def _rows(exchange: Exchange, sql: str) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    with exchange.store.transaction() as tx:
        return [tuple(r) for r in tx.conn.execute(text(sql))]


# --- who vouches for what -----------------------------------------------------------------------


def _vouchers(db: Path) -> dict[str, list[tuple[list[str], dict[str, Any]]]]:
    found: dict[str, list[tuple[list[str], dict[str, Any]]]] = {}
    for kind, vouchers, body in query(db, "select kind, vouchers, body from facts order by seq"):
        found.setdefault(kind, []).append((json.loads(vouchers), json.loads(body)))
    return found


def test_each_fact_is_vouched_for_by_the_party_the_agreements_name(db: Path) -> None:
    by_kind = _vouchers(db)
    for vouchers, _ in by_kind["topic"]:
        assert vouchers == [EXCHANGE]
    for vouchers, _ in by_kind["party"]:  # the store registers a party (a node holds no peer keys)
        assert vouchers == [EXCHANGE]
    for vouchers, body in by_kind["agreement"]:  # every party to it
        assert vouchers == sorted(body["terms"]["parties"])
    for vouchers, body in by_kind["user"]:  # the user's own party
        assert vouchers == [body["party"]]
    for vouchers, body in by_kind["item"]:  # the originator
        assert vouchers == [body["originator"]]
    for vouchers, body in by_kind["holding"]:  # the receipt: the holder
        assert vouchers == [body["party"]]
    for vouchers, body in by_kind["release"]:  # the sender
        assert vouchers == [body["from"]]
    for vouchers, body in by_kind["consent"]:  # the originator
        assert vouchers == [body["by"]]
    for vouchers, body in by_kind["agreement-event"]:  # the sender of the note
        assert vouchers == [body["by"]]


def test_an_amendment_is_vouched_for_by_every_party(
    db: Path, opened: Callable[[Path], Exchange]
) -> None:
    from accord.model.agreement import Amendment

    exchange = opened(db)
    at = datetime(2024, 2, 1, tzinfo=UTC)
    change = Amendment(at, "rok-japan-gsomia", {"notice_period": None})
    exchange.record(change)
    ((vouchers, signatures),) = query(
        db,
        "select vouchers, signatures from facts where kind = 'agreement-event'"
        " and json_extract(body, '$.kind') = 'amendment'",
    )
    assert json.loads(vouchers) == ["JPN", "KOR"] and len(json.loads(signatures)) == 2
    with exchange.store.transaction() as tx:
        assert Ledger().failures(tx) == []
    assert exchange.agreement_state("rok-japan-gsomia", at + timedelta(days=1)) is not None


# --- the schema -------------------------------------------------------------------------------


def test_a_store_of_the_previous_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Exchange.open(f"sqlite:///{path}").store.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("update meta set value = '3' where key = 'schema'")
    with pytest.raises(StoreError, match="schema version 3, expected 5"):
        Exchange.open(f"sqlite:///{path}")
