"""Shared by the tests of the Python web collectors: collect one fixture app's facts."""

from __future__ import annotations

from pathlib import Path

from threatmodel.collect import collect_facts
from threatmodel.models import Facts, Route

PYTHON_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "python"


def facts_of(app: str) -> Facts:
    root = PYTHON_FIXTURES / app
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    result = collect_facts(root, files, cache=None, jobs=1)
    assert not result.not_parsed, result.not_parsed
    return result.facts


def routes_by_id(facts: Facts) -> dict[str, Route]:
    return {r.id: r for r in facts.routes}


def settings_of(facts: Facts) -> dict[str, str]:
    return {s.key: s.value for s in facts.settings}
