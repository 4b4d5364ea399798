"""Dangerous calls in Python (SQL, shell, eval, HTTP, redirect, template, deserialise, file).

Extract (per file): every call whose callee is a known sink, with ``dynamic`` set when the
value that makes it dangerous (the query, the command, the URL ...) is not a constant:
for SQL, when the query string is *built* from a non-constant part (f-string, ``%``,
``+``, ``.format``, ``join``) rather than passed with separate parameters. Names are
resolved through the enclosing function's assignments (see ``_pyexpr``). Also JWT misuse
as Setting facts: ``jwt.verify`` ("true" / "false") for every ``jwt.decode``,
``jwt.algorithms`` when an accepted algorithm is ``none``, and ``jwt.secret`` =
``literal-short`` when the key is a string literal shorter than 32 characters.
Link: adds the facts; the enclosing function is recorded as ``module.function``.

``describe_call`` is public: the verifiers use it to re-read a cited line the same way.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import SourceFile
from threatmodel.collect._pyexpr import Flow, Scope, call_sites, classify, dotted, mentions_request
from threatmodel.collect._pygates import gate
from threatmodel.models import Location, Setting, Sink

SQL_METHODS = frozenset(
    {"execute", "executemany", "executescript", "raw", "mogrify", "exec_driver_sql"}
)
SQL_FUNCTIONS = frozenset(
    {"text", "sqlalchemy.text", "sa.text", "read_sql", "read_sql_query", "pd.read_sql"}
)
COMMAND_CALLS = frozenset(
    {"os.system", "os.popen", "os.popen2", "os.popen3", "commands.getoutput", "popen2.popen2"}
    | {f"subprocess.{n}" for n in ("call", "run", "Popen", "check_output", "check_call")}
    | {"subprocess.getoutput", "subprocess.getstatusoutput"}
)
EVAL_CALLS = frozenset({"eval", "exec", "builtins.eval", "builtins.exec"})
DESERIALIZE_CALLS = frozenset(
    {"pickle.loads", "pickle.load", "cPickle.loads", "cPickle.load", "marshal.loads"}
    | {"dill.loads", "jsonpickle.decode", "yaml.unsafe_load", "yaml.load", "shelve.open"}
)
HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
HTTP_CALLS = frozenset(
    {f"{lib}.{verb}" for lib in ("requests", "httpx", "urllib3") for verb in HTTP_VERBS}
    | {"urllib.request.urlopen", "urlopen", "urllib2.urlopen", "request.urlopen"}
)
REDIRECT_CALLS = frozenset(
    {"redirect", "flask.redirect", "HttpResponseRedirect", "HttpResponsePermanentRedirect"}
    | {"RedirectResponse", "shortcuts.redirect", "django.shortcuts.redirect"}
)
TEMPLATE_CALLS = frozenset(
    {"render_template_string", "flask.render_template_string", "Template", "jinja2.Template"}
    | {"Markup", "markupsafe.Markup", "mako.template.Template"}
)
FILE_CALLS = frozenset({"open", "io.open", "send_file", "flask.send_file", "FileResponse"})
SHORT_KEY = 32  # HS256 keys shorter than this are brute-forceable offline


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


def sink_kind(call: ast.Call) -> tuple[str, str] | None:
    """(kind, callee) when ``call`` is a known sink, else None."""
    name = dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if name in EVAL_CALLS:
        return "eval", name
    if name in COMMAND_CALLS:
        return "command", name
    if name in DESERIALIZE_CALLS:
        if last == "load" and name.startswith("yaml") and _safe_yaml(call):
            return None
        return "deserialize", name
    if name in HTTP_CALLS:
        return "http_request", name
    if name in REDIRECT_CALLS or last in ("HttpResponseRedirect", "RedirectResponse"):
        return "redirect", name
    if name in TEMPLATE_CALLS or last == "from_string":
        return "template", name
    if name in FILE_CALLS:
        return "file", name
    if name in SQL_FUNCTIONS or (isinstance(call.func, ast.Attribute) and last in SQL_METHODS):
        return "sql", name
    return None


def _safe_yaml(call: ast.Call) -> bool:
    loader = next((k.value for k in call.keywords if k.arg == "Loader"), None)
    if loader is None and len(call.args) > 1:
        loader = call.args[1]
    return loader is not None and "Safe" in dotted(loader)


def describe_call(call: ast.Call, scope: Scope) -> CallInfo | None:
    """Classify a sink call: which argument matters and how it is built."""
    found = sink_kind(call)
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
    elif kind == "command" and name.startswith("subprocess."):
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


def jwt_settings(call: ast.Call, scope: Scope) -> list[tuple[str, str]]:
    """Setting (key, value) pairs for a ``jwt.decode`` / ``jwt.encode`` call."""
    name = dotted(call.func)
    if not name.startswith("jwt.") or name.rsplit(".", 1)[-1] not in ("decode", "encode"):
        if name.endswith("get_unverified_claims"):
            return [("jwt.verify", "false")]
        return []
    out: list[tuple[str, str]] = []
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    if name.endswith("decode"):
        verify = "true"
        if _is_false(kw.get("verify")):
            verify = "false"
        options = kw.get("options")
        if isinstance(options, ast.Dict):
            for k, v in zip(options.keys, options.values, strict=False):
                if isinstance(k, ast.Constant) and k.value == "verify_signature" and _is_false(v):
                    verify = "false"
        out.append(("jwt.verify", verify))
        algs = kw.get("algorithms")
        if isinstance(algs, ast.List | ast.Tuple):
            names = [e.value for e in algs.elts if isinstance(e, ast.Constant)]
            if any(str(n).lower() == "none" for n in names):
                out.append(("jwt.algorithms", ",".join(str(n) for n in names)))
    key = call.args[1] if len(call.args) > 1 else kw.get("key")
    if key is not None and _literal_length(key, scope) is not None:
        length = _literal_length(key, scope) or 0
        out.append(("jwt.secret", "literal-short" if length < SHORT_KEY else "literal"))
    return out


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _literal_length(node: ast.expr, scope: Scope) -> int | None:
    """Length of the string literal ``node`` always holds (through names), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return len(node.value)
    key = node.id if isinstance(node, ast.Name) else None
    if key is None and isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        key = f"{dotted(node.value)}[{node.slice.value!r}]"
    values = scope.values(key) if key else None
    if values and len(values) == 1:
        return _literal_length(values[0], scope) if values[0] is not node else None
    return None


