"""Python classes across files: which function a method call runs (``pyclass`` names).

``Hierarchy`` reads every file's ``classes`` (bases as imported, attribute classes) and
answers for link: ``C.<self>.m`` (a method of ``self``), ``C.<self>.a.m`` (a method of the
class ``self.a`` holds) and ``C.m`` / ``C.__init__`` inherited from a base, by walking the
bases depth-first, left to right. A method some subclass overrides is not one function:
it is left unresolved, as is one a class whose bases are all the repository's does not
define. ``unresolved`` says when a call that link could not resolve is the repository's
own code (a flow through it is then no proof), and when it is a library's method
inherited through a base the repository does not define (what any library call is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from threatmodel.dataflow.pyclass import SELF

BUILTIN_BASES = frozenset({"object", "typing.Generic", "Generic", "abc.ABC", "ABC"})


class Hierarchy:
    def __init__(
        self,
        extracts: Mapping[str, Any],
        summaries: Mapping[str, Any],
        elsewhere: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.classes: dict[str, dict[str, Any]] = {}
        for data in extracts.values():
            self.classes.update(data.get("classes") or {})
        if elsewhere is not None:  # bases and attribute classes as the files define them
            for qual, info in list(self.classes.items()):
                self.classes[qual] = _renamed(info, self.classes, elsewhere)
        self.has = summaries
        self.children: dict[str, list[str]] = {}
        for qual, info in self.classes.items():
            for base in info.get("bases", ()):
                self.children.setdefault(base, []).append(qual)
        self._cache: dict[str, str | None] = {}
        self._by_name: dict[str, list[str]] | None = None

    def mro(self, cls: str) -> tuple[list[str], bool]:
        """``cls`` and its bases in lookup order, and whether every base is known."""
        out: list[str] = []
        complete = True
        todo = [cls]
        while todo:
            c = todo.pop(0)
            if c in out:
                continue
            info = self.classes.get(c)
            if info is None:
                complete = complete and c in BUILTIN_BASES
                continue
            out.append(c)
            todo[:0] = list(info.get("bases", ()))
        return out, complete

    def defined(self, cls: str, name: str) -> str | None:
        for c in self.mro(cls)[0]:
            if f"{c}.{name}" in self.has:
                return f"{c}.{name}"
        return None

    def overridden(self, cls: str, name: str) -> bool:
        """Does a subclass of ``cls`` (at any depth) define ``name`` itself?"""
        seen: set[str] = set()
        todo = list(self.children.get(cls, ()))
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            if f"{c}.{name}" in self.has:
                return True
            todo += self.children.get(c, ())
        return False

    def implementations(self, qual: str) -> list[str]:
        """The functions a method call some subclass overrides may run: the one the
        object's class finds through its bases, and every subclass's own (empty when the
        call is one function, or names no method the repository defines)."""
        where = self.target(qual)
        if where is None:
            return []
        cls, name = where
        first = self.defined(cls, name)
        if first is None or not self.overridden(cls, name):
            return []
        out, seen, todo = [first], set(), list(self.children.get(cls, ()))
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            if f"{c}.{name}" in self.has and f"{c}.{name}" not in out:
                out.append(f"{c}.{name}")
            todo += self.children.get(c, ())
        return out

    def attr_class(self, cls: str, attr: str) -> str | None:
        for c in self.mro(cls)[0]:
            got = self.classes[c].get("types", {}).get(attr)
            if got:
                return str(got)
        return None

    def target(self, qual: str) -> tuple[str, str] | None:
        """(class, method) a method call names, or None for a plain function."""
        if SELF in qual:
            cls, _, rest = qual.partition(SELF)
            attr, _, name = rest.rpartition(".")
            if attr:
                got = self.attr_class(cls, attr)
                return (got, name) if got else None
            return cls, name
        cls, _, name = qual.rpartition(".")
        return (cls, name) if cls in self.classes else None

    def resolve(self, qual: str) -> str | None:
        """The function a method call runs, when it is one function of the repository."""
        if qual in self._cache:
            return self._cache[qual]
        got = None
        where = self.target(qual)
        if where is not None:
            cls, name = where
            got = self.defined(cls, name)
            if got is not None and self.overridden(cls, name):
                got = None  # the subclass an object is decides: not one function
        self._cache[qual] = got
        return got

    def made_by(self, qual: str) -> list[str]:
        """``get_uploader().download``: a method of an object a repository function returned
        (``qual`` is that function's name and the method's), when link cannot tell which
        class: the methods of that name the repository's classes define (a class picked
        from a registry: ``UPLOADERS[name]()``); empty when none does (a library's object,
        ``get_db().execute``)."""
        maker, _, name = qual.rpartition(".")
        if not maker or maker in self.classes or maker not in self.has or SELF in qual:
            return []
        if self._by_name is None:  # once: every class method by its name
            self._by_name = {}
            for q in self.has:
                cls, _, m = q.rpartition(".")
                if cls in self.classes:
                    self._by_name.setdefault(m, []).append(q)
        return sorted(self._by_name.get(name, ()))

    def unresolved(self, qual: str, modules: frozenset[str]) -> bool:
        """Is ``qual``, which link could not resolve, the repository's own code? A method of
        a class whose bases are all the repository's (undefined there, or overridden), or a
        name of a module link read that defines no such function nor class."""
        where = self.target(qual)
        if where is not None:
            return self.mro(where[0])[1]
        if SELF in qual:
            return False  # an attribute of unknown class: maybe a library's object
        module = qual.rpartition(".")[0]  # a function of a module link read: not there
        return module in modules and qual not in self.classes


def _renamed(
    info: dict[str, Any], known: Mapping[str, Any], elsewhere: Callable[[str], list[str]]
) -> dict[str, Any]:
    """A class's bases and attribute classes, each imported from below the repository's root
    or through a package's ``*`` imports renamed to the class a file defines (``pyroots``);
    a name already known is kept."""

    def name(c: str) -> str:
        if c in known:
            return c
        return next((x for x in elsewhere(c) if x in known), c)

    out = dict(info)
    if "bases" in info:
        out["bases"] = [name(b) for b in info["bases"]]
    if "types" in info:
        out["types"] = {k: name(str(v)) for k, v in info["types"].items()}
    return out
