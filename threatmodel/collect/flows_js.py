"""JavaScript / TypeScript dataflow: request (and database / config) values followed to the
registry's JavaScript sinks.

Extract (per file): the JS engine's per-function summaries (``threatmodel.dataflow.js``).
Link: the summaries are resolved across files (calls into the repository's own modules,
through ``require`` / ESM imports) into ``Flow`` facts, by the same linker as Python's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from threatmodel import dataflow
from threatmodel.collect.interface import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.collect.jsast import is_test_path
from threatmodel.collect.source import JS_LANGUAGES, SourceFile

# A file matters when it reads a source or exports a function others may call: every
# function the linker has no summary for passes its arguments through, so a file with no
# function and no request reads adds nothing. The words are wide on purpose.
GATE = re.compile(r"req|ctx|export|params|use server|@Body|@Query|@Param|function|=>")


@register
class JsFlowsCollector(Collector):
    id = "flows_js"
    version = 1
    gate = GATE

    def wants(self, path: str, language: str) -> bool:
        return language in JS_LANGUAGES and not is_test_path(path) and "/dist/" not in path

    def extract(self, src: SourceFile) -> Extract:
        return dataflow.extract_js(src)

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        out.flows.extend(dataflow.flows(extracts))
