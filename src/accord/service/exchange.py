"""An exchange: load facts, decide, persist — one transaction per act."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from accord.errors import DuplicateId, InvalidInput, KeyMismatch, KeyUnavailable, OutOfOrder
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import Agreement, AgreementEvent, NoticeSuspended
from accord.model.classification import Reclassification
from accord.model.duties import Duty
from accord.model.facts import FactKind
from accord.model.facts.topic import Topic
from accord.model.investigation import (
    HoldEvent,
    InvestigationConcluded,
    InvestigationEvent,
    InvestigationStarted,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.item import Holding, Item
from accord.model.matters import Matter, MatterState
from accord.model.party import Party
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.rules import RuleRevoked
from accord.model.taint import Subject, SubjectKind, holding_subject
from accord.model.time import iso, require_aware
from accord.model.user import User
from accord.model.world import World
from accord.policy.acts import decide_compromise, decide_consent, decide_destruction
from accord.policy.classification import decide_reclassification
from accord.policy.duties import duties
from accord.policy.facts import Facts
from accord.policy.impact import ConditionalImpact, ImpactReport, impact, impact_if
from accord.policy.investigations import (
    Investigation,
    decide_hold,
    decide_investigation,
    investigation,
)
from accord.policy.lifecycle import AgreementState
from accord.policy.marking import Marking, current_marking
from accord.policy.marking import marking as marking_at
from accord.policy.matters import decide_matter_state
from accord.policy.read import decide_read
from accord.policy.reasons import Code, Decision, Reason
from accord.policy.release import decide_release
from accord.service.progress import Progress
from accord.store.sql import DEFAULT_LOCK_TIMEOUT, SqlStore, StoreTx

if TYPE_CHECKING:
    # Imported where they are used: a question that decrypts, signs or logs nothing (agreement
    # status, check release) never loads the crypto stack, the vault, the log or NumPy.
    from accord.crypto import MasterKey
    from accord.policy.batch import ReadableIndex
    from accord.service import auditor, journal
    from accord.service.ledger import Ledger
    from accord.service.vault import Vault

ArticleAct = Reclassification | InvestigationEvent | HoldEvent
Act = (
    AgreementEvent
    | Release
    | Consent
    | Destruction
    | Compromise
    | MatterState
    | ArticleAct
    | RuleRevoked
)
ItemAct = TypeVar("ItemAct", Consent, Destruction, Compromise)
# Told of every act as its log entry is made, inside the act's transaction, with the world
# after the act: (transaction, facts, kind, instant, subject, decision). The live feed's recorder.
ActObserver = Callable[
    [StoreTx, Facts, str, datetime, Mapping[str, object], "Decision | None"], None
]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Session:
    """One unit of work on an exchange: the store transaction, the facts it sees and the log
    entries it will append when it commits. Get one from ``Exchange.session``."""

    tx: StoreTx
    facts: Facts
    revision: int
    now: Callable[[], datetime]
    pending: journal.Pending | None = None  # made by the first entry (reads log none)
    changed: bool = False
    observer: ActObserver | None = None  # hears each act as it is logged (the live feed)
    # the data keys of the copies made in this unit of work, by (item, party): a release of
    # such a copy in the same unit of work need not read and unwrap its key again
    data_keys: dict[tuple[str, str], bytes] = field(default_factory=dict)

    @property
    def world(self) -> World:
        return self.facts.world

    def log(
        self,
        kind: str,
        at: datetime,
        subject: Mapping[str, object],
        decision: Decision | None = None,
    ) -> None:
        """Add an entry to the log for this unit of work (appended, signed, when it commits);
        the rows written since the last entry are recorded in it."""
        from accord.service import journal  # noqa: PLC0415

        changes = self.tx.take_changes()
        self.changed = self.changed or bool(changes)
        if self.pending is None:
            self.pending = journal.Pending()
        self.pending.bodies.append(
            journal.entry_body(kind, at, self.now(), subject, decision, changes)
        )
        if self.observer is not None:
            self.observer(self.tx, self.facts, kind, at, subject, decision)


def no_master_key() -> MasterKey:
    raise KeyUnavailable(
        "no master key: give --key-file PATH, or set $ACCORD_KEY_FILE or $ACCORD_MASTER_KEY"
    )


@dataclass(frozen=True, slots=True)
class ReadResult:
    decision: Decision
    item: Item | None  # only when allowed


class Exchange:
    """The operations of one exchange over a store. Time comes from ``clock`` only when a
    caller gives no ``at``. ``master`` gives the master key when keys are first needed; an
    in-memory store without one gets a fresh key and its key sets at once (nothing outlives it)."""

    def __init__(
        self,
        store: SqlStore,
        clock: Callable[[], datetime] = system_clock,
        master: Callable[[], MasterKey] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._facts: Facts | None = None
        self._revision = -1
        self._readable: ReadableIndex | None = None
        self._open: Session | None = None
        self._grouped = False  # the open batch is a group commit's (``group``)
        self._depth = 0  # units open inside the group's current act
        self._vault: Vault | None = None
        self._ledger: Ledger | None = None
        from accord.service.feed_record import FeedRecorder  # noqa: PLC0415

        self.observer: ActObserver | None = FeedRecorder()  # see ``ActObserver``; one at most
        ephemeral = master is None and store.in_memory
        if ephemeral:
            from accord.crypto import MasterKey  # noqa: PLC0415

            key = MasterKey.generate()
            master = lambda: key  # noqa: E731
        self._master = master or no_master_key
        if ephemeral:
            self.init_keys()

    @property
    def vault(self) -> Vault:
        """The keys and sealed copies, made when first needed (a pure question needs none)."""
        if self._vault is None:
            from accord.service.vault import Vault  # noqa: PLC0415

            self._vault = Vault(self._master)
        return self._vault

    @property
    def ledger(self) -> Ledger:
        """Signs facts as they are recorded and checks them as the world is loaded."""
        if self._ledger is None:
            from accord.service.ledger import Ledger  # noqa: PLC0415

            self._ledger = Ledger()
        return self._ledger

    def record_fact(self, s: Session, kind: FactKind, fact: object) -> None:
        """Apply a fact to the session's world and store it, signed by whoever must vouch for
        it (through the one definition of its kind)."""
        keyring = self.vault.keyring(s.tx, s.revision)
        self.ledger.record(s.tx, keyring, s.world, kind, fact)

    @staticmethod
    def require_sound(s: Session, *subjects: Subject) -> None:
        """Refuse (``IntegrityError``, logged) an act that needs a fact that failed its check."""
        try:
            s.world.check_sound(subjects)
        except Exception as error:
            import logging  # noqa: PLC0415

            logging.getLogger("accord.facts").error("refused an act: %s", error)
            raise

    @classmethod
    def open(
        cls,
        url: str,
        clock: Callable[[], datetime] = system_clock,
        master: Callable[[], MasterKey] | None = None,
        lock_timeout: float | None = None,
        *,
        create: bool = True,
    ) -> Exchange:
        """The exchange at ``url``; without ``create`` a store that does not exist is
        ``StoreMissing`` (and nothing is written). ``lock_timeout``: seconds a write waits for
        the store's write lock before it fails as ``Busy`` (default ``DEFAULT_LOCK_TIMEOUT``)."""
        return cls(
            SqlStore(url, lock_timeout or DEFAULT_LOCK_TIMEOUT, create=create), clock, master
        )

    def instant(self, at: datetime | None) -> datetime:
        """``at`` in UTC, or now; naive datetimes are refused."""
        return require_aware(at, "at") if at is not None else require_aware(self.clock(), "clock")

    # --- transactions ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Session]:
        try:
            with self.store.transaction(write=write) as tx:
                revision = tx.revision()
                if self._facts is None or revision != self._revision:
                    self._facts = Facts(self.ledger.load(tx, pinned=self._pinned(tx)))
                    self._readable = None
                    self._revision = revision
                session = Session(
                    tx, self._facts, revision, lambda: self.instant(None), observer=self.observer
                )
                yield session
                if write:
                    self._commit(session)
        except BaseException:
            self._facts = None  # the in-memory world may hold what the store rolled back
            if self._vault is not None:
                self._vault.forget()
            raise

    def _pinned(self, tx: StoreTx) -> Mapping[str, Sequence[bytes]] | None:
        """On a node store, the pinned peers' keys the world trusts their facts under."""
        from accord.store import nodes  # noqa: PLC0415

        if not nodes.peers(tx):
            return None
        from accord.crypto import EXCHANGE  # noqa: PLC0415
        from accord.service.node import pinned_party_keys  # noqa: PLC0415

        try:
            own = self.vault.keyring(tx, tx.revision()).get(EXCHANGE, 1)
        except (KeyUnavailable, KeyMismatch):
            own = None  # a question without the master key: the rows are read unchecked
        return pinned_party_keys(tx, own)

    def _commit(self, s: Session) -> None:
        """Append the session's log entries and sign the log; a changed world bumps the revision
        (reads only append entries, so other processes keep their cached world)."""
        if s.tx.last_fact is not None:
            self.ledger.seal_head(s.tx, self.vault.keyring(s.tx, s.revision))
        if s.pending is not None and s.pending.bodies:
            from accord.service import journal  # noqa: PLC0415

            journal.flush(s.tx, s.pending, self.vault.keyring(s.tx, s.revision))
        if s.changed:
            self._revision = s.tx.bump_revision()
            self.vault.keep(self._revision)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several writes into one all-or-nothing transaction (``accord load``); inside
        another batch, part of that one (in a group commit, a part undone alone: ``group``)."""
        if self._open is not None:
            with self._unit():
                yield
            return
        with self._transaction(write=True) as session:
            self._open = session
            try:
                yield
            finally:
                self._open = None

    @contextmanager
    def group(self) -> Iterator[Session]:
        """One write transaction for the acts of a group commit (``service.group_commit``).
        Inside it, each unit of work an act opens — a batch, a session, a status row: what
        would be a transaction of its own without grouping — is a ``part``, undone alone if it
        raises; units nested in it are part of it, as in any batch."""
        with self.batch():
            self._grouped = True
            try:
                yield self.current()
            finally:
                self._grouped = False

    def current(self) -> Session:
        """The open batch's unit of work (``RuntimeError`` when no batch is open)."""
        if self._open is None:
            raise RuntimeError("no batch is open")
        return self._open

    @contextmanager
    def part(self) -> Iterator[Session]:
        """A part of the open batch that is undone alone when it raises (a savepoint): its rows,
        its log entries, and what it did to the world in memory (then reloaded from the store as
        the batch had it before the part). The batch goes on; the exception is raised again."""
        s = self.current()
        entries = len(s.pending.bodies) if s.pending is not None else 0
        changed, facts, revision, writes = s.changed, s.facts, s.world.revision, s.tx.writes
        try:
            with s.tx.savepoint():
                yield s
        except BaseException:
            s.data_keys.clear()  # some may be of copies the part made and undid
            if s.pending is not None:
                del s.pending.bodies[entries:]
            s.changed = changed
            if s.facts is not facts or s.world.revision != revision or s.tx.writes != writes:
                self._reload(s)
            raise

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        """A unit of work inside the open batch: a part when it is an act's own in a group."""
        s = self.current()
        if not self._grouped or self._depth > 0:
            yield s
            return
        self._depth += 1
        try:
            with self.part():
                yield s
        finally:
            self._depth -= 1

    def _reload(self, s: Session) -> None:
        """The world as the session's transaction now has it; keys read again when next used."""
        self._facts = s.facts = Facts(self.ledger.load(s.tx))
        self._readable = None
        if self._vault is not None:
            self._vault.forget()

    @contextmanager
    def store_tx(self) -> Iterator[StoreTx]:
        """A store transaction for rows no log entry covers (TAXII status resources): the open
        batch's when there is one (a group commit's), else one of its own."""
        if self._open is not None:
            with self._unit() as s:
                yield s.tx
            return
        with self.store.transaction() as tx:
            yield tx

    def session(self, *, write: bool) -> AbstractContextManager[Session]:
        """The unit of work to act in: the open batch's when there is one, else a new one (with
        ``write``, holding the store's write lock; it commits, with its log entries, on exit)."""
        if self._open is not None:
            return self._unit()
        return self._transaction(write=write)

    # --- keys -----------------------------------------------------------------------------------

    def init_keys(self) -> str:
        """Create the exchange's key set and one per party; returns the log's origin."""
        from accord.crypto import EXCHANGE  # noqa: PLC0415
        from accord.service import journal  # noqa: PLC0415

        with self.session(write=True) as s:
            if self.vault.has_keys(s.tx):
                raise InvalidInput("this exchange already has keys (see `accord keys rotate`)")
            now = self.instant(None)
            origin = journal.origin_of(str(uuid.uuid4()))
            s.tx.set_meta(journal.ORIGIN, origin)
            self.vault.create(s.tx, EXCHANGE, now)
            for code in sorted(s.world.parties):
                self.vault.create(s.tx, code, now)
            s.log("keys-init", now, {"origin": origin, "owners": self._owners(s)})
            return origin

    def rotate_keys(self, owner: str, *, progress: Progress | None = None) -> tuple[int, int]:
        """A new key version for a party (or ``@exchange``); its copies' keys are rewrapped."""
        from accord.crypto import EXCHANGE  # noqa: PLC0415

        with self.session(write=True) as s:
            if owner != EXCHANGE:
                s.world.party(owner)
            now = self.instant(None)
            keyring = self.vault.keyring(s.tx, s.revision)
            version, rewrapped = self.vault.rotate(
                s.tx,
                keyring,
                owner,
                now,
                lambda item, party: (
                    current_marking(s.facts, _live_copy(s.world, item, party)).holding
                ),
                progress,
            )
            s.log("keys-rotate", now, {"owner": owner, "version": version})
            return version, rewrapped

    def rotate_master(self, new: MasterKey) -> int:
        """Seal every key set (and a node's TLS key) under a new master key (the old one must
        open them all)."""
        from accord.crypto import EXCHANGE  # noqa: PLC0415
        from accord.service.node import reseal_identity  # noqa: PLC0415

        with self.session(write=True) as s:
            old = self.vault.master
            own = self.vault.keyring(s.tx, s.revision).get(EXCHANGE, 1)
            reseal_identity(s.tx, own, old, new)
            count = self.vault.reseal_all(s.tx, new)
            s.log("master-key-rotate", self.instant(None), {"key_id": new.key_id})
            return count

    def _owners(self, s: Session) -> list[str]:
        return sorted({row.owner for row in s.tx.key_sets()})

    # --- definitions ----------------------------------------------------------------------------

    def add_topic(self, name: str) -> None:
        with self.session(write=True) as s:
            self.record_fact(s, FactKind.TOPIC, Topic(name))
            s.log("topic", self.instant(None), {"topic": name})

    def add_party(self, party: Party) -> None:
        """A party, with its own key set; on a node store no key set is made (a node holds only
        its own party's keys, made by ``accord node init``)."""
        from accord.store import nodes  # noqa: PLC0415

        with self.session(write=True) as s:
            self.vault.keyring(s.tx, s.revision)  # refuses an exchange without keys
            if party.code in s.world.parties:
                raise DuplicateId(f"party {party.code} is already defined")
            now = self.instant(None)
            if not nodes.identities(s.tx):
                self.vault.create(s.tx, party.code, now)
            self.record_fact(s, FactKind.PARTY, party)
            s.log("party", now, {"party": party.code})

    def add_agreement(self, agreement: Agreement) -> None:
        with self.session(write=True) as s:
            self.record_fact(s, FactKind.AGREEMENT, agreement)
            s.facts.timeline(agreement.id)  # refuses terms whose ends the calendar cannot hold
            s.log("agreement", self.instant(None), {"agreement": agreement.id})

    def add_matter(self, matter: Matter) -> None:
        """A matter outside the agreements that notes may be conditional on (R15)."""
        with self.session(write=True) as s:
            self.record_fact(s, FactKind.MATTER, matter)
            s.log("matter", self.instant(None), {"matter": matter.id})

    def record_matter_state(self, fact: MatterState) -> Decision:
        """A party records a matter's state (R15). An unknown matter, state or party is bad input
        (nothing is written); a state that would undo recorded events is refused and logged."""
        with self.session(write=True) as s:
            before = s.world.latest
            self._check_time(s, fact.at, f"matter_state of {fact.matter}", changes_state=True)
            s.world.check_matter_state(fact)
            decision = decide_matter_state(s.facts, fact)
            if decision.allowed:
                self.record_fact(s, FactKind.MATTER_STATE, fact)
            subject = {"matter": fact.matter, "state": fact.state, "by": fact.by}
            s.log(fact.kind, fact.at, subject, decision)
            if decision.allowed:
                self.reevaluate(s, before, fact.at)
            return decision

    def add_user(self, user: User) -> None:
        with self.session(write=True) as s:
            self.record_fact(s, FactKind.USER, user)
            s.log("user", self.instant(None), {"user": user.id})

    def add_item(self, item: Item) -> None:
        """Create an item, encrypted and signed by its originator, who holds it from
        ``item.created``. The world keeps its metadata only; the content is in the envelope."""
        with self.session(write=True) as s:
            require_aware(item.created, f"item {item.id}: created")
            self._check_time(s, item.created, f"item {item.id}")
            keyring = self.vault.keyring(s.tx, s.revision)
            bare = replace(item, title="", content="", stix=None)
            self.ledger.record(s.tx, keyring, s.world, FactKind.ITEM, bare)
            own = s.world.holding(item.id, item.originator, item.created)
            assert own is not None
            s.data_keys[item.id, item.originator] = self.vault.seal(s.tx, keyring, item, own)
            s.log("item", item.created, {"item": item.id, "originator": item.originator})
            if s.world.standing_rules:
                from accord.service.standing import route_new_item  # noqa: PLC0415

                route_new_item(self, s, item.id, item.created)

    def add_items(self, items: Sequence[Item]) -> None:
        """Create ``items`` as ``add_item`` creates each, in order, in one unit of work: each its
        own fact, sealed envelope (its own data key) and log entry, but their facts signed as
        one batch, one signature per originator (``Ledger.prepare``). With standing rules
        (which route each new item as it is made) they are added one at a time."""
        with self.session(write=True) as s:
            if s.world.standing_rules:
                for item in items:
                    self.add_item(item)
                return
            for before, item in zip([None, *items], items, strict=False):
                require_aware(item.created, f"item {item.id}: created")
                s.world.check_order(item.created, f"item {item.id}")
                if before is not None and item.created < before.created:
                    raise OutOfOrder(f"item {item.id} is earlier than item {before.id} before it")
            keyring = self.vault.keyring(s.tx, s.revision)
            bare = [replace(item, title="", content="", stix=None) for item in items]
            rows = self.ledger.prepare(s.tx, keyring, s.world, FactKind.ITEM, bare)
            for item, row in zip(items, rows, strict=True):
                s.tx.add_fact_row(row)
                own = s.world.holding(item.id, item.originator, item.created)
                assert own is not None
                self.vault.seal(s.tx, keyring, item, own)
                s.log("item", item.created, {"item": item.id, "originator": item.originator})

    def same_payload(self, item: Item) -> bool:
        """Whether the item stored under ``item.id`` has ``item``'s title, content and STIX object
        (checked through its originator's signature; nothing is decrypted or logged as a read)."""
        with self.session(write=False) as s:
            keyring = self.vault.keyring(s.tx, s.revision)
            return self.vault.signs_payload(s.tx, keyring, item)

    def logged_refusals(self, acts: Sequence[Act]) -> list[list[tuple[str, ...]]]:
        """For each act, the reason codes of every refusal of it that the log records.

        A refused act leaves no fact in the store, only its log entry (R12); ``accord load``
        uses this to recognise a refusal it is given again. One pass over the log. The entry of
        a diplomatic event names only its agreement, so refusals of two events of one kind on
        one agreement at one instant are both reported for each."""
        from accord.crypto import canonical_json  # noqa: PLC0415
        from accord.service import journal  # noqa: PLC0415

        wanted: dict[tuple[str, str, bytes], list[int]] = {}
        found: list[list[tuple[str, ...]]] = [[] for _ in acts]
        if not acts:
            return found
        with self.session(write=False) as s:
            for n, act in enumerate(acts):
                wanted.setdefault(_entry_key(*logged_as(act, s.world), act.at), []).append(n)
            for seq, leaf, _ in s.tx.entries():
                body = journal.decode_entry(leaf, seq)
                if body.get("allowed") is not False:
                    continue
                kind, at, subject = body.get("kind"), body.get("at"), body.get("subject")
                for index in wanted.get((str(kind), str(at), canonical_json(subject)), ()):
                    found[index].append(tuple(body.get("reasons", ())))
        return found

    # --- acts -----------------------------------------------------------------------------------

    def record(self, event: AgreementEvent) -> Decision:
        """A diplomatic event; refused events change nothing (the refusal is logged)."""
        with self.session(write=True) as s:
            before = s.world.latest
            self._check_time(s, event.at, f"{event.kind} on {event.agreement}", changes_state=True)
            if isinstance(event, NoticeSuspended):
                for number, condition in enumerate(event.conditions):
                    condition.check(s.world.matters, f"conditions[{number}]")
            timeline = s.facts.timeline(event.agreement)
            decision = timeline.check(event, s.world.parties, frozenset(s.world.topics))
            if decision.allowed:
                self.record_fact(s, FactKind.NOTE, event)
                from accord.service.node_notes import queue_note  # noqa: PLC0415

                keyring = self.vault.keyring(s.tx, s.revision)
                queue_note(s.tx, keyring, s.world, event, self.instant(None))
                # work out the new state now: an end beyond the calendar refuses the event here
                s.facts.timeline(event.agreement)
            s.log(event.kind, event.at, {"agreement": event.agreement}, decision)
            if decision.allowed:
                self.reevaluate(s, before, event.at)
            return decision

    def release(self, request: ReleaseRequest, at: datetime) -> Decision:
        """Release an item if policy allows; the recipient's copy is marked per R2 and gets the
        item's data key wrapped to the recipient's own key."""
        with self.session(write=True) as s:
            at = self._check_item_time(s, request.item, at, "release")
            self.require_sound(s, *release_subjects(request))
            decision = decide_release(s.facts, request, at)
            if decision.allowed:
                self.make_release(s, request, at, decision)
            subject = {
                "item": request.item,
                "from": request.from_party,
                "to": request.to_party,
                "via": request.via,
            }
            s.log("release", at, subject, decision)
            return decision

    def make_release(
        self, s: Session, request: ReleaseRequest, at: datetime, decision: Decision
    ) -> None:
        """Record an allowed release: the new copies, each with the item's data key wrapped to
        its holder's own key, and the release itself."""
        keyring = self.vault.keyring(s.tx, s.revision)
        sender = s.world.holding(request.item, request.from_party, at)
        assert sender is not None  # policy allowed it: the sender holds a live copy
        sender = current_marking(s.facts, sender).holding
        data_key = s.data_keys.get((request.item, request.from_party))
        if data_key is None:
            data_key = self.vault.data_key(s.tx, keyring, sender)
        agreement = decision.reasons[0].agreement
        release = Release(
            at, request.item, request.from_party, request.to_party, request.via, agreement
        )
        for holding in decision.holdings:
            self.ledger.record(s.tx, keyring, s.world, FactKind.HOLDING, holding)
            self.vault.share(s.tx, keyring, data_key, holding)
            s.data_keys[holding.item, holding.party] = data_key
        self.ledger.record(s.tx, keyring, s.world, FactKind.RELEASE, release)

    def consent(self, consent: Consent) -> Decision:
        """The originator's answer on onward release (R4)."""
        return self._item_act(consent, "consent", decide_consent, FactKind.CONSENT)

    def destroy(self, act: Destruction) -> Decision:
        """Destroy a party's copy (R10): the record, and its wrapped data key deleted."""

        def shred(s: Session, done: Destruction) -> None:
            self.vault.shred(s.tx, done.item, done.party)

        return self._item_act(act, "destruction", decide_destruction, FactKind.DESTRUCTION, shred)

    def report_compromise(self, report: Compromise) -> Decision:
        """Report loss or compromise of a copy to its originator (R9)."""

        return self._item_act(report, "compromise report", decide_compromise, FactKind.COMPROMISE)

    # --- classification changes, investigations, release holds (Art. 6(g), Art. 17) ------------

    def reclassify(self, change: Reclassification) -> Decision:
        """The originator changes an item's classification from ``change.at``: every live copy is
        re-marked through the agreement it came under, and its data key rewrapped bound to the new
        marking; each new marking is in the log entry."""
        with self.session(write=True) as s:
            self._check_item_time(s, change.item, change.at, "reclassify")
            decision = decide_reclassification(s.facts, change)
            remarked: list[dict[str, object]] = []
            if decision.allowed:
                copies = _live_copies(s.world, change.item)
                before = [current_marking(s.facts, copy).holding for copy in copies]
                self.record_fact(s, FactKind.RECLASSIFICATION, change)
                keyring = self.vault.keyring(s.tx, s.revision)
                for copy, old in zip(copies, before, strict=True):
                    new = current_marking(s.facts, copy)
                    self.vault.remark(s.tx, keyring, old, new.holding)
                    remarked.append(_marking_subject(new))
            subject = {"item": change.item, "by": change.by, "copies": remarked}
            s.log(change.kind, change.at, subject, decision)
            return decision

    def record_investigation(self, event: InvestigationEvent) -> Decision:
        """A step of an investigation of a reported compromise (R9); the conclusion is sent to the
        originator (the log entry names it). One never opened is bad input."""
        with self.session(write=True) as s:
            self._check_item_time(s, event.item, event.at, event.kind)
            decision = decide_investigation(s.facts, event)
            if decision.allowed:
                self.record_fact(s, FactKind.INVESTIGATION, event)
            originator = s.world.item(event.item).originator
            subject = {"item": event.item, "party": event.party, "sent_to": originator}
            if isinstance(event, InvestigationConcluded):
                subject |= {"result": event.result.value, "measures": event.measures}
            s.log(event.kind, event.at, subject, decision)
            return decision

    def record_hold(self, event: HoldEvent) -> Decision:
        """The originator holds (or stops holding) its releases to a holder (Art. 17, R9)."""
        with self.session(write=True) as s:
            at = self._check_time(s, event.at, f"{event.kind} by {event.by}")
            decision = decide_hold(s.facts, event)
            if decision.allowed:
                self.record_fact(s, FactKind.RELEASE_HOLD, event)
            s.log(event.kind, at, {"by": event.by, "holder": event.holder}, decision)
            return decision

    def marking(self, item_id: str, party: str, at: datetime) -> Marking | None:
        """``party``'s copy of ``item_id`` as marked at ``at``; None when it holds none."""
        with self.session(write=False) as s:
            s.world.item(item_id)
            s.world.party(party)
            at = require_aware(at, "at")
            holding = s.world.holding(item_id, party, at)
            return None if holding is None else marking_at(s.facts, holding, at)

    def investigation(self, item_id: str, party: str, at: datetime) -> Investigation | None:
        with self.session(write=False) as s:
            s.world.item(item_id)
            s.world.party(party)
            return investigation(s.facts, item_id, party, require_aware(at, "at"))

    def duties(self, party: str, at: datetime) -> tuple[Duty, ...]:
        """What ``party`` owes as of ``at`` and by when."""
        with self.session(write=False) as s:
            return duties(s.facts, party, require_aware(at, "at"))

    def _item_act(
        self,
        act: ItemAct,
        what: str,
        decide: Callable[[Facts, ItemAct], Decision],
        kind: FactKind,
        then: Callable[[Session, ItemAct], None] | None = None,
    ) -> Decision:
        """Decide an act on an item at its instant; record it as a fact of ``kind`` if allowed."""
        with self.session(write=True) as s:
            self._check_item_time(s, act.item, act.at, what)
            decision = decide(s.facts, act)
            if decision.allowed:
                self.record_fact(s, kind, act)
                if then is not None:
                    then(s, act)
            subject = {"item": act.item, **_act_subject(act)}
            s.log(what.replace(" ", "-"), act.at, subject, decision)
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
        if isinstance(act, MatterState):
            return self.record_matter_state(act)
        if isinstance(act, Reclassification):
            return self.reclassify(act)
        if isinstance(act, InvestigationStarted | InvestigationConcluded):
            return self.record_investigation(act)
        if isinstance(act, ReleaseHold | ReleaseHoldLifted):
            return self.record_hold(act)
        if isinstance(act, RuleRevoked):
            from accord.service.standing import revoke  # noqa: PLC0415

            return revoke(self, act)
        return self.record(act)

    def _check_time(
        self, s: Session, at: datetime, what: str, *, changes_state: bool = False
    ) -> datetime:
        """An act's instant, in time order; the standing rules are first re-evaluated at the
        agreement state changes due by then (before ``at`` only, for an act that may itself
        change an agreement's state at ``at``: it re-evaluates after it is applied)."""
        at = require_aware(at, "at")
        s.world.check_order(at, what)
        until = at - timedelta(microseconds=1) if changes_state else at
        self.reevaluate(s, s.world.latest, until)
        return at

    def reevaluate(self, s: Session, after: datetime | None, until: datetime) -> None:
        """Re-evaluate the standing rules at each agreement state change in ``(after, until]``
        (``accord.service.standing``); nothing to do without standing rules."""
        if s.world.standing_rules:
            from accord.service.standing import reevaluate_due  # noqa: PLC0415

            reevaluate_due(self, s, after, until)

    def _check_item_time(self, s: Session, item_id: str, at: datetime, what: str) -> datetime:
        at = self._check_time(s, at, f"{what} of {item_id}")
        item = s.world.item(item_id)
        if at < item.created:
            raise InvalidInput(
                f"{what} of {item_id} at {iso(at)}: the item does not exist before {iso(item.created)}"
            )
        return at

    # --- questions ------------------------------------------------------------------------------

    def check_release(self, request: ReleaseRequest, at: datetime) -> Decision:
        with self.session(write=False) as s:
            self.require_sound(s, *release_subjects(request))
            return decide_release(s.facts, request, require_aware(at, "at"))

    def check_read(self, request: ReadRequest, at: datetime) -> Decision:
        with self.session(write=False) as s:
            self.require_sound(s, *_read_subjects(s.world, request.user, request.item))
            return decide_read(s.facts, request, require_aware(at, "at"))

    def read(self, request: ReadRequest, at: datetime) -> ReadResult:
        """The item's content, only when the read is allowed; the read is logged either way."""
        return self.read_many(request.user, [request.item], at)[0]

    def read_many(self, user_id: str, item_ids: Sequence[str], at: datetime) -> list[ReadResult]:
        """Reads of several items by one user at one instant, in one transaction and one log
        entry; each result carries the item (decrypted, its signature checked) only when its read
        is allowed."""
        at = require_aware(at, "at")
        with self.session(write=True) as s:
            results = self._read_all(s, user_id, item_ids, at)
            subject = {
                "user": user_id,
                "items": [
                    {
                        "item": item_id,
                        "allowed": r.decision.allowed,
                        "reasons": list(r.decision.codes),
                    }
                    for item_id, r in zip(item_ids, results, strict=True)
                ],
            }
            s.log("read", at, subject)
            return results

    def _read_all(
        self, s: Session, user_id: str, item_ids: Sequence[str], at: datetime
    ) -> list[ReadResult]:
        """Decide each read; open (decrypt, check) the allowed ones together."""
        results: list[ReadResult] = []
        allowed: list[tuple[int, Item, Holding]] = []
        world = s.world
        for item_id in item_ids:
            self.require_sound(s, *_read_subjects(world, user_id, item_id))
            decision = decide_read(s.facts, ReadRequest(user_id, item_id), at)
            results.append(ReadResult(decision, None))
            if not decision.allowed:
                continue
            party = world.users[user_id].party
            holding = world.holding(item_id, party, at)
            assert holding is not None
            if holding.destroyed_at is not None:  # a read as of before the copy was destroyed
                shredded = Reason(
                    Code.DESTROYED,
                    f"{party} destroyed its copy at {iso(holding.destroyed_at)};"
                    " its key is gone (R10)",
                )
                results[-1] = ReadResult(Decision(False, (shredded,)), None)
                continue
            stored = current_marking(s.facts, holding).holding  # the marking its key is bound to
            allowed.append((len(results) - 1, world.items[item_id], stored))
        if allowed:
            keyring = self.vault.keyring(s.tx, s.revision)
            opened = self.vault.open_many(s.tx, keyring, [(i, h) for _, i, h in allowed])
            for (index, _, _), item in zip(allowed, opened, strict=True):
                results[index] = ReadResult(results[index].decision, item)
        return results

    def readable(self, user_id: str, at: datetime) -> list[str]:
        with self.session(write=False) as s:
            if self._readable is None or self._readable.world is not s.world:
                from accord.policy.batch import ReadableIndex  # noqa: PLC0415

                self._readable = ReadableIndex(s.world)
            user = s.world.users.get(user_id)
            if user is not None:
                self.require_sound(s, (SubjectKind.USER, user_id), (SubjectKind.PARTY, user.party))
            found = self._readable.readable(user_id, require_aware(at, "at"))
            if user is None or not s.world.taints:
                return found
            return [i for i in found if s.world.sound(_copy_subjects(i, user.party))]

    def agreement_state(self, agreement_id: str, at: datetime) -> AgreementState:
        with self.session(write=False) as s:
            s.world.agreement(agreement_id)
            return s.facts.state(agreement_id, require_aware(at, "at"))

    def notes(self, agreement_id: str) -> dict[str, list[dict[str, object]]] | None:
        """On a node, the notes on the agreement it sent and received (``None`` elsewhere)."""
        from accord.service.node_notes import note_log  # noqa: PLC0415

        with self.session(write=False) as s:
            s.world.agreement(agreement_id)
            return note_log(s.tx, agreement_id)

    def impact(self, agreement_id: str, at: datetime) -> ImpactReport:
        with self.session(write=False) as s:
            return impact(s.facts, agreement_id, require_aware(at, "at"))

    def impact_if(
        self, agreement_id: str, matter: str, state: str, at: datetime
    ) -> ConditionalImpact:
        """What would stop if ``matter`` took ``state`` at ``at`` (nothing is recorded)."""
        with self.session(write=False) as s:
            return impact_if(s.facts, agreement_id, matter, state, require_aware(at, "at"))

    # --- the record (R12) ------------------------------------------------------------------------

    def audit_verify(
        self, verifier_key: str | None = None, *, progress: Progress | None = None
    ) -> auditor.VerifyReport:
        """Stream the log (hashes, stored subtrees, replay), check every checkpoint, compare the
        store's rows; ``progress`` hears how far it is (``service.progress``: entries, then rows)."""
        from accord.service import auditor  # noqa: PLC0415

        # not the world: the rows may no longer make one
        with self.store.transaction(write=False) as tx:
            return auditor.verify(tx, verifier_key, progress)

    def audit_prove(self, seq: int, size: int | None = None) -> dict[str, object]:
        from accord.service import auditor  # noqa: PLC0415

        with self.store.transaction(write=False) as tx:
            return auditor.prove(tx, seq, size)

    def audit_prove_many(
        self, seqs: Sequence[int], size: int | None = None
    ) -> list[dict[str, object]]:
        """Inclusion proofs of several entries in one tree, in one read of the store."""
        from accord.service import auditor  # noqa: PLC0415

        with self.store.transaction(write=False) as tx:
            return list(auditor.prove_many(tx, seqs, size))

    def audit_consistency(self, old: int, new: int | None = None) -> dict[str, object]:
        from accord.service import auditor  # noqa: PLC0415

        with self.store.transaction(write=False) as tx:
            return auditor.consistency(tx, old, new)

    def verifier_key(self) -> str:
        from accord.service import auditor  # noqa: PLC0415

        with self.store.transaction(write=False) as tx:
            return auditor.exchange_verifier_key(tx)

    def publish_checkpoint(self) -> str:
        """Publish the exchange's latest signed checkpoint (kept for parties to countersign)."""
        from accord.audit import parse_signed_checkpoint  # noqa: PLC0415
        from accord.service import journal  # noqa: PLC0415

        with self.session(write=True) as s:
            note = s.tx.meta(journal.LATEST)
            if note is None:
                raise InvalidInput("the log is empty: there is nothing to checkpoint")
            size = parse_signed_checkpoint(note).checkpoint.size
            published = s.tx.checkpoint(size)
            if published is not None:
                return published
            s.tx.publish_checkpoint(size, note)  # logged: a removed or edited one is named
            s.log("checkpoint-publish", self.instant(None), {"size": size})
            return note

    def countersign(self, size: int, party: str) -> str:
        """``party`` checks the published checkpoint at ``size`` (its signature and the root of
        the first ``size`` entries, recomputed) and adds its own signature."""
        from accord.audit import parse_signed_checkpoint  # noqa: PLC0415
        from accord.service import auditor, journal  # noqa: PLC0415

        with self.session(write=True) as s:
            s.world.party(party)
            note = s.tx.checkpoint(size)
            if note is None:
                raise InvalidInput(f"no checkpoint was published at size {size}")
            auditor.verify(s.tx)
            keyring = self.vault.keyring(s.tx, s.revision)
            signed = parse_signed_checkpoint(note).countersign(
                journal.signer_name(party), keyring.current(party).ed25519
            )
            s.tx.publish_checkpoint(size, signed.text())
            subject = {"size": size, "party": party}
            s.log("checkpoint-countersign", self.instant(None), subject)
            return signed.text()

    def snapshot(self) -> World:
        """The current world, for listings. Treat it as read-only."""
        with self.session(write=False) as s:
            return s.world


