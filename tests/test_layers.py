"""The layers import only downward: model → policy → store | crypto | audit | scenario → service
→ cli | api (``accord serve`` in the CLI is the one place that starts the API).

Walks every module's imports (including ones inside functions) with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "accord"

# what each layer may import from accord (besides itself); siblings never import each other
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": {"errors"},
    "policy": {"errors", "model"},
    "store": {"errors", "model"},
    "crypto": {"errors", "model"},
    "audit": {"errors", "model"},
    "scenario": {"errors", "model"},
    "service": {"errors", "model", "policy", "store", "crypto", "audit", "scenario"},
    "api": {"errors", "model", "policy", "service", "scenario"},
    "web": {"errors", "model", "policy", "service", "scenario"},
    "cli": {"errors", "model", "policy", "service", "scenario", "api", "web"},
    "__main__": {"cli"},
}
CLOCK_READERS = {"service", "cli"}


def layer_of(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py") if relative.parts[0] != "__init__.py" else "accord"


def accord_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("accord.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("accord"):
            found.append((node.lineno, node.module))
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if layer_of(p) != "accord")


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = sorted({layer_of(p) for p in MODULES} - set(ALLOWED))
    assert unknown == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_only_go_down(path: Path) -> None:
    layer = layer_of(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for line, module in accord_imports(tree):
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else "accord"
        if target in ("accord", layer) or target in ALLOWED[layer]:
            continue
        bad.append(f"line {line}: {module}")
    assert bad == [], f"{layer} may import only {sorted(ALLOWED[layer])}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_only_service_and_adapters_read_the_clock(path: Path) -> None:
    if layer_of(path) in CLOCK_READERS:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("now", "utcnow", "today", "time")
        and isinstance(node.value, ast.Name)
        and node.value.id in ("datetime", "date", "time")
    ]
    assert calls == [], f"clock read at lines {calls}"


def test_the_layer_test_can_fail(tmp_path: Path) -> None:
    tree = ast.parse("from accord.service import Exchange\nimport accord.cli.main\n")
    assert [m for _, m in accord_imports(tree)] == ["accord.service", "accord.cli.main"]
