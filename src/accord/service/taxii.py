"""What the TAXII API needs from an exchange: each party's collection as a date-added ordered
index held in memory, reads filtered by the read decision, ingest of new items, releases and
destructions, and status resources.

Built on ``Exchange`` by composition. Content always comes through ``Exchange.read_many``; the
world gives only metadata (ids, levels, holdings) for listing and filtering. A page costs
O(limit) index steps plus the items skipped because the user may not read them — never
O(collection).
"""

from __future__ import annotations

import functools
import uuid
from bisect import bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from accord.errors import AccordError, Busy, InvalidInput
from accord.model.acts import Destruction
from accord.model.item import Holding, Item
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import parse_stix_time, stix_time
from accord.model.world import World
from accord.policy.marking import classified, marking
from accord.policy.read import decide_read
from accord.policy.release import decide_release
from accord.scenario import launch_stix
from accord.service.exchange import Exchange
from accord.store import taxii as store

# Every id accord derives (items without a STIX object, markings, identities, collections)
# is a uuid5 in this namespace, so it is the same in every process and after every restart.
STIX_NAMESPACE = uuid.UUID("6f1e6c1a-4b3e-5d0a-9c55-acc0de2a0001")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOP = "\U0010ffff"


@functools.lru_cache(maxsize=65_536)
def derived_id(kind: str, name: str) -> str:
    """``kind--uuid``: a uuid5 digest of the name with the version nibble set to 4, since STIX
    asks for UUIDv4 on SDOs; deterministic all the same."""
    digest = uuid.uuid5(STIX_NAMESPACE, f"{kind}/{name}")
    return f"{kind}--{uuid.UUID(bytes=digest.bytes, version=4)}"


def derived_stix_id(item_id: str) -> str:
    """The STIX id of an item that has no STIX object (served as a ``report``)."""
    return derived_id("report", item_id)


def micros(instant: datetime) -> int:
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """The STIX identity of an item: what listing and filtering need, without content."""

    item: str
    stix_id: str
    stix_type: str
    version: str  # the STIX ``modified`` (or ``created``) as written
    version_us: int
    spec_version: str
    derived: bool  # served as a report built from the item's metadata and content


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    """TAXII's ``match[...]`` and ``added_after`` filters."""

    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: frozenset[str] = frozenset({"last"})  # "first", "last", "all" or timestamps
    version_us: frozenset[int] = frozenset()
    spec_versions: frozenset[str] | None = None
    added_after_us: int | None = None

    def matches(self, meta: ObjectMeta) -> bool:
        if self.types is not None and meta.stix_type not in self.types:
            return False
        if self.ids is not None and meta.stix_id not in self.ids:
            return False
        return self.spec_versions is None or meta.spec_version in self.spec_versions


@dataclass(frozen=True, slots=True)
class Hit:
    """One object of a party's collection that the user may read at the request instant."""

    date_added: datetime
    meta: ObjectMeta
    holding: Holding  # marked as at the request instant (a reclassification re-marks it, R2)
    item: Item | None = None  # content, when it was asked for
    releasable_to: frozenset[str] | None = None  # the item's REL TO at the request instant


@dataclass(frozen=True, slots=True)
class Page:
    hits: list[Hit]
    more: bool
    last: tuple[int, str] | None  # the index key of the last hit, for the next cursor


@dataclass(frozen=True, slots=True)
class NewObject:
    """A STIX object posted to its poster's own collection, already parsed by the codec."""

    stix_id: str
    stix_type: str
    version: str
    version_us: int
    spec_version: str
    level: str
    topics: frozenset[str]
    releasable_to: frozenset[str]
    title: str
    stix: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An object named in an envelope posted for release: its id and, if given, its version."""

    stix_id: str
    version: str
    version_us: int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One object's success or failure, with its reason codes."""

    stix_id: str
    version: str
    ok: bool
    codes: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a live-feed delivery needs: each item's STIX id, the readable objects as an objects
    GET serves them, and the read's reason codes for those it may not read."""

    stix_ids: dict[str, str]
    hits: dict[str, Hit]
    withheld: dict[str, tuple[str, ...]]


