"""The time rule across nodes, as a pure function, at its boundary instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InvalidInput, NaiveDatetime
from accord.model.messages import Refusal
from accord.policy.arrival import DEFAULT_SKEW, ArrivalRules, judge_fact, judge_message

KST = timezone(timedelta(hours=9))
RULES = ArrivalRules()
T = datetime(2019, 11, 22, 15, 0, tzinfo=UTC)


def test_the_default_skew_is_five_seconds() -> None:
    assert DEFAULT_SKEW == timedelta(seconds=5) == RULES.skew


def test_the_release_signed_before_midnight_that_arrives_after_it() -> None:
    """KOR signs at 23:59:59.900 KST and sends; JPN's node receives at 00:00:00.300 KST, after
    the lapse at midnight. 0.4 s is within the skew, so the message is accepted, and the fact
    is judged at its own instant, 23:59:59.900, before the lapse: not at its arrival."""
    signed = datetime(2019, 11, 22, 23, 59, 59, 900000, tzinfo=KST)
    arrived = datetime(2019, 11, 23, 0, 0, 0, 300000, tzinfo=KST)
    midnight = datetime(2019, 11, 23, tzinfo=KST)
    assert judge_message(signed, arrived, RULES).accepted
    assert judge_fact(signed, signed, None).accepted
    assert signed < midnight <= arrived  # the instant the fact keeps is before the lapse


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(seconds=5), True),
        (-timedelta(seconds=5), True),
        (timedelta(seconds=5, microseconds=1), False),
        (-timedelta(seconds=5, microseconds=1), False),
        (timedelta(hours=1), False),
    ],
)
def test_the_message_skew_boundaries(offset: timedelta, accepted: bool) -> None:
    verdict = judge_message(T, T + offset, RULES)
    assert verdict.accepted is accepted
    if not accepted:
        assert verdict.refusal is Refusal.CLOCK_SKEW and "allowed skew is 5 s" in verdict.detail


def test_a_zero_skew_allows_only_the_same_instant() -> None:
    rules = ArrivalRules(timedelta(0))
    assert judge_message(T, T, rules).accepted
    assert not judge_message(T, T + timedelta(microseconds=1), rules).accepted


def test_a_fact_late_by_days_is_accepted_by_its_own_instant() -> None:
    assert judge_fact(T - timedelta(days=3), T, T - timedelta(days=4)).accepted


@pytest.mark.parametrize(
    ("instant", "latest", "refusal"),
    [
        (T + timedelta(microseconds=1), None, Refusal.CLOCK_SKEW),  # after its message
        (T, None, None),  # at its message's instant
        (T - timedelta(seconds=1), T - timedelta(seconds=1), None),  # equal to the latest
        (
            T - timedelta(seconds=1),
            T - timedelta(seconds=1) + timedelta(microseconds=1),
            Refusal.SENDER_REGRESS,
        ),
    ],
)
def test_fact_boundaries(
    instant: datetime, latest: datetime | None, refusal: Refusal | None
) -> None:
    assert judge_fact(instant, T, latest).refusal is refusal


def test_bad_settings_and_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidInput, match="skew"):
        ArrivalRules(timedelta(seconds=-1))
    with pytest.raises(NaiveDatetime, match="sent_at"):
        judge_message(datetime(2019, 11, 22), T, RULES)
    with pytest.raises(NaiveDatetime, match="instant"):
        judge_fact(datetime(2019, 11, 22), T, None)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    sent=st.integers(-(10**7), 10**7),
    arrived=st.integers(-(10**7), 10**7),
    skew=st.integers(0, 10**7),
)
def test_the_message_rule_against_an_oracle(sent: int, arrived: int, skew: int) -> None:
    """Accepted exactly when the two instants are at most ``skew`` microseconds apart."""
    rules = ArrivalRules(timedelta(microseconds=skew))
    verdict = judge_message(
        T + timedelta(microseconds=sent), T + timedelta(microseconds=arrived), rules
    )
    assert verdict.accepted is (abs(sent - arrived) <= skew)