# What a file must spell for sink_kind() or jwt_settings() to match one of its calls: the
# callee's last identifier as a call (open, execute, eval ...), or the module every dotted
# name of a family starts with (subprocess.*, pickle.*, requests.*, jwt.* ...). Keep in step
# with the name sets above: tests/test_pygates.py checks a call to each of them is admitted.
GATE = gate(
    calls=[
        *("eval", "exec", "system", "popen", "popen2", "popen3", "getoutput", "urlopen"),
        *("redirect", "HttpResponseRedirect", "HttpResponsePermanentRedirect"),
        *("RedirectResponse", "render_template_string", "Template", "Markup", "from_string"),
        *("open", "send_file", "FileResponse", "text", "read_sql", "read_sql_query"),
        *SQL_METHODS,
    ],
    words=[
        *("subprocess", "pickle", "cPickle", "marshal", "dill", "jsonpickle", "yaml", "shelve"),
        *("requests", "httpx", "urllib3", "jwt"),
    ],
    substrings=["get_unverified_claims"],
)


@register
class PythonSinksCollector(Collector):
    id = "sinks_python"
    version = 1
    gate = GATE

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def extract(self, src: SourceFile) -> Extract:
        tree = src.python_ast
        if tree is None:
            return None
        sinks: list[list[Any]] = []
        settings: list[list[Any]] = []
        for site in call_sites(tree):
            info = describe_call(site.call, site.scope)
            handler = site.function.name if site.function else None
            if info is not None:
                start = site.function.lineno if site.function else None
                sinks.append([info.kind, info.call, info.dynamic, site.call.lineno, handler, start])
            for key, value in jwt_settings(site.call, site.scope):
                settings.append([key, value, site.call.lineno])
        if not sinks and not settings:
            return None
        return {"sinks": sinks, "settings": settings}

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path, data in sorted(extracts.items()):
            module = path.removesuffix(".py").replace("/", ".")
            for kind, call, dynamic, line, handler, start in data["sinks"]:
                out.sinks.append(
                    Sink(
                        kind=kind,
                        call=call,
                        dynamic=dynamic,
                        location=Location(path=path, line=line),
                        handler=f"{module}.{handler}" if handler else None,
                        handler_line=start,
                    )
                )
            for key, value, line in data["settings"]:
                out.settings.append(
                    Setting(
                        key=key,
                        value=value,
                        framework="pyjwt",
                        location=Location(path=path, line=line),
                    )
                )
