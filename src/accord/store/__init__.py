"""Persistence with SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from accord.store.sql import SqlStore, StoreTx

__all__ = ["SqlStore", "StoreTx"]