def _copy_subjects(item_id: str, party: str) -> tuple[Subject, ...]:
    return ((SubjectKind.ITEM, item_id), holding_subject(item_id, party))


def _read_subjects(world: World, user_id: str, item_id: str) -> tuple[Subject, ...]:
    """What a read rests on: the user, their party, the item and the party's copy of it."""
    user = world.users.get(user_id)
    found: tuple[Subject, ...] = ((SubjectKind.USER, user_id), (SubjectKind.ITEM, item_id))
    if user is not None:
        found += ((SubjectKind.PARTY, user.party), holding_subject(item_id, user.party))
    return found


def release_subjects(request: ReleaseRequest) -> tuple[Subject, ...]:
    """What a release rests on: the item, the parties and their copies of it."""
    parties = [request.from_party, request.to_party] + ([request.via] if request.via else [])
    found: list[Subject] = [(SubjectKind.ITEM, request.item)]
    for party in parties:
        found += [(SubjectKind.PARTY, party), holding_subject(request.item, party)]
    return tuple(found)


def _act_subject(act: Consent | Destruction | Compromise) -> dict[str, object]:
    if isinstance(act, Consent):
        return {
            "by": act.by,
            "holder": act.holder,
            "recipients": sorted(act.recipients),
            "granted": act.granted,
        }
    return {"party": act.party}


