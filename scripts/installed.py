"""Exit 0 when .venv already holds a current editable install of this checkout with its dev tools
(as the README's first command leaves it), 1 when ``scripts/test`` must install.

Current means: ``accord`` is installed editable from this directory, its metadata is not older
than ``pyproject.toml``, and the tools the check runs are there. Run with the venv's Python.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("ruff", "mypy", "pytest")


def current() -> bool:
    try:
        dist = metadata.distribution("accord")
    except metadata.PackageNotFoundError:
        return False
    origin = json.loads(dist.read_text("direct_url.json") or "{}")
    source = Path(unquote(urlparse(str(origin.get("url", ""))).path))
    if not origin.get("dir_info", {}).get("editable") or source.resolve() != ROOT:
        return False
    record = next((f for f in dist.files or () if f.name == "METADATA"), None)
    if record is None:
        return False
    installed = Path(str(dist.locate_file(record))).stat().st_mtime
    if (ROOT / "pyproject.toml").stat().st_mtime > installed:
        return False
    scripts = Path(sys.executable).parent
    return all((scripts / tool).exists() for tool in TOOLS)


if __name__ == "__main__":
    sys.exit(0 if current() else 1)
