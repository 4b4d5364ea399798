"""The dataflow engines: taint followed from sources to the claim registry's sinks.

``extract(src)`` reads one parsed Python file, ``extract_js(src)`` one JavaScript/TypeScript
file (tree-sitter), into per-function summaries of the same shape (JSON-serialisable, so the
collect cache keeps them); ``flows(extracts)`` resolves them across files into ``Flow`` facts,
for either language.
"""

from __future__ import annotations

from typing import Any

from threatmodel.code.source import SourceFile
from threatmodel.dataflow import injected
from threatmodel.dataflow.flowfacts import flows
from threatmodel.dataflow.js import JsEngine
from threatmodel.dataflow.link import module_name
from threatmodel.dataflow.python import SOURCES, Engine
from threatmodel.dataflow.sinkfacts import sink_facts

__all__ = ["extract", "extract_js", "flows", "module_name", "sink_facts"]


def extract(src: SourceFile) -> dict[str, Any] | None:
    tree = src.python_ast
    if tree is None:
        return None
    engine = Engine(module_name(src.path), src.lines, package=src.path.endswith("__init__.py"))
    summaries = engine.run(tree)
    out = {"labels": engine.table.rows, "summaries": summaries}
    if engine.classes:
        out["classes"] = engine.classes
    if engine.imports:
        out["imports"] = engine.imports
    if engine.instances:
        out["instances"] = engine.instances
    if engine.stars:
        out["stars"] = engine.stars
    if engine.annotated:
        out["annotated_params"] = engine.annotated
    found = injected.aliases(tree, engine.module, SOURCES.injects)
    if found:
        out["injected_aliases"] = found
    return out


CLIENT_SINKS = ("__html", "innerHTML", "outerHTML", "location", "bypassSecurityTrust", ".html(")


def extract_js(src: SourceFile) -> dict[str, Any] | None:
    head = src.text.lstrip()
    if head.startswith(("'use client'", '"use client"')) and not any(
        w in src.text for w in CLIENT_SINKS
    ):
        return None  # a React client component: no server input, no DOM sink written
    tree = src.ts_tree
    if tree is None:
        return None
    engine = JsEngine(src.path, src.text)
    summaries = engine.run(tree.root_node)
    return {
        "labels": engine.table.rows,
        "summaries": summaries,
        "module": engine.module,
        "exports": engine.links(),
        "checks": engine.checks,
        "bare": sorted(engine.bare),
    }
