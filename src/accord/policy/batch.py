"""R3 for many items at once: which of a party's holdings may one user read at an instant.

The same rule as ``decide_read``, vectorised with NumPy over an index of the party's copies:
level rank, received/destroyed instants (microseconds) and topic bitmasks. The index is rebuilt
when the world changes; a property test keeps it equal to ``decide_read`` item by item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from accord.model.requests import ReadRequest
from accord.model.time import require_aware
from accord.model.world import World
from accord.policy.facts import Facts
from accord.policy.read import decide_read

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEVER = np.iinfo(np.int64).max


def micros(at: datetime) -> int:
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class HoldingIndex:
    """One row per copy a party has ever received."""

    party: str
    revision: int
    items: list[str]
    rank: npt.NDArray[np.int32]
    received: npt.NDArray[np.int64]
    destroyed: npt.NDArray[np.int64]
    topics: npt.NDArray[np.uint64]  # shape (rows, words)
    bits: dict[str, tuple[int, int]]  # topic -> (word, bit)

    @classmethod
    def build(cls, world: World, party_code: str) -> HoldingIndex:
        party = world.parties[party_code]
        names = sorted(world.topics)
        bits = {name: (i // 64, i % 64) for i, name in enumerate(names)}
        words = max(1, (len(names) + 63) // 64)
        rows = [
            h
            for item in world.items_held_by.get(party_code, [])
            for h in world.holdings[(item, party_code)]
        ]
        masks: dict[str, list[int]] = {}  # item -> its topic bitmask, one int per word
        for holding in rows:
            if holding.item not in masks:
                mask = [0] * words
                for name in world.items[holding.item].topics:
                    word, bit = bits[name]
                    mask[word] |= 1 << bit
                masks[holding.item] = mask
        topics = np.array([masks[h.item] for h in rows], dtype=np.uint64).reshape(len(rows), words)
        ranks = {level: rank for rank, level in enumerate(party.levels)}
        return cls(
            party=party_code,
            revision=world.revision,
            items=[h.item for h in rows],
            rank=np.array(
                [ranks[h.level] if h.level in ranks else party.rank(h.level) for h in rows],
                dtype=np.int32,
            ),
            received=np.array([micros(h.received_at) for h in rows], dtype=np.int64),
            destroyed=np.array(_ends(world, party_code), dtype=np.int64),
            topics=topics,
            bits=bits,
        )

    def mask(
        self, clearance_rank: int, need_to_know: frozenset[str], at: datetime
    ) -> npt.NDArray[np.bool_]:
        """Rows that a user with this clearance and need-to-know may read at ``at``."""
        t = micros(at)
        allowed_topics = np.zeros(self.topics.shape[1], dtype=np.uint64)
        for name in need_to_know:
            position = self.bits.get(name)
            if position is not None:
                allowed_topics[position[0]] |= np.uint64(1 << position[1])
        outside = (self.topics & ~allowed_topics).any(axis=1)
        live = (self.received <= t) & (t < self.destroyed)
        result: npt.NDArray[np.bool_] = live & (self.rank <= clearance_rank) & ~outside
        return result


def _ends(world: World, party: str) -> list[int]:
    """When each copy stops counting: its destruction, or the next copy's arrival (a read looks
    at the latest copy received, as ``decide_read`` does)."""
    ends: list[int] = []
    for item in world.items_held_by.get(party, []):
        copies = world.holdings[(item, party)]
        for index, copy in enumerate(copies):
            end = NEVER if copy.destroyed_at is None else micros(copy.destroyed_at)
            if index + 1 < len(copies):
                end = min(end, micros(copies[index + 1].received_at))
            ends.append(end)
    return ends


class ReadableIndex:
    """Per-party holding indexes over a world, rebuilt when its revision changes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._by_party: dict[str, HoldingIndex] = {}

    def index(self, party: str) -> HoldingIndex:
        current = self._by_party.get(party)
        if current is None or current.revision != self.world.revision:
            current = HoldingIndex.build(self.world, party)
            self._by_party[party] = current
        return current

    def readable(self, user_id: str, at: datetime) -> list[str]:
        """Ids of the items ``user_id`` may read at ``at``, in the index's order."""
        at = require_aware(at, "at")
        user = self.world.user(user_id)
        index = self.index(user.party)
        rank = self.world.parties[user.party].rank(user.clearance)
        mask = index.mask(rank, user.need_to_know, at)
        if self.world.reclassifications:  # Art. 6(g): these copies' levels change over time
            self._remarked(mask, index, user_id, at)
        rows = np.flatnonzero(mask)
        return [index.items[i] for i in rows]

    def _remarked(
        self, mask: npt.NDArray[np.bool_], index: HoldingIndex, user_id: str, at: datetime
    ) -> None:
        """Decide the rows of reclassified items one by one, as ``decide_read`` does."""
        facts, t = Facts(self.world), micros(at)
        changed = self.world.reclassifications
        for row, item_id in enumerate(index.items):
            if item_id in changed:
                live = bool(index.received[row] <= t < index.destroyed[row])
                mask[row] = live and decide_read(facts, ReadRequest(user_id, item_id), at).allowed
