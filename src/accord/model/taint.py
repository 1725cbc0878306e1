"""What a fact is about, and what a fact that fails its check taints.

A fact whose signature does not verify (or that cannot be applied) grants nothing: it is left
out of the world, which records its subjects as tainted with the reason. An act that needs a
tainted subject is refused as an integrity failure; acts that do not need it go on.
"""

from __future__ import annotations

from enum import StrEnum


class SubjectKind(StrEnum):
    """``WORLD`` is everything: a fact that restricts (a note, a consent, a destruction...)
    and fails its check, or a fact missing from the sequence, leaves nothing trustworthy."""

    WORLD = "world"
    TOPIC = "topic"
    PARTY = "party"
    AGREEMENT = "agreement"
    MATTER = "matter"
    USER = "user"
    ITEM = "item"
    HOLDING = "holding"  # key: "<item>/<party>"


Subject = tuple[SubjectKind, str]
WHOLE_WORLD: Subject = (SubjectKind.WORLD, "*")


def holding_subject(item: str, party: str) -> Subject:
    return (SubjectKind.HOLDING, f"{item}/{party}")


def describe(subject: Subject) -> str:
    kind, key = subject
    return "the record as a whole" if kind is SubjectKind.WORLD else f"{kind.value} {key}"
