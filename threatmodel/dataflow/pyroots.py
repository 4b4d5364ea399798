"""Python names as imported from a folder below the repository's root.

The engine names a file's functions by its path (``netbox/utilities/request.py`` defines
``netbox.utilities.request.safe_for_redirect``), but code that runs from that folder imports
``utilities.request``: Python finds it through ``sys.path``, which the repository's layout
only implies. ``Roots.full`` gives the name a file defines for such an import: the longest
leading part of the name that is the tail of exactly one file's module (``utilities.request``
-> ``netbox.utilities.request``). A part that is itself a module of the repository is
already its own name; a tail two files share (``views``) names neither: no guess. A
package whose ``__init__`` imports ``*`` from its modules (``from .object_views import *``)
names their names too: ``candidates`` lists where a name may be defined, for link to keep
the first that is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Roots:
    def __init__(
        self, modules: Iterable[str], stars: Mapping[str, list[str]] | None = None
    ) -> None:
        self.modules = frozenset(modules)
        self.stars = dict(stars or {})  # package -> the modules its ``__init__`` imports ``*`` from
        tails: dict[str, str | None] = {}
        for mod in self.modules:
            parts = mod.split(".")
            for i in range(1, len(parts)):
                tail = ".".join(parts[i:])
                tails[tail] = mod if tails.get(tail, mod) == mod else None
        self.tails = {k: v for k, v in tails.items() if v is not None and k not in self.modules}
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
