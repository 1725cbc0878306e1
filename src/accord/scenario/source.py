"""YAML text to plain data, keeping the line of every value and the exact text of every instant.

PyYAML's safe loader turns an unquoted ``2019-11-23T00:00:00+09:00`` into a ``datetime`` (naive,
in some versions) and ``NO`` or ``off`` into ``False``. Scenario files need neither: instants
stay text, parsed later with their offset, and only ``true``/``false`` are booleans (YAML 1.2).
Duplicate keys, which PyYAML silently collapses, are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from accord.errors import ScenarioInvalid

Path = tuple[str | int, ...]

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_KEY = "<<"
# YAML 1.2 core schema: no yes/no/on/off booleans, no sexagesimal (1:20) or octal (010) numbers
YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
YAML12_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
YAML12_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$")
REPLACED = (TIMESTAMP_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG)
SHOWN_CHARS = 60


class ScenarioLoader(yaml.SafeLoader):
    """A safe loader without implicit timestamps, resolving plain scalars as YAML 1.2 does."""


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(BOOL_TAG, YAML12_BOOL, list("tTfF"))
ScenarioLoader.add_implicit_resolver(INT_TAG, YAML12_INT, list("-+0123456789"))
ScenarioLoader.add_implicit_resolver(FLOAT_TAG, YAML12_FLOAT, list("-+.0123456789"))


@dataclass(frozen=True, slots=True)
class Source:
    """A document's data and the 1-based line of every value in it, by path."""

    file: str
    data: Any
    lines: dict[Path, int]

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def fail(self, message: str, path: Path) -> ScenarioInvalid:
        return ScenarioInvalid(
            message, file=self.file, line=self.line(path), field=format_path(path)
        )


def read_yaml(text: str, file: str) -> Source:
    """Parse one YAML document into plain data (dict, list, str, int, float, bool, None)."""
    try:
        loader = ScenarioLoader(text)
    except yaml.YAMLError as error:
        raise _malformed(error, file, text) from None
    builder = _Builder(loader, file)
    try:
        node = loader.get_single_node()
        data = {} if node is None else builder.value(node, ())
    except yaml.YAMLError as error:
        raise _malformed(error, file, text) from None
    finally:
        loader.dispose()
    return Source(file, data, builder.lines)


def _malformed(error: yaml.YAMLError, file: str, text: str) -> ScenarioInvalid:
    """YAML's own description of the problem, at the line it names."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "not valid YAML"
        context = f" ({error.context})" if error.context and error.problem else ""
        return ScenarioInvalid(f"malformed YAML: {problem}{context}", file=file, line=line)
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        character = f"U+{error.character:04X}" if isinstance(error.character, int) else "byte"
        return ScenarioInvalid(
            f"malformed YAML: character {character} is not allowed", file=file, line=line
        )
    return ScenarioInvalid("malformed YAML", file=file)


# a scenario is written by hand: far fewer values than this; aliases must not expand past it
MAX_VALUES = 1_000_000


class _Builder:
    """Walks a composed node tree into plain data, recording each value's line."""

    def __init__(self, loader: ScenarioLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[Path, int] = {}
        self.active: set[int] = set()
        self.built = 0

    def value(self, node: Node, path: Path) -> Any:
        self.built += 1
        if self.built > MAX_VALUES:
            raise self._fail(
                f"the file expands to more than {MAX_VALUES:,} values (aliases?)", node, path
            )
        self.lines[path] = node.start_mark.line + 1
        if id(node) in self.active:
            raise self._fail("an alias refers to a value that contains it", node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode) and node.tag == MAP_TAG:
                return self._mapping(node, path)
            if isinstance(node, SequenceNode) and node.tag == SEQ_TAG:
                return [self.value(child, (*path, i)) for i, child in enumerate(node.value)]
            if isinstance(node, ScalarNode):
                return self._scalar(node, path)
            raise self._fail(f"values tagged {node.tag} are not supported", node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self._key(key_node, path)
            if key in seen:
                raise self._fail(f"key {key!r} appears twice", key_node, path)
            if key != MERGE_KEY:
                seen.add(key)
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            result[key] = self.value(value_node, (*path, key))
        return result

    def _key(self, node: Node, path: Path) -> str:
        if isinstance(node, ScalarNode) and node.tag == MERGE_TAG:
            return MERGE_KEY
        key = self.loader.construct_object(node) if isinstance(node, ScalarNode) else None
        if not isinstance(key, str):
            raise self._fail("mapping keys must be plain text", node, path)
        return key

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        value = self.loader.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise self._fail(f"{node.value!r} is not a finite number", node, path)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise self._fail(f"{node.value!r} ({node.tag}) is not a plain value", node, path)
        return value

    def _fail(self, message: str, node: Node, path: Path) -> ScenarioInvalid:
        where = format_path(path)
        return ScenarioInvalid(
            f"{where}: {message}", file=self.file, line=node.start_mark.line + 1, field=where
        )


def format_path(path: Path) -> str:
    """``("agreements", 0, "renewal")`` as ``agreements[0].renewal``; the root as ``document``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "document"


def show(value: Any) -> str:
    """A value as the file's author would recognise it, shortened if long."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
