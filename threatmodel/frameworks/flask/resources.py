"""Flask-RESTful and Flask-RESTX resources: one route per HTTP method of a Resource class.

Two ways to route a resource: ``api.add_resource(Cls, "/url", ...)`` (both libraries), and
RESTX's ``@ns.route("/url")`` (or ``@api.route``) on the class, where ``ns`` is a
``Namespace(name, path=)`` added with ``api.add_namespace(ns, path=)`` (the path given there
wins over the namespace's own, which defaults to ``/name``). An ``Api`` built on a blueprint
sits under the blueprint's prefix (and its before_request hooks); ``Api(prefix=)`` adds to it.

Guards, outermost first: the app's and the blueprint chain's hooks, ``Api(decorators=)``,
``Namespace(decorators=)``, the class's ``method_decorators`` / ``decorators``, the method's
own decorators, and the checks inside the method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import normalize_angle
from threatmodel.code.urlpattern import pattern_converters
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, decide
from threatmodel.models import Location, Route

VIEW_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
Key = tuple[str, str]
# The blueprint prefixes (with the blueprint chain) an owner sits under, and their hooks.
Prefixes = Callable[[Key | None], list[tuple[str, list[Any]]]]


@dataclass
class Resources:
    """What the Flask link already knows, handed over so resources use the same answers."""

    fl: Mapping[str, Any]  # path -> the file's flask extract
    extracts: Mapping[str, Any]
    resolver: Resolver
    guards: GuardTable
    key: Callable[[str, str], Key | None]  # an app or blueprint named in a file
    prefixes: Prefixes
    hooks: Mapping[Any, list[Guard]]
    limiter: bool | None

    def __post_init__(self) -> None:
        # (file, name) -> [target, prefix, decorators] of every Api, and of every Namespace.
        self.apis = {
            (p, rec[1]): rec for p, d in self.fl.items() for rec in d["restful"] if rec[0] == "api"
        }
        self.spaces = {(p, n): v for p, d in self.fl.items() for n, v in d["namespaces"].items()}
        self.added: dict[Key, list[tuple[Key | None, str | None]]] = {}
        for p, d in self.fl.items():
            for owner, ns, path, _line in d["add_ns"]:
                nk = self._find(p, ns, self.spaces)
                if nk:
                    self.added.setdefault(nk, []).append((self._find(p, owner, self.apis), path))

    def _find(self, file: str, name: str, table: Mapping[Key, Any]) -> Key | None:
        if (file, name) in table:
            return (file, name)
        target, symbol, _ = self.resolver.resolve(file, name)
        return (target, symbol) if target and (target, symbol) in table else None

    def api_mounts(self, api: Key | None) -> list[tuple[str, list[Any], list[Guard]]]:
        """(URL prefix, blueprint chain, Api decorators) for each place an Api serves."""
        if api is None:
            return [("", [], [])]
        _, _name, target, prefix, decs, line, text = self.apis[api]
        gs = self._named(api[0], decs, "Api decorators", line, text)
        owner = self.key(api[0], target) if target else None
        return [(join_path(pre, prefix), chain, gs) for pre, chain in self.prefixes(owner)]

    def _named(
        self, file: str, names: Iterable[str], what: str, line: int, text: str
    ) -> list[Guard]:
        gs = []
        for n in names:
            g = self.guards.as_guard(file, n, f"{what} {n}", (file, line, text))
            if g:
                gs.append(g)
        return gs

    def mounts(self, file: str, owner: str) -> list[tuple[str, list[Any], list[Guard]]]:
        """(prefix, blueprint chain, guards) for a class routed with ``@owner.route``."""
        nk = self._find(file, owner, self.spaces)
        if nk is None:
            return self.api_mounts(self._find(file, owner, self.apis))
        ns = self.spaces[nk]
        gs = self._named(nk[0], ns["decorators"], "Namespace decorators", ns["line"], ns["text"])
        out = []
        for api, path in self.added.get(nk) or [(None, None)]:
            for pre, chain, api_gs in self.api_mounts(api):
                out.append(
                    (join_path(pre, path if path is not None else ns["path"]), chain, api_gs + gs)
                )
        return out

    def chain(self, file: str, cls_name: str, depth: int = 0) -> list[tuple[str, dict[str, Any]]]:
        """The class and its bases the repository defines, most derived first: a
        ``BaseResource`` with ``decorators = [login_required]`` guards every subclass, and
        a base's ``get`` answers for it."""
        cls = self.extracts.get(file, {}).get("classes", {}).get(cls_name)
        if cls is None or depth > 5:
            return []
        out = [(file, cls)]
        for base in cls["bases"]:
            bfile, bsym, _ = self.resolver.resolve(file, base)
            if bfile:
                out += self.chain(bfile, bsym, depth + 1)
        return out

    def method_guards(self, file: str, cls_name: str, method: str) -> list[Guard]:
        """The class's method_decorators / decorators (its own, else the nearest base's),
        the method's decorators and checks."""
        chain = self.chain(file, cls_name)
        if not chain:
            return []
        cls = chain[0][1]
        gs: list[Guard] = []
        for attr in ("method_decorators", "decorators"):
            owner, held = next(((f, c) for f, c in chain if attr in c["attrs"]), chain[0])
            line, text = held["attr_lines"].get(attr, [held["line"], ""])
            gs += self._named(owner, held["attrs"].get(attr, []), attr, line, text)
        for callee, line, text, _names, _strings in cls.get("method_decs", {}).get(method, []):
            g = self.guards.as_guard(file, callee, f"decorator @{callee}", (file, line, text))
            if g:
                gs.append(g)
        return gs + self.guards.handler_guards(file, f"{cls_name}.{method}")

    def emit(self, out: FactsBuilder) -> None:
        for p, d in self.fl.items():
            module = p.removesuffix(".py").replace("/", ".")
            for owner, cls_name, paths, line in d["class_routes"]:
                for pre, chain, gs in self.mounts(p, owner):
                    for url in paths:
                        full, raw = join_path(pre, url), (pre, url)
                        self._emit(out, p, module, cls_name, full, line, chain, gs, params=raw)
            for rec in d["restful"]:
                if rec[0] != "resource":
                    continue
                _, owner, cls_name, urls, line = rec
                target, symbol, _ = self.resolver.resolve(p, cls_name)
                for pre, chain, gs in self.api_mounts(self._find(p, owner, self.apis)):
                    for url in urls:
                        self._emit(
                            out,
                            p,
                            module,
                            cls_name,
                            join_path(pre, url),
                            line,
                            chain,
                            gs,
                            (target or "", symbol),
                            params=(pre, url),
                        )

    def _emit(
        self,
        out: FactsBuilder,
        p: str,
        module: str,
        cls_name: str,
        full: str,
        line: int,
        chain: list[Any],
        outer: list[Guard],
        defined: Key | None = None,
        params: tuple[str, str] = ("", ""),
    ) -> None:
        """``params``: the prefix and the path as written, whose captures the route keeps."""
        dfile, dname = defined or (p, cls_name)
        captures = pattern_converters(params[0] + params[1])
        classes = self.chain(dfile, dname)
        cls = classes[0][1] if classes else None
        methods = sorted({m for _f, c in classes for m in c["methods"] if m in VIEW_METHODS})
        hooks = list(self.hooks.get(None, []))
        for bp in chain:
            hooks += self.hooks.get(bp, [])
        for m in methods or ["ANY"]:
            gs = hooks + outer + (self.method_guards(dfile, dname, m) if cls else [])
            out.routes.append(
                Route(
                    id=f"{m.upper()} {full}",
                    method=m.upper(),
                    path=full,
                    framework="flask",
                    handler=f"{module}.{cls_name}.{m}" if m != "ANY" else f"{module}.{cls_name}",
                    location=Location(path=p, line=line),
                    auth=decide(gs),
                    rate_limited=self.limiter,
                    params=captures,
                )
            )


def join_path(prefix: str, path: str) -> str:
    """Flask's and RESTX's joining: concatenation, one slash between the parts."""
    joined = prefix.rstrip("/") + "/" + path.lstrip("/") if path else prefix
    return normalize_angle(joined or "/")
