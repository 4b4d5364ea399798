"""Python dataflow: request (and database / config) values followed to the registry's sinks.

Extract (per file): the dataflow engine's per-function summaries (``threatmodel.dataflow``).
Link: the summaries are resolved across files (calls into the repository's own functions,
through imports) into ``Flow`` facts.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from threatmodel import dataflow
from threatmodel.claims import REGISTRY
from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import SourceFile
from threatmodel.collect._called_files import extract_at_link, with_called_files
from threatmodel.collect._pygates import gate
from threatmodel.dataflow.link import module_name

PY_BUILTINS = frozenset(dir(builtins))


def _gate_names() -> list[str]:
    """Last identifiers of every catalog sink and sanitizer, from the registry."""
    names: set[str] = set()
    for spec in REGISTRY.values():
        for row in spec.sinks:
            name = row.callee.rsplit(".", 1)[-1]
            # a JavaScript row named like a Python builtin (pg-promise's ``db.any``,
            # ``db.map``) would admit every file that calls ``any(...)``: no Python sink;
            # nor is an npm package's function (``xpath.evaluate``)
            js_package = row.language != "python" and not row.callee.startswith(".")
            if row.language == "python" or (name not in PY_BUILTINS and not js_package):
                names.add(name)
        for name in spec.sanitizers:
            names.add(name.rsplit(".", 1)[-1])
    return sorted(n for n in names if n.isidentifier())


# A file matters to dataflow when it names a sink, a sanitizer or a source, or has a
# function that returns a constant (a wrapper whose summary breaks a flow), or names a
# package's functions by importing a module whole (``import *``), or declares a handler
# whose parameters are request input with a route decorator (``@app.route("/x/<name>")``,
# FastAPI's ``@router.get`` whose every parameter is input): such a handler may hold no
# source word and hand its parameter to a sink in another file. Any other function passes
# its arguments through, which is what link() assumes of a function it has no summary for;
# but a flow through it shows a step at its line, and a package ``__init__`` that only
# imports says which module a name is, so link extracts such a file after all when an
# extracted file calls into it (``_called_files``), as the JavaScript flows do.
GATE = gate(
    calls=[*_gate_names(), "set_cookie", "getenv", "fetchone", "fetchall", "setFeature"],
    # "graphene", "strawberry": a resolver's arguments are request input (graphql/args.py)
    words=["request", "req", "session", "random", "hashlib", "Hash", "environ", "escape",
           "graphene", "strawberry"],
    # ``from .views import *``: a package's names are its modules' (``pyroots``)
    # ``Annotated[..., Depends(...)]`` aliases: a handler's parameter named by one is injected
    substrings=['return "', "return '", "return f'", 'return f"', "return None", "import *",
                "Depends("],
    patterns=[
        r"@[\w.]+\.(?:route|get|post|put|patch|delete|head|options|api_route|websocket)\s*\(",
        # a mixin of GraphQL resolvers: its arguments are input (no leading ``\b``: a
        # pattern must start with a literal, or ``re`` tries it at every position)
        r"def resolve_\w+\(",
    ],
)  # fmt: skip


@register
class PythonFlowsCollector(Collector):
    id = "flows_python"
    # 9: route handlers' and graphene resolvers' files pass the gate; stars: a package's
    # ``import *``;
    version = 18  # 10: route parameters' annotations and modules' injecting aliases; 11: gate
    # classes (bases, attribute classes): ``self.m()`` resolved in link; summaries mark
    # generators (gen); dead arms keep their sinks as safe; module instances (sandbox.py);
    # 12: the gate's resolver pattern has no leading word boundary (it may say yes more often)
    # 13: a piece cut at a separator (``pieces.py``), a true ``or`` (``conds.either``),
    # ``urlhead`` per host kind; 14: a shell command is guarded only with every metacharacter
    # absent (``guard_needs_all``); words of identifiers (``vocab.py``); 15: werkzeug's
    # ``.get(name, type=int)`` is a number; 16: ``p.parent.samefile(base)`` contains p;
    # 17: a catalog row whose argument the call does not pass (``args=``) no longer calls
    # the call safe; 18: a request whose content type no cross-site page sends
    # (``browserless``), a URL's query put back by ``urlunparse`` (``URL_JOINS``), Django's
    # host check from its standalone packages
    gate = GATE
    link_after = frozenset({"pyweb", "pyrpc"})  # reads the Python routes (their parameters)

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def extract(self, src: SourceFile) -> Extract:
        return dataflow.extract(src)

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        # the routes are linked first (``link_after``): their URL captures are request input
        routes = [r for r in out.routes if r.location.path.endswith(".py")]
        modules = {module_name(f): f for f in ctx.files if f.endswith(".py")}
        linked = with_called_files(extracts, modules, lambda path: extract_at_link(self, ctx, path))
        out.flows.extend(
            dataflow.flows(linked, files=ctx.files, routes=routes, warnings=out.warnings)
        )
        out.sinks.extend(dataflow.sink_facts(extracts))
