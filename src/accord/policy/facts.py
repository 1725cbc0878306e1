"""A policy view of a ``World``: agreement timelines compiled once and kept up to date."""

from __future__ import annotations

from datetime import datetime

from accord.model.agreement import Terms
from accord.model.world import World
from accord.policy.lifecycle import AgreementState, Status, Timeline


class Facts:
    """The world plus compiled timelines; timelines follow new events incrementally."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._timelines: dict[str, tuple[int, Timeline]] = {}

    def timeline(self, agreement_id: str) -> Timeline:
        events = self.world.agreement_events[agreement_id]
        cached = self._timelines.get(agreement_id)
        if cached is not None and cached[0] == len(events):
            return cached[1]
        if cached is None:
            applied, timeline = 0, Timeline(self.world.agreement(agreement_id))
        else:
            applied, timeline = cached
        schemes, topics = self.world.parties, frozenset(self.world.topics)
        for event in events[applied:]:
            timeline.apply(event, schemes, topics)
        self._timelines[agreement_id] = (len(events), timeline)
        return timeline

    def status_terms(self, agreement_id: str, at: datetime) -> tuple[Status, Terms]:
        return self.timeline(agreement_id).status_terms(at)

    def state(self, agreement_id: str, at: datetime) -> AgreementState:
        return self.timeline(agreement_id).state(at)


class LapsedFacts(Facts):
    """The same facts, supposing one agreement stops being in force at ``lapse_at`` (impact)."""

    def __init__(self, base: Facts, agreement_id: str, lapse_at: datetime) -> None:
        super().__init__(base.world)
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