NOT_STORED = "envelope-rejected"


@dataclass
class _PartyIndex:
    keys: list[tuple[int, str]] = field(default_factory=list)
    date_added: dict[str, int] = field(default_factory=dict)
    by_stix: dict[str, list[str]] = field(default_factory=dict)
    consumed: int = 0


class _Rollback(Exception):
    """Raised inside a batch to undo it; carries the outcomes to answer with."""

    def __init__(self, outcomes: list[Outcome] | None = None) -> None:
        super().__init__("rolled back")
        self.outcomes = outcomes or []


class TaxiiService:
    """TAXII operations over an exchange. Not thread-safe: the API calls it from one thread."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self._world: World | None = None
        self._meta: dict[str, ObjectMeta] = {}
        self._indexes: dict[str, _PartyIndex] = {}

    # --- the in-memory index ----------------------------------------------------------------

    def _sync(self, s: Any) -> World:
        world: World = s.world
        if world is not self._world:  # reloaded (another process wrote, or a rollback)
            self._world = world
            self._indexes = {}
            self._meta = {}
            for row in store.objects(s.tx):
                stamp = parse_stix_time(row.version)
                self._meta[row.item] = ObjectMeta(
                    row.item,
                    row.stix_id,
                    row.stix_type,
                    row.version,
                    micros(stamp) if stamp else 0,
                    row.spec_version,
                    False,
                )
        return world

    def _meta_of(self, world: World, item_id: str) -> ObjectMeta:
        meta = self._meta.get(item_id)
        if meta is None:
            created = world.items[item_id].created
            meta = ObjectMeta(
                item_id,
                derived_stix_id(item_id),
                "report",
                stix_time(created),
                micros(created),
                "2.1",
                True,
            )
            self._meta[item_id] = meta
        return meta

    def _index(self, world: World, party: str) -> _PartyIndex:
        index = self._indexes.setdefault(party, _PartyIndex())
        held = world.items_held_by.get(party, [])
        if index.consumed < len(held):
            for item_id in held[index.consumed :]:
                added = micros(world.holdings[(item_id, party)][0].received_at)
                key = (added, item_id)
                if not index.keys or index.keys[-1] <= key:
                    index.keys.append(key)
                else:
                    insort(index.keys, key)
                index.date_added[item_id] = added
                index.by_stix.setdefault(self._meta_of(world, item_id).stix_id, []).append(item_id)
            index.consumed = len(held)
        return index

    # --- reads ------------------------------------------------------------------------------

    def page(
        self,
        user: str,
        party: str,
        flt: ObjectFilter,
        at: datetime,
        after: tuple[int, str] | None,
        limit: int,
        *,
        content: bool,
    ) -> Page:
        """Up to ``limit`` objects of ``party``'s collection that ``user`` may read at ``at``,
        in date-added order after the key ``after``; ``more`` looks one readable object ahead.

        Every page is one log entry, allowed or not: the objects served and the copies the scan
        passed over because the user may not read them, with the reasons. A page with content
        is a ``read`` (the served copies were opened); a page without (a manifest, a version
        list) is a ``metadata-read``. A page that finds nothing is an entry too (with no
        items), so a missing object costs the same write as an unreadable one."""
        denied: list[str] = []
        # one transaction for the scan and the reads (and their log entry)
        with self.exchange.batch():
            with self.exchange.session(write=False) as s:
                hits = list(self._scan(s, user, party, flt, at, after, limit + 1, denied))
            more = len(hits) > limit
            hits = hits[:limit]
            last = (micros(hits[-1].date_added), hits[-1].meta.item) if hits else None
            if content:
                wanted = [h.meta.item for h in hits] + denied
                results = self.exchange.read_many(user, wanted, at)
                hits = [
                    Hit(h.date_added, h.meta, h.holding, r.item, h.releasable_to)
                    for h, r in zip(hits, results[: len(hits)], strict=True)
                    if r.item is not None
                ]
            else:
                self._log_listing(user, [h.meta.item for h in hits], denied, at)
        return Page(hits, more, last)

    def _log_listing(self, user: str, listed: list[str], denied: list[str], at: datetime) -> None:
        """A page of metadata as one log entry, in the read entry's shape."""
        with self.exchange.session(write=True) as s:
            items: list[dict[str, object]] = [
                {"item": item_id, "allowed": True, "reasons": []} for item_id in listed
            ]
            for item_id in denied:
                decision = decide_read(s.facts, ReadRequest(user, item_id), at)
                items.append(
                    {"item": item_id, "allowed": decision.allowed, "reasons": list(decision.codes)}
                )
            s.log("metadata-read", at, {"user": user, "items": items})

    def _candidates(
        self, index: _PartyIndex, flt: ObjectFilter, at_us: int, after: tuple[int, str] | None
    ) -> Iterator[tuple[int, str]]:
        if flt.ids is not None:
            keys = sorted(
                (index.date_added[i], i) for sid in flt.ids for i in index.by_stix.get(sid, ())
            )
            start = bisect_right(keys, after) if after is not None else 0
        else:
            keys = index.keys
            start = bisect_right(keys, after) if after is not None else 0
        if flt.added_after_us is not None:
            start = max(start, bisect_right(keys, (flt.added_after_us, _TOP)))
        end = bisect_right(keys, (at_us, _TOP))
        for position in range(start, end):
            yield keys[position]

    def _scan(
        self,
        s: Any,
        user: str,
        party: str,
        flt: ObjectFilter,
        at: datetime,
        after: tuple[int, str] | None,
        want: int,
        denied: list[str] | None = None,
    ) -> Iterator[Hit]:
        world = self._sync(s)
        index = self._index(world, party)
        at_us = micros(at)
        facts = s.facts
        found = 0
        decided: dict[str, bool] = {}
        chains: dict[str, list[str]] = {}  # the versions served, per STIX id

        def readable(item_id: str) -> bool:
            allowed = decided.get(item_id)
            if allowed is None:
                allowed = decide_read(facts, ReadRequest(user, item_id), at).allowed
                decided[item_id] = allowed
            return allowed

        for added, item_id in self._candidates(index, flt, at_us, after):
            meta = self._meta_of(world, item_id)
            if not flt.matches(meta):
                continue
            if not readable(item_id):
                if denied is not None:
                    denied.append(item_id)
                continue
            chain = chains.get(meta.stix_id)
            if chain is None:
                chain = chains[meta.stix_id] = _chain(s, world, index, meta, at_us, readable)
            if not self._version_selected(world, meta, chain, flt):
                continue
            holding = world.holding(item_id, party, at)
            if holding is None:  # pragma: no cover - readable implies held
                continue
            marked = marking(facts, holding, at).holding
            releasable = classified(facts, world.items[item_id], at).releasable_to
            yield Hit(from_micros(added), meta, marked, releasable_to=releasable)
            found += 1
            if found >= want:
                return

    def _version_selected(
        self, world: World, meta: ObjectMeta, chain: list[str], flt: ObjectFilter
    ) -> bool:
        if meta.item not in chain:  # another party's object under the same id
            return False
        if "all" in flt.versions or meta.version_us in flt.version_us:
            return True
        if not ({"first", "last"} & flt.versions):
            return False
        if len(chain) == 1:
            return True
        visible = [self._meta_of(world, i).version_us for i in chain]
        return ("last" in flt.versions and meta.version_us == max(visible)) or (
            "first" in flt.versions and meta.version_us == min(visible)
        )

    def delivery(
        self, user_id: str, items: Sequence[str], wanted: Sequence[str], at: datetime
    ) -> Delivery:
        """The STIX id of each of ``items``, and each of ``wanted`` as an objects GET by the
        user at ``at`` would serve it (marked as at ``at``), decided by the same read decision
        and logged as one read of them all."""
        with self.exchange.batch() if wanted else nullcontext():
            with self.exchange.session(write=False) as s:
                world = self._sync(s)
                stix_ids = {i: self._meta_of(world, i).stix_id for i in items}
            results = self.exchange.read_many(user_id, wanted, at) if wanted else []
            hits: dict[str, Hit] = {}
            withheld: dict[str, tuple[str, ...]] = {}
            with self.exchange.session(write=False) as s:
                world, facts = s.world, s.facts
                party = world.users[user_id].party
                for item_id, result in zip(wanted, results, strict=True):
                    holding = world.holding(item_id, party, at)
                    if result.item is None or holding is None:
                        withheld[item_id] = result.decision.codes
                        continue
                    added = world.holdings[(item_id, party)][0].received_at
                    marked = marking(facts, holding, at).holding
                    releasable = classified(facts, world.items[item_id], at).releasable_to
                    meta = self._meta_of(world, item_id)
                    hits[item_id] = Hit(added, meta, marked, result.item, releasable)
        return Delivery(stix_ids, hits, withheld)

    # --- ingest -----------------------------------------------------------------------------

    def add_objects(
        self, user_id: str, entries: Sequence[NewObject | Outcome], at: datetime | None
    ) -> tuple[bool, list[Outcome]]:
        """Create items originated by the user's party, all or nothing; ``entries`` may carry
        the codec's rejections. Returns (stored, one outcome per entry).

        ``at`` None is a live post: its instant is read from the clock inside the store's write
        lock, after every act another process committed, so it is never out of order because
        another writer went first. A ``Busy`` store propagates (the post may be retried)."""
        outcomes: list[Outcome] | None = None
        try:
            with self.exchange.batch():
                at = self.exchange.instant(at)
                with self.exchange.session(write=True) as s:
                    world = self._sync(s)
                    user = world.user(user_id)
                    outcomes, new = self._check_new(world, user.party, user_id, entries, at)
                    if not all(o.ok for o in outcomes):
                        raise _Rollback(_rejected(outcomes))
                    if not new:  # all already there: logged, a write like any creation
                        objects = [[o.stix_id, o.version] for o in outcomes]
                        subject = {"user": user_id, "objects": objects}
                        s.log("taxii-repost", at, subject)
                        return True, outcomes
                    items = [_new_item(user.party, n, at) for n in new]
                    self.exchange.add_items(items)
                    store.add_objects(
                        s.tx, [_object_row(i, n) for i, n in zip(items, new, strict=True)]
                    )
        except _Rollback as rollback:
            return False, rollback.outcomes
        except Busy:
            raise
        except AccordError as error:
            if outcomes is None:  # refused before any object was decided (an unknown user)
                raise
            failed = [
                Outcome(
                    o.stix_id, o.version, False, (error.code,), "the store refused the envelope"
                )
                for o in outcomes
            ]
            return False, failed
        for item, n in zip(items, new, strict=True):
            self._meta[item.id] = ObjectMeta(
                item.id, n.stix_id, n.stix_type, n.version, n.version_us, n.spec_version, False
            )
        return True, outcomes

    def _check_new(
        self,
        world: World,
        party_code: str,
        user_id: str,
        entries: Sequence[NewObject | Outcome],
        at: datetime,
    ) -> tuple[list[Outcome], list[NewObject]]:
        user = world.users[user_id]
        party = world.parties[party_code]
        late = world.latest is not None and at < world.latest
        outcomes: list[Outcome] = []
        new: list[NewObject] = []
        seen: set[str] = set()
        for entry in entries:
            if isinstance(entry, Outcome):
                outcomes.append(entry)
                continue
            item_id = _item_id(party_code, entry.stix_id, entry.version)
            codes: list[str] = []
            if late:
                codes.append("out-of-order")
            if len(item_id) > 200:
                codes.append("id-too-long")
            if not party.has_level(entry.level):
                codes.append("unknown-level")
            elif party.rank(entry.level) > party.rank(user.clearance):
                codes.append("above-clearance")
            if not entry.topics:
                codes.append("missing-topics")
            elif not entry.topics <= world.topics:
                codes.append("unknown-topic")
            elif not entry.topics <= user.need_to_know:
                codes.append("no-need-to-know")
            # a launch-event is checked against its definition (accord.scenario.launch_stix)
            codes += launch_stix.reason_codes(entry.stix_type, entry.stix)
            if codes:
                outcomes.append(Outcome(entry.stix_id, entry.version, False, tuple(codes), ""))
                continue
            # the same answer whether the id and version exist (perhaps unreadable by this user)
            # or not: a retry of one's own post is answered as the first post was
            outcomes.append(Outcome(entry.stix_id, entry.version, True, ("created",), ""))
            if item_id in world.items or item_id in seen:
                continue
            seen.add(item_id)
            new.append(entry)
        return outcomes, new

    # --- releases ---------------------------------------------------------------------------

    def release_objects(
        self,
        user_id: str,
        to_party: str,
        via: str | None,
        refs: Sequence[ObjectRef | Outcome],
        at: datetime | None,
    ) -> tuple[bool, list[Outcome]]:
        """Release the named objects from the user's party to ``to_party`` (through ``via``),
        each through the full release decision at ``at``; all or nothing. ``at`` None is live:
        read from the clock inside the store's write lock (see ``add_objects``)."""
        outcomes: list[Outcome] | None = None
        try:
            with self.exchange.batch():
                at = self.exchange.instant(at)
                with self.exchange.session(write=True) as s:
                    outcomes, requests = self._check_releases(s, user_id, to_party, via, refs, at)
                if not all(o.ok for o in outcomes):
                    raise _Rollback(_rejected(outcomes))
                for request in requests:
                    if not self.exchange.release(request, at).allowed:
                        raise _Rollback(_not_stored(outcomes))
        except _Rollback as rollback:
            return False, rollback.outcomes
        except Busy:
            raise
        except AccordError:
            if outcomes is None:  # an unknown user or party: nothing was decided
                raise
            return False, _not_stored(outcomes)
        return True, outcomes

    def _check_releases(
        self,
        s: Any,
        user_id: str,
        to_party: str,
        via: str | None,
        refs: Sequence[ObjectRef | Outcome],
        at: datetime,
    ) -> tuple[list[Outcome], list[ReleaseRequest]]:
        outcomes: list[Outcome] = []
        requests: list[ReleaseRequest] = []
        world = self._sync(s)
        user = world.user(user_id)
        world.party(to_party)
        if via is not None:
            world.party(via)
        late = world.latest is not None and at < world.latest
        seen: set[str] = set()
        for ref in refs:
            if isinstance(ref, Outcome):
                outcomes.append(ref)
                continue
            outcome, wanted = self._check_release(
                s, user_id, user.party, to_party, via, ref, at, seen
            )
            if late:
                outcome = Outcome(
                    outcome.stix_id, outcome.version, False, (*outcome.codes, "out-of-order"), ""
                )
            outcomes.append(outcome)
            requests += wanted
        return outcomes, requests

    def _check_release(
        self,
        s: Any,
        user_id: str,
        party: str,
        to_party: str,
        via: str | None,
        ref: ObjectRef,
        at: datetime,
        seen: set[str],
    ) -> tuple[Outcome, list[ReleaseRequest]]:
        items = self._resolve(s, user_id, party, ref, at)
        if not items:
            return _not_found(ref), []
        codes: list[str] = []
        ok = True
        requests = []
        for item_id in items:
            if item_id in seen:
                continue
            seen.add(item_id)
            request = ReleaseRequest(item_id, party, to_party, via)
            decision = decide_release(s.facts, request, at)
            codes += [r.code.value for r in decision.reasons]
            ok = ok and decision.allowed
            requests.append(request)
        return Outcome(ref.stix_id, ref.version, ok, tuple(dict.fromkeys(codes)), ""), requests

    def _resolve(self, s: Any, user_id: str, party: str, ref: ObjectRef, at: datetime) -> list[str]:
        versions = frozenset({"all"}) if ref.version_us is None else frozenset()
        flt = ObjectFilter(
            ids=frozenset({ref.stix_id}),
            versions=versions,
            version_us=frozenset() if ref.version_us is None else frozenset({ref.version_us}),
        )
        return [h.meta.item for h in self._scan(s, user_id, party, flt, at, None, 1_000)]

    # --- destruction ------------------------------------------------------------------------

    def destroy_objects(
        self, user_id: str, party: str, flt: ObjectFilter, at: datetime | None
    ) -> int:
        """Destroy the party's copies of the matching objects the user may read (R10); the
        number destroyed (0: nothing the user may see matched). ``at`` None is live: read
        from the clock inside the store's write lock (see ``add_objects``)."""
        with self.exchange.batch():
            at = self.exchange.instant(at)
            with self.exchange.session(write=True) as s:
                items = [h.meta.item for h in self._scan(s, user_id, party, flt, at, None, 10_000)]
                world = self._sync(s)
                if items and world.latest is not None and at < world.latest:
                    raise InvalidInput("the exchange's record is later than this server's instant")
            for item_id in items:
                decision = self.exchange.destroy(Destruction(at, item_id, party))
                if not decision.allowed:
                    raise InvalidInput("the copy could not be destroyed")
        return len(items)

    # --- status resources -------------------------------------------------------------------

    def save_status(self, status_id: str, user_id: str, at: datetime, body: dict[str, Any]) -> None:
        with self.exchange.store_tx() as tx:
            store.add_status(tx, status_id, user_id, at, body)

    def status(self, status_id: str, user_id: str) -> dict[str, Any] | None:
        """A status resource, only for the user who made it."""
        with self.exchange.store_tx() as tx:
            found = store.status(tx, status_id)
        if found is None or found[0] != user_id:
            return None
        body: dict[str, Any] = found[1]
        return body

    def parties(self) -> Iterable[str]:
        return list(self.exchange.snapshot().parties)


