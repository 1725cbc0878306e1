"""A party's view of the record: the log entries that concern one party, each with its inclusion
proof against the latest signed checkpoint.

The log's size, its latest checkpoint and the published checkpoints with their countersignatures
are public to every party (each party countersigns them). An entry's body is not: it is shown to
a party only when the entry *concerns* it, by this table (anything else, and every kind not
named, concerns no party; an admin sees the whole record instead):

- an act by the party, or on the party itself: its creation, its keys' rotation;
- an agreement it is party to: its creation, notices, suspensions, amendments;
- its users: their creation, their tokens issued and revoked, their reads and listings;
- an item it originated: its creation;
- a release it made; a release it received, relayed or originated, once allowed (a refused
  release to a party never reached it, so it does not concern it);
- a consent it gave, or that names it as the holder;
- a destruction or a compromise report of its own copy, or of an item it originated;
- a reclassification it made (the entry lists every re-marked copy, so only the originator);
- an investigation of its own copy, or one whose conclusion goes to it as the originator;
- a release hold it placed or lifted, or that names it as the holder;
- a matter's state it recorded;
- a published checkpoint and every countersignature (public).

Entries are decoded with the world as it is now: a user's party and an item's originator never
change, and an agreement's parties are those it was made with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.errors import AccordError
from accord.model.matters import MATTER_STATE
from accord.model.world import World
from accord.service import journal
from accord.service.exchange import Exchange

PARTY_PAGE = 100

Rule = Callable[[World, Mapping[str, Any], Mapping[str, Any], str], bool]


def _public(world: World, body: Mapping[str, Any], subject: Mapping[str, Any], p: str) -> bool:
    return True


def _field(*names: str) -> Rule:
    def rule(world: World, body: Mapping[str, Any], subject: Mapping[str, Any], p: str) -> bool:
        return any(subject.get(name) == p for name in names)

    return rule


def _agreement(world: World, body: Mapping[str, Any], subject: Mapping[str, Any], p: str) -> bool:
    agreement = world.agreements.get(str(subject.get("agreement")))
    return agreement is not None and p in agreement.terms.parties


def _user(world: World, body: Mapping[str, Any], subject: Mapping[str, Any], p: str) -> bool:
    user = world.users.get(str(subject.get("user")))
    return user is not None and user.party == p


def _originator(world: World, subject: Mapping[str, Any]) -> str | None:
    item = world.items.get(str(subject.get("item")))
    return None if item is None else item.originator


def _release(world: World, body: Mapping[str, Any], subject: Mapping[str, Any], p: str) -> bool:
    if subject.get("from") == p:
        return True
    reached = (subject.get("to"), subject.get("via"), _originator(world, subject))
    return body.get("allowed") is True and p in reached


def _copy(world: World, body: Mapping[str, Any], subject: Mapping[str, Any], p: str) -> bool:
    return p in (subject.get("party"), _originator(world, subject))


RULES: Mapping[str, Rule] = {
    "checkpoint-publish": _public,
    "checkpoint-countersign": _public,
    "party": _field("party"),
    "keys-rotate": _field("owner"),
    "agreement": _agreement,
    **{
        kind: _agreement
        for kind in (
            "termination_notice",
            "notice_suspended",
            "suspension_lifted",
            "notice_withdrawn",
            "amendment",
            "amendment_proposed",
            "amendment_accepted",
            "amendment_withdrawn",
        )
    },
    **{
        kind: _user
        for kind in ("user", "token-issue", "token-revoke", "read", "metadata-read", "taxii-repost")
    },
    "item": _field("originator"),
    "release": _release,
    "consent": _field("by", "holder"),
    "destruction": _copy,
    "compromise-report": _copy,
    "reclassify": _field("by"),
    "investigation_started": _field("party", "sent_to"),
    "investigation_concluded": _field("party", "sent_to"),
    "release_hold": _field("by", "holder"),
    "release_hold_lifted": _field("by", "holder"),
    MATTER_STATE: _field("by"),
}


def concerns(world: World, body: Mapping[str, Any], party: str) -> bool:
    """Whether the log entry ``body`` concerns ``party`` (the table above)."""
    rule = RULES.get(str(body.get("kind")))
    subject = body.get("subject")
    if rule is None or not isinstance(subject, Mapping):
        return False
    return rule(world, body, subject, party)


@dataclass(frozen=True, slots=True)
class PartyEntry:
    seq: int
    kind: str
    at: str
    allowed: bool | None
    subject: Mapping[str, Any]


def party_entries(
    exchange: Exchange, party: str, page: int = 1
) -> tuple[list[PartyEntry], int, int]:
    """One page (newest first) of the entries that concern ``party``, how many concern it, and
    the log's size. An entry that cannot be decoded concerns no party (``audit verify`` names
    it)."""
    world = exchange.snapshot()
    found: list[PartyEntry] = []
    with exchange.store.transaction(write=False) as tx:
        size = journal.load_frontier(tx).size
        for seq, leaf, _ in tx.entries(0, size):
            try:
                body = journal.decode_entry(leaf, seq)
            except AccordError:
                continue
            if concerns(world, body, party):
                allowed = body.get("allowed")
                found.append(
                    PartyEntry(
                        seq,
                        str(body.get("kind")),
                        str(body.get("at")),
                        allowed if isinstance(allowed, bool) else None,
                        body["subject"],
                    )
                )
    found.reverse()
    start = (max(1, page) - 1) * PARTY_PAGE
    return found[start : start + PARTY_PAGE], len(found), size


def party_proof(exchange: Exchange, party: str, seq: int) -> dict[str, object] | None:
    """The inclusion proof of entry ``seq`` against the latest checkpoint, with the entry's body,
    when the entry concerns ``party``; None otherwise, exactly as for an entry past the end of
    the log. The proof is computed for every entry within the log before the entry is judged,
    so a hidden entry takes the same work as a shown one."""
    from accord.service import auditor  # noqa: PLC0415

    world = exchange.snapshot()
    with exchange.store.transaction(write=False) as tx:
        size = journal.load_frontier(tx).size
        if not 0 <= seq < size:
            return None
        proof = auditor.prove(tx, seq)
        stored = tx.entry(seq)
    if stored is None:
        return None
    try:
        body = journal.decode_entry(stored[0], seq)
    except AccordError:
        return None
    if not concerns(world, body, party):
        return None
    return {"entry": body, **proof}
