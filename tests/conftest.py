"""Shared fixtures: real stores (SQLite files, and PostgreSQL on 127.0.0.1 when it is running)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import jsonschema  # noqa: F401  (first, whole: accord imports it without its IRI grammars)
import pytest
from hypothesis import HealthCheck, settings

# No test may fail by chance: hypothesis draws the same examples on every run (derandomize), and
# neither a slow machine (deadline, too_slow) nor a run's timing can fail a property test.
settings.register_profile(
    "accord",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("accord")

pytest_plugins = ["tests.stores"]  # the loaded built-in store fixtures

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgres_database() -> Iterator[str]:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[dev]')")
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"accord_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError:
        admin.dispose()
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres, trust auth)")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
    else:
        yield from _postgres_database()
