"""An exchange: load facts, decide, persist — one transaction per act."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from accord.errors import InvalidInput
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import Agreement, AgreementEvent
from accord.model.item import Item
from accord.model.party import Party
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import iso, require_aware
from accord.model.user import User
from accord.model.world import World
from accord.policy.acts import decide_compromise, decide_consent, decide_destruction
from accord.policy.batch import ReadableIndex
from accord.policy.facts import Facts
from accord.policy.impact import ImpactReport, impact
from accord.policy.lifecycle import AgreementState
from accord.policy.read import decide_read
from accord.policy.reasons import Decision
from accord.policy.release import decide_release
from accord.store.sql import SqlStore, StoreTx

Act = AgreementEvent | Release | Consent | Destruction | Compromise
ItemAct = TypeVar("ItemAct", Consent, Destruction, Compromise)


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Session:
    """The store transaction and the facts it sees."""

    tx: StoreTx
    facts: Facts

    @property
    def world(self) -> World:
        return self.facts.world


@dataclass(frozen=True, slots=True)
class ReadResult:
    decision: Decision
    item: Item | None  # only when allowed


class Exchange:
    """The operations of one exchange over a store. Time comes from ``clock`` only when a
    caller gives no ``at``."""

    def __init__(self, store: SqlStore, clock: Callable[[], datetime] = system_clock) -> None:
        self.store = store
        self.clock = clock
        self._facts: Facts | None = None
        self._revision = -1
        self._readable: ReadableIndex | None = None
        self._open: _Session | None = None

    @classmethod
    def open(cls, url: str, clock: Callable[[], datetime] = system_clock) -> Exchange:
        return cls(SqlStore(url), clock)

    def instant(self, at: datetime | None) -> datetime:
        """``at`` in UTC, or now; naive datetimes are refused."""
        return require_aware(at, "at") if at is not None else require_aware(self.clock(), "clock")

    # --- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[_Session]:
        try:
            with self.store.transaction() as tx:
                revision = tx.revision()
                if self._facts is None or revision != self._revision:
                    self._facts = Facts(tx.load_world())
                    self._revision = revision
                session = _Session(tx, self._facts)
                yield session
                if write:
                    self._revision = tx.bump_revision()
        except BaseException:
            self._facts = None  # the in-memory world may hold what the store rolled back
            raise

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several writes into one all-or-nothing transaction (``accord load``)."""
        with self._session(write=True) as session:
            self._open = session
            try:
                yield
            finally:
                self._open = None

    def _writer(self) -> AbstractContextManager[_Session]:
        return nullcontext(self._open) if self._open is not None else self._session(write=True)

    def _reader(self) -> AbstractContextManager[_Session]:
        return nullcontext(self._open) if self._open is not None else self._session(write=False)

    # --- definitions ----------------------------------------------------------------------------

    def add_topic(self, name: str) -> None:
        with self._writer() as s:
            s.world.add_topic(name)
            s.tx.add_topic(name)

    def add_party(self, party: Party) -> None:
        with self._writer() as s:
            s.world.add_party(party)
            s.tx.add_party(party)

    def add_agreement(self, agreement: Agreement) -> None:
        with self._writer() as s:
            s.world.add_agreement(agreement)
            s.tx.add_agreement(agreement)

    def add_user(self, user: User) -> None:
        with self._writer() as s:
            s.world.add_user(user)
            s.tx.add_user(user)

    def add_item(self, item: Item) -> None:
        """Create an item; its originator holds it from ``item.created``."""
        with self._writer() as s:
            require_aware(item.created, f"item {item.id}: created")
            s.world.check_order(item.created, f"item {item.id}")
            s.world.add_item(item)
            s.tx.add_item(item)

    # --- acts -----------------------------------------------------------------------------------

    def record(self, event: AgreementEvent) -> Decision:
        """A diplomatic event; refused events change nothing."""
        with self._writer() as s:
            self._check_time(s.world, event.at, f"{event.kind} on {event.agreement}")
            timeline = s.facts.timeline(event.agreement)
            decision = timeline.check(event, s.world.parties, frozenset(s.world.topics))
            if decision.allowed:
                s.world.add_agreement_event(event)
                s.tx.add_agreement_event(event)
                # work out the new state now: an end beyond the calendar refuses the event here
                s.facts.timeline(event.agreement)
            return decision

    def release(self, request: ReleaseRequest, at: datetime) -> Decision:
        """Release an item if policy allows; the recipient's copy is marked per R2."""
        with self._writer() as s:
            at = self._check_item_time(s.world, request.item, at, "release")
            decision = decide_release(s.facts, request, at)
            if decision.allowed:
                agreement = decision.reasons[0].agreement
                release = Release(
                    at, request.item, request.from_party, request.to_party, request.via, agreement
                )
                for holding in decision.holdings:
                    s.world.add_holding(holding)
                    s.tx.add_holding(holding)
                s.world.add_release(release)
                s.tx.add_release(release)
            return decision

    def consent(self, consent: Consent) -> Decision:
        """The originator's answer on onward release (R4)."""
        return self._item_act(
            consent, "consent", decide_consent, World.add_consent, StoreTx.add_consent
        )

    def destroy(self, act: Destruction) -> Decision:
        """Destroy a party's copy (R10)."""
        return self._item_act(
            act, "destruction", decide_destruction, World.add_destruction, StoreTx.add_destruction
        )

    def report_compromise(self, report: Compromise) -> Decision:
        """Report loss or compromise of a copy to its originator (R9)."""
        return self._item_act(
            report,
            "compromise report",
            decide_compromise,
            World.add_compromise,
            StoreTx.add_compromise,
        )

    def _item_act(
        self,
        act: ItemAct,
        what: str,
        decide: Callable[[Facts, ItemAct], Decision],
        remember: Callable[[World, ItemAct], None],
        store: Callable[[StoreTx, ItemAct], None],
    ) -> Decision:
        """Decide an act on an item at its instant; record it in the world and the store if allowed."""
        with self._writer() as s:
            self._check_item_time(s.world, act.item, act.at, what)
            decision = decide(s.facts, act)
            if decision.allowed:
                remember(s.world, act)
                store(s.tx, act)
            return decision

    def apply(self, act: Act) -> Decision:
        """Any act, by its type (the scenario runner and ``accord load`` use this)."""
        if isinstance(act, Release):
            return self.release(
                ReleaseRequest(act.item, act.from_party, act.to_party, act.via), act.at
            )
        if isinstance(act, Consent):
            return self.consent(act)
        if isinstance(act, Destruction):
            return self.destroy(act)
        if isinstance(act, Compromise):
            return self.report_compromise(act)
        return self.record(act)

    @staticmethod
    def _check_time(world: World, at: datetime, what: str) -> datetime:
        at = require_aware(at, "at")
        world.check_order(at, what)
        return at

    def _check_item_time(self, world: World, item_id: str, at: datetime, what: str) -> datetime:
        at = self._check_time(world, at, f"{what} of {item_id}")
        item = world.item(item_id)
        if at < item.created:
            raise InvalidInput(
                f"{what} of {item_id} at {iso(at)}: the item does not exist before {iso(item.created)}"
            )
        return at

    # --- questions ------------------------------------------------------------------------------

    def check_release(self, request: ReleaseRequest, at: datetime) -> Decision:
        with self._reader() as s:
            return decide_release(s.facts, request, require_aware(at, "at"))

    def check_read(self, request: ReadRequest, at: datetime) -> Decision:
        with self._reader() as s:
            return decide_read(s.facts, request, require_aware(at, "at"))

    def read(self, request: ReadRequest, at: datetime) -> ReadResult:
        """The item's content, only when the read is allowed."""
        with self._reader() as s:
            decision = decide_read(s.facts, request, require_aware(at, "at"))
            return ReadResult(decision, s.world.items[request.item] if decision.allowed else None)

    def read_many(self, user_id: str, item_ids: Sequence[str], at: datetime) -> list[ReadResult]:
        """Reads of several items by one user at one instant, in one transaction; each result
        carries the item only when its read is allowed."""
        at = require_aware(at, "at")
        with self._reader() as s:
            results = []
            for item_id in item_ids:
                decision = decide_read(s.facts, ReadRequest(user_id, item_id), at)
                results.append(
                    ReadResult(decision, s.world.items[item_id] if decision.allowed else None)
                )
            return results

    def readable(self, user_id: str, at: datetime) -> list[str]:
        with self._reader() as s:
            if self._readable is None or self._readable.world is not s.world:
                self._readable = ReadableIndex(s.world)
            return self._readable.readable(user_id, require_aware(at, "at"))

    def agreement_state(self, agreement_id: str, at: datetime) -> AgreementState:
        with self._reader() as s:
            s.world.agreement(agreement_id)
            return s.facts.state(agreement_id, require_aware(at, "at"))

    def impact(self, agreement_id: str, at: datetime) -> ImpactReport:
        with self._reader() as s:
            return impact(s.facts, agreement_id, require_aware(at, "at"))

    def snapshot(self) -> World:
        """The current world, for listings. Treat it as read-only."""
        with self._reader() as s:
            return s.world
