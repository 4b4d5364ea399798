"""The NestJS applications of a repository, as link sees them (routes.py).

One repository may hold several Nest applications (a monorepo's API, worker and websocket
services), each with its own ``main.ts``: its global prefix, URI versioning and global
guards (``useGlobalGuards``, ``APP_GUARD``) are its own. A setting applies to the
controllers of the app (the component: code/components.py, the deepest folder whose
``package.json`` depends on a server framework) that makes it. A prefix or versioning made
in a package without controllers (a bootstrap package whose controllers live in libraries)
applies to the apps that make none of their own; a global guard made there (a library
module's ``APP_GUARD``) to every app, as importing the module adds it.

Guards, middleware, decorator factories and constants are named across the repository,
as imports name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import Extract
from threatmodel.code.components import component_of
from threatmodel.frameworks.nestjs.metadata import resolve
from threatmodel.frameworks.nestjs.middleware import ROLE_WORDS

# The names of @Public()-style decorators, read by a guard whose code is not in the repository.
PUBLIC = {"Public", "SkipAuth", "AllowAnonymous", "IsPublic", "NoAuth"}
_MAX_DEPTH = 4  # decorators composed of decorators: a bound on a hostile cycle


class NestApps:
    """What link needs beyond one controller: names across the repository, settings per app."""

    def __init__(self, extracts: Mapping[str, Extract], roots: list[str]) -> None:
        self.guards: dict[str, str] = {}
        self.reads: dict[str, dict[str, list[list[Any]]]] = {}
        self.middleware: dict[str, str] = {}
        self.bindings: list[tuple[str, dict[str, Any]]] = []
        self.decorators: dict[str, list[list[str]]] = {}
        consts: dict[str, str] = {}
        config: dict[str, str] = {}  # @nestjs/config: 'app.apiPrefix' -> its literal
        self._roots = roots
        self._own: dict[str, dict[str, Any]] = {}  # package -> settings it makes
        serving: set[str] = set()  # packages with controllers
        controllers: dict[str, str] = {}  # controller class -> module path
        router: list[list[str]] = []
        for mod in sorted(extracts):
            x = extracts[mod]
            self.guards.update(x["guards"])
            self.middleware.update(x["middleware"])
            self.decorators.update(x.get("decorators", {}))
            consts.update(x.get("consts", {}))
            self.bindings += [(mod, b) for b in x["bindings"]]
            for b in x["bindings"]:
                self.middleware.update(b.get("known", {}))
            router += x.get("router", [])
            pkg = self.package(mod)
            own = self._own.setdefault(pkg, {"guards": [], "prefix": None, "versioning": None})
            own["guards"] += [(mod, g) for g in x["global_guards"]]
            own["prefix"] = x["prefix"] or own["prefix"]
            config.update(x.get("config", {}))
            own["versioning"] = x.get("versioning") or own["versioning"]
            if x["controllers"]:
                serving.add(pkg)
            for module, ctrls in x.get("modules", {}).items():
                for c in ctrls:
                    controllers.setdefault(c, module)
        for own in self._own.values():
            if own["prefix"] and own["prefix"].get("config") in config:
                own["prefix"] = {**own["prefix"], "prefix": config[own["prefix"]["config"]]}
        self._bootstrap = {p: s for p, s in self._own.items() if p not in serving}
        by_module = {module: path for path, module in router}
        self.module_paths = {c: by_module[m] for c, m in controllers.items() if m in by_module}
        self._consts = consts
        for mod in sorted(extracts):
            for guard, reads in extracts[mod].get("reads", {}).items():
                self.reads[guard] = {
                    how: [[resolve(key, consts), levels] for key, levels in rows]
                    for how, rows in reads.items()
                }

    def package(self, path: str) -> str:
        return component_of(path, self._roots)

    def settings(self, mod: str) -> dict[str, Any]:
        """The global prefix, versioning and global guards that apply to ``mod``'s routes."""
        own = self._own.get(self.package(mod), {})
        out: dict[str, Any] = {}
        for kind in ("prefix", "versioning"):
            made = [s[kind] for s in self._bootstrap.values() if s[kind]]
            out[kind] = own.get(kind) or (made[0] if len(made) == 1 else None)
        guards = list(own.get("guards", []))
        guards += [g for s in self._bootstrap.values() if s is not own for g in s["guards"]]
        out["guards"] = guards
        return out

    def expand(self, meta: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
        """Decorators read through: a composed one's guards and keys, a key as its string,
        a @Public()/@Roles()-style name as what it says."""
        out: list[tuple[str, list[Any]]] = []
        for mod, m in meta:
            self._expand(mod, m, out, 0)
        return out

    def _expand(self, mod: str, m: list[Any], out: list[tuple[str, list[Any]]], depth: int) -> None:
        kind, name, line, text, level = m
        if kind == "meta":
            out.append((mod, ["meta", resolve(name, self._consts), line, text, level]))
            return
        if kind != "deco":
            out.append((mod, m))
            return
        if name in PUBLIC:
            out.append((mod, ["public", name, line, text, level]))
        elif any(w in name.lower() for w in ROLE_WORDS):
            out.append((mod, ["roles", name, line, text, level]))
        if depth >= _MAX_DEPTH:
            return
        for item_kind, value in self.decorators.get(name, []):
            self._expand(mod, [item_kind, value, line, text, level], out, depth + 1)
