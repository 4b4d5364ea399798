"""Supabase Edge Functions: each ``supabase/functions/<name>/index.ts`` is a route.

A function that calls ``Deno.serve(...)`` (or std's ``serve(...)``) answers
``/functions/v1/<name>`` for any method. The gateway's ``verify_jwt`` (on unless
``[functions.<name>] verify_jwt = false`` in ``supabase/config.toml``) only checks that the
caller holds *a* project JWT, and the public anon key is one: it authenticates no user. So
the route is ``authenticated`` only when the function checks its caller itself: it calls
``auth.getUser()`` (or ``auth.getClaims()``) and answers 401/403 or throws, or verifies the
token with ``jwtVerify()`` (jose), which throws by itself.

A client made with the service-role key (``createClient(url,
Deno.env.get("SUPABASE_SERVICE_ROLE_KEY"))``, directly or through a variable) bypasses row
level security on purpose; it is recorded as an ``rls_bypass`` sink, so the function's own
caller check is what stands between a visitor and every row (rule TM131). Helpers imported
from the function's shared modules (``import { getAdminClient, verifyUser } from
"../_shared/auth.ts"``) count as the function's own code where it calls them.
Text-level reading: these files are small, and the idioms above are what the docs teach.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import SourceFile
from threatmodel.models import AuthStatus, Location, Route, RouteAuth, Sink

_FUNCTION = re.compile(r"(?:^|/)supabase/functions/([^/_][^/]*)/index\.(?:ts|js|mjs|tsx)$")
_MODULE = re.compile(r"(?:^|/)supabase/functions/.+\.(?:ts|js|mjs|tsx)$")
_EXPORT = re.compile(
    r"^export\s+(?:default\s+)?(?:async\s+)?(?:function\s*\*?\s*|const\s+|let\s+)(\w+)", re.M
)
_IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*['\"](\.{1,2}/[^'\"]+)['\"]")
_SERVE = re.compile(r"\b(?:Deno\.serve|serve)\s*\(")
_CREATE = re.compile(r"\bcreateClient\s*(?:<[^>]*>)?\s*\(")
# The service-role key, or the newer secret API key that replaces it (sb_secret_...).
_SERVICE = re.compile(r"service_?role|sb_secret|supabase_secret_key", re.I)
_ASSIGNED = re.compile(r"\b(?:const|let|var)\s+(\w+)\s*(?::[^=]+)?=\s*([^;\n]+)")
_CHECK = re.compile(r"\.auth\.(?:getUser|getClaims)\s*\(")
# These throw on a missing or bad token by themselves: no rejection needs to follow.
_CHECK_THROWS = re.compile(r"\bjwtVerify\s*\(|\bjwt\.verify\s*\(|\bverifyJwt\w*\s*\(")
_REJECT = re.compile(r"status\s*:\s*40[13]\b|\bthrow\b|Unauthori[sz]ed|Forbidden")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _call_args(text: str, start: int) -> str:
    """The argument text of the call whose ``(`` is just before ``start`` (balanced)."""
    depth, i = 1, start
    while i < len(text) and depth and i - start < 2000:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1]


def service_clients(text: str) -> list[int]:
    """Lines of ``createClient`` calls given the service-role key."""
    tainted = {m.group(1) for m in _ASSIGNED.finditer(text) if _SERVICE.search(m.group(2))}
    lines = []
    for m in _CREATE.finditer(text):
        args = _call_args(text, m.end())
        words = set(re.findall(r"\w+", args))
        if _SERVICE.search(args) or words & tainted:
            lines.append(_line(text, m.start()))
    return lines


def caller_check(text: str) -> int | None:
    """Line of the function's own caller check, when a rejection follows it."""
    throws = _CHECK_THROWS.search(text)
    if throws is not None:
        return _line(text, throws.start())
    m = _CHECK.search(text)
    if m is None or not _REJECT.search(text, m.end()):
        return None
    return _line(text, m.start())


def exported_helpers(text: str) -> dict[str, list[str]]:
    """Exported helpers of a shared module that create a service client or check the caller.

    Each export's text runs to the next export: shared modules are flat lists of helpers.
    """
    starts = list(_EXPORT.finditer(text))
    found: dict[str, list[str]] = {}
    for m, nxt in zip(starts, [*starts[1:], None], strict=False):
        body = text[m.start() : nxt.start() if nxt else len(text)]
        kinds = (["service"] if service_clients(body) else []) + (
            ["check"] if caller_check(body) else []
        )
        if kinds:
            found[m.group(1)] = kinds
    return found


def imported_calls(text: str) -> list[tuple[str, str, int]]:
    """(relative module, name, line of its first call) for each named relative import called."""
    calls = []
    for m in _IMPORT.finditer(text):
        for raw in m.group(1).split(","):
            name = raw.split(" as ")[-1].strip()
            if not name:
                continue
            call = re.search(rf"\b{re.escape(name)}\s*\(", text[m.end() :])
            if call is not None:
                calls.append((m.group(2), name, _line(text, m.end() + call.start())))
    return calls


@register
class SupabaseFunctionsCollector(Collector):
    id = "supabase_functions"
    version = 1

    def wants(self, path: str, language: str) -> bool:
        return bool(_MODULE.search(path)) or path.endswith("supabase/config.toml")

    def extract(self, src: SourceFile) -> Extract:
        if src.path.endswith("config.toml"):
            try:
                data = tomllib.loads(src.text)
            except tomllib.TOMLDecodeError:
                return None
            functions = data.get("functions")
            if not isinstance(functions, dict):
                return None
            off = sorted(
                name
                for name, conf in functions.items()
                if isinstance(conf, dict) and conf.get("verify_jwt") is False
            )
            return {"no_verify_jwt": off}
        serve = _SERVE.search(src.text)
        found = _FUNCTION.search(src.path)
        if serve is None or found is None:
            helpers = exported_helpers(src.text)
            return {"helpers": helpers} if helpers else None
        return {
            "name": found.group(1),
            "line": _line(src.text, serve.start()),
            "service": service_clients(src.text),
            "check": caller_check(src.text),
            "calls": imported_calls(src.text),
        }

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        off: dict[str, set[str]] = {}
        for path, ex in extracts.items():
            if "no_verify_jwt" in ex:
                off[path.removesuffix("config.toml")] = set(ex["no_verify_jwt"])
        for path, ex in sorted(extracts.items()):
            if "name" not in ex:
                continue
            name = ex["name"]
            base = path.split("functions/")[0]
            verify = name not in off.get(base, set())
            ex = _with_helpers(path, ex, extracts)
            out.routes.append(_route(path, ex, verify))
            for line in ex["service"]:
                out.sinks.append(
                    Sink(
                        kind="rls_bypass",
                        call="createClient(service_role)",
                        dynamic=False,
                        location=Location(path=path, line=line),
                        handler=name,
                        handler_line=ex["line"],
                    )
                )


def _resolve(path: str, module: str, extracts: Mapping[str, Extract]) -> str | None:
    """The extract key of ``module`` imported from ``path`` (``../_shared/auth.ts``)."""
    target = str(PurePosixPath(posixpath.normpath(posixpath.join(posixpath.dirname(path), module))))
    for candidate in (target, f"{target}.ts", f"{target}/index.ts"):
        if candidate in extracts:
            return candidate
    return None


def _with_helpers(path: str, ex: dict[str, Any], extracts: Mapping[str, Extract]) -> dict[str, Any]:
    """The function's extract with the calls into shared helpers counted as its own code:
    a service client made by ``getAdminClient()``, a caller check done by ``verifyUser(req)``."""
    service, check = list(ex["service"]), ex["check"]
    for module, name, line in ex.get("calls", []):
        key = _resolve(path, module, extracts)
        kinds = extracts[key].get("helpers", {}).get(name, []) if key else []
        if "service" in kinds:
            service.append(line)
        if "check" in kinds and check is None:
            check = line
    return {**ex, "service": sorted(set(service)), "check": check}


def _route(path: str, ex: dict[str, Any], verify_jwt: bool) -> Route:
    name = ex["name"]
    if ex["check"] is not None:
        auth = RouteAuth(
            status=AuthStatus.AUTHENTICATED,
            mechanism=f"auth check in the function (line {ex['check']}) that rejects the caller",
        )
    else:
        gate = "verify_jwt (the public anon key passes)" if verify_jwt else "verify_jwt = false"
        auth = RouteAuth(status=AuthStatus.PUBLIC, mechanism=gate)
    return Route(
        id=f"ANY /functions/v1/{name}",
        method="ANY",
        path=f"/functions/v1/{name}",
        framework="supabase_functions",
        handler=name,
        location=Location(path=path, line=ex["line"]),
        auth=auth,
    )
