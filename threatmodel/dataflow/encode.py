"""The engine's summaries as compact JSON: a file's labels in one table, named by row.

A file's summaries name the same labels again and again (a fixture passed to ten calls, a
request value reaching three sinks, a call label nested in the arguments of the next);
written out in full at each use they made saleor's extracts 19 MB, most of a cold scan's
JSON work. ``LabelTable`` writes each distinct label once, as a row ``[kind, origin, line,
safe, args, steps, via]`` without its empty tail, whose ``args`` name earlier rows;
summaries hold row numbers. ``read_table`` turns a file's rows back into labels once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from threatmodel.dataflow.values import Label

Row = tuple[Any, ...]


class LabelTable:
    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self._ids: dict[Row, int] = {}
        # the same Label object is met at every use: its row number by object (the label
        # kept alive here, so its id() is never reused while this table lives)
        self._seen: dict[int, tuple[Label, int]] = {}

    def ids(self, labels: Iterable[Label]) -> list[int]:
        return [self.id(x) for x in labels]

    def id(self, lab: Label) -> int:
        seen = self._seen.get(id(lab))
        if seen is not None:
            return seen[1]
        # the whole content is the key: a label's own identity leaves its path (steps) out
        args = tuple((k, tuple(sorted(self.ids(v)))) for k, v in lab.args)
        key = (lab.kind, lab.origin, lab.line, tuple(sorted(lab.safe)), args, lab.steps, lab.via)
        got = self._ids.get(key)
        if got is None:
            got = self._ids[key] = len(self.rows)
            row: list[Any] = [lab.kind, lab.origin, lab.line, list(key[3])]
            row += [[[k, list(v)] for k, v in args], list(lab.steps), list(lab.via)]
            while not row[-1]:  # kind, origin and line are never empty
                row.pop()
            self.rows.append(row)
        self._seen[id(lab)] = (lab, got)
        return got


def read_table(rows: list[list[Any]], path: str) -> list[Label]:
    """A file's label rows as labels (``path``: the file their lines are in)."""
    out: list[Label] = []
    for row in rows:
        kind, origin, line = row[0], row[1], row[2]
        safe, args, steps, via = (row[i] if i < len(row) else () for i in range(3, 7))
        out.append(
            Label(
                kind,
                origin,
                line,
                frozenset(safe),
                tuple((k, frozenset(out[i] for i in v)) for k, v in args),
                tuple(steps),
                tuple(via),
                path,
            )
        )
    return out


def renamed_calls(
    data: dict[str, Any],
    name: Callable[[str], str],
    mark: Callable[[Any], Any],
    mark_columns: tuple[int, ...],
) -> dict[str, Any]:
    """A copy of a file's extract whose call labels and summaries' calls name their callee
    by ``name``, and whose marks (the entries of the rows' ``mark_columns``: sanitizers,
    the checks a value went through) are ``mark``-ed; the extract itself (maybe the
    collect cache's) is left as it was. Import resolution renames through it (a bare
    specifier to its module, a shared module tail to the module near the file)."""
    rows = []
    for row in data["labels"]:
        row = list(row)
        if row[0] == "call":
            row[1] = name(row[1])
        for i in mark_columns:
            if i < len(row) and row[i]:
                row[i] = [mark(x) for x in row[i]]
        rows.append(row)
    summaries = {}
    for qual, summ in data["summaries"].items():
        if summ.get("calls"):
            summ = {**summ, "calls": [[name(c[0]), *c[1:]] for c in summ["calls"]]}
        summaries[qual] = summ
    return {**data, "labels": rows, "summaries": summaries}
