"""Commands are put on their groups by ``accord.cli.main``, never by importing a module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "accord" / "cli"


def imported_names(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_no_cli_module_adds_a_command_to_a_group_it_imports() -> None:
    offending = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = imported_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (
                    isinstance(call, ast.Attribute)
                    and call.attr in {"command", "group", "add_command"}
                    and isinstance(call.value, ast.Name)
                    and call.value.id in imported
                    and call.value.id != "click"
                ):
                    offending.append(f"{path.name}: {node.name} on {call.value.id}")
    assert offending == []


def test_importing_a_command_module_leaves_the_groups_unchanged() -> None:
    probe = (
        "from accord.cli import define\n"
        "before = {g.name: sorted(g.commands) for g in (define.user, define.agreement)}\n"
        "from accord.cli import acts, amendments, inventory, queries, tokens\n"
        "after = {g.name: sorted(g.commands) for g in (define.user, define.agreement)}\n"
        "assert before == after, (before, after)\n"
        "import accord.cli.main\n"
        "assert {'token', 'revoke', 'list'} <= set(define.user.commands)\n"
        "assert {'propose', 'accept', 'withdraw-amendment', 'status', 'notice'}"
        " <= set(define.agreement.commands)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
