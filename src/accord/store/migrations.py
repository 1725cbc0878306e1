"""Schema upgrades: a store of an earlier schema version is brought to ``SCHEMA_VERSION`` in the
transaction that opens it (the new tables themselves are made by ``create_all`` just before).

- 4 → 5: the table ``received_facts`` (facts from peers applied to a node's world). Nothing
  else changed, so the upgrade records the new version.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from accord.errors import StoreError
from accord.store import schema as t

# each version this code upgrades from, to the version after it
UPGRADES: dict[str, str] = {"4": "5"}


def upgrade(conn: Connection, version: str, where: str) -> None:
    """Bring a store at ``version`` to ``SCHEMA_VERSION``; ``StoreError`` for a version this
    code cannot upgrade (a newer store, or an unknown one)."""
    current = version
    while current != t.SCHEMA_VERSION:
        following = UPGRADES.get(current)
        if following is None:
            raise StoreError(
                f"store at {where} has schema version {version}, expected {t.SCHEMA_VERSION}"
            )
        current = following
    conn.execute(update(t.meta).where(t.meta.c.key == "schema").values(value=current))
