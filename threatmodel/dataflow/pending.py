"""Pending kinds: what a repository yes/no function proves, read once every file is.

In the branch where ``ok(x)`` was true the engine marks ``x`` safe for the pending kind
``?holds:<ok>#<argument>`` (``checks.holds``), also naming it as the sanitizer met. Here,
with every summary known, that kind becomes the kinds ``ok``'s ``holds`` (what its returns
of a true value prove) and ``checks`` (what holds on every way out) name for that parameter:
through predicates that call other predicates too, bounded like every resolution. A pending
kind that proves nothing is dropped, and so is its name from the sanitizers reported; when
``ok`` is a yes/no check of that argument all the same (``decides``), it is a check the
engine cannot read (``unread``), which a flow names: such a flow is not proof.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threatmodel.dataflow.checks import HOLDS, param_named
from threatmodel.dataflow.values import Label

Find = Callable[[str], "tuple[str, dict[str, Any]] | None"]
MAX_DEPTH = 4


class Pending:
    def __init__(self, find: Find) -> None:
        self.find = find
        self._kinds: dict[str, frozenset[str]] = {}

    def proven(self, lab: Label) -> frozenset[str]:
        """The kinds ``lab`` is safe for, each pending one replaced by what it proves."""
        if not any(k.startswith(HOLDS) for k in lab.safe):
            return lab.safe
        out: set[str] = set()
        for k in lab.safe:
            out |= self.kinds(k) if k.startswith(HOLDS) else {k}
        return frozenset(out)

    def sanitizers(self, lab: Label) -> list[str]:
        """The sanitizers ``lab`` met as a report names them: a predicate as ``name()``,
        only when it proves something."""
        out: list[str] = []
        for v in lab.via:
            if not v.startswith(HOLDS):
                out.append(v)
            elif self.kinds(v):
                out.append(_called(v))
        return out

    def unread(self, lab: Label) -> list[str]:
        """The yes/no checks ``lab`` passed that decide on it but prove nothing the engine
        can read, named as ``sanitizers`` names a predicate: ``name()``."""
        out: list[str] = []
        for v in lab.via:
            if not v.startswith(HOLDS) or self.kinds(v):
                continue
            qual, _, key = v.removeprefix(HOLDS).rpartition("#")
            found = self.find(qual)
            if found is None:
                continue
            if param_named(found[1], key) in found[1].get("decides", ()):
                out.append(_called(v))
        return out

    def kinds(self, pending: str, depth: int = 0) -> frozenset[str]:
        got = self._kinds.get(pending) if depth == 0 else None
        if got is not None:
            return got
        got = frozenset()
        qual, _, key = pending.removeprefix(HOLDS).rpartition("#")
        found = self.find(qual)
        if found is not None and depth <= MAX_DEPTH:
            summ = found[1]
            name = param_named(summ, key)
            out: set[str] = set()
            for part in ("holds", "checks"):
                for k in summ.get(part, {}).get(name, ()):
                    out |= self.kinds(k, depth + 1) if k.startswith(HOLDS) else {k}
            got = frozenset(out)
        if depth == 0:
            self._kinds[pending] = got
        return got


def _called(pending: str) -> str:
    """``?holds:app.auth.is_local#0`` as a report names it: ``is_local()``."""
    return pending.removeprefix(HOLDS).rpartition("#")[0].rsplit(".", 1)[-1] + "()"
