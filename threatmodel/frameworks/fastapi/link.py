"""FastAPI link: prefixes along include chains, and each route's dependencies as auth.

A router is an ``APIRouter`` or an instance of a subclass whose ``__init__`` passes a default
prefix and ``dependencies`` up (resolved across files). ``include_router(prefix=NAME)``
names a module constant. A route's guards: the app's and every including router's
dependencies, its own (spelled out or through an ``Annotated`` alias defined in any module),
a class-based controller's ``Depends`` attributes (and its bases'),
HTTP middleware, and the handler's own checks. A dependency guards only if its definition
rejects (raises 401/403...); one that returns None guards nothing. A bare security scheme
only checks that a token is present, not that it is valid: ``unknown``. FastAPI's own pages
(OpenAPI, docs) are served under the prefix their app is mounted at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import normalize_brace
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, decide, guarded_route
from threatmodel.frameworks._python.settings import emit_middleware, emit_setting
from threatmodel.models import Location, Route


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    fa = {p: d["fastapi"] for p, d in extracts.items()}
    router_classes = {(p, n): v for p, d in fa.items() for n, v in d["router_classes"].items()}
    classes = {(p, n): v for p, d in fa.items() for n, v in d["classes"].items()}

    def find(file: str, name: str, table: Mapping[tuple[str, str], Any]) -> tuple[str, str] | None:
        if (file, name) in table:
            return (file, name)
        target, symbol, _ = resolver.resolve(file, name)
        return (target, symbol) if target and (target, symbol) in table else None

    def lookup(file: str, name: str) -> str | None:
        """A module constant, or a settings instance's default (``settings.API_V1_STR``)."""
        target, symbol, _ = resolver.resolve(file, name)
        data = resolver.extracts.get(target or "", {})
        found = data.get("fastapi", {}).get("consts", {}).get(symbol)
        return found if found is not None else data.get("defaults", {}).get(symbol)

    def text_of(file: str, value: str) -> str:
        """A prefix as written, with ``ref:NAME`` (whole or ``{ref:NAME}`` in an f-string)
        looked up; a part that cannot be found stays a ``{NAME}`` placeholder."""
        if value.startswith("ref:"):
            return lookup(file, value[4:]) or ""
        return re.sub(r"\{ref:([\w.]+)\}", lambda m: lookup(file, m[1]) or "{" + m[1] + "}", value)

    owners: dict[tuple[str, str], list[list[Any]]] = {}  # (file, var) -> own deps
    own_prefix: dict[tuple[str, str], str] = {}
    for p, d in fa.items():
        for n, deps in d["apps"].items():
            owners[(p, n)] = [[p, *x] for x in deps]
        for n, (prefix, deps, ctor) in d["routers"].items():
            ck = find(p, ctor, router_classes) if ctor else None
            if ctor and ck is None:
                continue  # some other *Router object, not a FastAPI router
            cls_prefix, cls_deps = router_classes[ck] if ck else ("", [])
            owners[(p, n)] = [[p, *x] for x in deps] + [[ck[0], *x] for x in cls_deps if ck]
            own_prefix[(p, n)] = text_of(p, prefix) if prefix else cls_prefix
    schemes = {(p, s) for p, d in fa.items() for s in d["schemes"]}

    def key(file: str, name: str) -> tuple[str, str] | None:
        return find(file, name, owners)

    def class_deps(file: str, name: str, depth: int = 0) -> list[list[Any]]:
        """A controller class's ``Depends`` attributes, its bases' first (subclasses override)."""
        ck = find(file, name, classes)
        if ck is None or depth > 6:
            return []
        bases, deps = classes[ck]
        out = [x for b in bases for x in class_deps(ck[0], b, depth + 1)]
        return out + [[ck[0], *x] for x in deps]

    parents: dict[tuple[str, str], list[tuple[tuple[str, str] | None, str, list[list[Any]]]]] = {}
    for p, d in fa.items():
        for owner, child, prefix, deps, _line in d["includes"]:
            ck = key(p, child)
            if ck:
                entry = (key(p, owner), text_of(p, prefix), [[p, *x] for x in deps])
                parents.setdefault(ck, []).append(entry)

    def chains(k: tuple[str, str] | None, depth: int = 0) -> list[tuple[str, list[list[Any]]]]:
        if k is None or depth > 8:
            return [("", [])]
        own = owners.get(k, [])
        ups = parents.get(k) or [(None, "", [])]
        res = []
        for parent, prefix, deps in ups:
            for pp, pdeps in chains(parent, depth + 1):
                res.append((pp.rstrip("/") + prefix + own_prefix.get(k, ""), pdeps + deps + own))
        return res

    def alias_deps(file: str, refs: list[list[Any]]) -> list[list[Any]]:
        """The dependencies an annotation's ``Annotated`` alias carries, where it is defined."""
        return [[target, *x] for name, *_ in refs for target, x in guards.alias_deps(file, name)]

    mw_guards: list[Guard] = []
    for p, d in fa.items():
        for fn, line, text in d["guards_mw"]:
            g = guards.as_guard(p, fn, f"HTTP middleware {fn}", (p, line, text))
            if g:  # a middleware that rejects may still let some paths through: unknown
                mw_guards.append(
                    Guard("unknown", g.mechanism + " (path exemptions not analysed)", g.evidence)
                )
    for p, d in fa.items():
        module = p.removesuffix(".py").replace("/", ".")
        for r in d["routes"]:
            for prefix, inherited in chains(key(p, r["owner"])):
                gs = list(mw_guards)
                ctl = class_deps(p, r["cls"]) if r.get("cls") else []
                own = [[p, *x] for x in r["deps"]] + alias_deps(p, r.get("alias_refs", []))
                for dfile, name, line, _scoped, text in inherited + ctl + own:
                    gs += _dep_guard(dfile, name, line, text, guards, schemes)
                gs += guards.handler_guards(p, r["handler"])
                full = normalize_brace(prefix + r["path"]) or "/"
                for m in r["methods"]:
                    out.routes.append(
                        guarded_route(
                            m,
                            full,
                            "fastapi",
                            f"{module}.{r['handler']}",
                            (p, r["line"]),
                            gs,
                            hidden=r["hidden"],
                            rate_limited=True if r["limited"] else None,
                        )
                    )
        for urls, line, *app in d.get("docs", []):
            # an app mounted under a prefix (``main.mount("/api/v1", app=api)``) serves its
            # pages there
            prefixes = {pp for pp, _deps in chains(key(p, app[0]))} if app else {""}
            for prefix in sorted(prefixes):
                pages = {k: text_of(p, v) if v else v for k, v in urls.items()}
                _docs_routes(out, p, line, pages, mw_guards, prefix.rstrip("/"))
        for rec in d["middleware"]:
            emit_middleware(out, rec, p)
            if rec[0] == "cors":
                emit_setting(
                    out, "cors.allow_origins", rec[4].get("allow_origins", ""), "fastapi", p, rec[2]
                )
                emit_setting(
                    out,
                    "cors.allow_credentials",
                    rec[4].get("allow_credentials", "false"),
                    "fastapi",
                    p,
                    rec[2],
                )
        for k, v, line in d["settings"]:
            emit_setting(out, k, v if not v.startswith("ref:") else "unknown", "fastapi", p, line)


