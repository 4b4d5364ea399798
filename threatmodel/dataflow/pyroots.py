"""Python names as imported from a folder below the repository's root.

The engine names a file's functions by its path (``netbox/utilities/request.py`` defines
``netbox.utilities.request.safe_for_redirect``), but code that runs from that folder
imports ``utilities.request``: Python finds it through ``sys.path``, which the repository's
layout only implies. Such a folder is no package: one with an ``__init__.py`` is imported
by its parent's name, so no tail starts below it. ``Roots.full`` gives the name a file
defines for such an import: the longest leading part of the name that is the tail of
exactly one file's module (``utilities.request`` -> ``netbox.utilities.request``). A part
that is itself a module of the repository is already its own name. A tail two files share
(``libuser`` of ``bad/libuser.py`` and ``good/libuser.py``, two apps side by side) names,
for an importing file, the one whose folder holds that file: a script's own folder is first
on ``sys.path``, so ``import libuser`` in ``bad/views.py`` is ``bad/libuser.py``
(``Roots.near``; ``localized`` renames a file's extract so); from anywhere else it names
neither: no guess. A package whose ``__init__`` imports ``*`` from its modules (``from
.object_views import *``) names their names too: ``candidates`` lists where a name may be
defined, for link to keep the first that is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from threatmodel.dataflow.checks import HOLDS
from threatmodel.dataflow.encode import renamed_calls


class Roots:
    def __init__(
        self,
        modules: Iterable[str],
        stars: Mapping[str, list[str]] | None = None,
        packages: Iterable[str] = (),
    ) -> None:
        self.modules = frozenset(modules)
        self.stars = dict(stars or {})  # package -> the modules its ``__init__`` imports ``*`` from
        # A folder with an ``__init__.py`` is a package, imported by its parent's name: it is
        # no ``sys.path`` entry, so a tail below it names nothing (saleor's every folder is
        # one: no tail at all, and link renames nothing)
        inside = frozenset(packages)
        tails: dict[str, str | None] = {}
        shared: dict[str, list[str]] = {}  # tail -> every module that ends so
        for mod in self.modules:
            parts = mod.split(".")
            for i in range(1, len(parts)):
                if ".".join(parts[:i]) in inside:
                    continue
                tail = ".".join(parts[i:])
                tails[tail] = mod if tails.get(tail, mod) == mod else None
                shared.setdefault(tail, []).append(mod)
        self.tails = {k: v for k, v in tails.items() if v is not None and k not in self.modules}
        self.shared = {
            k: sorted(shared[k]) for k, v in tails.items() if v is None and k not in self.modules
        }
        # the first name of every shared tail: a name starting otherwise needs no look-up
        # (most do not: saleor's labels all start with ``saleor.``)
        self.shared_heads = frozenset(k.partition(".")[0] for k in self.shared)
        self._cache: dict[str, str | None] = {}

    def full(self, qual: str) -> str | None:
        """``qual`` with its module part as the repository's file names it; None when it
        needs no change or names no one file."""
        if not self.tails:
            return None
        got = self._cache.get(qual, "")
        if got != "":
            return got
        got = None
        end = len(qual)
        while (end := qual.rfind(".", 0, end)) > 0:
            head = qual[:end]
            if head in self.modules:
                break  # already the repository's own name
            mod = self.tails.get(head)
            if mod is not None:
                got = mod + qual[end:]
                break
        self._cache[qual] = got
        return got

    def near(self, tail: str, module: str) -> str | None:
        """The module a shared ``tail`` names when ``module`` imports it: the one under the
        deepest folder that also holds ``module`` (its script's ``sys.path`` entry); None
        when no folder holds both, or two at one depth do."""
        mods = self.shared.get(tail)
        if mods is None:
            return None
        best: list[str] = []
        depth = -1
        for mod in mods:
            folder = mod[: -len(tail) - 1]
            if not module.startswith(folder + "."):
                continue
            if folder.count(".") > depth:
                best, depth = [mod], folder.count(".")
            elif folder.count(".") == depth:
                best.append(mod)
        return best[0] if len(best) == 1 else None

    def candidates(self, qual: str) -> list[str]:
        """Other names ``qual`` may be defined under: as the file names it (``full``), and
        through the ``*`` imports of the package it names (two hops)."""
        first = [qual]
        rooted = self.full(qual)
        if rooted is not None:
            first.append(rooted)
        out = first[1:]
        for name in first:
            for star in self.starred(name):
                rooted = self.full(star)  # ``from utilities.x import *``
                out += [star, *([rooted] if rooted else []), *self.starred(rooted or star)]
        return out

    def starred(self, qual: str) -> list[str]:
        end = len(qual)
        while (end := qual.rfind(".", 0, end)) > 0:
            head = qual[:end]
            if head in self.stars:
                return [mod + qual[end:] for mod in self.stars[head]]
            if head in self.modules:
                break  # a module that imports nothing whole: the name is its own or no one's
        return []


def localized(data: dict[str, Any], module: str, roots: Roots) -> dict[str, Any]:
    """A copy of the extract of ``module``'s file whose names of repository functions
    (call labels, the calls of its summaries, pending checks ``?holds:``, import aliases,
    the classes of its instances and bases) that start with a shared tail start with the
    module ``roots.near`` gives it instead; the extract itself (maybe the collect cache's)
    is left as it was."""

    def name(s: str) -> str:
        head = HOLDS if s.startswith(HOLDS) else ""
        body = s[len(head) :]
        if body.partition(".")[0] not in roots.shared_heads:
            return s
        end = len(body)
        while (end := body.rfind(".", 0, end)) > 0:
            mod = roots.near(body[:end], module)
            if mod is not None:
                return head + mod + body[end:]
        return s

    def marks(x: Any) -> Any:
        return name(x) if isinstance(x, str) and x.startswith(HOLDS) else x

    out = renamed_calls(data, name, marks, (3, 6))  # sanitizers, checks passed through
    for key in ("imports", "instances"):
        if data.get(key):
            out[key] = {k: name(v) for k, v in data[key].items()}
    if data.get("classes"):
        out["classes"] = {
            k: {**v, "bases": [name(b) for b in v["bases"]]} if v.get("bases") else v
            for k, v in data["classes"].items()
        }
    return out
