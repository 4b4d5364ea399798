"""Collector gates (interface.Collector.gate) are necessary conditions: they never change a fact.

A gate lets a collector skip a file whose text cannot hold anything it looks for, and a file
no gate lets through is never parsed (issue 11). A gate that is too narrow would silently
lose routes, sinks or secrets, so every fixture repository is collected twice, with gates
and with every gate removed, and the facts must be identical. ``benchmarks/gates.py`` runs
the same comparison on real checkouts.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import pytest

from threatmodel.code.collector import Collector
from threatmodel.code.source import SourceFile
from threatmodel.code.walk import walk
from threatmodel.collect import collect_facts
from threatmodel.collect.registry import all_collectors

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


def test_a_file_no_collector_looks_into_is_never_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "util.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "broken.ts").write_text("export function (x: { => ;\n")
    (tmp_path / "app.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n@app.get('/a')\ndef a(:\n  pass\n"
    )
    files = ["app.py", "broken.py", "broken.ts", "util.py"]
    parsed: list[str] = []
    real_parse = SourceFile.python_ast.func  # type: ignore[attr-defined]

    def counting_parse(src: SourceFile) -> object:
        parsed.append(src.path)
        return real_parse(src)

    monkeypatch.setattr(SourceFile, "python_ast", cached_property(counting_parse))
    SourceFile.python_ast.__set_name__(SourceFile, "python_ast")  # type: ignore[attr-defined]
    result = collect_facts(tmp_path, files, cache=None, jobs=1)
    # The broken files name nothing any collector looks for: they are read, never parsed,
    # and their syntax errors cost no fact. app.py is parsed for its routes: its error counts.
    assert [n.split(":")[0] for n in result.not_parsed] == ["app.py"]
    assert sorted(set(parsed)) == ["app.py"]
    for c in all_collectors():
        monkeypatch.setattr(type(c), "gate", None)
    parsed.clear()
    collect_facts(tmp_path, files, cache=None, jobs=1)
    assert "util.py" in parsed or "broken.py" in parsed  # without gates, more is parsed


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
