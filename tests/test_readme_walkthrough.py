"""The README's walkthrough, run as a new user runs it: every command in order, from a fresh
store, in 100 columns. Each command of ``WALKTHROUGH`` is checked to be in the README's ``sh``
blocks as written, so a command changed in one place and not the other fails here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WIDTH = 100
BOX = set("─━│┃┌┐└┘├┤┬┴┼┏┓┗┛┡┩╇┳┻╋╭╮╯╰═║╔╗╚╝")


@dataclass(frozen=True)
class Step:
    command: str
    exit: int = 0
    readme: bool = True  # False: an edit the README asks for in prose, done here by the test
    data: bool = False  # its output is data (JSON, a signed note): lines as long as they are


CONDITIONAL_EDIT = "cp my-world.conditional.yaml my-world.yaml"

WALKTHROUGH = (
    Step(".venv/bin/accord demo"),
    Step(".venv/bin/accord test my-world.yaml tests/scenarios/*.yaml"),
    Step("export ACCORD_DB=exchange.db ACCORD_KEY_FILE=$HOME/exchange.key"),
    Step("accord keys init"),
    Step("accord load src/accord/scenario/builtin/gsomia-2019.yaml"),
    Step(
        "printf 'users:\\n  - {id: jpn-second, party: JPN, clearance: 極秘, need_to_know:"
        " [nk-missile]}\\n' > more.yaml"
    ),
    Step("accord load more.yaml"),
    Step("accord agreement status rok-japan-gsomia --at 2019-11-22T17:59:59+09:00 --tz Asia/Seoul"),
    Step(
        "accord check release kor-missile-eve --from KOR --to JPN"
        " --at 2019-11-23T00:00:01+09:00 --json",
        data=True,
    ),
    Step(
        "accord check release kor-missile-eve --from KOR --to JPN --via USA"
        " --at 2019-11-23T00:00:01+09:00",
        exit=1,
    ),
    Step("accord impact rok-japan-gsomia --at 2019-11-23T00:00:00+09:00 --tz Asia/Seoul"),
    Step("accord readable jpn-analyst --at 2019-12-01T00:00:00+09:00"),
    Step(CONDITIONAL_EDIT, readme=False),
    Step("accord --db notes.db keys init"),
    Step("accord --db notes.db load my-world.yaml"),
    Step("accord --db notes.db agreement status rok-japan-gsomia --at 2019-12-01T00:00:00+09:00"),
    Step(
        "accord --db notes.db impact rok-japan-gsomia --if japan-export-controls=dialogue-failed"
        " --at 2019-12-16T00:00:00+09:00"
    ),
    Step("accord --db notes.db duties KOR --at 2019-12-01T00:00:00+09:00"),
    Step("accord --db notes.db duties JPN --at 2019-12-01T00:00:00+09:00"),
    Step(
        "accord --db notes.db matter state japan-export-controls measures-withdrawn --by JPN"
        " --at 2023-03-16T18:00:00+09:00"
    ),
    Step("accord --db notes.db matter list --at 2023-03-17T00:00:00+09:00"),
    Step("accord --db notes.db duties JPN --at 2023-03-17T00:00:00+09:00"),
    Step(
        "accord agreement propose rok-japan-gsomia --by KOR --id am-1 --notice-period P180D"
        " --at 2023-04-01T00:00:00+09:00"
    ),
    Step(
        "accord agreement accept rok-japan-gsomia am-1 --by JPN"
        " --effective-at 2023-05-01T00:00:00+09:00 --at 2023-04-10T00:00:00+09:00"
    ),
    Step("export ACCORD_DB=exchange.db ACCORD_KEY_FILE=$HOME/exchange.key"),
    Step("accord user token jpn-analyst --expires P1D > jpn.token"),
    Step("accord audit verify"),
    Step("accord audit verifier-key > exchange.vkey"),
    Step("size=$(accord audit checkpoint | sed -n 2p)"),
    Step('accord audit countersign "$size" --party JPN', data=True),
    Step("accord audit prove 5 > entry5.json"),
    Step('accord audit consistency 10 "$size" --unsigned-ok > grow.json'),
    Step('accord audit check-proof entry5.json --verifier-key "$(cat exchange.vkey)"'),
)
# Not run here: the install line and `bash scripts/test` (this is that run), `accord serve` with
# its taxii2-client script (tests/test_taxii_interop.py), `accord replay` of the CNS file (not in
# the repository: tests/test_launch_cns.py), and table rows written with "…" placeholders.


def fenced(text: str, language: str) -> list[str]:
    """The bodies of the README's fenced blocks of ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def readme_commands(text: str) -> list[str]:
    """Each command of the ``sh`` blocks (a line, or a part of one between ``&&``), without its
    trailing comment."""
    commands = []
    for block in fenced(text, "sh"):
        for line in block.splitlines():
            for command in re.sub(r"\s+#\s.*$", "", line).split(" && "):
                if command.strip():
                    commands.append(command.strip())
    return commands


