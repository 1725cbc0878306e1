"""docs/rules.md states every rule and lists every reason code under the rule it cites; nothing
shipped cites a document outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

from accord.policy.reasons import RULE, Code

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "rules.md"
SECTION = re.compile(r"^## (R\d+) — ", re.MULTILINE)
LISTED = re.compile(r"^- `([a-z-]+)`", re.MULTILINE)
# documents that live outside the repository, and phrases that point at them
OUTSIDE = re.compile(r"DESIGN\.md|BASELINES\.md|shared folder|the issue|\bissue \d")
SHIPPED = ("README.md", "docs", "src", "tests", "bench", "scripts", "pyproject.toml")


def codes_by_rule() -> dict[str, list[str]]:
    text = RULES.read_text(encoding="utf-8")
    parts = SECTION.split(text)
    return {rule: LISTED.findall(body) for rule, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_every_rule_has_its_section_in_order() -> None:
    assert list(codes_by_rule()) == [f"R{n}" for n in range(1, 16)]


def test_every_code_is_listed_once_under_the_rule_it_cites() -> None:
    listed = {code: rule for rule, codes in codes_by_rule().items() for code in codes}
    assert sum(len(codes) for codes in codes_by_rule().values()) == len(listed)
    assert listed == {code.value: RULE[code] for code in Code}


def _shipped_text_files() -> list[Path]:
    files: list[Path] = []
    for name in SHIPPED:
        path = ROOT / name
        found = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [
            f
            for f in found
            if f.is_file()
            and f.suffix in {".md", ".py", ".yaml", ".json", ".toml", ""}
            and not any(part.endswith(".egg-info") for part in f.parts)
            and "__pycache__" not in f.parts
            and f != Path(__file__)
        ]
    return files


def test_nothing_cites_a_document_outside_the_repository() -> None:
    citing = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _shipped_text_files()
        for match in OUTSIDE.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert citing == []
