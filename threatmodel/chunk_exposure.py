"""Reads of sensitive rows in a route's code: lines its folded excerpt must keep.

A handler that answers with whole rows of a table holding a sensitive column (a password
hash, a token, a key: ``Column.sensitive``) leaks them without any request value reaching a
dangerous call (``User.find({})`` sent back as JSON: every user's password hash). Its
excerpt would fold such a line as quiet (no request data, no sink). A statement of the
route's code that reads such a table by name (``User.find(``, ``User.objects.all()``,
``prisma.user.findMany(``, ``session.query(User)``, ``select(User)``) is kept as a fact's
line is, and what it assigns is followed to the response like request data
(``excerpt_focus``), so the model reads what is read and what is sent. Deliberately
generous, like the focus itself: a projection on the same line (``.select('-password')``)
is the model's to judge.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.excerpts import CodeRef
from threatmodel.models import Table

_READ = r"(?:find|get|all|filter|select|query|fetch|search|list|where|aggregate|scan|first|raw)"


def _pattern(name: str) -> re.Pattern[str]:
    """A read of the rows of the table or model ``name`` (its last dotted part)."""
    short = re.escape(name.rsplit(".", 1)[-1])
    return re.compile(
        rf"\b{short}\s*\.\s*(?:objects\s*\.\s*)?{_READ}\w*\s*\(|\b(?:query|select)\(\s*{short}\b",
        re.I,
    )


def sensitive_reads(
    reader: RepoReader, tables: Iterable[Table], code: Iterable[CodeRef]
) -> dict[str, set[int]]:
    """Path -> lines of ``code`` that read a table of ``tables`` holding a sensitive column."""
    patterns = [_pattern(t.name) for t in tables if any(c.sensitive for c in t.columns)]
    out: dict[str, set[int]] = defaultdict(set)
    if not patterns:
        return out
    for ref in code:
        try:
            lines = reader.lines(ref.path)[ref.start - 1 : ref.end]
        except PathRefused:
            continue
        for no, text in enumerate(lines, ref.start):
            if any(p.search(text) for p in patterns):
                out[ref.path].add(no)
    return out