def _marking_subject(marked: Marking) -> dict[str, object]:
    copy = marked.holding
    return {
        "party": copy.party,
        "level": copy.level,
        "originator_level": copy.originator_level,
        "agreement": copy.agreement,
        "flag": marked.flag.value if marked.flag else None,
    }


def _live_copies(world: World, item_id: str) -> list[Holding]:
    """Every party's live copy of ``item_id`` (those whose key is in the store), by party."""
    found = []
    for party in sorted(world.parties):
        copies = world.holdings.get((item_id, party))
        if copies and copies[-1].destroyed_at is None:
            found.append(copies[-1])
    return found


def logged_as(act: Act, world: World) -> tuple[str, dict[str, object]]:
    """The kind and subject of a refused act's log entry, as ``Exchange.apply`` writes them."""
    if isinstance(act, Release):
        return "release", {
            "item": act.item,
            "from": act.from_party,
            "to": act.to_party,
            "via": act.via,
        }
    if isinstance(act, Consent):
        return "consent", {"item": act.item, **_act_subject(act)}
    if isinstance(act, Destruction):
        return "destruction", {"item": act.item, **_act_subject(act)}
    if isinstance(act, Compromise):
        return "compromise-report", {"item": act.item, **_act_subject(act)}
    if isinstance(act, MatterState):
        return act.kind, {"matter": act.matter, "state": act.state, "by": act.by}
    if isinstance(act, Reclassification):  # a refusal re-marks no copy
        return act.kind, {"item": act.item, "by": act.by, "copies": []}
    if isinstance(act, InvestigationStarted | InvestigationConcluded):
        item = world.items.get(act.item)
        subject: dict[str, object] = {
            "item": act.item,
            "party": act.party,
            "sent_to": item.originator if item is not None else None,
        }
        if isinstance(act, InvestigationConcluded):
            subject |= {"result": act.result.value, "measures": act.measures}
        return act.kind, subject
    if isinstance(act, ReleaseHold | ReleaseHoldLifted):
        return act.kind, {"by": act.by, "holder": act.holder}
    if isinstance(act, RuleRevoked):
        return "rule-revoked", {"rule": act.rule, "by": act.by}
    return act.kind, {"agreement": act.agreement}


def _entry_key(kind: str, subject: Mapping[str, object], at: datetime) -> tuple[str, str, bytes]:
    from accord.crypto import canonical_json  # noqa: PLC0415

    return kind, iso(at), canonical_json(dict(subject))


def _live_copy(world: World, item_id: str, party: str) -> Holding:
    """``party``'s copy of an item that is not destroyed (the one whose key is in the store)."""
    for copy in reversed(world.holdings.get((item_id, party), [])):
        if copy.destroyed_at is None:
            return copy
    raise InvalidInput(f"{party} holds no live copy of {item_id}")
