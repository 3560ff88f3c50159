"""Scenario files: fault rules (and clock settings) loaded at start or through the control API.

    {"name": "psp-outage", "description": "...",
     "clock": {"freeze": true, "advance_seconds": 0},
     "rules": [{"provider": "psp", "action": {"status": 503}, "for_seconds": 120}]}
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import resources
from .fault_actions import FaultRuleError
from .faults import FaultEngine

SCENARIO_KEYS = {"name", "description", "rules", "clock"}
CLOCK_KEYS = {"freeze", "advance_seconds"}


class ScenarioError(ValueError):
    pass


def preset(name: str):
    """A preset shipped with paymock (fixtures/scenarios/NAME.json), or None."""
    source = resources.fixtures() / "scenarios" / f"{name}.json"
    return source if source.is_file() else None


def read(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists() and not path.suffix and preset(str(path)) is not None:
        path = preset(str(path))  # a preset by name: `--scenario psp-outage`
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno}") from None
    try:
        check(doc)
    except ScenarioError as exc:
        raise ScenarioError(f"scenario {path}: {exc}") from None
    return doc


def check(doc) -> None:
    if not isinstance(doc, dict):
        raise ScenarioError("a scenario must be a JSON object with a \"rules\" list")
    unknown = set(doc) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(SCENARIO_KEYS)}")
    if not isinstance(doc.get("rules", []), list):
        raise ScenarioError("rules must be a list of fault rules")
    clock = doc.get("clock", {})
    if not isinstance(clock, dict) or set(clock) - CLOCK_KEYS:
        raise ScenarioError(f"clock must be an object with {sorted(CLOCK_KEYS)}")


def apply(doc: dict, faults: FaultEngine, clock) -> list[dict]:
    """Add the scenario's rules (all or none) and apply its clock settings."""
    check(doc)
    parsed = []
    for index, raw in enumerate(doc.get("rules", [])):
        try:
            parsed.append(faults.parse(raw))
        except FaultRuleError as exc:
            raise ScenarioError(f"rules[{index}]: {exc}") from None
    added = []
    for raw in doc.get("rules", []):
        added.append(faults.add(raw).to_dict())
    settings = doc.get("clock", {})
    if settings.get("freeze"):
        clock.freeze()
    if settings.get("advance_seconds"):
        clock.advance(float(settings["advance_seconds"]))
    return added
