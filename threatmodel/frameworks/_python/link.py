"""Link-time helpers for the Python web collectors: follow names across files, judge guards.

``Resolver`` (resolve.py) maps a name used in one file to the file and symbol that define
it. ``GuardTable`` answers "does this decorator / dependency / hook / helper reject
unauthenticated requests?" by following its summary (guards.summarize) and the guards it
calls or depends on, into other files. A dependency a call built (an instance of the
repository's class, a factory's closure) is judged as the callable it made, folded on the
arguments it was built with (built.py, made.py). ``decide`` folds a route's guards into
its ``RouteAuth``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threatmodel.frameworks._python.built import Built, Coll, Env, Val, built_of, fold
from threatmodel.frameworks._python.configured import flag_guard, setting_guard
from threatmodel.frameworks._python.fold import Guard, decide, guarded_route
from threatmodel.frameworks._python.guards import (
    AUTHENTICATED,
    CONDITIONAL,
    RESTRICTED,
    summarize_with_text,
)
from threatmodel.frameworks._python.made import Made, Maker, Sources
from threatmodel.frameworks._python.resolve import MAX_DEPTH, Resolver
from threatmodel.frameworks._python.stored_flag import declared_flags

__all__ = [
    "Guard",
    "GuardTable",
    "Resolver",
    "decide",
    "guarded_route",
]  # from fold.py: Guard, decide, guarded_route

UNRESOLVED = "unresolved"
Sub = Callable[[str, str, int], tuple[str | None, str, int]]  # (file, name, line) -> verdict

# Guards from libraries, by the module they come from (prefix) and their name.
KNOWN_GUARDS: dict[str, str] = {
    "login_required": AUTHENTICATED,
    "jwt_required": AUTHENTICATED,
    "fresh_jwt_required": AUTHENTICATED,
    "jwt_refresh_token_required": AUTHENTICATED,
    "auth_required": AUTHENTICATED,
    "token_required": AUTHENTICATED,
    "http_auth_required": AUTHENTICATED,
    "login_user_required": AUTHENTICATED,
    "roles_required": RESTRICTED,
    "roles_accepted": RESTRICTED,
    "permissions_required": RESTRICTED,
    "permissions_accepted": RESTRICTED,
    "admin_required": RESTRICTED,
    "permission_required": RESTRICTED,
    "user_passes_test": RESTRICTED,
    "staff_member_required": RESTRICTED,
    "superuser_required": RESTRICTED,
    "check_authorized": AUTHENTICATED,  # aiohttp_security
    "check_permission": RESTRICTED,  # aiohttp_security
    "verify_jwt_in_request": AUTHENTICATED,  # flask_jwt_extended
}
# Library calls that verify a webhook payload's signature and raise when it does not match:
# Stripe, Svix / Clerk / Resend (Webhook.verify), Slack (SignatureVerifier), QStash (Receiver),
# GitHub-style HMAC helpers.
SIGNATURE_CHECKS = {
    "construct_event",
    "verify_header",
    "verify_signature",
    "verify_webhook",
    "verify_webhook_signature",
    "is_valid_request",
    "validate_signature",
}
# Names that sound like auth: unresolved ones make a route "unknown", never "public".
AUTHISH = ("auth", "login", "token", "jwt", "permission", "role", "admin", "user", "secure")
# A library's requirement decorators (flask-allows ``allows.requires(IsAdmin)``, Starlette's
# ``requires("authenticated")``, Flask-Principal's ``permission.require()``): they refuse a
# caller who fails what they are given, which the code does not spell out here.
REQUIREMENTS = frozenset({"requires", "require"})


class GuardTable:
    """Decides whether a named function guards, following calls and dependencies."""

    def __init__(self, resolver: Resolver, sources: Sources | None = None) -> None:
        self.r = resolver
        self._memo: dict[tuple[str, str], tuple[str | None, str, int]] = {}
        # what built dependencies make (made.py): read from the files themselves
        self.maker = Maker(resolver, sources or (lambda _path: None))
        self._made_memo: dict[Made, tuple[str | None, str, int]] = {}
        # (file, line) of each guard met -> its gate (ownership, api_key, ...): a handler
        # that calls a guarded helper is guarded the helper's way (an API key is no cookie).
        self.gates: dict[tuple[str, int], str] = {}
        self.row_filters: set[tuple[str, int]] = set()  # (file, line) of scoped queries met
        self._registered: dict[tuple[str, str], list[tuple[str, str]]] | None = None
        # Boolean settings' defaults, when a framework knows them (Django's settings
        # modules): NAME -> (default, file, line, text). Decide checks made only while a
        # setting is on (configured.flag_check). Models' boolean fields declare theirs
        # (``Model.field``, stored_flag.py); settings modules add upper-case names.
        self.flags: dict[str, tuple[bool, str, int, str]] = declared_flags(resolver.extracts)

    def summary(self, file: str | None, symbol: str) -> dict[str, Any] | None:
        if file is None:
            return None
        data = self.r.extracts.get(file, {})
        fns = data.get("functions", {})
        if symbol in fns:
            result: dict[str, Any] = fns[symbol]
            return result
        if symbol in data.get("classes", {}):  # a callable class: its __call__
            call: dict[str, Any] | None = fns.get(f"{symbol}.__call__")
            return call
        return None

    def verdict(self, from_file: str, name: str, depth: int = 0) -> tuple[str | None, str, int]:
        """(status or None or UNRESOLVED, defining file, line) of a guard candidate."""
        file, symbol, module = self.r.resolve(from_file, name)
        key = (file or module, symbol)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = (None, file or "", 0)  # cycle guard
        summ = self.summary(file, symbol)
        result: tuple[str | None, str, int]
        if summ is None:
            known = KNOWN_GUARDS.get(symbol.rsplit(".", 1)[-1])
            made = self.r.extracts[file].get("instances", {}).get(symbol) if file else None
            if (
                file is not None
                and known is None
                and symbol in self.r.extracts[file].get("symbols", [])
            ):
                result = (None, file, 0)  # a variable, e.g. a security scheme: not a guard
                if made and depth < MAX_DEPTH:
                    # an instance of the repository's class (``admin = RoleChecker([...])``)
                    # or what a factory made: guards as its callable does, built with
                    # these arguments (made.py); a library's object does not
                    built = self.built_verdict(
                        built_of(file, made, {}, self.maker.key(file)), depth
                    )
                    if built[0] in (AUTHENTICATED, RESTRICTED):
                        result = built
            else:
                result = (known or UNRESOLVED, file or "", 0)
        else:
            result = self._judge(file or "", summ, depth, self._plain(depth))
        self._memo[key] = result
        return result

    def _plain(self, depth: int) -> Sub:
        """How a function's callees and dependencies are judged: by name in their file."""
        return lambda f, name, line: self.dep_verdict(f, name, line, depth + 1)

    def dep_verdict(
        self, file: str, name: str, line: int, depth: int = 0, env: Env | None = None
    ) -> tuple[str | None, str, int]:
        """A dependency named at ``file:line``: what the call there built (``Depends(
        require(scopes))``, its arguments in ``env`` first), else the name's verdict."""
        enc = self.r.extracts.get(file, {}).get("built", {}).get(f"{line}:{name}")
        if enc is not None and depth < MAX_DEPTH:
            m = self.maker.made(built_of(file, enc, env or {}, self.maker.key(file)))
            if m is not None:  # else a library's factory: judged by its name as before
                return self.made_verdict(m, depth)
        if env and isinstance(env.get(name), Built) and depth < MAX_DEPTH:
            built = env[name]
            assert isinstance(built, Built)
            return self.built_verdict(built, depth)
        found = self.verdict(file, name, depth)
        if found[0] not in (None, UNRESOLVED) or depth >= MAX_DEPTH:
            return found
        target, symbol, _ = self.r.resolve(file, name)  # a class called runs its __init__
        is_class = target is not None and self._may_be_class(target, symbol)
        m = self.maker.constructed(target, symbol) if target and is_class else None
        got = self.made_verdict(m, depth) if m is not None else found
        return got if got[0] in (AUTHENTICATED, RESTRICTED) else found

    def _may_be_class(self, file: str, symbol: str) -> bool:
        """Whether ``symbol`` can name a class of ``file``, by its extract: ``constructed``
        reads the whole file again to find out, so a name the extract knows as a function
        or a variable is not worth that parse (saleor: 85 files re-read at link for calls
        to its own helpers)."""
        if "." in symbol:
            return False
        data = self.r.extracts.get(file)
        if data is None or symbol in data.get("classes", {}):
            return True
        return symbol not in data.get("functions", {}) and symbol not in data.get("symbols", [])

    def each_verdict(self, over: Coll, depth: int) -> tuple[str | None, str, int]:
        """A loop calls every member of ``over`` (classes or functions of the repository):
        each may reject, so the strongest verdict among them."""
        keys = sorted(k for k in over.items if isinstance(k, str) and not k.startswith("?:"))
        where = [k.rsplit(":", 1) for k in keys]
        got = [self.dep_verdict(f, symbol, 0, depth + 1) for f, symbol in where]
        rank = {RESTRICTED: 2, AUTHENTICATED: 1}
        return max(got, key=lambda v: rank.get(v[0] or "", 0), default=(None, "", 0))

    def built_verdict(self, b: Built, depth: int = 0) -> tuple[str | None, str, int]:
        """What a call built guards as: the callable it made, folded on its arguments."""
        m = self.maker.made(b)
        return self.made_verdict(m, depth) if m is not None else (None, b.file, 0)

    def made_verdict(self, m: Made, depth: int) -> tuple[str | None, str, int]:
        if m in self._made_memo:
            return self._made_memo[m]
        self._made_memo[m] = (None, m.file, m.fn.lineno)  # cycle guard
        env = m.scope
        loops: dict[str, Val] = {}
        folded = fold(m.fn, env, self.maker.key(m.file), loops)
        summ = summarize_with_text(folded, self.maker.lines(m.file))

        def sub(f: str, name: str, line: int) -> tuple[str | None, str, int]:
            if f == m.file and isinstance(each := loops.get(name), Coll):
                return self.each_verdict(each, depth)
            inner = self.maker.on_self(m, name) if f == m.file else None
            if inner is not None:  # the same instance's own method: no deeper
                return self.made_verdict(inner, depth)
            return self.dep_verdict(f, name, line, depth + 1, env if f == m.file else None)

        result = self._judge(m.file, summ, depth, sub) if depth < MAX_DEPTH else self._made_memo[m]
        self._made_memo[m] = result
        return result

    def _judge(
        self, file: str, summ: dict[str, Any], depth: int, sub: Sub
    ) -> tuple[str | None, str, int]:
        """A function's verdict from its summary; ``sub`` judges what it calls or depends on."""
        result: tuple[str | None, str, int]
        if summ.get("config"):
            result = (CONDITIONAL, file, summ["config"]["line"])
        elif summ["guard"]:
            result = (summ["guard"][0], file, summ["guard"][1])
            if summ.get("gate"):
                self.gates[(file, summ["guard"][1])] = summ["gate"]
            if summ.get("gate") != "ownership" and result[0] == AUTHENTICATED and depth < MAX_DEPTH:
                # ``if not rw: raise PermissionDenied`` after ``_get_check_for_user(...)``:
                # a helper it calls may check more (ownership) than its own test does.
                for callee, line in summ["calls"]:
                    if (hit := sub(file, callee, line))[0] == RESTRICTED:
                        result = hit
                        break
        elif (rows := self._rows(file, summ, depth)) is not None:
            result = rows
        else:
            result = (None, file, summ["line"])
            if depth < MAX_DEPTH:
                named = [(file, c[0], c[1]) for c in [*summ["calls"], *summ["deps"]]]
                for ref, _line in summ.get("annotated", []):
                    named += [(f, d[0], d[1]) for f, d in self.alias_deps(file, ref)]
                for f, callee, line in named:
                    st, at, n = sub(f, callee, line)
                    if st in (AUTHENTICATED, RESTRICTED):
                        result = (st, at, n)
                        break
        return result

    def alias_deps(self, file: str, name: str) -> list[tuple[str, list[Any]]]:
        """The dependencies an ``Annotated`` alias carries (``CurrentUser = Annotated[User,
        Depends(get_user)]``), in the file that defines it: [(file, [callee, line, ...])]."""
        target, symbol, _ = self.r.resolve(file, name)
        found = self.r.extracts.get(target or "", {}).get("fastapi", {}).get("aliases", {})
        return [(target or "", x) for x in found.get(symbol, [])]

    def _rows(
        self, file: str, summ: dict[str, Any], depth: int
    ) -> tuple[str | None, str, int] | None:
        """RESTRICTED when the function returns rows scoped to the caller (rows.py), itself
        or through the function a registry hands it; None when neither."""
        rows = summ.get("rows")
        if rows and (
            not rows[1]
            or any(
                (s := self.summary(*self.r.resolve(file, h)[:2])) and s.get("caller")
                for h in rows[1]
            )
        ):
            self.row_filters.add((file, rows[0]))
            return RESTRICTED, file, rows[0]
        reg = summ.get("registry")
        if not reg or depth >= MAX_DEPTH:
            return None
        gfile, _sym, gmod = self.r.resolve(file, reg[0])
        impls = self.registered().get((gfile or gmod, reg[1]), [])
        hits = [self.verdict(f, name, depth + 1) for f, name in impls]
        if hits and all(h[0] == RESTRICTED for h in hits):
            return hits[0]
        return None

    def registered(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(the registry's module, key) -> the functions registered under the key, from
        every module's top-level ``register("key", fn)`` calls (rows.registrations)."""
        if self._registered is None:
            self._registered = {}
            for path in sorted(self.r.extracts):
                for registrar, key, name, _line in self.r.extracts[path].get("registrations", []):
                    rfile, _sym, rmod = self.r.resolve(path, registrar)
                    self._registered.setdefault((rfile or rmod, key), []).append((path, name))
        return self._registered

    def as_guard(
        self,
        from_file: str,
        name: str,
        mechanism: str,
        where: tuple[str, int, str],
        at: int | None = None,
    ) -> Guard | None:
        """A Guard for a decorator / dependency / hook named ``name``; None if it guards nothing.

        ``at``: the line of a dependency, where a call may build it (``dep_verdict``)."""
        if at is not None:
            status, _file, _line = self.dep_verdict(from_file, name, at)
        else:
            status, _file, _line = self.verdict(from_file, name)
        if status in (AUTHENTICATED, RESTRICTED):
            file, symbol, _ = self.r.resolve(from_file, name)
            gate = (self.summary(file, symbol) or {}).get("gate")
            return Guard(status, f"{mechanism} ({gate})" if gate else mechanism, (where,))
        if status == CONDITIONAL:
            return self._configured(from_file, name, mechanism, where)
        # ``users_ns.doc``: the method named decides, not the object it is called on
        verb = name.rsplit(".", 1)[-1].lower()
        if status == UNRESOLVED and (verb in REQUIREMENTS or any(w in verb for w in AUTHISH)):
            return Guard("unknown", f"{mechanism} (not found in the repository)", (where,))
        return None

    def _configured(
        self, from_file: str, name: str, mechanism: str, where: tuple[str, int, str]
    ) -> Guard:
        """A guard that checks only under some values of a setting (configured.py)."""
        file, symbol, _ = self.r.resolve(from_file, name)
        config = (self.summary(file, symbol) or {}).get("config")
        if not config or not file:
            return Guard("unknown", f"{mechanism} (checks only in some configurations)", (where,))
        return setting_guard(config, file, mechanism, where)

    def method_verdict(
        self, chain: list[tuple[str, str]], name: str, depth: int = 0
    ) -> tuple[str | None, str, int]:
        """``self.check_permissions()`` / ``super().prepare()`` in a class view: the method
        the instance really runs (the most derived class of ``chain`` that defines it), and
        what it calls on ``self`` in turn."""
        for cfile, cname in chain:
            summ = self.r.extracts.get(cfile, {}).get("functions", {}).get(f"{cname}.{name}")
            if summ is None:
                continue
            if summ["guard"]:
                return summ["guard"][0], cfile, summ["guard"][1]
            for callee, _line in summ["calls"] if depth < MAX_DEPTH else []:
                head, _, rest = callee.partition(".")
                if head in ("self", "super") and rest and "." not in rest:
                    hit = self.method_verdict(chain, rest, depth + 1)
                else:
                    hit = self.verdict(cfile, callee, depth + 1)
                if hit[0] in (AUTHENTICATED, RESTRICTED):
                    return hit
            return None, cfile, summ["line"]
        if name == "get_object" and depth < MAX_DEPTH:
            # Django's and DRF's own get_object looks the object up in get_queryset() and
            # answers 404 when it is not there: rows scoped to the caller scope the object.
            return self.method_verdict(chain, "get_queryset", depth + 1)
        return None, "", 0

    def handler_guards(
        self,
        file: str,
        qualname: str,
        chain: list[tuple[str, str]] | None = None,
        params: frozenset[str] = frozenset(),
    ) -> list[Guard]:
        """Guards inside a handler: its own top-level checks and the helpers it calls.

        ``chain``: a class view's classes, most derived first: calls on ``self`` (and
        ``super()``) run the method the instance has. ``params``: the parameters the
        route's pattern always captures (calls under ``if <param>:`` are made then)."""
        summ = self.r.extracts.get(file, {}).get("functions", {}).get(qualname)
        if summ is None:
            return []
        out: list[Guard] = []
        lines = {int(k): v for k, v in summ.get("text", {}).items()}
        inline = summ["inline"]
        if inline and not summ["issues"] and self.logs_in(file, summ):
            # ``return _auth_success_response(account)``: a login through a helper; its
            # password or account checks are the login itself, not a guard before it
            inline = summ.get("inline_login")
        if inline:
            status, line = inline
            text = lines.get(line, "")
            if status == CONDITIONAL:
                out.append(Guard("unknown", "auth check on some paths only", ((file, line, text),)))
            else:
                gate = summ.get("gate")
                what = f"check in the handler ({gate})" if gate else "check in the handler"
                out.append(Guard(status, what, ((file, line, text),)))
        if summ.get("flag"):
            out += flag_guard(self.flags, file, summ["flag"], lines, summ.get("gate"))
        if summ.get("token"):  # a reset / invite token from the body or query, looked up
            key, line = summ["token"]
            where = ((file, line, lines.get(line, "")),)
            out.append(
                Guard(
                    AUTHENTICATED,
                    f"url_token: {key} from the request body or query (a secret link)",
                    where,
                )
            )
        taken = [[c, line] for p, c, line in summ.get("param_calls", []) if p in params]
        for callee, line in [*summ["calls"], *taken]:
            where = ((file, line, lines.get(line, "")),)
            if callee.rsplit(".", 1)[-1] in SIGNATURE_CHECKS:
                # The payload's signature is verified (it raises when it does not match):
                # only the holder of the webhook secret gets through.
                out.append(Guard(AUTHENTICATED, f"webhook_signature: {callee}()", where))
                continue
            head, _, rest = callee.partition(".")
            if chain and head in ("self", "super") and rest and "." not in rest:
                st, f, at = self.method_verdict(chain, rest)
            else:
                st, f, at = self.verdict(file, callee)
            if st in (AUTHENTICATED, RESTRICTED):
                gate = self._gate_of(file, callee, (f, at))
                what = f"call {callee}()" + (f" ({gate})" if gate else "")
                what += " (rows filtered by the caller)" if (f, at) in self.row_filters else ""
                out.append(Guard(st, what, where))
        if not out and summ.get("dispatch"):
            out += self._dispatch(file, summ["dispatch"], lines)
        return out

    def logs_in(self, file: str, summ: dict[str, Any], depth: int = 0) -> bool:
        """Does a function the handler calls (or one that one calls) issue credentials?"""
        if depth >= 3:
            return False
        for callee, _line in summ["calls"]:
            target, symbol, _ = self.r.resolve(file, callee)
            found = self.summary(target, symbol)
            if found and target and (found["issues"] or self.logs_in(target, found, depth + 1)):
                return True
        return False

    def _gate_of(self, file: str, callee: str, guard_at: tuple[str, int]) -> str | None:
        """The kind of gate (api_key, ownership...) a guarded call passes: the guard's own,
        else that of a decorator on the called function (calling a decorated view runs its
        decorator: ``return get_check(request)`` where ``@authorize_read def get_check``)."""
        if gate := self.gates.get(guard_at):
            return gate
        target, symbol, _ = self.r.resolve(file, callee)
        for dec, _line, _text in (self.summary(target, symbol) or {}).get("decorators", []):
            dfile, dsym, _ = self.r.resolve(target or file, dec)
            if gate := (self.summary(dfile, dsym) or {}).get("gate"):
                return str(gate)
        return None

    def _dispatch(self, file: str, calls: list[list[Any]], lines: dict[int, str]) -> list[Guard]:
        """A view whose every return hands over to another view: guarded if each one is."""
        statuses: list[str] = []
        mechs: list[str] = []
        for callee, _line in calls:
            target, symbol, _ = self.r.resolve(file, callee)
            summ = self.summary(target, symbol)
            if summ is None or target is None:
                return []
            gs = [  # summarize_with_text's [callee, line, text] of each decorator
                g
                for dec, dline, dtext in summ.get("decorators", [])
                if (g := self.as_guard(target, dec, dec, (target, dline, dtext))) is not None
            ]
            gs += self.handler_guards(target, symbol) if not summ.get("dispatch") else []
            auth = decide(gs)
            if auth.status.value not in (AUTHENTICATED, RESTRICTED):
                return []
            statuses.append(auth.status.value)
            mechs.append(auth.mechanism or "")
        names = ", ".join(sorted({c for c, _ in calls}))
        gates = [g for g in ("api_key", "webhook_signature") if all(g in m for m in mechs)]
        names += f") ({gates[0]}" if gates else ""
        status = AUTHENTICATED if AUTHENTICATED in statuses else RESTRICTED
        first = calls[0][1]
        where = ((file, first, lines.get(first, "")),)
        return [Guard(status, f"every branch hands over to a guarded view ({names})", where)]
