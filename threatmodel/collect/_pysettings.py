"""A Python collector whose facts are Setting rows (``jwt_python``, ``templates_python``).

Such a collector only says which settings a parsed module holds (``rows``); reading the
module, the extract's shape and the link into ``facts.settings`` are the same for all.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.settings import emit_setting


class PythonSettingsCollector(Collector):
    """Subclasses set ``id``, ``version`` and ``gate`` and implement ``rows``."""

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def rows(self, tree: ast.Module) -> list[tuple[str, str, str, int]]:
        """(key, value, framework, line) of each setting the module holds."""
        raise NotImplementedError

    def extract(self, src: SourceFile) -> Extract:
        tree = src.python_ast
        if tree is None:
            return None
        rows = [list(r) for r in self.rows(tree)]
        return {"settings": rows} if rows else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path, data in sorted(extracts.items()):
            for key, value, framework, line in data["settings"]:
                emit_setting(out, key, value, framework, path, line)
