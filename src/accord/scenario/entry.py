"""One mapping of a scenario document, read field by field with errors that say where.

The schema has already checked shapes and types, so reads here only convert: instants keep
their offsets, durations are ISO 8601, and every failure names the field, value and line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from accord.errors import AccordError, NaiveDatetime, ScenarioInvalid
from accord.model.time import Duration, parse_instant
from accord.scenario.source import Path, Source, format_path, show


@dataclass(frozen=True, slots=True)
class Entry:
    source: Source
    path: Path
    data: Mapping[str, Any]

    @property
    def line(self) -> int | None:
        return self.source.line(self.path)

    def where(self, key: str | None = None) -> str:
        return format_path(self.path if key is None else (*self.path, key))

    def fail(self, message: str, key: str | None = None) -> ScenarioInvalid:
        """An error at ``key``'s line (the entry's own line without a key)."""
        path = self.path if key is None else (*self.path, key)
        return self.source.fail(message, path)

    @contextmanager
    def located(self, key: str | None = None) -> Iterator[None]:
        """Re-raise a model error as a scenario error at this entry (or its ``key``)."""
        try:
            yield
        except ScenarioInvalid:
            raise
        except AccordError as error:
            raise self.fail(self._prefixed(error.message, key), key) from None

    def _prefixed(self, message: str, key: str | None) -> str:
        """A model message prefixed with this entry's path (once)."""
        where = self.where(key)
        if message.startswith(where):
            return message
        if key is not None and message.startswith(f"{key}: "):
            message = message[len(key) + 2 :]
        return f"{where}: {message}"

    # --- typed reads ----------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        return str(value)

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        return None if value is None else str(value)

    def texts(self, key: str) -> tuple[str, ...]:
        return tuple(str(value) for value in self.data.get(key) or ())

    def instant(self, key: str) -> datetime:
        text = self.text(key)
        try:
            return parse_instant(text, self.where(key))
        except NaiveDatetime:
            raise self.fail(
                f"{self.where(key)}: {show(text)} has no UTC offset"
                " (naive date-times are refused; add Z or an offset such as +09:00)",
                key,
            ) from None
        except AccordError as error:
            raise self.fail(error.message, key) from None
        except (OverflowError, ValueError):
            raise self.fail(
                f"{self.where(key)}: {show(text)} is outside the range of instants accord handles",
                key,
            ) from None

    def written_zone(self, key: str) -> tzinfo:
        """The UTC offset the file wrote the instant at ``key`` in (``Z`` is UTC)."""
        try:
            written = datetime.fromisoformat(self.text(key)).tzinfo
        except ValueError:
            return UTC
        return written if written is not None else UTC

    def optional_instant(self, key: str) -> datetime | None:
        return self.instant(key) if self.data.get(key) is not None else None

    def duration(self, key: str) -> Duration | None:
        """An ISO 8601 duration; absent or null means none."""
        text = self.data.get(key)
        if text is None:
            return None
        with self.located(key):
            return Duration.parse(str(text), self.where(key))

    def children(self, key: str) -> list[Entry]:
        """The mappings listed under ``key``, each as an entry."""
        return [
            Entry(self.source, (*self.path, key, index), value)
            for index, value in enumerate(self.data.get(key) or ())
        ]
