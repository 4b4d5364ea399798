"""Files a dataflow collector's gate skipped that link needs after all: the ones called into.

A dataflow gate lets a file through when it names a sink, a source, a sanitizer or a lookup.
Any other file's functions pass their arguments on, which is what link assumes of a function
it has no summary for, so skipping them changes no flow's ends. But it would change a flow's
middle: a flow through such a function shows a step at its line, and a package's
``__init__`` that only imports (``from .links import get_link``) tells link which module
``pkg.get_link`` is. So link extracts, in the main process and as the workers would have,
the skipped files an extracted file calls into, then the ones those call, for a few rounds.
Python and JavaScript ask alike: the engines' extracts share their labels and summaries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from threatmodel.code.collector import Collector, Extract, LinkContext
from threatmodel.code.source import SourceFile

# Rounds of files extracted at link: a helper the gate skipped may call another one.
ROUNDS = 4


def with_called_files(
    extracts: Mapping[str, Extract],
    modules: Mapping[str, str],
    extract: Callable[[str], Extract],
    rename: Callable[[dict[str, Extract]], dict[str, Extract]] = dict,
) -> dict[str, Extract]:
    """``extracts`` with those of the files of ``modules`` (module name -> file) that their
    calls name and that have none. ``rename``: the calls renamed as link will read them
    (JavaScript's bare imports named as their files' modules), before calls are matched."""
    out = dict(extracts)
    tried: set[str] = set()
    named = rename(out)
    for _ in range(ROUNDS):
        wanted = sorted(
            f
            for m in called_modules(named, modules)
            if (f := modules[m]) not in out and f not in tried
        )
        if not wanted:
            break
        for path in wanted:
            tried.add(path)
            got = extract(path)
            if got is not None:
                out[path] = got
        named = rename(out)
    return named


def called_modules(extracts: Mapping[str, Extract], modules: Mapping[str, str]) -> set[str]:
    """The modules of ``modules`` that the extracts' calls name (``./lib/text.tidy``,
    ``shop.crud.get_link``): each call's longest leading part that is a module."""
    found: set[str] = set()
    for data in extracts.values():
        if not data:
            continue
        quals = [row[1] for row in data["labels"] if row[0] == "call"]
        quals += [c[0] for summ in data["summaries"].values() for c in summ.get("calls", ())]
        for qual in set(quals):
            end = len(qual)
            while (end := qual.rfind(".", 0, end)) > 0:
                if qual[:end] in modules:
                    found.add(qual[:end])
                    break
    return found


def extract_at_link(collector: Collector, ctx: LinkContext, path: str) -> Extract:
    """``path`` extracted by ``collector`` as a worker would have (through JSON), or None
    when it cannot be read or the collector does not want it (test code included, unless it
    reads test code: a production file may import a test fixture's helper)."""
    if path in ctx.tests and not collector.reads_test_code:
        return None
    try:
        src = SourceFile.from_bytes(path, (ctx.root / path).read_bytes())
    except OSError:
        return None
    if not collector.wants(path, src.language):
        return None
    found = collector.extract(src)
    return json.loads(json.dumps(found)) if found is not None else None
