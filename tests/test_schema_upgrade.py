"""The schema upgrade from version 4: a store of version 4 opens as version 5 with the table of
received facts, keeps what it held, and an unknown version is still refused clearly."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from accord.errors import StoreError
from accord.service import Exchange, MasterKey


def _version(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("select value from meta where key = 'schema'").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}


def test_a_version_4_store_is_upgraded_to_5_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    key = MasterKey.generate()
    exchange = Exchange.open(f"sqlite:///{path}", master=lambda: key)
    exchange.init_keys()
    exchange.add_topic("cyber")
    exchange.store.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("drop table received_facts")
        conn.execute("update meta set value = '4' where key = 'schema'")
    assert "received_facts" not in _tables(path)
    again = Exchange.open(f"sqlite:///{path}", master=lambda: key)
    assert _version(path) == "5"
    assert "received_facts" in _tables(path)
    assert again.snapshot().topics == {"cyber"}


def test_a_newer_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "v9.db"
    Exchange.open(f"sqlite:///{path}").store.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("update meta set value = '9' where key = 'schema'")
    with pytest.raises(StoreError, match="schema version 9, expected 5"):
        Exchange.open(f"sqlite:///{path}")
    assert _version(path) == "9"
