"""Agreement terms and events to and from the JSON kept in the store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accord.errors import StoreError
from accord.model.agreement import (
    AgreementEvent,
    Amendment,
    EquivalenceTable,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
    Terms,
    TopicScope,
)
from accord.model.time import Duration, iso, parse_instant


def _duration(value: Duration | None) -> str | None:
    return None if value is None else value.text


def _parse_duration(value: Any, field: str) -> Duration | None:
    return None if value is None else Duration.parse(str(value), field)


def term_field_to_json(name: str, value: object) -> object:
    if name == "parties":
        return sorted(value)  # type: ignore[call-overload]
    if name == "equivalence":
        assert isinstance(value, EquivalenceTable)
        return [dict(row) for row in value.rows]
    if name == "topics":
        assert isinstance(value, TopicScope)
        return None if value.topics is None else sorted(value.topics)
    if name in ("term", "notice_period"):
        return _duration(value)  # type: ignore[arg-type]
    if name == "renewal":
        return str(value)
    raise StoreError(f"unknown agreement field {name!r}")


def term_field_from_json(name: str, value: Any) -> object:
    if name == "parties":
        return frozenset(value)
    if name == "equivalence":
        return EquivalenceTable(tuple(dict(row) for row in value))
    if name == "topics":
        return TopicScope(None if value is None else frozenset(value))
    if name in ("term", "notice_period"):
        return _parse_duration(value, name)
    if name == "renewal":
        return Renewal(value)
    raise StoreError(f"unknown agreement field {name!r} in the store")


TERM_FIELDS = ("parties", "equivalence", "topics", "term", "renewal", "notice_period")


def terms_to_json(terms: Terms) -> dict[str, object]:
    return {name: term_field_to_json(name, getattr(terms, name)) for name in TERM_FIELDS}


def terms_from_json(data: Mapping[str, Any]) -> Terms:
    values = {name: term_field_from_json(name, data[name]) for name in TERM_FIELDS}
    return Terms(**values)  # type: ignore[arg-type]


def event_body(event: AgreementEvent) -> dict[str, object]:
    if isinstance(event, Amendment):
        return {"changes": {k: term_field_to_json(k, v) for k, v in event.changes.items()}}
    body: dict[str, object] = {"by": event.by}
    if isinstance(event, SuspensionLifted):
        body["effective_at"] = iso(event.effective_at)
    return body


def event_from_row(
    kind: str, agreement: str, at: datetime, body: Mapping[str, Any]
) -> AgreementEvent:
    if kind == "amendment":
        changes = {k: term_field_from_json(k, v) for k, v in body["changes"].items()}
        return Amendment(at, agreement, changes)
    if kind == "termination_notice":
        return TerminationNotice(at, agreement, body["by"])
    if kind == "notice_suspended":
        return NoticeSuspended(at, agreement, body["by"])
    if kind == "suspension_lifted":
        return SuspensionLifted(
            at, agreement, body["by"], parse_instant(body["effective_at"], "effective_at")
        )
    if kind == "notice_withdrawn":
        return NoticeWithdrawn(at, agreement, body["by"])
    raise StoreError(f"unknown agreement event kind {kind!r} in the store")