def test_every_walkthrough_command_is_in_the_readme_in_that_order() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    position = 0
    for step in WALKTHROUGH:
        if not step.readme:
            continue
        assert step.command in commands[position:], f"not in the README (in order): {step.command}"
        position = commands.index(step.command, position) + 1


def conditional_world(text: str) -> str:
    """``my-world.yaml`` edited as the README's "Conditional notes" section says: its ``matters``
    block added, its two events appended, the two expectations on the agreement's status dropped."""
    yaml_blocks = fenced(text, "yaml")
    world = next(b for b in yaml_blocks if b.startswith("# my-world.yaml"))
    matters = next(b for b in yaml_blocks if b.startswith("matters:"))
    events = next(b for b in yaml_blocks if "type: matter_state" in b)
    head, expect = world.split("expect:\n")
    kept = [line for line in expect.splitlines(keepends=True) if "check: agreement" not in line]
    return head.replace("events:\n", matters + "events:\n") + events + "expect:\n" + "".join(kept)


def script(steps: tuple[Step, ...]) -> str:
    """One shell running every step, each followed by a marker with its exit code."""
    lines = ['cd "$(dirname "$0")"']
    for number, step in enumerate(steps):
        lines += [
            f"echo '@@step {number}' ; echo '@@step {number}' >&2",
            step.command,
            f'echo "@@exit {number} $?"',
        ]
    return "\n".join(lines) + "\n"


def by_step(text: str) -> dict[int, str]:
    parts: dict[int, str] = {}
    for chunk in re.split(r"^@@step ", text, flags=re.MULTILINE)[1:]:
        number, _, body = chunk.partition("\n")
        parts[int(number)] = re.sub(r"^@@exit .*\n?", "", body, flags=re.MULTILINE)
    return parts


@pytest.fixture
def newcomer(tmp_path: Path) -> Path:
    """A directory as a new user has it after the README's first command: the repository's
    files (linked), its ``.venv`` with the ``accord`` command, a home of its own."""
    work = tmp_path / "repo"
    work.mkdir()
    for name in ("src", "tests"):
        (work / name).symlink_to(ROOT / name)
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / ".venv" / "bin" / "accord").symlink_to(Path(sys.executable).parent / "accord")
    text = README.read_text(encoding="utf-8")
    world = next(b for b in fenced(text, "yaml") if b.startswith("# my-world.yaml"))
    (work / "my-world.yaml").write_text(world, encoding="utf-8")
    (work / "my-world.conditional.yaml").write_text(conditional_world(text), encoding="utf-8")
    (tmp_path / "home").mkdir()
    return work


def test_the_readme_walkthrough_runs_in_100_columns(newcomer: Path) -> None:
    if not (Path(sys.executable).parent / "accord").exists():
        pytest.skip("the accord console script is not installed beside this interpreter")
    (newcomer / "walkthrough.sh").write_text(script(WALKTHROUGH), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        HOME=str(newcomer.parent / "home"),
        PATH=f"{newcomer / '.venv' / 'bin'}:{env.get('PATH', '')}",
        COLUMNS=str(WIDTH),
        PYTHONUTF8="1",
    )
    done = subprocess.run(
        ["bash", str(newcomer / "walkthrough.sh")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=900,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    exits = {
        int(number): int(code)
        for number, code in re.findall(r"^@@exit (\d+) (\d+)$", done.stdout, re.MULTILINE)
    }
    outputs, errors = by_step(done.stdout), by_step(done.stderr)
    wrong = []
    for number, step in enumerate(WALKTHROUGH):
        shown = f"$ {step.command}\n{outputs.get(number, '')}{errors.get(number, '')}"
        human = errors.get(number, "") + ("" if step.data else outputs.get(number, ""))
        wide = [line for line in human.splitlines() if cell_len(line.rstrip()) > WIDTH]
        if exits.get(number) != step.exit or wide or BOX & set(outputs.get(number, "")):
            wrong.append(shown)  # a pipe: plain text, every line within the width
        assert "Traceback" not in errors.get(number, ""), shown
    assert wrong == [], "\n".join(wrong)
    assert re.search(r"^\d+ passed, 0 failed, 0 invalid$", outputs[1], re.MULTILINE), outputs[1]
    assert not (newcomer / "exchange.key").exists()  # the key is in $HOME, outside the work tree
