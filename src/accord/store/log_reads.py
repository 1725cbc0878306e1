"""The audit log's hot reads, on the transaction's own driver connection.

A proof needs a few dozen hashes (leaf hashes and stored subtrees) and the proven entries; a
batch of proofs needs hundreds of thousands. Both are one statement here, whatever their
number: the keys travel as one parameter (a JSON array that SQLite's ``json_each`` reads, a
PostgreSQL array for ``= ANY``), so the statement's text never changes and the database keeps
it prepared. The statements run on the driver's cursor of the caller's transaction, which skips
SQLAlchemy's per-statement work (the dominant cost of a read this small), and see exactly what
that transaction sees.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from accord.store import schema as t

_KEYS_SQLITE = "(SELECT value FROM json_each(?))"
_KEYS_POSTGRES = "ANY(%s)"


def _proof_sql(keys: str, member: str, blob: str) -> str:
    e, n = t.audit_entries.name, t.audit_nodes.name
    return (
        f"SELECT 0, seq, {blob % 'leaf_hash'} FROM {e} WHERE seq {member} {keys}"
        f" UNION ALL SELECT 1, node, {blob % 'hash'} FROM {n} WHERE node {member} {keys}"
        f" UNION ALL SELECT 2, seq, {blob % 'leaf'} FROM {e} WHERE seq {member} {keys}"
    )


# SQLite lets a column hold any type (a row edited by hand may hold text): read bytes always
_PROOF = {
    "sqlite": _proof_sql(_KEYS_SQLITE, "IN", "CAST(%s AS BLOB)"),
    "postgresql": _proof_sql(_KEYS_POSTGRES, "=", "%s"),
}
_META = {
    "sqlite": f"SELECT key, value FROM {t.meta.name} WHERE key IN {_KEYS_SQLITE}",
    "postgresql": f"SELECT key, value FROM {t.meta.name} WHERE key = {_KEYS_POSTGRES}",
}


_E, _N = t.audit_entries.name, t.audit_nodes.name
_PAGE = {
    "sqlite": (
        f"SELECT CAST(seq AS INTEGER), CAST(leaf AS BLOB), CAST(leaf_hash AS BLOB) FROM {_E}"
        " WHERE seq >= ? ORDER BY seq LIMIT ?"
    ),
    "postgresql": f"SELECT seq, leaf, leaf_hash FROM {_E} WHERE seq >= %s ORDER BY seq LIMIT %s",
}
_NODE_RANGE = {
    "sqlite": (
        f"SELECT CAST(node AS INTEGER), CAST(hash AS BLOB) FROM {_N}"
        " WHERE node >= ? AND node < ? ORDER BY node"
    ),
    "postgresql": f"SELECT node, hash FROM {_N} WHERE node >= %s AND node < %s ORDER BY node",
}


@dataclass(frozen=True, slots=True)
class ProofRows:
    """What one read for proofs found: leaf hashes by entry, subtree hashes by node key, and
    the proven entries' (leaf, leaf hash). A key not stored is left out."""

    leaf_hashes: dict[int, bytes]
    nodes: dict[int, bytes]
    entries: dict[int, bytes]


def _param(conn: Connection, values: Sequence[Any]) -> Any:
    if conn.dialect.name != "sqlite":
        return list(values)
    if all(type(v) is int for v in values):  # the common case: entry numbers and node keys
        return f"[{','.join(map(str, values))}]"
    return json.dumps(list(values))


def _run(conn: Connection, statements: dict[str, str], params: list[Any]) -> list[Any]:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statements[conn.dialect.name], params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def proof_rows(
    conn: Connection, leaves: Sequence[int], nodes: Sequence[int], entries: Sequence[int]
) -> ProofRows:
    """Leaf hashes of ``leaves``, stored subtrees ``nodes`` (by node key) and the entries
    ``entries`` (their bytes), in one statement."""
    params = [_param(conn, leaves), _param(conn, nodes), _param(conn, entries)]
    found: tuple[dict[int, bytes], dict[int, bytes], dict[int, bytes]] = ({}, {}, {})
    for part, key, value in _run(conn, _PROOF, params):
        found[part][int(key)] = bytes(value)
    return ProofRows(*found)


def meta_values(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    """Several ``meta`` values by key, in one statement (a key not stored is left out)."""
    return {str(k): str(v) for k, v in _run(conn, _META, [_param(conn, keys)])}


def entries_page(conn: Connection, start: int, limit: int) -> list[tuple[int, bytes, bytes]]:
    """Up to ``limit`` stored entries (seq, leaf, leaf hash) from ``start`` on, in order."""
    return _run(conn, _PAGE, [start, limit])  # both drivers give int and bytes as they are


def nodes_between(conn: Connection, lo: int, hi: int) -> list[tuple[int, bytes]]:
    """The stored nodes (key, hash) with keys in [lo, hi), in key order."""
    return _run(conn, _NODE_RANGE, [lo, hi])
