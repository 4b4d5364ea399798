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
from threatmodel.claims import REGISTRY
from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.inline import is_view, script_source
from threatmodel.code.jsast import JS_SUFFIXES, is_test_path
from threatmodel.code.jsworkspace import repo_files
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.collect._called_files import extract_at_link, with_called_files
from threatmodel.collect.fixed_in import keep_fixed_in
from threatmodel.dataflow import jsviews
from threatmodel.dataflow.js import module_name
from threatmodel.dataflow.jsimports import resolve_bare
from threatmodel.dataflow.jsweak import annotate


def _gate_words() -> list[str]:
    """Last names of every JS catalog sink and sanitizer, from the registry."""
    names: set[str] = set()
    for spec in REGISTRY.values():
        for row in spec.sinks:
            if row.language == "javascript":
                names.add(row.callee.rsplit(".", 1)[-1].lstrip("$"))
        names.update(n.rsplit(".", 1)[-1] for n in spec.sanitizers)
    return sorted(n for n in names if n)


# A file matters to the engine when it names a sink, a sanitizer, a source (a resolver map
# too) or a token check, reads the database or a store (``find``, ``get``: a lookup's
# result is not its key), returns a constant (a wrapper whose summary breaks a flow) or
# re-exports another file. Any other function passes its arguments through, which is what
# link() assumes of a function it has no summary for; but a flow through it shows a step
# at its line, so link extracts such a file after all when an extracted file calls into it
# (``_called_files``). Plain substrings: wide, never narrow.
GATE = re.compile(
    "|".join(
        re.escape(w)
        for w in (
            *_gate_words(),
            *("req", "ctx", "Request", "params", "use server", "@Body", "@Query", "@Param"),
            *("@Headers", "location", "snapshot", "document.", "process.env"),
            *("Query", "Mutation", "verify", "Verify"),  # resolver maps, token checks
            *("find", "get", "lookup", "load", "read", "fetch", "select", "count", "has"),
            *("return '", 'return "', "return `", "return null", "return undefined"),
            *("return [", "return {", "from '.", 'from ".', "require('.", 'require(".'),
        )
    )
)


@register
class JsFlowsCollector(Collector):
    id = "flows_js"
    version = 13  # 6: GraphQL resolver arguments, verified tokens, xpath, XML options by name;
    # 7: templates of constants fold; 8: calls through bare imports kept for link (``bare``);
    # 9: a URL's fixed start judged per host kind (``urlhead``); 10: a shell command is guarded
    # only with every metacharacter absent (``guard_needs_all``); 11: XML-RPC method parameters;
    # 12: a tRPC resolver's ``input``; 13: no ``externals`` (link takes any lookup on an
    # exported object for what is stored, ``stored_lookup``)
    gate = GATE

    def wants(self, path: str, language: str) -> bool:
        code = language in JS_LANGUAGES or is_view(path)  # a view's inline scripts too
        return code and not is_test_path(path) and "/dist/" not in path

    def extract(self, src: SourceFile) -> Extract:
        if src.language not in JS_LANGUAGES:
            script = script_source(src)
            return dataflow.extract_js(script) if script is not None else None
        return dataflow.extract_js(src)

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        files = repo_files(ctx.root, ctx.files)
        modules = {module_name(f): f for f in ctx.files if f.endswith(JS_SUFFIXES)}
        extracts = with_called_files(
            extracts,
            modules,
            lambda path: extract_at_link(self, ctx, path),
            rename=lambda found: resolve_bare(found, files),  # bare imports as their modules
        )
        aliases = root_aliases(extracts)
        found = dataflow.flows(extracts, aliases, warnings=out.warnings)
        found = annotate(found, extracts, aliases)
        found = keep_fixed_in(found, ctx.root, ctx.files)
        out.flows.extend(jsviews.resolve(found, ctx.root, ctx.files))


def root_aliases(extracts: Mapping[str, Extract]) -> dict[str, str]:
    """The names a tsconfig root alias gives the summaries: ``@/lib/x.f`` (and ``~/``) for
    ``./apps/web/lib/x.f`` or ``./src/lib/x.f``, and the names ``export ... from`` gives
    (``reexported``). The engine reads one file and cannot know the alias's folder; here
    every file is known. A name two files would give (a monorepo's apps each with a
    ``lib/x``) is left out: no guess."""
    names = {q for data in extracts.values() if data for q in data["summaries"]}
    known = reexported(extracts, names)
    owners: dict[str, str | None] = {}
    for qual in [*names, *known]:
        parts = qual.removeprefix("./").split("/")
        for i in range(len(parts)):
            for prefix in ("@/", "~/"):
                alias = prefix + "/".join(parts[i:])
                owners[alias] = qual if owners.get(alias, qual) == qual else None
    out = {alias: known.get(qual, qual) for alias, qual in owners.items() if qual is not None}
    out.update(known)
    return out


def reexported(extracts: Mapping[str, Extract], names: set[str]) -> dict[str, str]:
    """``mod.f`` -> the function it names through ``export ... from`` (two hops at most);
    ``mod.obj.m`` too: a method of an object or instance the module exports."""
    modules = {data["module"] for data in extracts.values() if data}
    by_module: dict[str, list[str]] = {}
    for qual in names:
        by_module.setdefault(_module_of(qual, modules), []).append(qual)
    out: dict[str, str] = {}
    for _ in range(2):
        for data in extracts.values():
            links = data.get("exports") if data else None
            if not links:
                continue
            mod = data["module"]
            for alias, target in links["names"].items():
                out.setdefault(alias, out.get(target, target))
            for star in links["star"]:
                for qual in by_module.get(star, []):
                    name = f"{mod}{qual[len(star) :]}"
                    if name not in names:
                        out.setdefault(name, out.get(qual, qual))
        for alias in list(out):
            by_module.setdefault(_module_of(alias, modules), []).append(alias)
    return out


def _module_of(qual: str, modules: set[str]) -> str:
    """The module part of ``./lib/x.obj.m``: the longest known module it starts with (a
    file name may hold dots), else all before the last dot."""
    end = len(qual)
    while (end := qual.rfind(".", 0, end)) > 1:
        if qual[:end] in modules:
            return qual[:end]
    return qual.rsplit(".", 1)[0]
