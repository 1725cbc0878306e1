"""A user's clearance and need-to-know; the user's own party vouches for them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts.definition import Body, Definition, FactKind
from accord.model.taint import Subject, SubjectKind
from accord.model.user import User
from accord.model.world import World


def _encode(user: User) -> Body:
    return {
        "id": user.id,
        "party": user.party,
        "clearance": user.clearance,
        "need_to_know": sorted(user.need_to_know),
    }


def _decode(body: Mapping[str, Any]) -> User:
    return User(body["id"], body["party"], body["clearance"], frozenset(body["need_to_know"]))


def _vouchers(user: User, _world: World) -> tuple[str, ...]:
    return (user.party,)


def _subjects(user: User) -> tuple[Subject, ...]:
    return ((SubjectKind.USER, user.id),)


DEFINITION: Definition[User] = Definition(
    FactKind.USER, User, _encode, _decode, _vouchers, _subjects, World.add_user
)
