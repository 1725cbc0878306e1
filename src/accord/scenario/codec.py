"""The scenario codec: YAML text to a validated, typed ``Scenario``.

Three passes, each failing with ``ScenarioInvalid`` (file, line, offending value): YAML to plain
data (instants kept as text, lines recorded), the shipped JSON Schema, then the definitions
added to a dry-run ``World`` and every event and expectation resolved against it.

Given the world a store holds (``stored``, for ``accord load``), the file is read against it:
see ``accord.scenario.stored``.
"""

from __future__ import annotations

import re
from pathlib import Path

from accord.errors import DefinitionConflict, ScenarioInvalid, UnknownReference
from accord.model.world import World
from accord.scenario.definitions import Definitions
from accord.scenario.entry import Entry
from accord.scenario.expectations import expectations
from accord.scenario.schema import check_schema
from accord.scenario.source import read_yaml
from accord.scenario.spec import Known, Scenario, ScenarioEvent
from accord.scenario.stored import recorded
from accord.scenario.timeline import scenario_events

BUILTIN_DIR = Path(__file__).parent / "builtin"
BUILTIN_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def parse_scenario(text: str, file: str, stored: World | None = None) -> Scenario:
    """Parse and validate a scenario; ``file`` names it in error messages. With ``stored``, the
    file is read against a store's world: what it holds identically is set aside as known."""
    source = read_yaml(text, file)
    check_schema(source)
    root = Entry(source, (), source.data)
    definitions = Definitions(root, stored)
    topics = definitions.topics()
    parties = definitions.parties()
    agreements = definitions.agreements()
    matters = definitions.matters()
    users = definitions.users()
    items = definitions.items()
    standing_rules = definitions.standing_rules()
    standing_consents = definitions.standing_consents()
    refs = definitions.references
    events = scenario_events(root.children("events"), refs)
    done = {id(event) for event in _recorded(events, stored, file)}
    known = definitions.known
    return Scenario(
        file=file,
        name=root.text("name") or Path(file).stem,
        description=root.text("description"),
        topics=topics,
        parties=parties,
        agreements=agreements,
        users=users,
        items=items,
        events=tuple(event for event in events if id(event) not in done),
        expectations=expectations(root.children("expect"), refs),
        line_of=dict(definitions.line_of),
        known=Known(
            topics=tuple(known["topic"]),
            parties=tuple(known["party"]),
            agreements=tuple(known["agreement"]),
            users=tuple(known["user"]),
            items=tuple(known["item"]),
            events=len(done),
        ),
        matters=matters,
        standing_rules=standing_rules,
        standing_consents=standing_consents,
    )


def _recorded(
    events: tuple[ScenarioEvent, ...], stored: World | None, file: str
) -> list[ScenarioEvent]:
    """The events the store has already recorded; one the file expects refused cannot be."""
    if stored is None:
        return []
    done = [event for event in events if recorded(stored, event.act)]
    for event in done:
        if event.expect == "deny":
            raise DefinitionConflict(
                "expect: the store has already recorded this event (it was allowed);"
                " this file expects it denied",
                file=file,
                line=event.line,
                field="expect",
            )
    return done


def load_scenario(path: str | Path, stored: World | None = None) -> Scenario:
    """Read a UTF-8 scenario file and parse it (against ``stored``, if given)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioInvalid("the file is not UTF-8 text", file=file) from None
    except FileNotFoundError:
        raise ScenarioInvalid("no such file", file=file) from None
    except IsADirectoryError:
        raise ScenarioInvalid("this is a directory, not a scenario file", file=file) from None
    except PermissionError:
        raise ScenarioInvalid("permission denied: the file cannot be read", file=file) from None
    except OSError:
        raise ScenarioInvalid("the file cannot be read", file=file) from None
    return parse_scenario(text, file, stored)


def builtin_scenario_path(name: str = "gsomia-2019") -> Path:
    """The path of a scenario shipped with accord."""
    path = BUILTIN_DIR / f"{name}.yaml"
    if not BUILTIN_NAME.match(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml")))
        raise UnknownReference(f"no built-in scenario {name!r} (built-in: {known})")
    return path
