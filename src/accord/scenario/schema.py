"""The scenario JSON Schema (shipped with the package) and strict validation against it.

Schema errors are reported in our own words: the path (``agreements[0].renewal``), the
offending value and the line it is on. jsonschema's own messages are not passed on.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from accord.scenario.source import Path, Source, format_path, show

SCHEMA_FILE = "scenario.schema.json"
TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every scenario file must satisfy."""
    text = resources.files("accord.scenario").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return _validator_class()(scenario_schema())


def _validator_class() -> type[Draft202012Validator]:
    """jsonschema, imported on first use. When the optional ``rfc3987_syntax`` is installed
    (stix2-validator's extras bring it), jsonschema's import compiles its IRI grammars, about
    three seconds; the scenario schema checks no IRI format, so a process that has not imported
    jsonschema yet does so without it. A process that already has jsonschema keeps it as it is."""
    blocked = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        from jsonschema import Draft202012Validator  # noqa: PLC0415
    finally:
        if blocked:
            del sys.modules["rfc3987_syntax"]
    return Draft202012Validator


def check_schema(source: Source) -> None:
    """Raise ``ScenarioInvalid`` for the first schema violation in file order."""
    errors = list(_validator().iter_errors(source.data))
    if not errors:
        return
    located = [(_location(error), error) for error in errors]
    path, first = min(located, key=lambda pair: (source.line(pair[0]) or 0, -len(pair[0])))
    raise source.fail(describe(first), path)


def _location(error: ValidationError) -> Path:
    """Where the problem is: the unknown key itself for an unknown field."""
    path: Path = tuple(error.absolute_path)
    extra = _unknown_fields(error)
    return (*path, extra[0]) if extra else path


def _unknown_fields(error: ValidationError) -> list[str]:
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    return sorted(key for key in error.instance if key not in allowed)


def _where(error: ValidationError) -> str:
    where = format_path(tuple(error.absolute_path))
    instance = error.instance
    if isinstance(instance, dict):
        kind = instance.get("type", instance.get("check"))
        if isinstance(kind, str):
            where += f" ({kind})"
    return where


def describe(error: ValidationError) -> str:
    """One sentence naming the path and the offending value."""
    where = _where(error)
    value: Any = error.instance
    expected: Any = error.validator_value
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    rule = error.validator
    if rule == "required":
        missing = [f for f in expected if f not in value]
        return f"{where}: missing required field {show(missing[0])}"
    if rule == "additionalProperties":
        allowed = ", ".join(schema.get("properties", {}))
        return f"{where}: unknown field {show(_unknown_fields(error)[0])} (allowed: {allowed})"
    if rule == "enum":
        options = ", ".join(str(option) for option in expected)
        return f"{where}: {show(value)} is not one of {options}"
    if rule == "type":
        wanted = expected
        words = [
            TYPE_WORDS.get(str(t), str(t))
            for t in (wanted if isinstance(wanted, list) else [wanted])
        ]
        return f"{where}: {show(value)} must be {' or '.join(words)}"
    if rule == "uniqueItems":
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        return f"{where}: {show(twice)} is listed twice"
    if rule in ("minItems", "minProperties"):
        return f"{where}: {show(value)} must have at least {expected} entries"
    if rule == "minLength":
        return f"{where}: must not be empty"
    described = schema.get("description")
    if described:
        return f"{where}: {show(value)} is not valid: expected {described}"
    return f"{where}: {show(value)} is not valid here"
