"""Scenario files: a world, a timeline and expectations, as YAML validated against a schema.

Only ``accord.errors`` and ``accord.model`` are imported here; a runner (in ``accord.service``)
loads a ``Scenario`` into an exchange and checks its expectations.
"""

from accord.scenario.codec import builtin_scenario_path, load_scenario, parse_scenario
from accord.scenario.schema import scenario_schema
from accord.scenario.spec import (
    CHECKS,
    DECISIONS,
    EVENT_OUTCOMES,
    STATUSES,
    Act,
    Expectation,
    Known,
    Scenario,
    ScenarioEvent,
)

__all__ = [
    "CHECKS",
    "DECISIONS",
    "EVENT_OUTCOMES",
    "STATUSES",
    "Act",
    "Expectation",
    "Known",
    "Scenario",
    "ScenarioEvent",
    "builtin_scenario_path",
    "load_scenario",
    "parse_scenario",
    "scenario_schema",
]
