"""Import resolution for the Python web collectors: a name used in one file, found where
Python would find it.

``Resolver`` maps a name used in one file (``login_required``, ``auth.bp``,
``views.home``) to the file and symbol that define it, through the file's imports (relative
ones too), ``from x import *`` and packages, among the files that have extracts. Which file a
module name is comes from the kernel's one rule (``code.pymodules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from threatmodel.code.pymodules import ModuleIndex

MAX_DEPTH = 5


@dataclass
class Resolver:
    """Follows imports between the files that have extracts."""

    extracts: Mapping[str, Mapping[str, Any]]
    _modules: ModuleIndex = field(init=False)

    def __post_init__(self) -> None:
        self._modules = ModuleIndex(self.extracts)

    def module_file(self, module: str, from_file: str = "", level: int = 0) -> str | None:
        return self._modules.file_of(module, from_file, level)

    def resolve(self, from_file: str, name: str, depth: int = 0) -> tuple[str | None, str, str]:
        """(file defining it or None, symbol, module as imported) for ``name`` in ``from_file``."""
        data = self.extracts.get(from_file, {})
        head, _, rest = name.partition(".")
        if not rest and (head in data.get("functions", {}) or head in data.get("classes", {})):
            return from_file, head, ""
        if rest and name in data.get("functions", {}):  # a nested def: `factory.hook`
            return from_file, name, ""
        if not rest and head in data.get("symbols", []):
            return from_file, head, ""
        imp = data.get("imports", {}).get(head)
        if imp is None:
            for mod, level in data.get("stars", []):
                f = self.module_file(mod, from_file, level)
                if f and f != from_file and depth < MAX_DEPTH:
                    hit = self.resolve(f, name, depth + 1)
                    if hit[0]:
                        return hit
            return (None, name, "") if not rest else (None, rest, "")
        module, imported, level = imp
        if imported:  # from module import imported [as head]
            sub = self.module_file(f"{module}.{imported}" if module else imported, from_file, level)
            if sub and rest:  # `from app import views` then `views.home`
                return self._follow(sub, rest, depth)
            target = self.module_file(module, from_file, level)
            full = f"{imported}.{rest}" if rest else imported
            if target and target != from_file:
                return self._follow(target, full, depth)
            return None, full, module
        # `import a.b.c` (head "a") or `import a.b as head`: the longest prefix that is a file
        parts = (f"{module}.{rest}" if rest else module).split(".")
        for i in range(len(parts) - 1, 0, -1):
            f = self.module_file(".".join(parts[:i]), from_file)
            if f:
                return self._follow(f, ".".join(parts[i:]), depth)
        return None, parts[-1], ".".join(parts[:-1])

    def _follow(self, file: str, name: str, depth: int) -> tuple[str | None, str, str]:
        if depth >= MAX_DEPTH:
            return file, name, ""
        hit = self.resolve(file, name, depth + 1)
        return hit if hit[0] else (file, name, "")
