"""Python dataflow: request (and database / config) values followed to the registry's sinks.

Extract (per file): the dataflow engine's per-function summaries (``threatmodel.dataflow``).
Link: the summaries are resolved across files (calls into the repository's own functions,
through imports) into ``Flow`` facts.
"""

from __future__ import annotations

from collections.abc import Mapping

from threatmodel import dataflow
from threatmodel.collect.interface import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.collect.source import SourceFile


@register
class PythonFlowsCollector(Collector):
    id = "flows_python"
    version = 1
    gate = None  # every Python file: a helper with no sink still summarises a call

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def extract(self, src: SourceFile) -> Extract:
        return dataflow.extract(src)

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        out.flows.extend(dataflow.flows(extracts))
