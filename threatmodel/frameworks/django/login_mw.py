"""A global login-required middleware: every Django route needs a signed-in user unless exempt.

Django 5.1's own ``django.contrib.auth.middleware.LoginRequiredMiddleware`` lets through only
views marked ``@login_not_required`` (and Django's login views). The project middleware of
the same name (the classic djangosnippets recipe, DefectDojo's) lets through the paths that
match the regexes of a settings list its module reads (``settings.LOGIN_EXEMPT_URLS``). A
route with no guard of its own is then authenticated by the middleware, or stays public
when an exemption matches its path. When the exemptions cannot be read (a third-party
middleware whose code is not in the repository, a module that reads no list of strings, a
pattern that does not compile) the route is ``unknown``: nothing here can decide it.

Extract: ``patterns`` (settings module: top-level lists of strings, f-strings read with the
defaults the module writes) and ``settings_read`` (a module defining a middleware class:
the ``settings.X`` names it reads). Link: ``LoginGate.apply`` on each route's auth.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from threatmodel.code.pyast import last, str_const
from threatmodel.models import AuthStatus, Evidence, RouteAuth

BUILTIN = "django.contrib.auth.middleware.LoginRequiredMiddleware"
NAME = "LoginRequiredMiddleware"
MAX_PATTERNS = 200
LOGIN_PAGE = re.compile(r"(^|/)(accounts/)?(log|sign)[-_]?in/?$", re.IGNORECASE)


def pattern_list(node: ast.AST, strs: Mapping[str, str]) -> list[str] | None:
    """A list / tuple of strings (regexes, paths). An f-string's interpolated name takes the
    string default the module writes for it; one with no default written is read as empty:
    it is the deployment's URL prefix, and routes are listed without one. Reading it empty
    only widens the pattern, so a route is never taken for guarded because of it."""
    if not isinstance(node, ast.List | ast.Tuple) or len(node.elts) > MAX_PATTERNS:
        return None
    out = []
    for e in node.elts:
        s = str_const(e)
        if s is None and isinstance(e, ast.JoinedStr):
            s = _fstring(e, strs)
        if s is None:
            return None
        out.append(s)
    return out


def _fstring(node: ast.JoinedStr, strs: Mapping[str, str]) -> str | None:
    parts = []
    for v in node.values:
        if isinstance(v, ast.Constant):
            parts.append(str(v.value))
        elif isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name):
            parts.append(strs.get(v.value.id, ""))
        else:
            return None
    return "".join(parts)


def settings_read(tree: ast.Module) -> list[str]:
    """The ``settings.X`` names a module defining a middleware class reads (else none)."""
    if not any(isinstance(n, ast.ClassDef) and n.name.endswith("Middleware") for n in tree.body):
        return []
    return sorted(
        {
            n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id == "settings"
        }
    )


class LoginGate:
    """The app's global login-required middleware, if its settings install one."""

    def __init__(self, settings: Mapping[str, Any], extracts: Mapping[str, Any], resolver: Any):
        self.name = ""
        self.where: tuple[str, int] = ("", 0)
        self.exempt: list[re.Pattern[str]] | None = None
        for p, s in sorted(settings.items()):
            for name, line in s["middleware"]:
                if last(name) == NAME and not self.name:
                    self.name, self.where = name, (p, line)
        if not self.name:
            return
        if self.name == BUILTIN:
            self.exempt = []  # only views marked @login_not_required: a guard of their own
            return
        module_file = resolver.module_file(self.name.rpartition(".")[0])
        reads = extracts.get(module_file or "", {}).get("django", {}).get("settings_read", [])
        lists: dict[str, list[str]] = {}
        for _p, s in sorted(settings.items()):
            for k, v in s.get("patterns", {}).items():
                lists.setdefault(k, v)
            for k, v in s.get("strs", {}).items():
                # a path such as LOGIN_URL: itself, matched as the middleware sees paths
                lists.setdefault(k, [re.escape(v.lstrip("/"))])
        named = [lists[r] for r in reads if r in lists]
        if not named:
            return
        try:
            self.exempt = [re.compile(x) for xs in named for x in xs]
        except re.error:
            self.exempt = None

    def apply(self, path: str, auth: RouteAuth) -> RouteAuth:
        """A route public for want of a guard of its own, under the middleware."""
        if not self.name or auth.status is not AuthStatus.PUBLIC or auth.mechanism:
            return auth
        p, line = self.where
        ev = [Evidence(path=p, start_line=line, end_line=line, snippet=self.name)]
        if self.exempt is None:
            return RouteAuth(
                status=AuthStatus.UNKNOWN,
                mechanism=f"global middleware {last(self.name)} (its exemptions were not read)",
                evidence=ev,
            )
        # the middleware matches the path without its leading "/"; a route parameter is
        # any one value (a word character matches the usual parameter patterns)
        probe = re.sub(r"\{[^}]*\}", "1", path).lstrip("/")
        hit = next((x for x in self.exempt if x.match(probe)), None)
        if hit is None and LOGIN_PAGE.search(probe):
            # the middleware lets its own login page through, or no one could sign in
            # (settings.LOGIN_URL, often read from the environment with no default here)
            hit = LOGIN_PAGE
        if hit is not None:
            why = "its login page" if hit is LOGIN_PAGE else hit.pattern
            return RouteAuth(
                status=AuthStatus.PUBLIC,
                mechanism=f"exempt from global middleware {last(self.name)} ({why})",
                evidence=ev,
            )
        return RouteAuth(
            status=AuthStatus.AUTHENTICATED,
            mechanism=f"global middleware {last(self.name)}",
            evidence=ev,
        )
