"""Reading a launch database file: the layout from its header (the CNS export, or nagix's
flattened table), decoded in that layout's encoding."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from accord.scenario import cns, nagix
from accord.scenario.launch_rows import LaunchFile, LaunchFileInvalid


def _header(data: bytes) -> list[str]:
    first = re.split(rb"\r\n|\r|\n", data, maxsplit=1)[0]
    text = first.removeprefix(b"\xef\xbb\xbf").decode("ascii", "replace")
    return [h.strip() for h in next(csv.reader(io.StringIO(text)), [])]


def parse_launches(data: bytes, name: str) -> LaunchFile:
    """Every launch of a file's bytes, in the layout its header names."""
    header = _header(data)
    if cns.is_cns(header):
        # bytes that are not Windows-1252 become U+DC80..U+DCFF and are reported per row
        return cns.parse_cns(data.decode(cns.ENCODING, "surrogateescape"), name)
    if nagix.is_nagix(header):
        text = data.decode(nagix.ENCODING, "surrogateescape").removeprefix("\ufeff")
        return nagix.parse_nagix(text, name)
    raise LaunchFileInvalid(
        f"{name}: line 1: not a launch database header (expected the CNS export's columns, "
        "e.g. 'Date,…,Launch Time (UTC),…,Test Outcome', or nagix's 'date,time_utc,…')"
    )


def read_launches(path: Path) -> LaunchFile:
    try:
        data = path.read_bytes()
    except OSError:
        raise LaunchFileInvalid(f"{path}: cannot be read") from None
    return parse_launches(data, str(path))