def _docs_routes(
    out: FactsBuilder,
    p: str,
    line: int,
    urls: Mapping[str, str | None],
    mw: list[Guard],
    prefix: str = "",
) -> None:
    """FastAPI's own pages: the OpenAPI schema, and the docs pages that read it.

    They exist unless turned off (``openapi_url=None`` turns off all of them); the app's
    dependencies do not guard them, its HTTP middleware does. A URL that cannot be told from
    the repository (named from a runtime value) is left out rather than guessed.
    """
    spec = urls.get("openapi_url")
    if not spec:
        return
    pages: list[str | None] = [spec]
    if urls.get("docs_url"):
        pages += [urls["docs_url"], urls.get("swagger_ui_oauth2_redirect_url")]
    pages.append(urls.get("redoc_url"))
    for found in pages:
        if not found or "{" in found or not found.startswith("/"):
            continue
        page = prefix + found
        out.routes.append(
            Route(
                id=f"GET {page}",
                method="GET",
                path=page,
                framework="fastapi",
                handler=f"fastapi.FastAPI.{found.strip('/').replace('/', '_') or 'root'}",
                location=Location(path=p, line=line),
                auth=decide(list(mw)),
                hidden=True,
            )
        )


def _dep_guard(
    file: str,
    name: str,
    line: int,
    text: str,
    guards: GuardTable,
    schemes: set[tuple[str, str]],
    depth: int = 0,
) -> list[Guard]:
    where = (file, line, text)
    g = guards.as_guard(file, name, f"Depends({name})", where, at=line)
    if g:
        return [g]
    target, symbol, _ = guards.r.resolve(file, name)
    if target and (target, symbol) in schemes:
        return [
            Guard(
                "unknown",
                f"security scheme {name} (checks a token is present, not valid)",
                (where,),
            )
        ]
    summ = guards.summary(target, symbol)
    if summ and depth < 4 and target:
        for sub, sline, _scoped in summ["deps"]:
            if _dep_guard(target, sub, sline, "", guards, schemes, depth + 1):
                return [
                    Guard(
                        "unknown",
                        f"Depends({name}) requires a token it does not validate",
                        (where,),
                    )
                ]
    return []
