"""How much of the per-file summaries link reads: the bound on computing them lazily.

python benchmarks/lazy.py PATH

Issues 16 and 17 asked whether extract could keep a cheap per-file index and leave the
expensive summaries (the dataflow engine's per-function summaries, pyweb's guard summaries)
to be computed when link asks for them. This measures, on one checkout, in one process:

- dataflow: the summaries and files the gate admits; those link reads (every summary with a
  hit, every caller of a function through which an argument reaches a sink, every summary
  ``Linker.find`` answers); the CPU of the parse, of the engine, and of a *skeleton* run (the
  engine with every function body skipped: the keys, classes and imports link needs to
  resolve names); and the set a lexical index would have to keep: every function whose own
  text passes the flows gate, the callers of those by last name, and everything they call
  by last name (the closure a cheap index can compute without the engine's name resolution);
- pyweb: the guard summaries extracted (as stubs, ``collect/pyweb_lazy.py``), those its
  link reads (and so summarises), and the CPU of extract, of link and of the summarising.

Read-only: nothing is cached or written. Files are what ``git ls-files`` lists, else every
``.py`` file under PATH.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import threatmodel.collect.pyweb as pyweb  # noqa: E402
import threatmodel.collect.pyweb_lazy as pyweb_lazy  # noqa: E402
from benchmarks.measure import table  # noqa: E402
from threatmodel import dataflow  # noqa: E402
from threatmodel.code.collector import FactsBuilder, LinkContext  # noqa: E402
from threatmodel.code.source import SourceFile  # noqa: E402
from threatmodel.collect.flows_python import GATE  # noqa: E402
from threatmodel.dataflow import flowfacts  # noqa: E402
from threatmodel.dataflow.link import Linker, module_name  # noqa: E402
from threatmodel.dataflow.python import Engine  # noqa: E402

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef


def _files(root: Path) -> list[str]:
    if (root / ".git").exists():
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "*.py"], capture_output=True, text=True
        ).stdout.split("\n")
        return sorted(p for p in out if p)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if ".git" not in p.parts)


class Skeleton(Engine):
    """The engine with every function body skipped: only the names of the functions."""

    def function(self, fn: FuncNode, parent: Any, qual: str, method: bool) -> None:
        self.summaries[qual] = {}
        todo: list[tuple[list[ast.stmt], str]] = [(fn.body, qual)]
        while todo:  # nested functions' names, statements only (no expression is walked)
            body, prefix = todo.pop()
            for s in body:
                if isinstance(s, FuncNode | ast.ClassDef):
                    inner = f"{prefix}.{s.name}"
                    if isinstance(s, FuncNode):
                        self.summaries[inner] = {}
                    todo.append((s.body, inner))
                for part in ("body", "orelse", "finalbody"):
                    sub = getattr(s, part, None)
                    if isinstance(sub, list) and not isinstance(s, FuncNode | ast.ClassDef):
                        todo.append(([x for x in sub if isinstance(x, ast.stmt)], prefix))


class Recording(dict[str, Any]):
    """A mapping that notes every key whose value is read."""

    def __init__(self, data: dict[str, Any], seen: set[Any], tag: str = "", walks: bool = True):
        super().__init__(data)
        # walks: an iteration over every item reads them (pyweb); Linker.hits() walks every
        # summary to find those with a hit or a call, which the rows count on their own
        self.seen, self.tag, self.walks = seen, tag, walks

    def _note(self, key: str) -> None:
        self.seen.add((self.tag, key) if self.tag else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key in self:
            self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        for key, value in super().items():
            if self.walks:
                self._note(key)
            yield key, value

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        for _, value in self.items():
            yield value


def _functions(tree: ast.Module, module: str, lines: list[str]) -> dict[str, Any]:
    """qual -> (lines, own text passes the flows gate, last names it calls), as the engine
    names functions (module.f, module.C.m, nested: module.f.g)."""
    out: dict[str, Any] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for s in body:
            if isinstance(s, FuncNode):
                add(f"{prefix}.{s.name}", s)
            elif isinstance(s, ast.ClassDef):
                visit(s.body, f"{prefix}.{s.name}")
            else:
                for part in ("body", "orelse", "finalbody"):
                    sub = getattr(s, part, None)
                    if isinstance(sub, list):
                        visit([x for x in sub if isinstance(x, ast.stmt)], prefix)
                for h in getattr(s, "handlers", None) or ():
                    visit(h.body, prefix)

    def add(qual: str, fn: FuncNode) -> None:
        end = fn.end_lineno or fn.lineno
        calls = set()
        for n in ast.walk(fn):
            if isinstance(n, ast.Call):
                f = n.func
                calls.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
        text = "\n".join(lines[fn.lineno - 1 : end])
        out[qual] = (end - fn.lineno + 1, bool(GATE.search(text)), calls)
        visit(fn.body, qual)

    visit(tree.body, module)
    return out


def _closure(seed: set[str], edges: dict[str, set[str]]) -> set[str]:
    found, todo = set(seed), list(seed)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in found:
                found.add(nxt)
                todo.append(nxt)
    return found


def dataflow_rows(root: Path, files: list[str]) -> list[dict[str, object]]:
    cpu = {"parse": 0.0, "engine": 0.0, "skeleton": 0.0, "index": 0.0}
    extracts: dict[str, Any] = {}
    funcs: dict[str, tuple[str, int, bool, set[str]]] = {}
    for path in files:
        src = SourceFile.from_bytes(path, (root / path).read_bytes())
        if not GATE.search(src.text):
            continue
        t = time.process_time()
        tree = src.python_ast
        cpu["parse"] += time.process_time() - t
        if tree is None:
            continue
        t = time.process_time()
        data = dataflow.extract(src)
        cpu["engine"] += time.process_time() - t
        t = time.process_time()
        Skeleton(module_name(path), src.lines, package=path.endswith("__init__.py")).run(tree)
        cpu["skeleton"] += time.process_time() - t
        t = time.process_time()
        for qual, (n, gated, calls) in _functions(tree, module_name(path), src.lines).items():
            funcs[qual] = (path, n, gated, calls)
        cpu["index"] += time.process_time() - t
        extracts[path] = json.loads(json.dumps(data))
    read: set[str] = set()
    made: list[Linker] = []

    class Watched(Linker):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            self.summaries = self.classes.has = Recording(self.summaries, read, walks=False)
            made.append(self)

    flowfacts.Linker = Watched  # type: ignore[misc]
    try:
        dataflow.flows(extracts, files=files)
    finally:
        flowfacts.Linker = Linker  # type: ignore[misc]
    linker = made[0]
    summaries = dict(linker.summaries)
    hits = {q for q, (_, s) in summaries.items() if s.get("hits")}
    callers = {
        q
        for q, (_, s) in summaries.items()
        if any(c[0] in linker._reaching for c in s.get("calls", ()))
    }
    need = hits | callers | read
    # what an index without the engine's name resolution must keep
    by_last: dict[str, set[str]] = {}
    for qual in funcs:
        parts = qual.rsplit(".", 2)
        by_last.setdefault(parts[-1], set()).add(qual)
        if parts[-1] == "__init__" and len(parts) == 3:  # ``C(...)`` runs ``C.__init__``
            by_last.setdefault(parts[-2], set()).add(qual)
    calls = {q: {t for c in v[3] for t in by_last.get(c, ())} for q, v in funcs.items()}
    callers_of: dict[str, set[str]] = {}
    for q, targets in calls.items():
        for t in targets:
            callers_of.setdefault(t, set()).add(q)
    gated = {q for q, v in funcs.items() if v[2]}
    lexical = _closure(_closure(gated, callers_of), calls)
    seeded = _closure(_closure(hits & set(funcs), callers_of), calls)

    def lines(quals: set[str]) -> int:
        return sum(funcs[q][1] for q in quals if q in funcs)

    def row(what: str, quals: set[str]) -> dict[str, object]:
        where = {summaries[q][0] for q in quals if q in summaries} | {
            funcs[q][0] for q in quals if q in funcs
        }
        return {"set": what, "summaries": len(quals), "lines": lines(quals), "files": len(where)}

    every = set(summaries)
    return [
        row("every summary (gate admits)", every),
        row("with a hit", hits),
        row("link reads (exact need)", need),
        row("lexical index: gate per function + name closure", lexical),
        row("name closure seeded with the exact hits", seeded),
        *(
            {"set": f"CPU s: {k}", "summaries": "", "lines": round(v, 2), "files": ""}
            for k, v in cpu.items()
        ),
    ]


def pyweb_rows(root: Path, files: list[str]) -> list[dict[str, object]]:
    """pyweb's extract (stubs), then its link, which summarises what it reads
    (``pyweb_lazy``): the stubs link turned into summaries, and the CPU that took."""
    collector = pyweb.PythonWebCollector()
    spent = [0.0]
    original = pyweb_lazy.summarize_with_text

    def timed(*a: Any, **k: Any) -> dict[str, Any]:
        t = time.process_time()
        try:
            return original(*a, **k)
        finally:
            spent[0] += time.process_time() - t

    extracts: dict[str, Any] = {}
    total = 0.0
    for path in files:
        src = SourceFile.from_bytes(path, (root / path).read_bytes())
        src.python_ast  # noqa: B018  (the parse is not pyweb's)
        t = time.process_time()
        data = collector.extract(src)
        total += time.process_time() - t
        if data:
            extracts[path] = json.loads(json.dumps(data))
    count = sum(len(d.get("functions") or ()) for d in extracts.values())
    pyweb_lazy.summarize_with_text = timed  # type: ignore[assignment]
    t = time.process_time()
    try:
        collector.link(extracts, FactsBuilder(), LinkContext(root=root, files=tuple(files)))
    finally:
        pyweb_lazy.summarize_with_text = original  # type: ignore[assignment]
    linked = time.process_time() - t
    read = {
        (p, q)
        for p, d in extracts.items()
        for q, v in dict.items(d.get("functions") or {})
        if not (isinstance(v, dict) and pyweb_lazy.LAZY in v)
    }
    return [
        {"set": "guard summaries (stubs)", "summaries": count, "files": len(extracts)},
        {
            "set": "summaries after link (+ flask's own)",
            "summaries": len(read),
            "files": len({p for p, _ in read}),
        },
        {"set": "CPU s: extract", "summaries": round(total, 2), "files": ""},
        {"set": "CPU s: link", "summaries": round(linked, 2), "files": ""},
        {"set": "CPU s: of which summarising", "summaries": round(spent[0], 2), "files": ""},
    ]


def main() -> None:
    root = Path(sys.argv[1])
    files = _files(root)
    print("## dataflow\n")
    print(table(dataflow_rows(root, files)))
    print("\n## pyweb guard summaries\n")
    print(table(pyweb_rows(root, files)))


if __name__ == "__main__":
    main()
