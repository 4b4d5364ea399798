"""Collector gates (interface.Collector.gate) are necessary conditions: they never change a fact.

A gate lets a collector skip a file whose text cannot hold anything it looks for, and a file
no gate lets through is never parsed (issue 11). A gate that is too narrow would silently
lose routes, sinks or secrets, so every fixture repository is collected twice, with gates
and with every gate removed, and the facts must be identical. ``benchmarks/gates.py`` runs
the same comparison on real checkouts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from threatmodel.collect import collect_facts
from threatmodel.collect.interface import Collector, all_collectors
from threatmodel.collect.walk import walk

REPO = Path(__file__).resolve().parent.parent
FIXTURE_ROOTS = sorted(
    {
        *(p for p in (REPO / "tests" / "fixtures").glob("*/*") if p.is_dir()),
        REPO / "examples" / "leaky-notes",
    }
)


def _facts(root: Path) -> tuple[dict[str, object], list[str]]:
    result = collect_facts(root, walk(root).files, cache=None, jobs=1)
    not_parsed = [n for n in result.not_parsed if "syntax" not in n]
    return result.facts.model_dump(mode="json"), not_parsed + result.warnings


@pytest.mark.parametrize("root", FIXTURE_ROOTS, ids=lambda p: str(p.relative_to(REPO)))
def test_gates_change_no_fact(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gated = _facts(root)
    for c in all_collectors():
        monkeypatch.setattr(type(c), "gate", None)
    ungated = _facts(root)
    assert gated == ungated


def test_gate_is_a_text_search(monkeypatch: pytest.MonkeyPatch) -> None:
    class Probe(Collector):
        id = "probe"
        gate = re.compile(r"\bneedle\b")

        def wants(self, path: str, language: str) -> bool:
            return True

        def extract(self, src: object) -> object:
            return None

        def link(self, extracts: object, out: object, ctx: object) -> None:
            return None

    probe = Probe()
    assert probe.admits("a needle here") and not probe.admits("needles")
    monkeypatch.setattr(Probe, "gate", None)
    assert probe.admits("anything")
