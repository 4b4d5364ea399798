"""Django / DRF: URLconfs, the views they route to, and security settings.

Extract (per file): ``urlpatterns`` (``path``, ``re_path``, ``url``, ``include`` of a module,
of a list or of ``router.urls``, ``admin.site.urls``), DRF router registrations, the
decorators of function views and of class-view methods (``@action``), and, in a settings
module, ``DEBUG``, ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``MIDDLEWARE``, ``REST_FRAMEWORK``,
CORS and cookie settings.
Link: walks the URLconfs from every root (a URLconf no other one includes) applying
``include()`` prefixes, and judges each view with django_auth.py.
Not here: models (the data-layer collector) and env var reads.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import (
    bool_const,
    dotted,
    kw,
    last,
    line_text,
    normalize_angle,
    normalize_regex,
    str_const,
    str_list,
    tree_nodes,
)
from threatmodel.code.source import SourceFile
from threatmodel.code.urlpattern import pattern_converters, regex_converters
from threatmodel.frameworks._python.link import GuardTable, Resolver
from threatmodel.frameworks._python.settings import (
    emit_middleware,
    emit_setting,
    flag_default,
    secret_source,
    str_default,
)
from threatmodel.frameworks.django import auth as django_auth
from threatmodel.frameworks.django import drf_perms, login_mw, routers, url_gate, url_text
from threatmodel.frameworks.django.wrapped import unwrapped

SETTINGS_MARKERS = ("INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF")
MIDDLEWARE_KINDS = {
    "CsrfViewMiddleware": "csrf",
    "SecurityMiddleware": "security_headers",
    "XFrameOptionsMiddleware": "security_headers",
    "SessionMiddleware": "session",
    "CorsMiddleware": "cors",
    "LoginRequiredMiddleware": "auth",
    "RatelimitMiddleware": "rate_limit",
}
# Well-known URLconfs of Django itself (the app's own code never lists them).
AUTH_URLS = [
    "login/",
    "logout/",
    "password_change/",
    "password_change/done/",
    "password_reset/",
    "password_reset/done/",
    "reset/<uidb64>/<token>/",
    "reset/done/",
]


def relevant(text: str) -> bool:
    # ``.register(``: a function that registers viewsets on a router it is handed
    return (
        "django" in text
        or "urlpatterns" in text
        or "rest_framework" in text
        or ".register(" in text
    )


def walks_module(text: str) -> bool:
    """Will ``extract`` list the whole module (``tree_nodes``)? Only for ``register`` calls
    and for routers handed to functions (``add_urls(DefaultRouter())``).

    A call can only name ``register`` if the text spells it: an ASCII file's identifiers
    appear as written (a non-ASCII one may spell it in letters NFKC folds to ASCII).
    """
    return "register" in text or "Router" in text or not text.isascii()


def extract(tree: ast.Module, src: SourceFile) -> dict[str, Any] | None:
    lines = src.lines
    d: dict[str, Any] = {"urls": None, "routers": {}, "views": {}, "settings": None, "perms": {}}
    consts = url_text.str_consts(tree)
    anon = "authenticated_users_only" in src.text  # DRF model permissions set from a setting
    lists: dict[str, list[dict[str, Any]]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "urlpatterns" for t in targets):
                d["urls"] = (d["urls"] or []) + _patterns(node.value, lines, consts)
        for n in _list_builds(node):
            # A local list of paths, for ``include(check_urls)``: ``ur = [...]``, then
            # ``ur += other_urls`` (also under an ``if``: each arm's paths are listed).
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            entries = _patterns(n.value, lines, consts)
            for t in (t for t in targets if isinstance(t, ast.Name) and t.id != "urlpatterns"):
                if isinstance(n, ast.AugAssign) and t.id in lists:
                    lists[t.id] = lists[t.id] + entries
                elif isinstance(n, ast.Assign) and isinstance(n.value, ast.List | ast.Tuple):
                    lists[t.id] = entries
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.decorator_list:
            d["views"][node.name] = [_dec(x, lines) for x in node.decorator_list]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "has_permission":
                    d["perms"][node.name] = drf_perms.permission_verdict(item)
                elif isinstance(item, ast.FunctionDef) and item.name == "get_permissions":
                    if (named := drf_perms.per_action(item)) is not None:
                        d.setdefault("per_action", {})[node.name] = named
                elif isinstance(item, ast.FunctionDef) and item.name == "has_object_permission":
                    # DRF asks it of the object a detail route loads (get_object)
                    d.setdefault("obj_perms", {})[node.name] = drf_perms.permission_verdict(item)
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.decorator_list:
                    d["views"][f"{node.name}.{item.name}"] = [
                        _dec(x, lines) for x in item.decorator_list
                    ]
            if anon and (setting := drf_perms.anon_setting(node)):
                d["perms"][node.name] = f"config:{setting}:{drf_perms.read_verdict(node)}"
            elif node.name not in d["perms"] and (model := drf_perms.model_verdict(node)):
                d["perms"][node.name] = model
    lists = {k: v for k, v in lists.items() if v}
    if lists:
        d["lists"] = lists
    if reads := login_mw.settings_read(tree):
        d["settings_read"] = reads
    if gates := url_gate.gates(tree, lines):
        d["url_gates"] = gates
    if tables := url_gate.tables(tree, lines):
        d["tables"] = tables
    calls = tree_nodes(tree) if walks_module(src.text) else []
    for call in calls:
        if (reg := routers.registration(call, consts)) is not None:
            d["routers"].setdefault(reg[0], []).append(reg[1:])
    if calls:
        routers.router_passing(tree, calls, d, consts)
    assigned = {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    if assigned & set(SETTINGS_MARKERS):
        d["settings"] = _settings(tree, lines)
    if (
        d["urls"] is None
        and not (
            d["routers"]
            or d["views"]
            or d["perms"]
            or d.get("settings_read")
            or d.get("per_action")
        )
        and not (d.get("url_gates") or d.get("tables"))
        and d["settings"] is None
    ):
        return None
    return d


def _list_builds(node: ast.stmt) -> list[ast.Assign | ast.AugAssign]:
    """Assignments of a module statement, and of the arms of a module-level ``if``."""
    if isinstance(node, ast.Assign | ast.AugAssign):
        return [node]
    if isinstance(node, ast.If):
        return [n for s in (*node.body, *node.orelse) for n in _list_builds(s)]
    return []


def _dec(dec: ast.expr, lines: list[str]) -> list[Any]:
    """[callee, line, text, names in args, strings in args, detail flag (for @action)]."""
    names: list[str] = []
    strings: list[str] = []
    detail = None
    if isinstance(dec, ast.Call):
        args = [(None, a) for a in dec.args] + [
            (k.arg, k.value) for k in dec.keywords if k.arg != "detail"
        ]
        for arg, a in args:
            for e in a.elts if isinstance(a, ast.List | ast.Tuple | ast.Set) else [a]:
                if (s := str_const(e)) is not None:
                    strings.append(s)
                elif dotted(e):
                    names.append(("perm=" if arg == "permission_classes" else "") + dotted(e))
        detail = bool_const(kw(dec, "detail"))
        url_path = str_const(kw(dec, "url_path"))
        if url_path is not None:
            strings = [s for s in strings if s != url_path]
            names.append(f"url_path={url_path}")
    return [dotted(dec), dec.lineno, line_text(lines, dec.lineno), names, strings, detail]


def _patterns(
    node: ast.expr, lines: list[str], consts: dict[str, str] | None = None, views: str = ""
) -> list[dict[str, Any]]:
    """Entries of a urlpatterns expression (lists, ``+`` of lists, ``router.urls``).

    Django 1.x ``patterns("app.views", url(r"^$", "index"))``: the first argument prefixes
    the dotted-string views.
    """
    consts = consts or {}
    if isinstance(node, ast.Name):  # ``urlpatterns += api_urls``: a list named elsewhere
        return [{"kind": "include_name", "name": node.id, "route": "", "line": node.lineno}]
    if isinstance(node, ast.BinOp):
        return _patterns(node.left, lines, consts) + _patterns(node.right, lines, consts)
    if isinstance(node, ast.Attribute) and node.attr == "urls":
        return [{"kind": "router", "router": dotted(node.value), "route": "", "line": node.lineno}]
    if isinstance(node, ast.Call) and last(dotted(node.func)) == "patterns" and node.args:
        listed = ast.List(elts=list(node.args[1:]), ctx=ast.Load())
        return _patterns(listed, lines, consts, str_const(node.args[0]) or "")
    if not isinstance(node, ast.List | ast.Tuple):
        return []
    out = []
    for e in node.elts:
        if isinstance(e, ast.Starred):  # ``*router.urls``, ``*other_patterns``: spliced in
            out += _patterns(e.value, lines, consts, views)
            continue
        if not isinstance(e, ast.Call) or last(dotted(e.func)) not in ("path", "re_path", "url"):
            continue
        first = e.args[0] if e.args else kw(e, "route")
        raw = url_text.text(first, consts)
        unread = ""
        if raw is None and (folded := url_text.formatted(first, consts)) is not None:
            raw, unread = folded
        view = e.args[1] if len(e.args) > 1 else kw(e, "view")
        view, wrappers = unwrapped(view)
        # ``path(settings.BASE_PATH, include(...))``: a prefix the settings module defaults
        setting = dotted(first).removeprefix("settings.") if raw is None else ""
        if setting and dotted(first).startswith("settings."):
            raw = ""
        if raw is None or view is None:
            continue
        regex = last(dotted(e.func)) != "path"
        route = normalize_regex(raw) if regex else normalize_angle(raw)
        entry: dict[str, Any] = {
            "route": route,
            "line": e.lineno,
            "text": line_text(lines, e.lineno),
        }
        if setting and raw == "":
            entry["setting"] = setting
        if unread:
            entry["unread"] = unread
        if params := (regex_converters(raw) if regex else pattern_converters(raw)):
            entry["params"] = params  # each capture's converter (``models.Route.params``)
        if (name := str_const(kw(e, "name"))) is not None:
            entry["name"] = name  # the URL name a middleware may look up (url_gate.py)
        if wrappers:
            entry["wrappers"] = wrappers
        if isinstance(view, ast.Call) and last(dotted(view.func)) == "include":
            target = view.args[0] if view.args else None
            if isinstance(target, ast.Tuple) and target.elts:
                target = target.elts[0]
            if isinstance(target, ast.List | ast.Tuple):
                entry |= {"kind": "inline", "entries": _patterns(target, lines, consts)}
            elif isinstance(target, ast.Attribute) and target.attr == "urls":
                entry |= {"kind": "router", "router": dotted(target.value)}
            elif (mod := str_const(target)) is not None:
                entry |= {"kind": "include", "module": mod}
            else:
                entry |= {"kind": "include_name", "name": dotted(target)}
        elif dotted(view).endswith("site.urls"):
            entry |= {"kind": "admin"}
        elif isinstance(view, ast.Call) and last(dotted(view.func)) == "as_view":
            entry |= {"kind": "class", "view": dotted(view.func).rsplit(".", 1)[0]}
        elif (dotted_view := str_const(view)) is not None and dotted_view:
            # Django 1.x: a view named by its dotted path, under patterns()' prefix.
            full = f"{views}.{dotted_view}" if views else dotted_view
            entry |= {"kind": "function", "view": full, "dotted": True}
        elif dotted(view):
            entry |= {"kind": "function", "view": dotted(view)}
        else:
            continue
        out.append(entry)
    return out


def _settings(tree: ast.Module, lines: list[str]) -> dict[str, Any]:
    s: dict[str, Any] = {"values": [], "middleware": [], "default_permissions": None}
    s["flags"] = {}  # NAME -> [default, line, text]: booleans whose default is written here
    s["strs"] = {}  # NAME -> default: strings (a URL prefix such as BASE_PATH)
    s["patterns"] = {}  # NAME -> strings: lists a middleware may read (LOGIN_EXEMPT_URLS)
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        t = node.targets[0]
        if not isinstance(t, ast.Name):
            continue
        name, v, line = t.id, node.value, node.lineno
        if isinstance(v, ast.Name) and v.id in s["patterns"]:  # MIDDLEWARE = BASE_MIDDLEWARE
            v = ast.List(elts=[ast.Constant(x) for x in s["patterns"][v.id]])
        if name.isupper() and (found := login_mw.pattern_list(v, s["strs"])) is not None:
            s["patterns"][name] = found
        else:
            s["patterns"].pop(name, None)
        if name.isupper():  # the last top-level assignment is the one that holds
            b = flag_default(v)
            if b is None:
                s["flags"].pop(name, None)
            else:
                s["flags"][name] = [b, line, line_text(lines, line)]
            if (text := str_default(v)) is None:
                s["strs"].pop(name, None)
            else:
                s["strs"][name] = text
        if name == "DEBUG" and (b := bool_const(v)) is not None:
            s["values"].append(["debug", str(b).lower(), line])
        elif name == "SECRET_KEY":
            src = secret_source(v, {})
            s["values"].append(
                ["secret_key", src if not src.startswith("ref:") else "unknown", line]
            )
        elif name == "ALLOWED_HOSTS" and (hosts := str_list(v)) is not None:
            s["values"].append(["allowed_hosts", ",".join(hosts), line])
        elif (
            name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
            and (b := bool_const(v)) is not None
        ):
            key = "session.cookie_secure" if name.startswith("SESSION") else "csrf.cookie_secure"
            s["values"].append([key, str(b).lower(), line])
        elif name in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL") and bool_const(v):
            s["values"].append(["cors.allow_origins", "*", line])
        elif (
            name in ("CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST")
            and (o := str_list(v)) is not None
        ):
            s["values"].append(["cors.allow_origins", ",".join(o), line])
        elif name == "CORS_ALLOW_CREDENTIALS" and (b := bool_const(v)) is not None:
            s["values"].append(["cors.allow_credentials", str(b).lower(), line])
        elif name == "MIDDLEWARE" and (mw := str_list(v)) is not None:
            s["middleware"] = [[m, line] for m in mw]
            csrf = any(m.endswith("CsrfViewMiddleware") for m in mw)
            s["values"].append(["csrf.enabled", str(csrf).lower(), line])
        elif name == "REST_FRAMEWORK" and isinstance(v, ast.Dict):
            for k, val in zip(v.keys, v.values, strict=False):
                if str_const(k) == "DEFAULT_PERMISSION_CLASSES":
                    perms = str_list(val)
                    s["default_permissions"] = [
                        perms or [],
                        k.lineno if k else line,
                        line_text(lines, k.lineno if k else line),
                    ]
    return s


# --------------------------------------------------------------------------- link


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    dj = {p: d["django"] for p, d in extracts.items()}
    settings = {p: d["settings"] for p, d in dj.items() if d["settings"]}
    judge = django_auth.Judge(resolver, guards, settings)
    for p, s in sorted(settings.items()):
        for key, value, line in s["values"]:
            emit_setting(out, key, value, "django", p, line)
        for name, line in s["middleware"]:
            kind = MIDDLEWARE_KINDS.get(last(name), "other")
            emit_middleware(out, [kind, name, line, "global", {}], p)
    urlconfs = {p: d["urls"] for p, d in dj.items() if d["urls"] is not None}
    included: set[str] = set()
    pending = [(p, entries, 0) for p, entries in urlconfs.items()]
    while pending:
        p, entries, depth = pending.pop()
        for e in _flatten(entries):
            if e.get("kind") == "include_name" and (local := _local_list(p, e["name"], resolver)):
                if depth < 5:  # a list of paths, not another URLconf: its includes count too
                    pending.append((local[0], local[1], depth + 1))
                continue
            target = _include_target(p, e, resolver)
            if target:
                included.add(target)
    for root in sorted(set(urlconfs) - included):
        _walk(root, urlconfs[root], "", urlconfs, resolver, judge, out, 0)


def _flatten(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        out.append(e)
        if e.get("kind") == "inline":
            out.extend(_flatten(e["entries"]))
    return out


def _local_list(p: str, name: str, resolver: Resolver) -> tuple[str, list[dict[str, Any]]] | None:
    """``include(check_urls)``: a list of paths assigned in this module (or imported)."""
    target, symbol, _ = resolver.resolve(p, name)
    lists = resolver.extracts.get(target or "", {}).get("django", {}).get("lists", {})
    return (target or p, lists[symbol]) if symbol in lists else None


def _include_target(p: str, e: dict[str, Any], resolver: Resolver) -> str | None:
    if e.get("kind") == "include":
        return resolver.module_file(e["module"])
    if e.get("kind") == "include_name":
        target, symbol, module = resolver.resolve(p, e["name"])
        if target and symbol and target in resolver.extracts:
            return (
                resolver.module_file(f"{module}.{symbol}" if module else symbol, target) or target
            )
        return resolver.module_file(f"{module}.{symbol}") if module else None
    return None


def _walk(
    p: str,
    entries: list[dict[str, Any]],
    prefix: str,
    urlconfs: Mapping[str, Any],
    resolver: Resolver,
    judge: django_auth.Judge,
    out: FactsBuilder,
    depth: int,
) -> None:
    if depth > 10:
        return
    for e in entries:
        outer, captured = judge.unread, judge.params
        judge.unread = e.get("unread") or outer  # a prefix read as empty, for the routes under it
        judge.params = {**captured, **e.get("params", {})}  # an include's captures too
        _entry(p, e, prefix, urlconfs, resolver, judge, out, depth)
        judge.unread, judge.params = outer, captured


def _entry(
    p: str,
    e: dict[str, Any],
    prefix: str,
    urlconfs: Mapping[str, Any],
    resolver: Resolver,
    judge: django_auth.Judge,
    out: FactsBuilder,
    depth: int,
) -> None:
    route = prefix + e["route"]
    if e.get("setting"):  # its default, or the entry is left out (as any unknown route)
        if (value := judge.strs.get(e["setting"])) is None:
            return
        route = prefix + normalize_angle(value)
    kind = e["kind"]
    if kind == "inline":
        _walk(p, e["entries"], route, urlconfs, resolver, judge, out, depth + 1)
    elif kind == "include_name" and (local := _local_list(p, e["name"], resolver)):
        _walk(local[0], local[1], route, urlconfs, resolver, judge, out, depth + 1)
    elif kind in ("include", "include_name"):
        target = _include_target(p, e, resolver)
        if target in urlconfs and target is not None:
            _walk(target, urlconfs[target], route, urlconfs, resolver, judge, out, depth + 1)
        elif kind == "include" and e["module"] == "django.contrib.auth.urls":
            for sub in AUTH_URLS:
                judge.builtin(out, p, e, route + normalize_angle(sub), "django.contrib.auth.views")
    elif kind == "admin":
        judge.builtin(out, p, e, route, "django.contrib.admin.site")
    elif kind == "router":
        judge.router(out, p, e, route, e["router"])
    else:
        judge.view(out, p, e, route)
