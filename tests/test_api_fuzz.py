"""Fuzzing the parsers and the whole API, bounded and derandomized: the strict JSON body parser
against an oracle written here, the TAXII query parser, and schemathesis over the TAXII
endpoints' OpenAPI document (``/taxii2/openapi.json``; the admin API's own run is in
``test_api_admin.py``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accord.api import ApiSettings, create_app
from accord.api.body import parse_json
from accord.api.errors import BadRequest
from accord.api.query import parse_query
from tests.test_taxii_support import LATER, TAXII, Clock, issue, scenario_exchange

DEPTH = 8
REJECT = object()
STIX_INT = 2**53 - 1


def _acceptable(value: Any, level: int) -> bool:
    """The oracle's own idea of strict JSON (recursive: its inputs are small)."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= STIX_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if level >= DEPTH:
        return False
    if isinstance(value, list):
        return all(_acceptable(v, level + 1) for v in value)
    assert isinstance(value, dict)
    return all(_acceptable(k, level + 1) and _acceptable(v, level + 1) for k, v in value.items())


def oracle(raw: bytes) -> Any:
    try:
        value = json.loads(raw.decode("utf-8"))  # Python's permissive reading
    except (ValueError, RecursionError):
        return REJECT
    return value if _acceptable(value, 0) else REJECT


def ours(raw: bytes) -> Any:
    try:
        return parse_json(raw, DEPTH)
    except BadRequest:
        return REJECT


def same(a: Any, b: Any) -> bool:
    return a is b or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(-STIX_INT, STIX_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
TOKENS = [
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    " ",
    '"a"',
    '"\\"["',
    "1",
    "-0",
    "1.5e3",
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "9007199254740991",
    "9007199254740992",
    "-9007199254740992",
    '"\\ud800"',
    '"\\udc00"',
    '"\\ud83d\\ude00"',
    '"é"',
    "true",
    "null",
    "0" * 20,
]
jsonish = st.lists(st.sampled_from(TOKENS), max_size=40).map(lambda t: "".join(t).encode())


@settings(max_examples=300)
@given(values)
def test_every_strict_value_round_trips(value: Any) -> None:
    assert same(ours(json.dumps(value).encode()), value)


@settings(max_examples=500)
@given(jsonish | st.binary(max_size=60))
def test_the_parser_agrees_with_the_oracle(raw: bytes) -> None:
    assert same(ours(raw), oracle(raw)), raw


def test_depth_is_counted_without_recursion() -> None:
    assert ours(b"[" * 1_000_000 + b"]" * 1_000_000) is REJECT
    assert ours(b"[" * DEPTH + b"]" * DEPTH) == json.loads(b"[" * DEPTH + b"]" * DEPTH)
    assert ours(b'["' + b"[" * 100 + b'"]') == ["[" * 100]  # brackets in strings do not count


NAMES = ["limit", "added_after", "match[id]", "match[type]", "match[version]", "next", "x"]
pairs = st.lists(
    st.tuples(st.sampled_from(NAMES) | st.text(max_size=8), st.text(max_size=12)), max_size=5
)


@settings(max_examples=400)
@given(pairs)
def test_the_query_parser_answers_or_refuses(found: list[tuple[str, str]]) -> None:
    try:
        query = parse_query(found, default_limit=100, max_limit=1000)
    except BadRequest:
        limits = [v.strip() for k, v in found if k == "limit"]
        assert any(k in ("added_after", "match[version]") for k, _ in found) or (
            limits and not (limits[-1].isascii() and limits[-1].isdigit() and int(limits[-1]) > 0)
        )
        return
    limits = [v.strip() for k, v in found if k == "limit"]
    expected = min(int(limits[-1]), 1000) if limits else 100
    assert query.limit == expected
    assert all(c in "0123456789" for c in (limits[-1] if limits else ""))


def test_schemathesis_finds_no_server_error_in_taxii(tmp_path: Path) -> None:
    url, exchange = scenario_exchange(tmp_path, Clock(LATER))
    app = create_app(ApiSettings(url, auth_failures=100_000), exchange)
    token = issue(exchange, "kor-analyst")
    schema = schemathesis.openapi.from_asgi("/taxii2/openapi.json", app)
    failures: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=op.as_strategy())
        def check(case: object) -> None:
            case.call_and_validate(  # type: ignore[attr-defined]
                headers={"Authorization": f"Bearer {token}", "Accept": TAXII},
                excluded_checks=[positive_data_acceptance],
            )

        try:
            check()
        except Exception as error:
            failures.append(f"{op.method.upper()} {op.path}: {str(error)[:800]}")
    assert failures == []
