"""The SQL store: one transaction per unit of work, the world loaded from rows in time order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from accord.errors import AccordError, StoreError
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import Agreement, AgreementEvent
from accord.model.item import Holding, Item
from accord.model.party import Party
from accord.model.user import User
from accord.model.world import World
from accord.store import schema as t
from accord.store.codec import event_body, event_from_row, terms_from_json, terms_to_json


def _engine(url: str) -> Engine:
    if url in ("sqlite://", "sqlite:///:memory:"):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


class SqlStore:
    """An exchange's store at a SQLAlchemy URL (``sqlite:///accord.db``, ``postgresql://...``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _engine(url)
            t.metadata.create_all(self.engine)
            with self.engine.begin() as conn:
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
                    raise StoreError(
                        f"store at {_redacted(url)} has schema version {version}, expected {t.SCHEMA_VERSION}"
                    )
        except (SQLAlchemyError, ImportError, ValueError):
            raise StoreError(f"cannot open the store at {_redacted(url)}") from None

    @contextmanager
    def transaction(self) -> Iterator[StoreTx]:
        """One all-or-nothing unit of work."""
        try:
            with self.engine.begin() as conn:
                yield StoreTx(conn)
        except SQLAlchemyError:
            raise StoreError("the store failed; nothing was changed") from None

    def close(self) -> None:
        self.engine.dispose()


def _redacted(url: str) -> str:
    """A URL without its password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


class StoreTx:
    """Reads and writes inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- revision: lets a cached world tell whether it is current ------------------------------

    def revision(self) -> int:
        value = self.conn.execute(
            select(t.meta.c.value).where(t.meta.c.key == "revision")
        ).scalar_one()
        return int(value)

    def bump_revision(self) -> int:
        revision = self.revision() + 1
        self.conn.execute(
            update(t.meta).where(t.meta.c.key == "revision").values(value=str(revision))
        )
        return revision

    # --- writes ---------------------------------------------------------------------------------

    def add_topic(self, name: str) -> None:
        self.conn.execute(insert(t.topics).values(name=name))

    def add_party(self, party: Party) -> None:
        self.conn.execute(
            insert(t.parties).values(
                code=party.code, name=party.name, timezone=party.timezone, levels=list(party.levels)
            )
        )

    def add_agreement(self, agreement: Agreement) -> None:
        self.conn.execute(
            insert(t.agreements).values(
                id=agreement.id,
                title=agreement.title,
                hub=agreement.hub,
                in_force_from=agreement.in_force_from,
                timezone=agreement.timezone,
                terms=terms_to_json(agreement.terms),
            )
        )

    def add_agreement_event(self, event: AgreementEvent) -> None:
        self.conn.execute(
            insert(t.agreement_events).values(
                agreement=event.agreement, at=event.at, kind=event.kind, body=event_body(event)
            )
        )

    def add_user(self, user: User) -> None:
        self.conn.execute(
            insert(t.users).values(
                id=user.id,
                party=user.party,
                clearance=user.clearance,
                need_to_know=sorted(user.need_to_know),
            )
        )

    def add_item(self, item: Item) -> None:
        self.conn.execute(
            insert(t.items).values(
                id=item.id,
                originator=item.originator,
                level=item.level,
                topics=sorted(item.topics),
                releasable_to=sorted(item.releasable_to),
                created=item.created,
                title=item.title,
                content=item.content,
                stix=item.stix,
            )
        )

    def add_holding(self, holding: Holding) -> None:
        self.conn.execute(
            insert(t.holdings).values(
                item=holding.item,
                party=holding.party,
                level=holding.level,
                originator=holding.originator,
                originator_level=holding.originator_level,
                received_at=holding.received_at,
                agreement=holding.agreement,
                via=holding.via,
            )
        )

    def add_release(self, release: Release) -> None:
        self.conn.execute(
            insert(t.releases).values(
                at=release.at,
                item=release.item,
                from_party=release.from_party,
                to_party=release.to_party,
                via=release.via,
                agreement=release.agreement,
            )
        )

    def add_consent(self, consent: Consent) -> None:
        self.conn.execute(
            insert(t.consents).values(
                at=consent.at,
                item=consent.item,
                by=consent.by,
                holder=consent.holder,
                recipients=sorted(consent.recipients),
                granted=consent.granted,
            )
        )

    def add_destruction(self, act: Destruction) -> None:
        self.conn.execute(insert(t.destructions).values(at=act.at, item=act.item, party=act.party))

    def add_compromise(self, report: Compromise) -> None:
        self.conn.execute(
            insert(t.compromises).values(
                at=report.at, item=report.item, party=report.party, description=report.description
            )
        )

    # --- the world ------------------------------------------------------------------------------

    def load_world(self) -> World:
        """Rebuild the world; rows that do not make a valid world mean the store is unreadable."""
        try:
            return self._load_world()
        except (AccordError, KeyError, ValueError, TypeError):
            raise StoreError(
                "the store holds rows accord cannot read (was it edited by hand?)"
            ) from None

    def _load_world(self) -> World:
        """Rebuild the world from rows, definitions first, then acts in the order recorded."""
        world = World()
        rows = self.conn.execute
        for (name,) in rows(select(t.topics.c.name).order_by(t.topics.c.name)):
            world.add_topic(name)
        for r in rows(select(t.parties)).mappings():
            world.add_party(Party(r["code"], r["name"], r["timezone"], tuple(r["levels"])))
        for r in rows(select(t.agreements)).mappings():
            world.add_agreement(
                Agreement(
                    r["id"],
                    r["in_force_from"],
                    r["timezone"],
                    terms_from_json(r["terms"]),
                    r["hub"],
                    r["title"],
                )
            )
        for r in rows(select(t.agreement_events).order_by(t.agreement_events.c.seq)).mappings():
            world.add_agreement_event(event_from_row(r["kind"], r["agreement"], r["at"], r["body"]))
        for r in rows(select(t.users)).mappings():
            world.add_user(User(r["id"], r["party"], r["clearance"], frozenset(r["need_to_know"])))
        for r in rows(select(t.items).order_by(t.items.c.created, t.items.c.id)).mappings():
            world.add_item(
                Item(
                    r["id"],
                    r["originator"],
                    r["level"],
                    frozenset(r["topics"]),
                    frozenset(r["releasable_to"]),
                    r["created"],
                    r["title"],
                    r["content"],
                    r["stix"],
                )
            )
        for r in rows(select(t.holdings).order_by(t.holdings.c.seq)).mappings():
            world.add_holding(
                Holding(
                    r["item"],
                    r["party"],
                    r["level"],
                    r["originator"],
                    r["originator_level"],
                    r["received_at"],
                    r["agreement"],
                    r["via"],
                )
            )
        for r in rows(select(t.releases).order_by(t.releases.c.seq)).mappings():
            world.add_release(
                Release(
                    r["at"], r["item"], r["from_party"], r["to_party"], r["via"], r["agreement"]
                )
            )
        for r in rows(select(t.consents).order_by(t.consents.c.seq)).mappings():
            world.add_consent(
                Consent(
                    r["at"],
                    r["item"],
                    r["by"],
                    r["holder"],
                    frozenset(r["recipients"]),
                    r["granted"],
                )
            )
        for r in rows(select(t.destructions).order_by(t.destructions.c.seq)).mappings():
            world.add_destruction(Destruction(r["at"], r["item"], r["party"]))
        for r in rows(select(t.compromises).order_by(t.compromises.c.seq)).mappings():
            world.add_compromise(Compromise(r["at"], r["item"], r["party"], r["description"]))
        return world
