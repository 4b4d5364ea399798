"""Rules: deterministic findings derived straight from facts, registered by a stable id.

Like bandit's checks, each rule lives in its own module whose docstring documents it, and
registers with ``@register``. A rule's findings carry claims and evidence like any LLM
finding, and go through the same verifiers.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from threatmodel.code.reader import RepoReader
from threatmodel.models import Evidence, Facts, Finding, Location
from threatmodel.redact import SNIPPET_LIMIT, cap_snippet, secret_literal


@dataclass(frozen=True)
class RuleContext:
    root: Path
    reader: RepoReader

    def evidence_at(
        self, location: Location, extra_lines: int = 0, secrets: Collection[str] = ()
    ) -> Evidence:
        """Evidence quoting the file at ``location`` (plus ``extra_lines`` after it).

        A long quote (a minified or one-line fixture) is cut to a window: around the first
        literal whose fingerprint is one of ``secrets``, if any, else the start.
        """
        end = location.line + extra_lines
        snippet = self.reader.snippet(location.path, location.line, end)
        if len(snippet) > SNIPPET_LIMIT:
            focus = secret_literal(snippet, secrets) if secrets else ""
            snippet = cap_snippet(snippet, focus)
        return Evidence(path=location.path, start_line=location.line, end_line=end, snippet=snippet)


class Rule(ABC):
    id: ClassVar[str]  # stable, e.g. "TM101"; never reused for another rule
    name: ClassVar[str]  # short slug, e.g. "unauthenticated-write-route"

    @abstractmethod
    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        """Findings (source="rule", rule_id=self.id) this rule derives from the facts."""


_REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"rule id {cls.id!r} registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def all_rules() -> list[Rule]:
    import threatmodel.rules as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name != "interface":
            importlib.import_module(f"{package.__name__}.{info.name}")
    return [_REGISTRY[k]() for k in sorted(_REGISTRY)]


def run_rules(facts: Facts, ctx: RuleContext) -> list[Finding]:
    return run_rules_checked(facts, ctx)[0]


def run_rules_checked(facts: Facts, ctx: RuleContext) -> tuple[list[Finding], list[str]]:
    """Every rule's findings, and the rules that crashed (stage health reports them).

    One broken rule must not hide the others' findings, nor be skipped silently.
    """
    findings: list[Finding] = []
    errors: list[str] = []
    for rule in all_rules():
        try:
            findings.extend(rule.check(facts, ctx))
        except Exception as exc:
            errors.append(f"rule {rule.id} crashed: {type(exc).__name__}: {exc}")
    return findings, errors
