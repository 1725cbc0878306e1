"""How every benchmark writes its figures for later runs to compare (``--json PATH``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def save_json(path: str | Path, result: dict[str, Any]) -> None:
    """The result as indented UTF-8 JSON, ending with a newline."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
