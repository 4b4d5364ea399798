"""How a Python sink call near a cited line is built, for the line verifiers.

Which calls are sinks is the claim catalog's (``claims/<kind>/``, the rows the dataflow
engine follows): ``sink_kind`` looks the callee up there, resolved through the file's
imports, and names it by its kind's ``sink_fact``. What is read here is only how the
dangerous argument is written (``_pyexpr.classify``): the line verifiers answer where no
flow of the engine touches the cited line.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from threatmodel.claims import REGISTRY
from threatmodel.code.pyast import absolute_name
from threatmodel.collect._pyexpr import Flow, Scope, classify, dotted, mentions_request
from threatmodel.dataflow.catalog import CATALOG

Imports = Mapping[str, list[Any]]  # ``code.pyast.imports_of``


@dataclass(frozen=True)
class CallInfo:
    """What a sink call does with its dangerous argument."""

    kind: str
    call: str
    dynamic: bool
    flow: Flow  # how the dangerous argument is built
    from_request: bool  # the argument reads the HTTP request
    parameterised: bool  # SQL: parameters passed separately from the query
    arg: ast.expr | None


def sink_kind(call: ast.Call, imports: Imports) -> tuple[str, str] | None:
    """(sink fact kind, callee as written) when a catalog row names ``call``, else None."""
    name = dotted(call.func)
    method = call.func.attr if isinstance(call.func, ast.Attribute) else None
    for kind, row in CATALOG.sinks_for(absolute_name(name, imports) if name else "", method):
        fact = REGISTRY[kind].sink_fact
        if fact and not (row.when == "unsafe_yaml" and _safe_yaml(call)):
            return fact, name
    return None


def _safe_yaml(call: ast.Call) -> bool:
    loader = next((k.value for k in call.keywords if k.arg == "Loader"), None)
    if loader is None and len(call.args) > 1:
        loader = call.args[1]
    return loader is not None and "Safe" in dotted(loader)


def describe_call(call: ast.Call, scope: Scope, imports: Imports) -> CallInfo | None:
    """Classify a sink call: which argument matters and how it is built."""
    found = sink_kind(call, imports)
    if found is None:
        return None
    kind, name = found
    arg: ast.expr | None = call.args[0] if call.args else None
    if arg is None:
        arg = next((k.value for k in call.keywords if k.arg in _MAIN_KW), None)
    if arg is None:
        return CallInfo(kind, name, False, Flow.CONST, False, False, None)
    flow = classify(arg, scope)
    from_request = mentions_request(arg, scope)
    parameterised = kind == "sql" and (
        len(call.args) > 1 or any(k.arg in ("params", "parameters", "args") for k in call.keywords)
    )
    if kind == "sql":
        dynamic = flow is Flow.BUILT or (flow is Flow.OPAQUE and from_request and not parameterised)
    elif kind == "command" and absolute_name(name, imports).startswith("subprocess."):
        dynamic = _subprocess_dynamic(call, arg, scope)
    else:
        dynamic = flow is not Flow.CONST
    return CallInfo(kind, name, dynamic, flow, from_request, parameterised, arg)


_MAIN_KW = ("sql", "query", "statement", "args", "cmd", "command", "url", "location", "source")


def _subprocess_dynamic(call: ast.Call, arg: ast.expr, scope: Scope) -> bool:
    shell = any(
        k.arg == "shell" and not (isinstance(k.value, ast.Constant) and not k.value.value)
        for k in call.keywords
    )
    if isinstance(arg, ast.List | ast.Tuple):
        # argv form: only a non-constant program is command injection (arguments are not)
        first = arg.elts[0] if arg.elts else None
        return first is not None and classify(first, scope) is not Flow.CONST
    flow = classify(arg, scope)
    return flow is not Flow.CONST and (shell or flow is Flow.BUILT)