def _chain(
    s: Any,
    world: World,
    index: _PartyIndex,
    meta: ObjectMeta,
    at_us: int,
    readable: Callable[[str], bool],
) -> list[str]:
    """The versions of one STIX id a reader is served: of the copies held at ``at_us`` that the
    reader may read, those made by the party that made the first of them. Only an object's
    originator makes its versions; a party that posts an object under an id another party
    made holds an object of its own, which never becomes a version of the other's. Chosen
    among the readable copies only, so that what a reader gets never depends on a copy the
    reader may not see. "First" is by the instant each was made, then (two made at one
    instant, as under a frozen clock) by the order the store wrote them."""
    siblings = index.by_stix.get(meta.stix_id, [])
    if len(siblings) == 1:
        return list(siblings)
    visible = [i for i in siblings if index.date_added[i] <= at_us and readable(i)]
    makers = {world.items[i].originator for i in visible}
    if len(makers) < 2:
        return visible
    order = store.made_order(s.tx, visible)
    first = min(visible, key=lambda i: (world.items[i].created, order.get(i, 0)))
    return [i for i in visible if world.items[i].originator == world.items[first].originator]


def _item_id(party: str, stix_id: str, version: str) -> str:
    return f"{party}~{stix_id}~{version}"


def _new_item(party: str, n: NewObject, at: datetime) -> Item:
    return Item(
        _item_id(party, n.stix_id, n.version),
        party,
        n.level,
        n.topics,
        n.releasable_to,
        at,
        n.title,
        "",
        n.stix,
    )


def _object_row(item: Item, n: NewObject) -> store.ObjectRow:
    return store.ObjectRow(item.id, n.stix_id, n.stix_type, n.version, n.spec_version)


def _not_stored(outcomes: list[Outcome]) -> list[Outcome]:
    return [Outcome(o.stix_id, o.version, False, (NOT_STORED,), "") for o in outcomes]


def _not_found(ref: ObjectRef) -> Outcome:
    return Outcome(ref.stix_id, ref.version, False, ("not-found",), "")


def _rejected(outcomes: list[Outcome]) -> list[Outcome]:
    """Every outcome of a rejected envelope is a failure: nothing was stored."""
    return [
        o if not o.ok else Outcome(o.stix_id, o.version, False, (*o.codes, NOT_STORED), "")
        for o in outcomes
    ]
