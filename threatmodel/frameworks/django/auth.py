"""Django / DRF view auth: which methods a view answers and what guards each.

Function views: auth decorators (``login_required``, ``permission_required``,
``user_passes_test``, custom ones followed into the repository), ``csrf_exempt``,
``require_http_methods`` / ``api_view`` for the methods, DRF ``@permission_classes``.
Class views: mixins (``LoginRequiredMixin``...), ``method_decorator`` on the class or a
method, ``dispatch`` overrides, DRF ``permission_classes`` (the view's own replaces
``DEFAULT_PERMISSION_CLASSES``; ``AllowAny`` makes it public), generic views' methods, and
router-registered viewsets' actions (``list``, ``retrieve``, ``@action``...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import last
from threatmodel.code.urlpattern import regex_converters
from threatmodel.frameworks._python.guards import AUTHENTICATED, RESTRICTED
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, decide
from threatmodel.frameworks.django import drf_perms, routers
from threatmodel.frameworks.django.login_mw import LoginGate
from threatmodel.frameworks.django.url_gate import UrlGate
from threatmodel.models import AuthStatus, Location, Route, RouteAuth

SAFE = ("GET", "HEAD", "OPTIONS")
HTTP = ("get", "post", "put", "patch", "delete")
MIXINS = {
    "LoginRequiredMixin": AUTHENTICATED,
    "PermissionRequiredMixin": RESTRICTED,
    "UserPassesTestMixin": RESTRICTED,
    "StaffuserRequiredMixin": RESTRICTED,
    "SuperuserRequiredMixin": RESTRICTED,
    "GroupRequiredMixin": RESTRICTED,
}
GET, GP = ["GET"], ["GET", "POST"]
GENERIC = {
    "TemplateView": GET,
    "ListView": GET,
    "DetailView": GET,
    "FormView": GP,
    "CreateView": GP,
    "UpdateView": GP,
    "DeleteView": GP,
    "LoginView": GP,
    "LogoutView": GP,
    "PasswordChangeView": GP,
    "ListAPIView": GET,
    "CreateAPIView": ["POST"],
    "ListCreateAPIView": GP,
    "RetrieveAPIView": GET,
    "UpdateAPIView": ["PUT", "PATCH"],
    "DestroyAPIView": ["DELETE"],
    "RetrieveUpdateAPIView": ["GET", "PUT", "PATCH"],
    "RetrieveDestroyAPIView": ["GET", "DELETE"],
    "RetrieveUpdateDestroyAPIView": ["GET", "PUT", "PATCH", "DELETE"],
}
ACTIONS = {
    "list": ("GET", False),
    "create": ("POST", False),
    "retrieve": ("GET", True),
    "update": ("PUT", True),
    "partial_update": ("PATCH", True),
    "destroy": ("DELETE", True),
}
VIEWSET_ACTIONS = {
    "ModelViewSet": list(ACTIONS),
    "ReadOnlyModelViewSet": ["list", "retrieve"],
    "ListModelMixin": ["list"],
    "CreateModelMixin": ["create"],
    "RetrieveModelMixin": ["retrieve"],
    "UpdateModelMixin": ["update", "partial_update"],
    "DestroyModelMixin": ["destroy"],
}
DRF_BASES = (
    "APIView",
    "GenericAPIView",
    "ViewSet",
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
)
PERMS = {
    "AllowAny": "public",
    "IsAuthenticated": AUTHENTICATED,
    "IsAdminUser": RESTRICTED,
    "DjangoModelPermissions": RESTRICTED,
    "DjangoObjectPermissions": RESTRICTED,
    "TokenHasScope": RESTRICTED,
    "TokenHasReadWriteScope": RESTRICTED,
}
MODEL_PERMS = ("DjangoModelPermissions", "DjangoObjectPermissions")
READ_ONLY_ANON = {
    "IsAuthenticatedOrReadOnly": AUTHENTICATED,
    "DjangoModelPermissionsOrAnonReadOnly": RESTRICTED,
}
METHOD_DECORATORS = {"require_GET": GET, "require_POST": ["POST"], "require_safe": GET}


class Judge:
    def __init__(self, resolver: Resolver, guards: GuardTable, settings: Mapping[str, Any]) -> None:
        self.r, self.g = resolver, guards
        self.default_perms: list[Any] | None = None
        self.settings_path = ""
        for p, s in sorted(settings.items()):
            if s["default_permissions"] and self.default_perms is None:
                self.default_perms, self.settings_path = s["default_permissions"], p
        self.have_settings = bool(settings)
        self.login_gate = LoginGate(settings, resolver.extracts, resolver)
        # Boolean settings whose default the settings modules write (``LOGIN_REQUIRED =
        # getattr(configuration, "LOGIN_REQUIRED", True)``); two modules that disagree
        # leave the setting to the deployment.
        self.flags: dict[str, tuple[bool, str, int, str]] = {}
        clash: set[str] = set()
        for p, s in sorted(settings.items()):
            for name, (value, line, text) in s.get("flags", {}).items():
                if name in self.flags and self.flags[name][0] != value:
                    clash.add(name)
                self.flags.setdefault(name, (value, p, line, text))
        for name in clash:
            del self.flags[name]
        guards.flags.update(self.flags)  # checks made only while a setting is on
        strs = [s.get("strs", {}) for _p, s in sorted(settings.items())]
        self.url_gate = UrlGate(settings, resolver, guards, self.flags)
        self.unread = ""  # the prefix read as empty above the routes being added (urls._walk)
        self.params: dict[str, str] = {}  # the captures' converters of the prefixes walked
        self.strs: dict[str, str] = {  # string defaults all settings modules agree on
            k: v for d in strs for k, v in d.items() if all(o.get(k, v) == v for o in strs)
        }

    # ------------------------------------------------------------------ entry points

    def builtin(
        self, out: FactsBuilder, p: str, e: dict[str, Any], route: str, handler: str
    ) -> None:
        admin = handler.endswith("admin.site")
        auth = (
            RouteAuth(status=AuthStatus.RESTRICTED, mechanism="Django admin site (staff only)")
            if admin
            else RouteAuth(status=AuthStatus.PUBLIC, mechanism="django.contrib.auth views")
        )
        self._add(out, "ANY", route, handler, p, e["line"], auth)

    def view(self, out: FactsBuilder, p: str, e: dict[str, Any], route: str) -> None:
        if e.get("dotted"):  # Django 1.x "app.views.index": a module path, not a local name
            module, _, symbol = e["view"].rpartition(".")
            file = self.r.module_file(module)
        else:
            file, symbol, module = self.r.resolve(p, e["view"])
        handler = f"{_mod(file) if file else module}.{symbol}".lstrip(".")
        # decorators applied by hand in the URLconf: ``login_required(V.as_view())``
        where = (p, e["line"], e.get("text", ""))
        wrapped = [
            g
            for w in e.get("wrappers", [])
            if (g := self.g.as_guard(p, w, f"{last(w)}() in the URLconf", where))
        ]
        wrapped_exempt = any(last(w) == "csrf_exempt" for w in e.get("wrappers", []))
        if e["kind"] == "function":
            decs = self._decs(file, symbol)
            params = frozenset(re.findall(r"\{(\w+)\}", route))
            methods, gs, exempt = self._function(file, symbol, decs, params)
            for m in methods:
                auth = decide(wrapped + gs)
                exempt = exempt or wrapped_exempt
                self._add(out, m, route, handler, p, e["line"], auth, exempt, e.get("name"))
            return
        chain = self._chain(file, symbol)
        methods = self._class_methods(chain)
        for m in methods:
            gs, exempt = self._class_guards(chain, m.lower(), m)
            auth, exempt = decide(wrapped + gs), exempt or wrapped_exempt
            self._add(out, m, route, handler, p, e["line"], auth, exempt, e.get("name"))

    def router(self, out: FactsBuilder, p: str, e: dict[str, Any], route: str, router: str) -> None:
        for home, prefix, viewset, line in routers.registrations(self.r, p, router):
            vfile, vsym, vmod = self.r.resolve(home, viewset)
            chain = self._chain(vfile, vsym)
            attrs = _merged_attrs(chain)
            # DRF: ``self.lookup_url_kwarg or self.lookup_field`` (``None`` is read as "")
            named = [*attrs.get("lookup_url_kwarg", [])[:1], *attrs.get("lookup_field", [])[:1]]
            lookup = next((n for n in named if n), "pk")
            # DRF's lookup matches ``[^/.]+`` (one segment) unless the view set says otherwise
            regex = (attrs.get("lookup_value_regex") or ["[^/.]+"])[0]
            regex = "[^/.]+" if regex.isidentifier() else regex  # a name: its value is unread
            captures = regex_converters(f"(?P<{lookup}>{regex})")
            base = route + prefix.strip("^$").rstrip("/") + "/"
            handler = f"{_mod(vfile) if vfile else vmod}.{vsym}".lstrip(".")
            for action in self._actions(chain):
                method, detail = ACTIONS[action]
                path = base + (f"{{{lookup}}}/" if detail else "")
                gs, _ = self._class_guards(chain, action, method, detail=detail)
                auth = decide(gs)
                self._add(out, method, path, f"{handler}.{action}", home, line, auth, by=captures)
            for c_file, c_name, _info in chain:
                for key, decs in (
                    self.r.extracts.get(c_file, {}).get("django", {}).get("views", {}).items()
                ):
                    cls, _, meth = key.partition(".")
                    act = next((d for d in decs if last(d[0]) == "action"), None)
                    if cls != c_name or act is None:
                        continue
                    url = next((n[9:] for n in act[3] if n.startswith("url_path=")), meth)
                    path = base + (f"{{{lookup}}}/" if act[5] else "") + url + "/"
                    for method in [s.upper() for s in act[4] if s.lower() in HTTP] or GET:
                        perms = [n[5:] for n in act[3] if n.startswith("perm=")]
                        override = [perms, (c_file, act[1], act[2])] if perms else None
                        gs, _ = self._class_guards(
                            chain, meth, method, decs, c_file, override, detail=bool(act[5])
                        )
                        name = f"{handler}.{meth}"
                        self._add(out, method, path, name, home, line, decide(gs), by=captures)

    # ------------------------------------------------------------------ helpers

    def _add(
        self,
        out: FactsBuilder,
        method: str,
        route: str,
        handler: str,
        p: str,
        line: int,
        auth: RouteAuth,
        exempt: bool = False,
        url_name: str | None = None,
        by: Mapping[str, str] | None = None,
    ) -> None:
        """``by``: converters of captures the route's own pattern adds (a DRF lookup)."""
        path = "/" + route.lstrip("/") if route else "/"
        captured = {**self.params, **(by or {})}
        auth = self.url_gate.apply(path, url_name, self.login_gate.apply(path, auth))
        out.routes.append(
            Route(
                id=f"{method} {path}",
                method=method,
                path=path,
                framework="django",
                handler=handler,
                location=Location(path=p, line=line),
                auth=auth,
                csrf_exempt=exempt,
                unread_prefix=self.unread,
                params={k: v for k, v in captured.items() if "{" + k + "}" in path},
            )
        )

    def _decs(self, file: str | None, symbol: str) -> list[Any]:
        result: list[Any] = (
            self.r.extracts.get(file or "", {}).get("django", {}).get("views", {}).get(symbol, [])
        )
        return result

    def _function(
        self, file: str | None, symbol: str, decs: list[Any], params: frozenset[str] = frozenset()
    ) -> tuple[list[str], list[Guard], bool]:
        methods: list[str] = ["ANY"]
        gs: list[Guard] = []
        exempt, drf, perms = False, False, None
        for callee, line, text, names, strings, _ in decs:
            name = last(callee)
            where = (file or "", line, text)
            if name == "csrf_exempt":
                exempt = True
            elif name in ("require_http_methods", "api_view"):
                methods = [s.upper() for s in strings] or (GET if name == "api_view" else methods)
                drf = drf or name == "api_view"
            elif name in METHOD_DECORATORS:
                methods = METHOD_DECORATORS[name]
            elif name == "permission_classes":
                perms = [names, where]
            elif name == "login_not_required":
                gs.append(Guard("public", "@login_not_required", (where,)))
            elif file and (g := self.g.as_guard(file, callee, f"decorator @{callee}", where)):
                gs.append(g)
        if file:
            gs += self.g.handler_guards(file, symbol, params=params)
        if drf:
            return methods, gs + self._perm_guards_for(perms, file, methods[0]), exempt
        return methods, gs, exempt

    def _chain(
        self, file: str | None, symbol: str, depth: int = 0
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """The class and its bases defined in the repository: [(file, name, class info)]."""
        info = self.r.extracts.get(file or "", {}).get("classes", {}).get(symbol)
        if file is None or info is None or depth > 5:
            return [
                (
                    "",
                    symbol,
                    {"bases": [symbol], "methods": [], "attrs": {}, "decorators": [], "line": 0},
                )
            ]
        out = [(file, symbol, info)]
        for base in info["bases"]:
            bfile, bsym, _ = self.r.resolve(file, base)
            if bfile and bsym in self.r.extracts[bfile].get("classes", {}):
                out += self._chain(bfile, bsym, depth + 1)
        return out

    def _class_methods(self, chain: list[Any]) -> list[str]:
        defined = {m for _f, _n, info in chain for m in info["methods"] if m in HTTP}
        bases = {last(b) for _f, _n, info in chain for b in info["bases"]}
        generic = {m for b in bases for m in GENERIC.get(b, [])}
        methods = sorted({m.upper() for m in defined} | generic)
        allowed = _merged_attrs(chain).get("http_method_names")
        if allowed:
            methods = [m for m in methods if m.lower() in allowed]
        return methods or ["ANY"]

    def _actions(self, chain: list[Any]) -> list[str]:
        bases = {last(b) for _f, _n, info in chain for b in info["bases"]}
        acts = {a for b in bases for a in VIEWSET_ACTIONS.get(b, [])}
        acts |= {m for _f, _n, info in chain for m in info["methods"] if m in ACTIONS}
        return sorted(acts, key=list(ACTIONS).index)

    def _class_guards(
        self,
        chain: list[Any],
        meth: str,
        method: str,
        extra: list[Any] | None = None,
        file: str | None = None,
        perms: list[Any] | None = None,
        detail: bool = False,
    ) -> tuple[list[Guard], bool]:
        gs: list[Guard] = []
        exempt = False
        drf = False
        for c_file, c_name, info in chain:
            where = (c_file, info["line"], info.get("attr_lines", {}).get("__class__", [0, ""])[1])
            for base in info["bases"]:
                b = last(base)
                drf = (
                    drf
                    or b in DRF_BASES
                    or (b in GENERIC and b.endswith("APIView"))
                    or b in VIEWSET_ACTIONS
                )
                if b in MIXINS:
                    gs.append(Guard(MIXINS[b], f"mixin {b}", (where,)))
            decs = list(info["decorators"])
            decs += self._decs(c_file, f"{c_name}.{meth}") + self._decs(
                c_file, f"{c_name}.dispatch"
            )
            for callee, line, text, names, *_ in decs:
                for name in [callee, *names] if last(callee) == "method_decorator" else [callee]:
                    if last(name) == "csrf_exempt":
                        exempt = True
                    elif c_file and (
                        g := self.g.as_guard(
                            c_file, name, f"decorator {name}", (c_file, line, text)
                        )
                    ):
                        gs.append(g)
            if c_file:
                classes = [(f, n) for f, n, _i in chain if f]
                gs += self.g.handler_guards(c_file, f"{c_name}.{meth}", classes)
                gs += self.g.handler_guards(c_file, f"{c_name}.dispatch", classes)
        for callee, line, text, *_ in extra or []:
            if last(callee) == "action":
                continue
            if file and (
                g := self.g.as_guard(file, callee, f"decorator @{callee}", (file, line, text))
            ):
                gs.append(g)
        if drf:
            attrs = _merged_attrs(chain)
            if perms is None and "permission_classes" in attrs:
                owner = next((c for c in chain if "permission_classes" in c[2]["attrs"]), chain[0])
                line, text = (
                    owner[2].get("attr_lines", {}).get("permission_classes", [owner[2]["line"], ""])
                )
                perms = [attrs["permission_classes"], (owner[0], line, text)]
            if self._decides_itself(chain, meth):
                gs.append(Guard("unknown", "get_permissions() decides per request", ()))
            else:
                gs += self._perm_guards_for(perms, chain[0][0], method, detail)
        return gs, exempt

    def _decides_itself(self, chain: list[Any], action: str) -> bool:
        """The nearest ``get_permissions`` override decides for ``action``: unless it names
        the actions it changes and this is not one (``drf_perms.per_action``)."""
        owner = next(((f, n) for f, n, i in chain if "get_permissions" in i["methods"]), None)
        if owner is None:
            return False
        named = self.r.extracts.get(owner[0], {}).get("django", {}).get("per_action", {})
        return owner[1] not in named or action in named[owner[1]]

    def _perm_guards_for(
        self, perms: list[Any] | None, file: str | None, method: str, detail: bool = False
    ) -> list[Guard]:
        if perms is None:
            if self.default_perms is not None:
                names, line, text = self.default_perms
                where = (self.settings_path, line, text)
                return [
                    self._perm(n, file, method, where, "DEFAULT_PERMISSION_CLASSES ", detail)
                    for n in names
                ] or [Guard("public", "DRF default AllowAny", ())]
            if self.have_settings:
                return [Guard("public", "DRF default AllowAny (no DEFAULT_PERMISSION_CLASSES)", ())]
            return [Guard("unknown", "DRF permissions set outside the repository", ())]
        names, where = perms
        if not names:
            return [Guard("public", "permission_classes = []", (where,))]
        return [self._perm(n, file, method, where, "", detail) for n in names]

    def _perm(
        self, name: str, file: str | None, method: str, where: Any, via: str, detail: bool
    ) -> Guard:
        short = last(name)
        if not name:
            return Guard("unknown", "composed permission classes", (where,))
        if short in MODEL_PERMS and method in SAFE:
            # DRF's perms_map asks no permission of GET / HEAD / OPTIONS: only a signed-in user
            what = f"{via}permission_classes {short} (no permission asked for {method})"
            return Guard(AUTHENTICATED, what, (where,))
        if short in PERMS:
            return Guard(PERMS[short], f"{via}permission_classes {short}", (where,))
        if short in READ_ONLY_ANON:
            status = "public" if method in SAFE else READ_ONLY_ANON[short]
            return Guard(status, f"{via}permission_classes {short}", (where,))
        tfile, tsym, _ = self.r.resolve(file or "", name)
        if tfile is None and "." in name:  # settings name it by dotted path: "app.perms.Cls"
            tfile, tsym = self.r.module_file(name.rsplit(".", 1)[0]), short
        chain = [(f, n) for f, n, _i in self._chain(tfile, tsym) if f]
        verdict, on_object = drf_perms.verdicts(self.r.extracts, chain)
        if on_object == RESTRICTED and detail and verdict in (None, "public"):
            what = f"{via}permission class {short} (has_object_permission on the loaded object)"
            return Guard(RESTRICTED, what, (where,))
        if verdict is None:
            return Guard("unknown", f"{via}permission class {short} (not analysed)", (where,))
        if verdict.startswith("model:"):
            # DRF's model-permission has_permission, inherited: perms_map decides
            refused = method not in SAFE or (on_object == RESTRICTED and detail)
            status = RESTRICTED if refused else verdict.split(":", 1)[1]
            what = f"{via}permission class {short} (perms_map for {method})"
            return Guard(status, what, (where,))
        if verdict.startswith("config:"):
            # DRF's authenticated_users_only set from a setting: reads by anonymous callers
            # depend on it; writes still need the model permission. When the settings module
            # writes the setting's default, that default decides.
            _, setting, read = verdict.split(":")
            if method not in SAFE:
                return Guard(RESTRICTED, f"{via}permission class {short}", (where,))
            flag = self.flags.get(last(setting))
            if flag is None:
                what = f"{via}permission class {short} (anonymous reads depend on {setting})"
                return Guard("unknown", what, (where,))
            value, spath, sline, stext = flag
            what = f"{via}permission class {short} ({last(setting)} defaults to {value})"
            return Guard(read if value else "public", what, (where, (spath, sline, stext)))
        return Guard(verdict, f"{via}permission class {short}", (where,))


def _merged_attrs(chain: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for _f, _n, info in reversed(chain):
        out.update(info["attrs"])
    return out


def _mod(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
