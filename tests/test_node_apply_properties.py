"""Random sequences of KOR's notes on the GSOMIA, recorded on KOR's node and sent to JPN's: at
every instant asked, both nodes' agreement state equals the independent oracle's
(``tests.oracle``, written from the rules), and JPN applies exactly the notes the oracle allows.
Derandomized (the profile in conftest); each example builds two real node stores."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.model.agreement import (
    AgreementEvent,
    NoticeSuspended,
    NoticeWithdrawn,
    SuspensionLifted,
    TerminationNotice,
)
from tests import oracle
from tests.test_node_apply import AID, _note, _status, make_pair

START = datetime(2016, 11, 22, 15, 0, tzinfo=UTC)
SPEC: dict[str, Any] = {
    "agreements": {
        AID: {
            "start": START,
            "tz": "Asia/Seoul",
            "term": (12, 0),
            "renewal": True,
            "notice": (0, 90),
            "parties": {"KOR", "JPN"},
            "hub": None,
        }
    }
}
KINDS = ("notice", "suspend", "lift", "withdraw")

steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=1, max_value=200),  # days after the previous note
        st.integers(min_value=0, max_value=400),  # a lift's effective instant: days after it
    ),
    min_size=1,
    max_size=6,
)


def _event(kind: str, at: datetime, effective: datetime) -> AgreementEvent:
    if kind == "notice":
        return TerminationNotice(at, AID, "KOR")
    if kind == "suspend":
        return NoticeSuspended(at, AID, "KOR")
    if kind == "lift":
        return SuspensionLifted(at, AID, "KOR", effective)
    return NoticeWithdrawn(at, AID, "KOR")


def _act(kind: str, at: datetime, effective: datetime) -> tuple[object, ...]:
    if kind == "lift":
        return ("lift", at, AID, "KOR", effective)
    return (kind, at, AID, "KOR")


@settings(max_examples=12, deadline=None)
@given(steps)
def test_both_nodes_follow_the_oracle_at_every_instant(plan: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        pair = make_pair(Path(folder))
        acts: list[tuple[object, ...]] = []
        at = datetime(2019, 1, 1, tzinfo=UTC)
        asked = [at]
        for kind, gap, lift_days in plan:
            at += timedelta(days=gap)
            effective = at + timedelta(days=lift_days)
            event, act = _event(kind, at, effective), _act(kind, at, effective)
            allowed = oracle.event_allowed(SPEC, acts, act)
            assert pair.kor.node.exchange.record(event).allowed == allowed
            receipt = pair.deliver(_note(pair, event), sent=at)
            assert (receipt.refused == ()) == allowed, receipt.refused
            if allowed:
                acts.append(act)
            asked += [at - timedelta(microseconds=1), at, at + timedelta(days=1)]
        asked.append(at + timedelta(days=800))
        for instant in asked:
            expected = oracle.status(SPEC, acts, AID, instant)
            assert _status(pair.kor, instant).value == expected, instant
            assert _status(pair.jpn, instant).value == expected, instant
