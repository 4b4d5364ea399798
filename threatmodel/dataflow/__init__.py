"""One dataflow engine (Python): taint followed from sources to the claim registry's sinks.

``extract(src)`` reads one parsed file into per-function summaries (JSON-serialisable, so
the collect cache keeps them); ``flows(extracts)`` resolves them across files into ``Flow``
facts. JS/TS is not covered yet.
"""

from __future__ import annotations

from typing import Any

from threatmodel.code.source import SourceFile
from threatmodel.dataflow.link import flows, module_name
from threatmodel.dataflow.python import Engine

__all__ = ["extract", "flows", "module_name"]


def extract(src: SourceFile) -> dict[str, Any] | None:
    tree = src.python_ast
    if tree is None:
        return None
    engine = Engine(module_name(src.path), src.lines)
    summaries = engine.run(tree)
    return {"summaries": summaries}
