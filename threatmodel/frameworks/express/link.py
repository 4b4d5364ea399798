"""Link Express extracts: replay registrations in order, across files, into routes.

Each app (``express()``, ``Koa``, ``Fastify``) is replayed from its first registration.
``app.use(mw)`` adds ``mw`` to the chain of every route registered *after* it under its path;
``app.use('/p', router)`` replays the router's own registrations there with the prefix;
``require('./routes')(app)`` replays the other module's registrations on its parameter at
that point. So a global ``app.use(auth)`` placed after a route does not guard it, and a
router mounted from another file gets its full path. Routers nobody mounts are replayed on
their own, so no route is lost, with only the prefixes the code gives them; an app another
app mounts (koa-mount) is replayed only where it is mounted. An import is followed through
barrels (``export { default } from "./x"``, ``export * from``) and tsconfig path aliases.

A route's auth is the strongest verdict along its chain: ``restricted`` (a guard that
checks a role) over ``authenticated`` over ``unknown`` (a guard-like name whose code is not
in the repository) over ``public``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from threatmodel.code.collector import Extract, FactsBuilder, LinkContext
from threatmodel.code.jsast import resolve_module
from threatmodel.code.jsworkspace import repo_files
from threatmodel.frameworks._js.guard import name_looks_auth, names_role
from threatmodel.models import (
    AuthStatus,
    Evidence,
    Location,
    Middleware,
    Route,
    RouteAuth,
    Setting,
)

_RANK = {"none": 0, "unknown": 1, "authenticated": 2, "restricted": 3}
Chain = list[tuple[str, str, dict[str, Any]]]  # (scope path, module, ref)


def normalize_path(path: str) -> str:
    """``/users/:id(\\d+)?`` -> ``/users/{id}``; no trailing slash except the root."""
    out = []
    for seg in path.split("/"):
        if seg.startswith(":"):
            name = ""
            for ch in seg[1:]:
                if not (ch.isalnum() or ch == "_"):
                    break
                name += ch
            seg = "{" + name + "}"
        out.append(seg)
    joined = "/".join(out)
    if not joined.startswith(("/", "*")):
        joined = "/" + joined
    return joined.rstrip("/") or "/"


def join(prefix: str, path: str) -> str:
    if not prefix or prefix == "/":
        return path or ""
    if not path or path == "/":
        return prefix.rstrip("/")
    return prefix.rstrip("/") + "/" + path.lstrip("/")


def under(path: str, scope: str) -> bool:
    """Does a use() scope cover this route path? Parameters match any segment."""
    if scope in ("", "/", "*", "/*"):
        return True
    want = [s for s in normalize_path(scope).split("/") if s]
    have = [s for s in path.split("/") if s]
    if len(want) > len(have):
        return False
    return all(
        w == h or w.startswith("{") or w in ("*", "(.*)") for w, h in zip(want, have, strict=False)
    )


@dataclass
class _Pending:
    method: str
    path: str
    mod: str
    line: int
    handler: str
    chain: Chain = field(default_factory=list)
    again: list[int] = field(default_factory=list)  # later registrations' lines in ``mod``


class _Linker:
    def __init__(self, extracts: Mapping[str, Extract], ctx: LinkContext) -> None:
        self.x = extracts
        self.files = repo_files(ctx.root, frozenset(ctx.files) | frozenset(extracts))
        self.routes: dict[tuple[str, str, str], _Pending] = {}
        self.middleware: dict[tuple[str, str, str, str, int], Middleware] = {}
        self.done: set[tuple[str, str]] = set()
        # A guard found by its name alone, when one module of the same app defines it: the
        # apps of a monorepo (each with its own package.json) never lend each other guards.
        self._roots = sorted(
            (p.rpartition("/")[0] for p in self.files if p.rpartition("/")[2] == "package.json"),
            key=len,
            reverse=True,
        )
        self._unique: dict[tuple[str, str], tuple[str, dict[str, Any]] | None] = {}
        for mod in sorted(extracts):
            for name, verdict in extracts[mod]["defs"].items():
                key = (self.app_root(mod), name.rpartition(".")[2])
                self._unique[key] = None if key in self._unique else (mod, verdict)

    def app_root(self, mod: str) -> str:
        """The folder of the nearest package.json above ``mod`` ('' for the repository)."""
        return next((r for r in self._roots if not r or mod.startswith(r + "/")), "")

    # ----------------------------------------------------------------- resolution
    def module(self, mod: str, spec: str) -> str | None:
        found = resolve_module(mod, spec, self.files)
        return found if found in self.x else None

    def exported(self, mod: str, name: str) -> str:
        exports = self.x[mod]["exports"]
        if name in ("*", "default", ""):
            return str(exports.get("default", name))
        return str(exports.get(name, name))

    def origin(self, mod: str, name: str, depth: int = 0) -> tuple[str, str]:
        """The module and local name an export of ``mod`` stands for, through re-exports:
        ``export { default } from "./x"``, ``import r from "./x"; export default r`` and
        ``export * from "./x"`` (a barrel ``index.ts`` in front of the router's file)."""
        local = self.exported(mod, name)
        data = self.x[mod]
        if depth >= 5:
            return mod, local
        imported = data["imports"].get(local)
        if imported is not None and imported[1] != "*":
            other = self.module(mod, imported[0])
            return self.origin(other, imported[1], depth + 1) if other else (mod, local)
        known = ("receivers", "defs", "functions", "returns", "aliases")
        if name not in ("*", "default", "") and not any(local in data[k] for k in known):
            for spec in data.get("stars", []):  # export * re-exports every named export
                other = self.module(mod, spec)
                found = self.origin(other, name, depth + 1) if other else None
                if found is not None and any(found[1] in self.x[found[0]][k] for k in known):
                    return found
        return mod, local

    def receiver_of(self, mod: str, target: list[str]) -> tuple[str, str] | None:
        if target[0] == "made":  # the router a factory function returns
            _, kind, a, b = target
            other = mod if kind == "localfn" else self.module(mod, a)
            if other is None:
                return None
            if kind == "localfn":
                fn = a
            else:
                other, fn = self.origin(other, b)
            made = self.x[other].get("returns", {}).get(fn)
            return (other, made) if made in self.x[other]["receivers"] else None
        kind, a, b = target
        if kind == "local":
            return (mod, a) if a in self.x[mod]["receivers"] else None
        if kind == "import":
            other = self.module(mod, a)
            if other is None:
                return None
            other, local = self.origin(other, b)
            return (other, local) if local in self.x[other]["receivers"] else None
        return None

    def function_of(self, mod: str, target: list[str]) -> tuple[str, list[str]] | None:
        if len(target) != 3:
            return None  # a function's result ("made") is no function we can read
        kind, a, b = target
        if kind == "localfn":
            params = self.x[mod]["functions"].get(a)
            return (mod, params) if params is not None else None
        if kind == "import":
            other = self.module(mod, a)
            if other is None:
                return None
            other, local = self.origin(other, b)
            params = self.x[other]["functions"].get(local)
            return (other, params) if params is not None else None
        return None

    def verdict(self, mod: str, ref: dict[str, Any], named: bool = True) -> dict[str, Any] | None:
        """The guard verdict of one registered argument; ``named`` lets a name that says
        auth stand for code the repository does not hold (``unknown``)."""
        if "inline" in ref:
            return {**ref["inline"], "mod": mod}
        if "pkg" in ref and ref["pkg"][0] != "auth":
            return None  # cors, helmet, session...: known packages that guard nothing
        name = str(ref.get("name") or "")
        found = self._lookup(mod, name, 0) if name else None
        if "inner" in ref and (found is None or (found["v"] == "none" and not found.get("hc"))):
            # asyncHandler(getProfile()): the inner one. When the wrapper's own code was read
            # (validate(AuthSchema) never rejects a caller), its argument is an option, not
            # a guard by its name alone.
            inner = self.verdict(mod, ref["inner"], named=found is None)
            if inner is not None:
                return inner
        if found is not None and found.get("unless") in ref.get("on", ()):
            why = f"{name}({found['unless']}: true) lets callers without credentials through"
            return {"v": "none", "why": why, "mod": found.get("mod", mod)}
        roles = [k for k in ref.get("keys", ()) if names_role(k)]
        if found is not None and found.get("opts") and found["v"] == "authenticated" and roles:
            why = f"{name}({roles[0]}: ...) hands the required role to its check"
            return {**found, "v": "restricted", "why": why}
        if found is not None:
            return found
        last = name.rpartition(".")[2]
        if named and last and name_looks_auth(last):
            return {"v": "unknown", "why": f"{last} is not defined in the repository"}
        return None

    def _lookup(self, mod: str, name: str, depth: int) -> dict[str, Any] | None:
        if depth > 4:
            return None
        data = self.x[mod]
        root, _, member = name.partition(".")
        last = name.rpartition(".")[2]
        if not member and root in data["defs"]:
            return {**data["defs"][root], "mod": mod}
        if root in data["imports"]:
            spec, imported = data["imports"][root]
            other = self.module(mod, spec)
            if other is not None:
                other, want = self.origin(other, member.rpartition(".")[2] if member else imported)
                if want in self.x[other]["defs"]:
                    return {**self.x[other]["defs"][want], "mod": other}
                if not member and want in self.x[other]["aliases"]:
                    return self._lookup(other, self.x[other]["aliases"][want], depth + 1)
        elif root in data["aliases"]:
            target = data["aliases"][root]
            return self._lookup(mod, f"{target}.{member}" if member else target, depth + 1)
        hit = self._unique.get((self.app_root(mod), last))
        return {**hit[1], "mod": hit[0]} if hit is not None and depth == 0 else None

    def mounted(self) -> set[tuple[str, str]]:
        """Receivers some ``use()`` mounts: they are replayed where they are mounted."""
        out: set[tuple[str, str]] = set()
        for mod, data in self.x.items():
            for ev in data["events"]:
                for ref in ev["mws"] if ev["op"] == "use" else []:
                    sub = self.receiver_of(mod, ref["target"]) if "target" in ref else None
                    if sub is not None:
                        out.add(sub)
        return out

    # ----------------------------------------------------------------- replay
    def expand(
        self, mod: str, recv: str, prefix: str, inherited: Chain, stack: frozenset[tuple[str, str]]
    ) -> None:
        if (mod, recv) in stack:
            return
        stack = stack | {(mod, recv)}
        self.done.add((mod, recv))
        data = self.x[mod]
        prefix = join(prefix, data["receivers"].get(recv, {}).get("prefix", ""))
        active: Chain = list(inherited)
        for ev in data["events"]:
            if ev["recv"] != recv:
                continue
            if ev["op"] == "route":
                self._route(mod, ev, prefix, active)
            elif ev["op"] == "use":
                self._use(mod, ev, prefix, active, stack)
            elif ev["op"] == "invoke":
                found = self.function_of(mod, ev["target"])
                if found is None:
                    continue
                other, params = found
                for idx in ev["args"]:
                    if int(idx) < len(params) and params[int(idx)]:
                        self.expand(
                            other, params[int(idx)], join(prefix, ev["prefix"]), active, stack
                        )

    def _use(
        self,
        mod: str,
        ev: dict[str, Any],
        prefix: str,
        active: Chain,
        stack: frozenset[tuple[str, str]],
    ) -> None:
        for p in ev["paths"]:
            scope = join(prefix, p)
            local: Chain = []
            for ref in ev["mws"]:
                sub = self.receiver_of(mod, ref["target"]) if "target" in ref else None
                if sub is not None:
                    self.expand(sub[0], sub[1], scope, active + local, stack)
                    continue
                local.append((scope, mod, ref))
                self._middleware_fact(mod, ref, normalize_path(scope) if scope else "global")
            active.extend(local)

    def _route(self, mod: str, ev: dict[str, Any], prefix: str, active: Chain) -> None:
        refs = ev["mws"]
        while len(refs) > 1 and refs[-1].get("pkg_call") and not refs[-2].get("pkg_call"):
            # a configured package check after the app's own callback is no handler: the
            # app's callback answers (``ctrl.list, guard.check(['read'])``), the check never
            # runs
            refs = refs[:-1]
        last = refs[-1]
        handler = (
            last["t"]
            if "inline" not in last or last.get("name")
            else f"<anonymous>@{mod}:{last['line']}"
        )
        for p in ev["paths"]:
            path = normalize_path(join(prefix, p))
            key = (ev["method"], path, f"{mod}:{prefix}")
            pending = self.routes.get(key)
            if pending is None:
                pending = _Pending(ev["method"], path, mod, ev["line"], handler)
                pending.chain = [
                    c for c in active if under(path, normalize_path(c[0]) if c[0] else "")
                ]
                self.routes[key] = pending
            elif ev["line"] != pending.line and ev["line"] not in pending.again:
                # The same path registered again: Express runs this one only after an
                # earlier handler calls next(). Both lines are the route's code.
                pending.again.append(ev["line"])
            pending.handler = handler
            pending.chain.extend((path, mod, r) for r in refs[:-1])
            pending.chain.append((path, mod, {**last, "_h": True}))
            for r in refs[:-1]:
                self._middleware_fact(mod, r, f"{ev['method']} {path}")

    def _middleware_fact(self, mod: str, ref: dict[str, Any], scope: str) -> None:
        kind, name = None, ref["t"]
        if "pkg" in ref:
            kind, name = ref["pkg"]
        else:
            v = self.verdict(mod, ref)
            if v is not None and v["v"] in ("authenticated", "restricted"):
                kind = "auth"
        if kind is not None:
            self.middleware[(scope, kind, name, mod, ref["line"])] = Middleware(
                kind=kind, name=name, scope=scope, location=Location(path=mod, line=ref["line"])
            )

    # ----------------------------------------------------------------- output
    def ownership(self, mod: str, ref: dict[str, Any]) -> dict[str, Any] | None:
        """The handler hands the caller's id to a function that refuses non-owners."""
        for name, idx, _line in ref.get("idcalls", []):
            root, _, member = name.partition(".")
            if root not in self.x[mod]["imports"]:
                continue
            spec, imported = self.x[mod]["imports"][root]
            other = self.module(mod, spec)
            if other is None:
                continue
            other, fname = self.origin(other, member or imported)
            found = self.x[other].get("owners", {}).get(fname, {}).get(str(idx))
            if found is not None:
                why = f"{name}() refuses callers who do not own the record"
                return {
                    "v": "restricted",
                    "why": why,
                    "line": found[0],
                    "s": found[1],
                    "mod": other,
                }
        return None

    def auth(self, chain: Chain) -> RouteAuth:
        best: tuple[int, str, dict[str, Any], dict[str, Any]] | None = None
        for _scope, mod, ref in chain:
            owns = self.ownership(mod, ref) if ref.get("_h") and "idcalls" in ref else None
            if owns is not None:
                best = (_RANK["restricted"], mod, ref, owns)
                continue
            v = self.verdict(mod, ref)
            if v is not None and ref.get("_h") and v.get("hc"):
                v = {**v["hc"], "mod": v.get("mod", mod)}  # the endpoint checks auth itself
            elif v is None or v["v"] == "none":
                continue
            elif ref.get("_h") and not v.get("next", v["v"] != "unknown" and "inline" in ref):
                continue  # the endpoint itself: its own 401s are its logic, not a guard
            if best is None or _RANK[v["v"]] > best[0]:
                best = (_RANK[v["v"]], mod, ref, v)
        if best is None:
            return RouteAuth(status=AuthStatus.PUBLIC)
        _, mod, ref, v = best
        why = f" ({v['why']})" if v.get("why") else ""
        evidence = [
            Evidence(path=mod, start_line=ref["line"], end_line=ref["line"], snippet=ref["s"])
        ]
        if "s" in v and "mod" in v:  # the check inside the handler, in the handler's file
            evidence.append(
                Evidence(path=v["mod"], start_line=v["line"], end_line=v["line"], snippet=v["s"])
            )
        named = f"{v['mechanism']}: " if v.get("mechanism") else ""  # url_token, ...
        return RouteAuth(
            status=AuthStatus(v["v"]),
            mechanism=f"{named}middleware {ref['t']}{why}",
            evidence=evidence,
        )

    def emit(self, out: FactsBuilder) -> None:
        for p in sorted(self.routes.values(), key=lambda r: (r.path, r.method, r.mod, r.line)):
            out.routes.append(
                Route(
                    id=f"{p.method} {p.path}",
                    method=p.method,
                    path=p.path,
                    framework="express",
                    handler=p.handler,
                    location=Location(path=p.mod, line=p.line),
                    auth=self.auth(p.chain),
                    rate_limited=any(r.get("pkg", [""])[0] == "rate_limit" for _, _, r in p.chain),
                    registered_again=[Location(path=p.mod, line=n) for n in sorted(p.again)],
                )
            )
        out.middleware.extend(self.middleware[k] for k in sorted(self.middleware))


def link(extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
    linker = _Linker(extracts, ctx)
    mounted = linker.mounted()
    # Replay from the receivers nobody mounts (the server's own app first): a Koa app that
    # another app mounts (koa-mount) is replayed once, under the prefix it is mounted at.
    roots = sorted(
        ((mod, recv) in mounted, 0 if info["kind"] == "app" else 1, mod, recv)
        for mod, data in extracts.items()
        for recv, info in data["receivers"].items()
        if any(ev["recv"] == recv for ev in data["events"])
    )
    for _, _, mod, recv in roots:
        if (mod, recv) not in linker.done:
            linker.expand(mod, recv, "", [], frozenset())
    linker.emit(out)
    for mod in sorted(extracts):
        for key, value, line in extracts[mod]["settings"]:
            out.settings.append(
                Setting(
                    key=key,
                    value=value,
                    framework="express",
                    location=Location(path=mod, line=line),
                )
            )
