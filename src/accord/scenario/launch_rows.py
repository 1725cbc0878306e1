"""What reading a launch database gives: the launches read, each with the line its record
starts on, and every row that could not be read, with its line, column and value."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from accord.errors import InvalidInput
from accord.model.launch import InvalidLaunchEvent, Launch
from accord.scenario.launch_fields import FieldUnreadable

T = TypeVar("T")


class LaunchFileInvalid(InvalidInput):
    """A launch file that cannot be read at all (its header, its encoding); names the file."""

    code = "launch-file-invalid"


class UnreadableRows(InvalidInput):
    """Rows that cannot be read, when the caller did not ask to skip them; nothing was
    published."""

    code = "unreadable-rows"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One value of one record that cannot be read. ``line`` is the physical line of the file
    on which the record starts (the header is line 1)."""

    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class LaunchRow:
    line: int
    launch: Launch


@dataclass(frozen=True, slots=True)
class LaunchFile:
    """Every launch of one file (in file order) and every row that could not be read."""

    name: str
    layout: str  # "cns" or "nagix"
    rows: tuple[LaunchRow, ...]
    problems: tuple[RowProblem, ...]

    def problem_report(self) -> str:
        count = len({p.line for p in self.problems})
        lines = "\n".join(f"  {self.name}: {p}" for p in self.problems)
        return f"{self.name}: {count} row(s) cannot be read:\n{lines}"


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: the line it starts on and its fields by column name."""

    line: int
    fields: dict[str, str]

    def get(self, column: str) -> str:
        return self.fields.get(column, "")


def records(text: str, name: str, required: Sequence[str]) -> tuple[list[Record], list[RowProblem]]:
    """The records of CSV text (any of CRLF, LF or CR line ends, line breaks inside quoted
    fields), each with the line it starts on; a record with the wrong number of fields is a
    problem. The header must name every ``required`` column."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    found: list[Record] = []
    problems: list[RowProblem] = []
    try:
        header = next(reader, None)
        if header is None:
            raise LaunchFileInvalid(f"{name}: the file is empty")
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise LaunchFileInvalid(f"{name}: line 1: the header lacks {', '.join(missing)}")
        consumed = reader.line_num
        for row in reader:
            line, consumed = consumed + 1, reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                shown = f"{len(row)} fields, the header has {len(header)}"
                problems.append(RowProblem(line, "(record)", "", shown))
                continue
            found.append(Record(line, dict(zip(header, row, strict=True))))
    except csv.Error as error:
        raise LaunchFileInvalid(
            f"{name}: line {reader.line_num}: not CSV ({_csv_message(error)})"
        ) from None
    return found, problems


def _csv_message(error: csv.Error) -> str:
    text = str(error)
    return text if len(text) < 80 else "a quoted field is not closed"


class RowReader:
    """Reads one record's columns, collecting a problem for each column that cannot be read."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.problems: list[RowProblem] = []

    def read(self, column: str, reader: Callable[[str], T]) -> T | None:
        value = self.record.get(column)
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            byte = next(ord(ch) - 0xDC00 for ch in value if "\udc80" <= ch <= "\udcff")
            self.problems.append(
                RowProblem(
                    self.record.line,
                    column,
                    value.encode("utf-8", "replace").decode(),
                    f"byte 0x{byte:02X} is not a character of the file's encoding",
                )
            )
            return None
        try:
            return reader(value)
        except FieldUnreadable as error:
            self.problems.append(RowProblem(self.record.line, column, value, str(error)))
            return None

    def build(self, make: Callable[[], Launch], columns: dict[str, str]) -> Launch | None:
        """The launch, or None with a problem naming the column of the property it breaks."""
        try:
            return make()
        except InvalidLaunchEvent as error:
            column = columns.get(error.field.split(".")[0], error.field)
            self.problems.append(
                RowProblem(self.record.line, column, self.record.get(column), error.detail)
            )
            return None


def collect(
    name: str, layout: str, found: Iterator[tuple[Launch | None, list[RowProblem], int]]
) -> LaunchFile:
    rows: list[LaunchRow] = []
    problems: list[RowProblem] = []
    for launch, row_problems, line in found:
        if row_problems or launch is None:
            problems += row_problems
        else:
            rows.append(LaunchRow(line, launch))
    return LaunchFile(name, layout, tuple(rows), tuple(sorted(problems, key=lambda p: p.line)))
