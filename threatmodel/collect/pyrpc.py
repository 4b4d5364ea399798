"""The XML-RPC methods a Python module registers, as routes (``frameworks/rpc/python.py``).

Linked before the Python flows (``flows_python.link_after``): each route's parameters are
request input in the function it names.
"""

from __future__ import annotations

from collections.abc import Mapping

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.pymodules import module_names
from threatmodel.code.source import SourceFile
from threatmodel.collect._pygates import gate
from threatmodel.frameworks.rpc.python import methods
from threatmodel.frameworks.rpc.route import method_route
from threatmodel.models import Location

GATE = gate(substrings=("XMLRPC",))  # each server class (``SERVERS``) is named so


@register
class RpcPythonCollector(Collector):
    id = "pyrpc"
    version = 1
    gate = GATE

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def extract(self, src: SourceFile) -> Extract:
        tree = src.python_ast
        found = methods(tree) if tree is not None else []
        return {"methods": found} if found else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path, x in sorted(extracts.items()):
            module = module_names(path)[0]
            for name, line, fn, params in x["methods"]:
                where = Location(path=path, line=line)
                out.routes.append(method_route(name, f"{module}.{fn}", where, params))
