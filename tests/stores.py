"""Stores for the protection and record tests: the built-in world in a SQLite file with its keys
made (once per module, then copied per test), and plain sqlite3 access for tampering."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from accord.service import Exchange, MasterKey
from accord.service.scenarios import apply_scenario

BUILTIN = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "accord"
    / "scenario"
    / "builtin"
    / "gsomia-2019.yaml"
)


def load_builtin(path: Path, master: MasterKey) -> Path:
    """The built-in world in a SQLite file, keys made, loaded as `accord load` does."""
    from accord.scenario import load_scenario

    exchange = Exchange.open(f"sqlite:///{path}", master=lambda: master)
    try:
        exchange.init_keys()
        apply_scenario(exchange, load_scenario(BUILTIN), strict=True)
    finally:
        exchange.store.close()
    return path


def clone(source: Path, target: Path) -> Path:
    """A copy of a closed store (its -wal too, if one was left)."""
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{target}-wal"))
    return target


def counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {n: conn.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names}


def query(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, args).fetchall()


def execute(db: Path, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(sql, args)
        conn.commit()


@pytest.fixture(scope="module")
def master() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture(scope="module")
def builtin(tmp_path_factory: pytest.TempPathFactory, master: MasterKey) -> Path:
    return load_builtin(tmp_path_factory.mktemp("builtin") / "exchange.db", master)


@pytest.fixture
def db(builtin: Path, tmp_path: Path) -> Path:
    """A fresh copy of the loaded built-in world, under the module's master key."""
    return clone(builtin, tmp_path / "exchange.db")
