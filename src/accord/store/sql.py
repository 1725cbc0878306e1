"""The SQL store: one transaction per unit of work, the world loaded from rows in time order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from accord.errors import Busy, StoreError, StoreMissing, StoreUnreachable
from accord.store import credentials as _credentials  # noqa: F401  (registers its tables)
from accord.store import migrations
from accord.store import nodes as _nodes  # noqa: F401  (registers its table)
from accord.store import schema as t
from accord.store.images import Change, Image, image, stored_images


class SealedItem(NamedTuple):
    """What the store keeps of an item's content: the envelope and the originator's signature."""

    payload: bytes
    signature: bytes
    signer_version: int


class FactRow(NamedTuple):
    """A fact as stored: its place, id, kind, the parties that vouch for it, its canonical body
    (the exact text signed) and one stored signature per voucher (base64, in voucher order)."""

    seq: int
    id: str
    kind: str
    vouchers: tuple[str, ...]
    body: str
    signatures: tuple[str, ...]


class KeySetRow(NamedTuple):
    """A party's (or the exchange's) key set of one version: public keys, sealed private keys."""

    owner: str
    version: int
    x25519_public: bytes
    ed25519_public: bytes
    sealed_private: bytes
    created_at: datetime


DEFAULT_LOCK_TIMEOUT = 5.0  # seconds a writer waits for the log before answering Busy
LOG_LOCK = 0x61636364  # the PostgreSQL advisory lock key that serialises writers ("accd")
WRITE = "accord_write"  # the execution option that marks a writing transaction
# PostgreSQL states a writer may retry: lock timeout, serialization failure, deadlock
_RETRYABLE_STATES = frozenset({"55P03", "40001", "40P01"})


def _engine(url: str, lock_timeout: float) -> Engine:
    if url in ("sqlite://", "sqlite:///:memory:"):
        engine = create_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": lock_timeout},
        )
    elif url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": lock_timeout})
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _serialise_sqlite(engine)
    else:
        _serialise_postgresql(engine, lock_timeout)
    return engine


def _serialise_sqlite(engine: Engine) -> None:
    """Writers open their transaction with ``BEGIN IMMEDIATE``: they take the database's one
    write lock before they read anything, waiting up to the busy timeout for it, so what they
    read (the world, the log's frontier, the clock) is what they write after."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # accord emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _serialise_postgresql(engine: Engine, lock_timeout: float) -> None:
    """Writers take one transaction-scoped advisory lock first (released at commit or
    rollback), waiting at most ``lock_timeout``; under READ COMMITTED every statement after it
    sees what the previous writer committed."""

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE, False):
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(lock_timeout * 1000)}ms'")
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOG_LOCK})")
            conn.exec_driver_sql("SET LOCAL lock_timeout = 0")


def _store_error(error: SQLAlchemyError) -> StoreError | Busy:
    """What a failed statement is to accord: ``Busy`` when another attempt may succeed."""
    if _retryable(error):
        return Busy("the store is busy with other writers; retry shortly")
    return StoreError("the store failed; nothing was changed")


