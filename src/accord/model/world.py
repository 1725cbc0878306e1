"""The exchange's facts in memory: everything policy needs to decide, indexed for it.

A ``World`` only checks that references resolve and ids are unique; whether an act is allowed
is for ``accord.policy``. Every act carries its instant, so the world is a history: a question
at instant ``t`` looks only at what happened at or before ``t``.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from accord.errors import DuplicateId, IntegrityError, InvalidInput, OutOfOrder, UnknownReference
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import (
    Agreement,
    AgreementEvent,
    Amendment,
    AmendmentProposed,
    NoticeSuspended,
)
from accord.model.classification import Reclassification
from accord.model.investigation import HoldEvent, InvestigationEvent
from accord.model.item import Holding, Item
from accord.model.matters import Matter, MatterState
from accord.model.party import Party
from accord.model.rules import RuleRevoked, StandingConsent, StandingRule
from accord.model.taint import WHOLE_WORLD, Subject, describe
from accord.model.time import iso
from accord.model.user import User


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    at: datetime
    granted: bool


@dataclass
class World:
    topics: set[str] = field(default_factory=set)
    parties: dict[str, Party] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    agreement_events: dict[str, list[AgreementEvent]] = field(default_factory=dict)
    agreements_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    users: dict[str, User] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    holdings: dict[tuple[str, str], list[Holding]] = field(default_factory=dict)
    items_held_by: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    consents: dict[tuple[str, str, str], list[ConsentRecord]] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    destructions: list[Destruction] = field(default_factory=list)
    compromises: list[Compromise] = field(default_factory=list)
    matters: dict[str, Matter] = field(default_factory=dict)
    matter_states: list[MatterState] = field(default_factory=list)  # every matter, in time order
    # Art. 6(g) and Art. 17: classification changes by item, investigation steps, release holds
    reclassifications: dict[str, list[Reclassification]] = field(default_factory=dict)
    investigation_events: dict[tuple[str, str], list[InvestigationEvent]] = field(
        default_factory=dict
    )
    release_holds: dict[tuple[str, str], list[HoldEvent]] = field(default_factory=dict)
    # standing rules and consents by id, and the instant each was revoked from
    standing_rules: dict[str, StandingRule] = field(default_factory=dict)
    standing_consents: dict[str, StandingConsent] = field(default_factory=dict)
    revoked: dict[str, datetime] = field(default_factory=dict)
    article_facts: int = 0  # how many reclassifications and hold events there are
    latest: datetime | None = None
    revision: int = 0
    # what facts that failed their check (left out of the world) were about, with why
    taints: dict[Subject, str] = field(default_factory=dict)
    # agreement ids shared by two parties, sorted; cleared when membership changes
    _between: dict[tuple[str, str], tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # --- lookups -------------------------------------------------------------------------------

    def party(self, code: str) -> Party:
        party = self.parties.get(code)
        if party is None:
            raise UnknownReference(f"unknown party {code!r}")
        return party

    def agreement(self, agreement_id: str) -> Agreement:
        agreement = self.agreements.get(agreement_id)
        if agreement is None:
            raise UnknownReference(f"unknown agreement {agreement_id!r}")
        return agreement

    def user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise UnknownReference(f"unknown user {user_id!r}")
        return user

    def item(self, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise UnknownReference(f"unknown item {item_id!r}")
        return item

    def holding(self, item_id: str, party: str, at: datetime) -> Holding | None:
        """The copy of ``item_id`` that ``party`` received most recently at or before ``at``."""
        copies = self.holdings.get((item_id, party))
        if not copies:
            return None
        last = copies[-1]
        if last.received_at <= at:  # the common case: one copy, received before ``at``
            return last
        for copy in reversed(copies):
            if copy.received_at <= at:
                return copy
        return None

    def consent_at(self, item_id: str, holder: str, recipient: str, at: datetime) -> bool | None:
        """The originator's latest answer at or before ``at``: True, False, or None if none."""
        records = self.consents.get((item_id, holder, recipient))
        if not records:
            return None
        answer: bool | None = None
        for record in records:
            if record.at > at:
                break
            answer = record.granted
        return answer

    def item_consent_at(
        self, item_id: str, holder: str, recipient: str, at: datetime
    ) -> bool | None:
        """The originator's answer at ``at``: its answer on the item if it gave one, otherwise
        True if a standing consent in force covers the item (topics and level), else None."""
        answer = self.consent_at(item_id, holder, recipient, at)
        if answer is not None or not self.standing_consents:
            return answer
        return True if self.standing_consent_for(item_id, holder, recipient, at) else None

    def standing_consent_for(
        self, item_id: str, holder: str, recipient: str, at: datetime
    ) -> StandingConsent | None:
        """The first standing consent (by id) letting ``holder`` pass the item to ``recipient``."""
        item = self.items.get(item_id)
        if item is None:
            return None
        for consent_id in sorted(self.standing_consents):
            consent = self.standing_consents[consent_id]
            if (
                consent.by == item.originator
                and consent.holder == holder
                and recipient in consent.recipients
                and item.topics <= consent.topics
                and self.within_level(item.originator, item.level, consent.max_level)
                and self.standing_at(consent_id, consent.window.covers(at), at)
            ):
                return consent
        return None

    def within_level(self, party: str, level: str, highest: str) -> bool:
        scheme = self.parties[party]
        return scheme.rank(level) <= scheme.rank(highest)

    def standing_at(self, rule_id: str, in_window: bool, at: datetime) -> bool:
        """A standing rule or consent applies at ``at``: in its window and not yet revoked."""
        revoked = self.revoked.get(rule_id)
        return in_window and (revoked is None or at < revoked)

    def agreements_between(self, a: str, b: str) -> tuple[str, ...]:
        """Agreements that have ever had both parties as members, hub-less ones first, then by
        id; cached until an agreement or a membership changes."""
        ids = self._between.get((a, b))
        if ids is None:
            shared = self.agreements_of.get(a, set()) & self.agreements_of.get(b, set())
            # agreements without a hub first: a direct flow is recorded under the pair's own
            # agreement rather than under an arrangement that happens to include the hub
            ids = tuple(sorted(shared, key=lambda i: (self.agreements[i].hub is not None, i)))
            self._between[(a, b)] = ids
        return ids

    # --- facts that failed their check -------------------------------------------------------

    def taint(self, subjects: Iterable[Subject], reason: str) -> None:
        """Record that a fact about ``subjects`` failed its check and was left out."""
        for subject in subjects:
            self.taints.setdefault(subject, reason)
        self.revision += 1

    def check_sound(self, subjects: Iterable[Subject]) -> None:
        """``IntegrityError`` when the record as a whole, or one of ``subjects``, rests on a fact
        that failed its check: an act that needs it is refused."""
        if not self.taints:
            return
        for subject in (WHOLE_WORLD, *subjects):
            reason = self.taints.get(subject)
            if reason is not None:
                raise IntegrityError(
                    f"{describe(subject)} rests on a fact that fails its check ({reason})"
                )

    def sound(self, subjects: Iterable[Subject]) -> bool:
        return not self.taints or not any(s in self.taints for s in (WHOLE_WORLD, *subjects))

    # --- additions -----------------------------------------------------------------------------

    def _touch(self, at: datetime | None = None) -> None:
        self.revision += 1
        if at is not None and (self.latest is None or at > self.latest):
            self.latest = at

    def check_order(self, at: datetime, what: str) -> None:
        """Acts are recorded in time order; refuse one dated before the latest recorded act."""
        if self.latest is not None and at < self.latest:
            raise OutOfOrder(
                f"{what} at {iso(at)} is earlier than the latest recorded act ({iso(self.latest)});"
                " the record is append-only in time"
            )

    def add_topic(self, topic: str) -> None:
        if not topic or topic != topic.strip():
            raise InvalidInput(
                f"topic {topic!r} must be a non-empty name without surrounding spaces"
            )
        if topic in self.topics:
            raise DuplicateId(f"topic {topic!r} is already defined")
        self.topics.add(topic)
        self._touch()

    def add_party(self, party: Party) -> None:
        if party.code in self.parties:
            raise DuplicateId(f"party {party.code} is already defined")
        self.parties[party.code] = party
        self._touch()

    def add_agreement(self, agreement: Agreement) -> None:
        if agreement.id in self.agreements:
            raise DuplicateId(f"agreement {agreement.id} is already defined")
        agreement.validate(self.parties, frozenset(self.topics))
        self.agreements[agreement.id] = agreement
        self.agreement_events[agreement.id] = []
        for party in agreement.terms.parties:
            self.agreements_of[party].add(agreement.id)
        self._between.clear()
        self._touch()

    def add_agreement_event(self, event: AgreementEvent) -> None:
        self.agreement(event.agreement)
        if isinstance(event, NoticeSuspended):
            for number, condition in enumerate(event.conditions):
                condition.check(
                    self.matters, f"notice_suspended on {event.agreement}: conditions[{number}]"
                )
        self.agreement_events[event.agreement].append(event)
        if isinstance(event, Amendment | AmendmentProposed):
            for party in event.changes.get("parties", frozenset()):  # type: ignore[attr-defined]
                self.agreements_of[party].add(event.agreement)
            self._between.clear()
        self._touch(event.at)

    # --- matters (R15) ----------------------------------------------------------------------------

    def matter(self, matter_id: str) -> Matter:
        matter = self.matters.get(matter_id)
        if matter is None:
            known = ", ".join(sorted(self.matters)) or "none defined"
            raise UnknownReference(f"unknown matter {matter_id!r} (matters: {known})")
        return matter

    def add_matter(self, matter: Matter) -> None:
        if matter.id in self.matters:
            raise DuplicateId(f"matter {matter.id} is already defined")
        self.matters[matter.id] = matter
        self._touch()

    def check_matter_state(self, fact: MatterState) -> None:
        """The matter exists, defines the state, and the recording party exists."""
        self.matter(fact.matter).check_state(fact.state, f"matter_state of {fact.matter}: state")
        self.party(fact.by)

    def add_matter_state(self, fact: MatterState) -> None:
        self.check_matter_state(fact)
        self.matter_states.append(fact)
        self._touch(fact.at)

    def matter_state_at(self, matter_id: str, at: datetime) -> tuple[str, MatterState | None]:
        """The matter's state at ``at`` and the fact that set it (None: its initial state)."""
        matter = self.matter(matter_id)
        last: MatterState | None = None
        for fact in self.matter_states:
            if fact.at > at:
                break
            if fact.matter == matter_id:
                last = fact
        return (matter.initial, None) if last is None else (last.state, last)

    def add_user(self, user: User) -> None:
        if user.id in self.users:
            raise DuplicateId(f"user {user.id} is already defined")
        party = self.party(user.party)
        party.rank(user.clearance)
        self._check_topics(user.need_to_know, f"user {user.id}: need_to_know")
        self.users[user.id] = user
        self._touch()

    def add_item(self, item: Item) -> None:
        if item.id in self.items:
            raise DuplicateId(f"item {item.id} is already defined")
        originator = self.party(item.originator)
        originator.rank(item.level)
        if not item.topics:
            raise InvalidInput(f"item {item.id}: topics must name at least one topic")
        self._check_topics(item.topics, f"item {item.id}: topics")
        for code in sorted(item.releasable_to):
            self.party(code)
        self.items[item.id] = item
        own = Holding(
            item.id, item.originator, item.level, item.originator, item.level, item.created
        )
        self.add_holding(own)

    def add_holding(self, holding: Holding) -> None:
        key = (holding.item, holding.party)
        copies = self.holdings.setdefault(key, [])
        if not copies:
            self.items_held_by[holding.party].append(holding.item)
        insort(copies, holding, key=lambda h: h.received_at)
        self._touch(holding.received_at)

    def add_release(self, release: Release) -> None:
        self.releases.append(release)
        self._touch(release.at)

    def add_consent(self, consent: Consent) -> None:
        for recipient in sorted(consent.recipients):
            key = (consent.item, consent.holder, recipient)
            self.consents.setdefault(key, []).append(ConsentRecord(consent.at, consent.granted))
        self._touch(consent.at)

    def add_standing_rule(self, rule: StandingRule) -> None:
        where = f"standing rule {rule.id}"
        self._check_standing_id(rule.id, where)
        self.party(rule.originator).rank(rule.max_level)
        self._check_topics(rule.topics, f"{where}: topics")
        for code in rule.recipients:
            self.party(code)
        for route in rule.routes:
            if route.via is not None:
                self.party(route.via)
                if route.via == rule.originator:
                    raise InvalidInput(f"{where}: route {route.label} goes through the originator")
        self.standing_rules[rule.id] = rule
        self._touch()

    def add_standing_consent(self, consent: StandingConsent) -> None:
        where = f"standing consent {consent.id}"
        self._check_standing_id(consent.id, where)
        self.party(consent.by).rank(consent.max_level)
        self.party(consent.holder)
        for code in sorted(consent.recipients):
            self.party(code)
        self._check_topics(consent.topics, f"{where}: topics")
        self.standing_consents[consent.id] = consent
        self._touch()

    def add_rule_revocation(self, revocation: RuleRevoked) -> None:
        rule = self.standing_rules.get(revocation.rule)
        consent = self.standing_consents.get(revocation.rule)
        owner = rule.originator if rule is not None else consent.by if consent else None
        if owner is None:
            raise UnknownReference(f"no standing rule or consent {revocation.rule!r}")
        if owner != revocation.by:
            raise InvalidInput(f"{revocation.rule} is {owner}'s: only {owner} may revoke it")
        if revocation.rule in self.revoked:
            raise InvalidInput(f"{revocation.rule} is already revoked")
        self.revoked[revocation.rule] = revocation.at
        self._touch(revocation.at)

    def _check_standing_id(self, rule_id: str, where: str) -> None:
        if rule_id in self.standing_rules or rule_id in self.standing_consents:
            raise DuplicateId(f"{where}: the id {rule_id} is already a standing rule or consent")

    def add_destruction(self, destruction: Destruction) -> None:
        copies = self.holdings.get((destruction.item, destruction.party), [])
        for index in range(len(copies) - 1, -1, -1):
            if copies[index].held_at(destruction.at):
                copies[index] = copies[index]._replace(destroyed_at=destruction.at)
                break
        else:
            raise InvalidInput(
                f"{destruction.party} holds no copy of {destruction.item} at {iso(destruction.at)}"
            )
        self.destructions.append(destruction)
        self._touch(destruction.at)

    def add_compromise(self, report: Compromise) -> None:
        self.compromises.append(report)
        self._touch(report.at)

    # --- classification changes, investigations, holds (Art. 6(g), Art. 17) ---------------------

    def reports_of(self, item_id: str, party: str) -> list[Compromise]:
        """``party``'s compromise reports on its copy of ``item_id``, in the order recorded."""
        return [r for r in self.compromises if r.item == item_id and r.party == party]

    def add_reclassification(self, change: Reclassification) -> None:
        self.reclassifications.setdefault(change.item, []).append(change)
        self.article_facts += 1
        self._touch(change.at)

    def add_investigation_event(self, event: InvestigationEvent) -> None:
        if not self.reports_of(event.item, event.party):
            raise UnknownReference(
                f"{event.kind} of {event.item} by {event.party}: no investigation was opened"
                f" (no compromise of {event.party}'s copy of {event.item} was reported)"
            )
        self.investigation_events.setdefault((event.item, event.party), []).append(event)
        self._touch(event.at)

    def add_hold_event(self, event: HoldEvent) -> None:
        self.release_holds.setdefault((event.by, event.holder), []).append(event)
        self.article_facts += 1
        self._touch(event.at)

    def replace_item(self, item: Item) -> None:
        """The same item with its retention (purpose, retain_until) filled in from the store."""
        self.item(item.id)
        self.items[item.id] = item
        self.revision += 1

    def replace_agreement(self, agreement: Agreement) -> None:
        """The same agreement with its deadlines filled in from the store."""
        self.agreement(agreement.id)
        self.agreements[agreement.id] = agreement
        self.revision += 1

    def _check_topics(self, topics: frozenset[str], where: str) -> None:
        unknown = topics - self.topics
        if unknown:
            raise UnknownReference(f"{where}: unknown topics {', '.join(sorted(unknown))}")
