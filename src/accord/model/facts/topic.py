"""A topic of the exchange's vocabulary; the exchange vouches for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.model.facts.definition import EXCHANGE, Body, Definition, FactKind
from accord.model.taint import Subject, SubjectKind
from accord.model.world import World


class Topic(str):
    """A topic name, as a fact of its own type."""

    __slots__ = ()


def _encode(topic: Topic) -> Body:
    return {"name": str(topic)}


def _decode(body: Mapping[str, Any]) -> Topic:
    return Topic(body["name"])


def _vouchers(_topic: Topic, _world: World) -> tuple[str, ...]:
    return (EXCHANGE,)


def _subjects(topic: Topic) -> tuple[Subject, ...]:
    return ((SubjectKind.TOPIC, str(topic)),)


def _apply(world: World, topic: Topic) -> None:
    world.add_topic(str(topic))


DEFINITION: Definition[Topic] = Definition(
    FactKind.TOPIC, Topic, _encode, _decode, _vouchers, _subjects, _apply
)
