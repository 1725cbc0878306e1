"""A policy view of a ``World``: agreement timelines compiled once and kept up to date."""

from __future__ import annotations

from datetime import datetime

from accord.model.agreement import Terms
from accord.model.matters import MatterState
from accord.model.time import require_aware
from accord.model.world import World
from accord.policy.lifecycle import AgreementState, Status, Timeline


class Facts:
    """The world plus compiled timelines; timelines follow new events incrementally, and are
    compiled again when a matter state is recorded (R15: they read matter states too).

    With a ``hypothesis`` (a matter state that was not recorded), every timeline is compiled with
    it merged in, and events that the hypothetical history no longer allows are left out; nothing
    of the world changes."""

    def __init__(self, world: World, hypothesis: MatterState | None = None) -> None:
        self.world = world
        self.hypothesis = hypothesis
        self._timelines: dict[str, tuple[int, Timeline]] = {}
        self._matter_count = len(world.matter_states)
        self._ranks: dict[str, dict[str, int]] = {}

    def ranks(self, party: str) -> dict[str, int]:
        """``party``'s levels by rank (0 is the lowest); parties never change once added."""
        table = self._ranks.get(party)
        if table is None:
            levels = self.world.party(party).levels
            table = {level: rank for rank, level in enumerate(levels)}
            self._ranks[party] = table
        return table

    def timeline(self, agreement_id: str) -> Timeline:
        if agreement_id not in self.world.agreements:
            self.world.agreement(agreement_id)  # raises UnknownReference
        world = self.world
        if len(world.matter_states) != self._matter_count:
            self._timelines.clear()
            self._matter_count = len(world.matter_states)
        events = world.agreement_events[agreement_id]
        cached = self._timelines.get(agreement_id)
        if cached is not None and cached[0] == len(events):
            return cached[1]
        schemes, topics = world.parties, frozenset(world.topics)
        if cached is None or self.hypothesis is not None:
            timeline = self.compile(agreement_id)
        else:
            applied, timeline = cached
            for event in events[applied:]:
                timeline.apply(event, schemes, topics)
        self._timelines[agreement_id] = (len(events), timeline)
        return timeline

    def compile(self, agreement_id: str) -> Timeline:
        """The agreement's timeline from all its recorded facts (and the hypothesis merged in:
        then refused events are left out)."""
        world = self.world
        states = list(world.matter_states)
        hypothesis = self.hypothesis
        if hypothesis is not None:
            states.append(hypothesis)
        return Timeline.compile(
            world.agreement(agreement_id),
            world.agreement_events[agreement_id],
            world.parties,
            frozenset(world.topics),
            world.matters,
            states,
            tolerant=hypothesis is not None,
        )

    def status_terms(self, agreement_id: str, at: datetime) -> tuple[Status, Terms]:
        cached = self._timelines.get(agreement_id)
        if (
            cached is not None
            and cached[0] == len(self.world.agreement_events[agreement_id])
            and self._matter_count == len(self.world.matter_states)
        ):
            return cached[1].status_terms(at)
        return self.timeline(agreement_id).status_terms(at)

    def state(self, agreement_id: str, at: datetime) -> AgreementState:
        return self.timeline(agreement_id).state(require_aware(at, "at"))


class LapsedFacts(Facts):
    """The same facts, supposing one agreement stops being in force at ``lapse_at`` (impact)."""

    def __init__(self, base: Facts, agreement_id: str, lapse_at: datetime) -> None:
        super().__init__(base.world, base.hypothesis)
        self._timelines = base._timelines
        self.lapsed = agreement_id
        self.lapse_at = lapse_at

    def status_terms(self, agreement_id: str, at: datetime) -> tuple[Status, Terms]:
        status, terms = super().status_terms(agreement_id, at)
        if (
            agreement_id == self.lapsed
            and at >= self.lapse_at
            and status is not Status.NOT_YET_IN_FORCE
        ):
            return Status.TERMINATED, terms
        return status, terms
