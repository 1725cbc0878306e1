"""Agreement terms and events to and from the JSON of their facts' bodies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accord.errors import StoreError
from accord.model.agreement import (
    AgreementEvent,
    Amendment,
    AmendmentAccepted,
    AmendmentProposed,
    AmendmentWithdrawn,
    EquivalenceTable,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
    Terms,
    TopicScope,
)
from accord.model.matters import Condition, Consequence, ConsequenceKind
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
        # each row as [party, level] pairs: canonical JSON sorts an object's keys, and the order
        # the agreement lists its parties in is kept for whoever reads it back
        return [[[party, level] for party, level in row.items()] for row in value.rows]
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
        return EquivalenceTable(tuple({str(p): str(lv) for p, lv in row} for row in value))
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


def _changes_to_json(changes: Mapping[str, object]) -> dict[str, object]:
    return {k: term_field_to_json(k, v) for k, v in changes.items()}


def _changes_from_json(data: Mapping[str, Any]) -> dict[str, object]:
    return {k: term_field_from_json(k, v) for k, v in data.items()}


def condition_to_json(condition: Condition) -> dict[str, object]:
    """A condition as the scenario format spells it (R15)."""
    consequence = condition.on_failure
    on_failure: object = consequence.kind.value
    if consequence.kind is ConsequenceKind.END_AFTER:
        on_failure = {"end_after": consequence.period.text if consequence.period else "P0D"}
    return {
        "matter": condition.matter,
        "holds_while": sorted(condition.holds_while),
        "on_failure": on_failure,
    }


def condition_from_json(data: Mapping[str, Any]) -> Condition:
    on_failure = data["on_failure"]
    if isinstance(on_failure, Mapping):
        consequence = Consequence.end_after(str(on_failure["end_after"]), "on_failure.end_after")
    else:
        consequence = Consequence(ConsequenceKind(on_failure))
    return Condition(str(data["matter"]), frozenset(data["holds_while"]), consequence)


def event_body(event: AgreementEvent) -> dict[str, object]:
    if isinstance(event, Amendment):
        return {"changes": _changes_to_json(event.changes)}
    body: dict[str, object] = {"by": event.by}
    if isinstance(event, SuspensionLifted):
        body["effective_at"] = iso(event.effective_at)
    if isinstance(event, NoticeSuspended) and event.conditions:
        body["conditions"] = [condition_to_json(c) for c in event.conditions]
    if isinstance(event, AmendmentProposed):
        body["id"] = event.id
        body["changes"] = _changes_to_json(event.changes)
    if isinstance(event, AmendmentAccepted | AmendmentWithdrawn):
        body["amendment"] = event.amendment
    if isinstance(event, AmendmentAccepted):
        body["effective_at"] = iso(event.effective_at)
    return body


def event_from_row(
    kind: str, agreement: str, at: datetime, body: Mapping[str, Any]
) -> AgreementEvent:
    if kind == "amendment":
        return Amendment(at, agreement, _changes_from_json(body["changes"]))
    if kind == "termination_notice":
        return TerminationNotice(at, agreement, body["by"])
    if kind == "notice_suspended":
        conditions = tuple(condition_from_json(c) for c in body.get("conditions", ()))
        return NoticeSuspended(at, agreement, body["by"], conditions=conditions)
    if kind == "amendment_proposed":
        return AmendmentProposed(
            at, agreement, body["by"], body["id"], _changes_from_json(body["changes"])
        )
    if kind == "amendment_accepted":
        effective = parse_instant(body["effective_at"], "effective_at")
        return AmendmentAccepted(at, agreement, body["by"], body["amendment"], effective)
    if kind == "amendment_withdrawn":
        return AmendmentWithdrawn(at, agreement, body["by"], body["amendment"])
    if kind == "suspension_lifted":
        return SuspensionLifted(
            at, agreement, body["by"], parse_instant(body["effective_at"], "effective_at")
        )
    if kind == "notice_withdrawn":
        return NoticeWithdrawn(at, agreement, body["by"])
    raise StoreError(f"unknown agreement event kind {kind!r} in the store")
