"""Reads with their markings: content never leaves without the copy's marking (R2), and a check
of a copy says whether it passed its integrity check.

``read`` is the exchange's logged read (R12) with the marking of the copy the user's party holds.
``check`` decides the read without reading: when it is allowed it opens the copy in memory (the
holder's wrapped key, the envelope bound to the item's metadata, the originator's signature) and
reports the outcome, never the content; it writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.errors import IntegrityError, KeyUnavailable
from accord.model.item import Holding, Item
from accord.model.marking import Integrity, Marking
from accord.model.requests import ReadRequest
from accord.model.time import iso, require_aware
from accord.model.world import World
from accord.policy.reasons import Code, Decision, Reason
from accord.service.exchange import Exchange


@dataclass(frozen=True, slots=True)
class MarkedRead:
    """A read's decision; when allowed, the copy's marking and its integrity, and for a read
    (not a check) the item with its content."""

    decision: Decision
    marking: Marking | None = None
    integrity: Integrity = Integrity.NOT_CHECKED
    detail: str = ""
    item: Item | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {**self.decision.as_dict()}
        data["marking"] = self.marking.as_dict() if self.marking is not None else None
        data["integrity"] = {"status": self.integrity.value, "detail": self.detail}
        if self.item is not None:
            data["item"] = {
                "id": self.item.id,
                "title": self.item.title,
                "originator": self.item.originator,
                "content": self.item.content,
            }
        return data


VERIFIED = "the holder's key, the envelope and the originator's signature all checked"


def _copy(world: World, request: ReadRequest, at: datetime) -> tuple[Item, Holding]:
    party = world.user(request.user).party
    holding = world.holding(request.item, party, at)
    assert holding is not None  # the read was allowed: the party holds a copy at ``at``
    return world.item(request.item), holding


def read(exchange: Exchange, request: ReadRequest, at: datetime) -> MarkedRead:
    """The logged read; the content comes only with its marking (an integrity failure raises)."""
    result = exchange.read(request, at)
    if result.item is None:
        return MarkedRead(result.decision)
    item, holding = _copy(exchange.snapshot(), request, require_aware(at, "at"))
    return MarkedRead(
        result.decision, Marking.of(holding, item), Integrity.VERIFIED, VERIFIED, result.item
    )


def check(exchange: Exchange, request: ReadRequest, at: datetime) -> MarkedRead:
    """The read's decision and, when allowed, whether the copy passes its check (no content)."""
    at = require_aware(at, "at")
    decision = exchange.check_read(request, at)
    if not decision.allowed:
        return MarkedRead(decision, detail="the read is denied: no copy was opened")
    item, holding = _copy(exchange.snapshot(), request, at)
    marking = Marking.of(holding, item)
    if holding.destroyed_at is not None:  # a read as of before the destruction: the key is gone
        gone = Reason(
            Code.DESTROYED,
            f"{holding.party} destroyed its copy at {iso(holding.destroyed_at)}; its key is gone (R10)",
        )
        return MarkedRead(Decision(False, (gone,)), marking, detail="the copy's key is destroyed")
    try:
        _open(exchange, item, holding)
    except IntegrityError as failed:
        return MarkedRead(decision, marking, Integrity.FAILED, failed.message)
    except KeyUnavailable as missing:
        return MarkedRead(decision, marking, Integrity.NOT_CHECKED, missing.message)
    return MarkedRead(decision, marking, Integrity.VERIFIED, VERIFIED)


def _open(exchange: Exchange, item: Item, holding: Holding) -> None:
    """Open the copy in memory and drop it: the same checks as a read, in a read-only
    transaction that writes nothing."""
    with exchange.store.transaction() as tx:
        keyring = exchange.vault.keyring(tx, tx.revision())
        exchange.vault.open_many(tx, keyring, [(item, holding)])
