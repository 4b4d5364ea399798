"""Which file a Python import names: one rule for every reader of imports.

Python finds ``import a.b`` through ``sys.path``, which a repository's layout only implies:
the root for most apps, the folder holding ``manage.py`` for a Django project that is not at
the root (``src/``), a script's own folder for an app run as ``python app/main.py``. So a
dotted name may be several files (``a/b.py`` at the root, ``src/a/b.py``, ``bad/a/b.py`` and
``good/a/b.py`` side by side), and ``ModuleIndex.files_of`` orders them, best first:

1. the file at the root (the root is on ``sys.path`` wherever the app is started);
2. files under a folder that holds the importing file, the deepest first (a script's folder,
   or the project folder an app's modules are named from);
3. the rest, the shallowest first (an import whose folder the layout does not show).

A relative import (``from ..x import y``) names one place exactly. In one folder a package
wins over a module of the same name (``a/__init__.py`` over ``a.py``), as Python's path finder
looks for the package first. Route collectors, the effects reader and the excerpts all ask
here, so a name means the same file to each of them.
"""

from __future__ import annotations

from collections.abc import Iterable


def module_names(path: str) -> list[str]:
    """Dotted names a file may be imported as: ``src/app/views.py`` -> src.app.views,
    app.views, views (a package's ``__init__.py`` is the package)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return [".".join(parts[i:]) for i in range(len(parts)) if parts[i:]]


def import_folder(path: str, depth: int) -> str:
    """The folder ``path`` is imported from as a module of ``depth`` parts ("" or "a/b/")."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    head = parts[: len(parts) - depth]
    return "/".join(head) + "/" if head else ""


def _shallow_package_first(path: str) -> tuple[int, bool, str]:
    """Sort key: the folder a file is imported from, shallowest first; in one folder the
    package before the module (``a/__init__.py`` is ``a`` where ``a.py`` is too)."""
    package = path == "__init__.py" or path.endswith("/__init__.py")
    return (path.count("/") - package, not package, path)


class ModuleIndex:
    """The Python files of a repository by every dotted name they may be imported as."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(p for p in paths if p.endswith(".py"))
        self._by_module: dict[str, list[str]] = {}
        for path in self.paths:
            for name in module_names(path):
                self._by_module.setdefault(name, []).append(path)
        for found in self._by_module.values():
            found.sort(key=_shallow_package_first)

    def files_of(self, module: str, importer: str = "", level: int = 0) -> list[str]:
        """The files ``module`` may be when ``importer`` imports it, best first (see the
        module's docstring); ``level``: the leading dots of a relative import."""
        if level:
            base = importer.split("/")[:-1]
            if level - 1 > len(base):
                return []  # above the repository: Python refuses it too
            base = base[: len(base) - (level - 1)]
            rel = "/".join([*base, *module.split(".")] if module else base)
            return [c for c in (f"{rel}/__init__.py", f"{rel}.py") if rel and c in self.paths]
        found = self._by_module.get(module, [])
        if len(found) < 2:
            return list(found)
        depth = module.count(".") + 1
        folders = {path: import_folder(path, depth) for path in found}
        root = [p for p in found if not folders[p]]
        held = [p for p in found if folders[p] and importer.startswith(folders[p])]
        held.sort(key=lambda p: -folders[p].count("/"))  # stable: shallower names tie by path
        rest = [p for p in found if p not in root and p not in held]
        return root + held + rest

    def file_of(self, module: str, importer: str = "", level: int = 0) -> str | None:
        """The best of ``files_of``, or None when no file of the repository is ``module``."""
        found = self.files_of(module, importer, level)
        return found[0] if found else None