def _retryable(error: SQLAlchemyError) -> bool:
    """A failure another attempt may not meet: the write lock not had in time."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in _RETRYABLE_STATES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(original)


class SqlStore:
    """An exchange's store at a SQLAlchemy URL (``sqlite:///accord.db``, ``postgresql://...``).

    With ``create=False`` a store that does not exist yet (no SQLite file, or a database without
    accord's tables) is ``StoreMissing`` and nothing is written. ``lock_timeout``: seconds a write
    waits for the store's write lock before it fails as ``Busy``."""

    def __init__(
        self, url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, *, create: bool = True
    ) -> None:
        self.url = url
        try:
            if not create:
                _require_file(url)
            self.engine = _engine(url, lock_timeout)
            _connect_once(self.engine, url)
            if not create and not inspect(self.engine).has_table(t.meta.name):
                raise StoreMissing(f"no accord store at {describe_store(url)}")
            with self._begin(write=True) as conn:
                t.metadata.create_all(conn)
                version = conn.execute(
                    select(t.meta.c.value).where(t.meta.c.key == "schema")
                ).scalar()
                if version is None:
                    conn.execute(
                        insert(t.meta),
                        [
                            {"key": "schema", "value": t.SCHEMA_VERSION},
                            {"key": "revision", "value": "0"},
                        ],
                    )
                elif version != t.SCHEMA_VERSION:
                    migrations.upgrade(conn, version, _redacted(url))
        except (SQLAlchemyError, ImportError, ValueError):
            raise StoreError(f"cannot open the store at {_redacted(url)}") from None

    @property
    def in_memory(self) -> bool:
        """A store that lives and dies with this process (``sqlite://``)."""
        return self.url in ("sqlite://", "sqlite:///:memory:")

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[StoreTx]:
        """One all-or-nothing unit of work. With ``write`` it holds the store's write lock from
        its first statement to its end, so writers run one after another across every process
        on the store: every unit that appends to the audit log is one. Without, it takes no
        lock up front; it reads, and may add rows no entry covers (status resources, secrets)."""
        try:
            with self._begin(write=write) as conn:
                tx = StoreTx(conn)
                yield tx
                tx.flush()
        except SQLAlchemyError as error:
            raise _store_error(error) from None

    @contextmanager
    def _begin(self, *, write: bool) -> Iterator[Connection]:
        with self.engine.connect() as plain:
            conn = plain.execution_options(**{WRITE: write})
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()


def describe_store(url: str) -> str:
    """Where a store is, for a message: a SQLite file's path, or a server's host, port, database
    and user; never a password."""
    try:
        parts = make_url(url)
    except (ArgumentError, ValueError):
        return _redacted(url)
    if parts.get_backend_name() == "sqlite":
        return parts.database or ":memory:"
    port = f":{parts.port}" if parts.port else ""
    user = f", user {parts.username}" if parts.username else ""
    return f"{parts.get_backend_name()} server {parts.host or 'localhost'}{port}, database {parts.database or '-'}{user}"


def _require_file(url: str) -> None:
    """A SQLite file store must exist already (connecting would create an empty file)."""
    try:
        parts = make_url(url)
    except (ArgumentError, ValueError):
        return
    if parts.get_backend_name() != "sqlite" or url in ("sqlite://", "sqlite:///:memory:"):
        return
    if parts.database and not Path(parts.database).is_file():
        raise StoreMissing(f"no accord store at {parts.database}: the file does not exist")


def _connect_once(engine: Engine, url: str) -> None:
    """Reach the database; a server that does not answer is named (never with its password)."""
    try:
        engine.connect().close()
    except SQLAlchemyError:
        raise StoreUnreachable(f"cannot connect to the store: {describe_store(url)}") from None


def _redacted(url: str) -> str:
    """A URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


# statements built once: building one costs more than running it
_INSERTS: dict[str, Any] = {}  # one INSERT per table
_BUFFERED = ("facts", "items", "wrapped_keys")  # the rows an ingest writes most of, parents first
_META = select(t.meta.c.value).where(t.meta.c.key == bindparam("k"))
_SET_META = update(t.meta).where(t.meta.c.key == bindparam("k")).values(value=bindparam("v"))
_SEALED = select(
    t.items.c.id, t.items.c.payload, t.items.c.signature, t.items.c.signer_version
).where(t.items.c.id.in_(bindparam("ids", expanding=True)))
_WRAPPED = select(
    t.wrapped_keys.c.item, t.wrapped_keys.c.key_version, t.wrapped_keys.c.wrapped
).where(
    t.wrapped_keys.c.party == bindparam("party"),
    t.wrapped_keys.c.item.in_(bindparam("ids", expanding=True)),
)
_APPEND = insert(t.audit_entries)
_APPEND_NODES = insert(t.audit_nodes)
_NODES = select(t.audit_nodes.c.node, t.audit_nodes.c.hash).where(
    t.audit_nodes.c.node.in_(bindparam("keys", expanding=True))
)
_NODES_BETWEEN = (
    select(t.audit_nodes.c.node, t.audit_nodes.c.hash)
    .where(t.audit_nodes.c.node >= bindparam("lo"), t.audit_nodes.c.node < bindparam("hi"))
    .order_by(t.audit_nodes.c.node)
)
_LEAF_HASHES = select(t.audit_entries.c.seq, t.audit_entries.c.leaf_hash).where(
    t.audit_entries.c.seq.in_(bindparam("seqs", expanding=True))
)
_ENTRIES_AT = select(
    t.audit_entries.c.seq, t.audit_entries.c.leaf, t.audit_entries.c.leaf_hash
).where(t.audit_entries.c.seq.in_(bindparam("seqs", expanding=True)))
_ENTRIES_PAGE = (
    select(t.audit_entries.c.seq, t.audit_entries.c.leaf, t.audit_entries.c.leaf_hash)
    .where(t.audit_entries.c.seq >= bindparam("start"))
    .order_by(t.audit_entries.c.seq)
    .limit(bindparam("limit"))
)
_FACTS_AFTER = select(t.facts).where(t.facts.c.seq > bindparam("after")).order_by(t.facts.c.seq)
_LAST_FACT = select(func.max(t.facts.c.seq))
_KEY_SETS = select(t.key_sets).order_by(t.key_sets.c.owner, t.key_sets.c.version)


class StoreTx:
    """Reads and writes inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.changes: list[Change] = []
        self._buffer: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
        self._deferred: dict[str, tuple[Callable[[Connection, list[Any]], None], list[Any]]] = {}
        self._next_fact: int | None = None
        self.last_fact: tuple[int, str] | None = None  # (seq, id) of the last fact written here
        self.writes = 0  # audited rows written (inserted, updated, deleted), undone or not
        self._savepoints = 0  # how deep the open savepoints are

    @property
    def conn(self) -> Connection:
        """The connection, with every buffered row written first (reads see all writes)."""
        if self._buffer or self._deferred:
            self.flush()
        return self._conn

    def flush(self) -> None:
        """Write the buffered rows: one executemany per table, each table's rows in order, the
        tables parents first (every item before any wrapped key, which names its item); then
        each deferred writer once, with all its rows (see ``defer``)."""
        buffer, self._buffer = self._buffer, {}
        deferred, self._deferred = self._deferred, {}
        for name in _BUFFERED:
            if name in buffer:
                table, rows = buffer[name]
                self._conn.execute(_INSERTS[table.name], rows)
        for write, pending in deferred.values():
            write(self._conn, pending)

    def defer(
        self, name: str, write: Callable[[Connection, list[Any]], None], rows: Iterable[Any]
    ) -> None:
        """Rows that ``write`` writes in one call, with every other row ``name`` deferred, just
        before the transaction's next read or its end (so every read still sees every write).
        For rows no log entry records (the live feed's events)."""
        self._deferred.setdefault(name, (write, []))[1].extend(rows)

    def deferred_read(self, name: str) -> tuple[Connection, list[Any]]:
        """For a read of the rows that only ``defer`` under ``name`` writes, and only of those:
        the connection, with nothing written first, and the rows deferred under ``name`` not yet
        written, in order (the read sees every write by looking at both). Other buffered rows
        stay buffered, so a run of such reads between writes writes nothing."""
        pending = self._deferred.get(name)
        return self._conn, list(pending[1]) if pending is not None else []

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of this transaction that is undone alone when it raises (plain SQL
        ``SAVEPOINT``, ``RELEASE``, ``ROLLBACK TO``; SQLite and PostgreSQL): its rows, and what
        this object keeps of them for later (buffered rows, changes not yet logged, the next
        fact's place). The transaction goes on either way; the exception is raised again, a
        failed statement as ``StoreError`` (``Busy`` when it may be retried)."""
        self.flush()
        self._savepoints += 1
        name = f"accord_part_{self._savepoints}"
        kept = (list(self.changes), self._next_fact, self.last_fact)
        try:
            self._conn.exec_driver_sql(f"SAVEPOINT {name}")
            try:
                yield
                self.flush()
            except BaseException as error:
                self._buffer, self._deferred = {}, {}
                self.changes, self._next_fact, self.last_fact = kept
                self._conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
                self._conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
                if isinstance(error, SQLAlchemyError):
                    raise _store_error(error) from None
                raise
            self._conn.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
        except SQLAlchemyError as error:  # the savepoint itself failed: the transaction is lost
            raise _store_error(error) from None
        finally:
            self._savepoints -= 1

    # --- revision: lets a cached world tell whether it is current ------------------------------

    def revision(self) -> int:
        return int(self.conn.execute(_META, {"k": "revision"}).scalar_one())

    def bump_revision(self) -> int:
        revision = self.revision() + 1
        self.conn.execute(_SET_META, {"k": "revision", "v": str(revision)})
        return revision

    # --- writes: every row written is kept as a change for the audit log ----------------------

    def take_changes(self) -> list[Change]:
        """The rows written since the last call, in order; the service logs them with the act."""
        changes, self.changes = self.changes, []
        return changes

    def _insert(self, table: Table, values: dict[str, Any]) -> None:
        statement = _INSERTS.get(table.name)
        if statement is None:
            statement = _INSERTS[table.name] = insert(table)
        row = values
        missing = [c for c in table.primary_key.columns if c.name not in values]
        if not missing and table.name in _BUFFERED:  # written together, before the next read
            self._buffer.setdefault(table.name, (table, []))[1].append(values)
        else:
            result = self.conn.execute(statement, values)
            if missing:  # an autoincrement key: the image records the number the store gave
                row = dict(values)
                for column, key in zip(missing, result.inserted_primary_key or (), strict=False):
                    row[column.name] = key
        self.writes += 1
        self.changes.append(Change(f"{table.name}", "insert", image(table, row)))

    def _update(self, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
        where = [table.c[name] == value for name, value in key.items()]
        self.conn.execute(update(table).where(*where).values(**values))
        row = self.conn.execute(select(table).where(*where)).mappings().one()
        self.writes += 1
        self.changes.append(Change(f"{table.name}", "update", image(table, row)))

    def _delete(self, table: Table, key: dict[str, Any]) -> None:
        where = [table.c[name] == value for name, value in key.items()]
        row = self.conn.execute(select(table).where(*where)).mappings().one()
        self.conn.execute(delete(table).where(*where))
        self.writes += 1
        self.changes.append(Change(f"{table.name}", "delete", image(table, row)))

    # --- facts ----------------------------------------------------------------------------------

    def next_fact_seq(self) -> int:
        """The place the next fact takes (writers hold the write lock, so it is theirs)."""
        if self._next_fact is None:
            self._next_fact = self.last_fact_seq() + 1
        return self._next_fact

    def last_fact_seq(self) -> int:
        return int(self.conn.execute(_LAST_FACT).scalar() or 0)

    def add_fact_row(self, row: FactRow) -> None:
        if row.seq != self.next_fact_seq():
            raise StoreError(f"fact {row.seq} is out of place (the next is {self._next_fact})")
        self._next_fact = row.seq + 1
        self.last_fact = (row.seq, row.id)
        values = row._asdict()
        values["vouchers"] = list(row.vouchers)
        values["signatures"] = list(row.signatures)
        self._insert(t.facts, values)

    def fact_rows(self, after: int = 0) -> Iterator[FactRow]:
        """The stored facts after ``after``, in order, as they are (a row may have been edited)."""
        result = self.conn.execute(
            _FACTS_AFTER, {"after": after}, execution_options={"yield_per": 10_000}
        )
        for r in result:
            yield FactRow(
                int(r.seq),
                str(r.id),
                str(r.kind),
                _strings(r.vouchers),
                str(r.body),
                _strings(r.signatures),
            )

    def add_item(self, item_id: str, sealed: SealedItem) -> None:
        """An item's title, content and STIX object, only as ``sealed`` (its metadata is a fact)."""
        self._insert(
            t.items,
            {
                "id": item_id,
                "payload": sealed.payload,
                "signature": sealed.signature,
                "signer_version": sealed.signer_version,
            },
        )

    def sealed_items(self, item_ids: Sequence[str]) -> dict[str, SealedItem]:
        """Several items' envelopes and signatures in one query."""
        return {
            r.id: SealedItem(bytes(r.payload), bytes(r.signature), int(r.signer_version))
            for r in self.conn.execute(_SEALED, {"ids": list(item_ids)})
        }

    # --- keys -----------------------------------------------------------------------------------

    def add_key_set(self, row: KeySetRow) -> None:
        self._insert(t.key_sets, row._asdict())

    def reseal_key_set(self, owner: str, version: int, sealed_private: bytes) -> None:
        self._update(
            t.key_sets, {"owner": owner, "version": version}, {"sealed_private": sealed_private}
        )

    def key_sets(self) -> list[KeySetRow]:
        query = _KEY_SETS
        return [
            KeySetRow(
                r.owner,
                int(r.version),
                bytes(r.x25519_public),
                bytes(r.ed25519_public),
                bytes(r.sealed_private),
                r.created_at,
            )
            for r in self.conn.execute(query)
        ]

    def put_wrapped_key(self, item_id: str, party: str, key_version: int, wrapped: bytes) -> None:
        self._insert(
            t.wrapped_keys,
            {"item": item_id, "party": party, "key_version": key_version, "wrapped": wrapped},
        )

    def rewrap_key(self, item_id: str, party: str, key_version: int, wrapped: bytes) -> None:
        self._update(
            t.wrapped_keys,
            {"item": item_id, "party": party},
            {"key_version": key_version, "wrapped": wrapped},
        )

    def delete_wrapped_key(self, item_id: str, party: str) -> None:
        self._delete(t.wrapped_keys, {"item": item_id, "party": party})

    def wrapped_key(self, item_id: str, party: str) -> tuple[int, bytes] | None:
        row = self.conn.execute(
            select(t.wrapped_keys.c.key_version, t.wrapped_keys.c.wrapped).where(
                t.wrapped_keys.c.item == item_id, t.wrapped_keys.c.party == party
            )
        ).one_or_none()
        return None if row is None else (int(row.key_version), bytes(row.wrapped))

    def wrapped_keys_for(self, party: str, item_ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """``party``'s wrapped keys of several items in one query."""
        rows = self.conn.execute(_WRAPPED, {"party": party, "ids": list(item_ids)})
        return {r.item: (int(r.key_version), bytes(r.wrapped)) for r in rows}

    def wrapped_keys_of(self, party: str) -> list[tuple[str, int, bytes]]:
        query = (
            select(t.wrapped_keys.c.item, t.wrapped_keys.c.key_version, t.wrapped_keys.c.wrapped)
            .where(t.wrapped_keys.c.party == party)
            .order_by(t.wrapped_keys.c.item)
        )
        return [(r.item, int(r.key_version), bytes(r.wrapped)) for r in self.conn.execute(query)]

    # --- bookkeeping (not audited: it is how the log and the cache are kept) -------------------

    def meta(self, key: str) -> str | None:
        value = self.conn.execute(_META, {"k": key}).scalar()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        done = self.conn.execute(_SET_META, {"k": key, "v": value})
        if done.rowcount == 0:
            self.conn.execute(insert(t.meta).values(key=key, value=value))

    # --- the audit log --------------------------------------------------------------------------

    def append_entries(self, entries: list[tuple[int, bytes, bytes]]) -> None:
        """Entries as (seq, leaf, leaf hash), appended in the caller's transaction."""
        if entries:
            self.conn.execute(
                _APPEND, [{"seq": seq, "leaf": leaf, "leaf_hash": h} for seq, leaf, h in entries]
            )

    def append_nodes(self, nodes: list[tuple[int, bytes]]) -> None:
        """The log's complete subtrees as (node key, hash), in the caller's transaction."""
        if nodes:
            self.conn.execute(_APPEND_NODES, [{"node": key, "hash": h} for key, h in nodes])

    def nodes(self, keys: Sequence[int]) -> dict[int, bytes]:
        """Stored subtree hashes by node key, in one query (a key not stored is left out)."""
        if not keys:
            return {}
        rows = self.conn.execute(_NODES, {"keys": list(keys)})
        return {int(key): bytes(h) for key, h in rows}

    def nodes_between(self, lo: int, hi: int) -> list[tuple[int, bytes]]:
        """The stored nodes with keys in [lo, hi), in key order."""
        rows = self.conn.execute(_NODES_BETWEEN, {"lo": lo, "hi": hi})
        return [(int(key), bytes(h)) for key, h in rows]

    def node_count(self, lo: int = 0) -> int:
        """How many nodes are stored with keys from ``lo`` on."""
        c = t.audit_nodes.c
        query = select(func.count()).select_from(t.audit_nodes).where(c.node >= lo)
        return int(self.conn.execute(query).scalar_one())

    def leaf_hashes(self, seqs: Sequence[int]) -> dict[int, bytes]:
        """Stored leaf hashes by entry, in one query (an entry not stored is left out)."""
        if not seqs:
            return {}
        rows = self.conn.execute(_LEAF_HASHES, {"seqs": list(seqs)})
        return {int(seq): bytes(h) for seq, h in rows}

    def entries(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, bytes, bytes]]:
        """Stored entries in ``seq`` order, as they are (a row may have been edited or removed)."""
        c = t.audit_entries.c
        query = select(c.seq, c.leaf, c.leaf_hash).where(c.seq >= start).order_by(c.seq)
        if stop is not None:
            query = query.where(c.seq < stop)
        result = self.conn.execute(query, execution_options={"yield_per": 10_000})
        for seq, leaf, leaf_hash in result:
            yield int(seq), bytes(leaf), bytes(leaf_hash)

    def entries_page(self, start: int, limit: int) -> list[tuple[int, bytes, bytes]]:
        """Up to ``limit`` stored entries from ``seq`` ``start`` on, in order (one query)."""
        rows = self.conn.execute(_ENTRIES_PAGE, {"start": start, "limit": limit})
        return [(int(seq), bytes(leaf), bytes(h)) for seq, leaf, h in rows]

    def entries_at(self, seqs: Sequence[int]) -> dict[int, tuple[bytes, bytes]]:
        """Several entries' (leaf, leaf hash) by ``seq``, in one query (a missing one left out)."""
        if not seqs:
            return {}
        rows = self.conn.execute(_ENTRIES_AT, {"seqs": list(seqs)})
        return {int(seq): (bytes(leaf), bytes(h)) for seq, leaf, h in rows}

    def entry(self, seq: int) -> tuple[bytes, bytes] | None:
        c = t.audit_entries.c
        row = self.conn.execute(select(c.leaf, c.leaf_hash).where(c.seq == seq)).one_or_none()
        return None if row is None else (bytes(row.leaf), bytes(row.leaf_hash))

    def entry_count(self) -> int:
        return int(
            self.conn.execute(select(func.count()).select_from(t.audit_entries)).scalar_one()
        )

    def publish_checkpoint(self, size: int, note: str) -> None:
        """Publish (or replace, with more signatures) the checkpoint at ``size``: an audited
        row, so that its removal or any edit is named by ``audit verify``."""
        if self.checkpoint(size) is None:
            self._insert(t.checkpoints, {"size": size, "note": note})
        else:
            self._update(t.checkpoints, {"size": size}, {"note": note})

    def checkpoint(self, size: int) -> str | None:
        query = select(t.checkpoints.c.note).where(t.checkpoints.c.size == size)
        value = self.conn.execute(query).scalar()
        return None if value is None else str(value)

    def published_checkpoints(self) -> list[tuple[int, str]]:
        query = select(t.checkpoints.c.size, t.checkpoints.c.note).order_by(t.checkpoints.c.size)
        return [(int(size), str(note)) for size, note in self.conn.execute(query)]

    def stored_images(self, table: Table) -> Iterator[Image]:
        return stored_images(self.conn, table)


def _strings(value: object) -> tuple[str, ...]:
    """A JSON list of strings as read back (anything else is kept as-is, to fail its check)."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return (repr(value),)
