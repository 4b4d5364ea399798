"""Facts as the plain text the LLM reads: one table, one route, the global settings.

The renderers ``summarize.py`` packs into chunks, kept apart from the packing so each can
be read (and changed) alone. Every line names where the fact comes from (``path:line``) so
the model can cite it; lists are sorted so prompts, and the LLM cache keys, stay stable.
"""

from __future__ import annotations

from threatmodel.models import Facts, Route, Table


def table_text(t: Table) -> str:
    rls = {True: "enabled", False: "DISABLED", None: "n/a"}[t.rls_enabled]
    out = [
        f"table {t.name} (from {t.source}, row level security {rls}) at "
        f"{t.location.path}:{t.location.line}"
    ]
    if t.columns:
        cols = ", ".join(
            f"{c.name}{' ' + c.type if c.type else ''}{' [sensitive]' if c.sensitive else ''}"
            for c in t.columns[:40]
        )
        out.append(f"  columns: {cols}{' ...' if len(t.columns) > 40 else ''}")
    for p in sorted(t.policies, key=lambda p: (p.name, p.command)):
        roles = ", ".join(p.roles) or "PUBLIC"
        text = f'  policy "{p.name}" FOR {p.command} TO {roles}'
        text += f" USING ({p.using})" if p.using else ""
        text += f" WITH CHECK ({p.check})" if p.check else ""
        text += " [RESTRICTIVE]" if p.restrictive else ""
        text += " [lets every row through]" if p.permissive else ""
        out.append(text)
    for g in sorted(t.grants, key=lambda g: g.role):
        if g.privileges:
            out.append(f"  grant {', '.join(g.privileges)} to {g.role}")
        else:
            out.append(f"  every privilege revoked from {g.role}")
    return "\n".join(out)


def route_text(
    r: Route, facts: Facts, sinks: list[str], tables: list[str], located: bool = True
) -> str:
    """A route's facts, one line each. ``located=False`` when the excerpt that follows holds
    the route's line: its handler and place are read there, not said twice."""
    head = f"route {r.id}"
    if located:
        head += f"  handler {r.handler} at {r.location.path}:{r.location.line}"
    out = [f"{head} ({r.framework})"]
    auth = f"  auth: {r.auth.status.value}"
    auth += f" via {r.auth.mechanism}" if r.auth.mechanism else ""
    out.append(auth)
    flags = [n for n, on in (("csrf_exempt", r.csrf_exempt), ("hidden", r.hidden)) if on]
    if r.rate_limited is not None:
        flags.append("rate limited" if r.rate_limited else "not rate limited")
    if flags:
        out.append(f"  flags: {', '.join(flags)}")
    # A scoped middleware: its scope when it is a path prefix (this route's own id says
    # nothing); not at all when it is the auth guard the auth line names.
    mws = [
        f"{m.kind} {m.name}" + ("" if m.scope == r.id else f" ({m.scope})")
        for m in facts.middleware
        if m.scope != "global"
        and m.applies_to(r)
        and not (m.kind == "auth" and m.name in (r.auth.mechanism or "").split())
    ]
    if mws:
        out.append(f"  middleware: {'; '.join(sorted(mws))}")
    if sinks:
        out.append(f"  dangerous calls: {'; '.join(sinks)}")
    if tables:
        out.append(f"  tables named in the handler: {', '.join(tables)}")
    return "\n".join(out)


def global_text(facts: Facts, limit: int | None = 30, quoted: bool = False) -> str:
    """Global middleware and settings (the first ``limit`` lines).

    Middleware declared at one place (a ``MIDDLEWARE`` list) is one line naming each in
    order of kind; a setting with one value in one file is one line with each of its lines
    (``setting jwt.secret = literal-short (pyjwt) at a.py:169, 182``): the place is said
    once, not per entry (two copies of a Django project declared 15 middleware lines).
    ``quoted``: the statements declaring the middleware are quoted beside these lines (the
    application chunk), so a dotted name is its last part (``csrf CsrfViewMiddleware``),
    the kind being what the line adds."""
    where: dict[tuple[str, int], list[str]] = {}
    for m in sorted(facts.middleware, key=lambda m: (m.kind, m.name)):
        if m.scope == "global":
            opts = f" {dict(sorted(m.options.items()))}" if m.options else ""
            name = m.name.rsplit(".", 1)[-1] if quoted else m.name
            where.setdefault((m.location.path, m.location.line), []).append(
                f"{m.kind} {name}{opts}"
            )
    lines = [
        f"global middleware at {path}:{line}: " + ", ".join(names)
        for (path, line), names in sorted(where.items())
    ]
    said: dict[tuple[str, str, str, str], list[int]] = {}
    for st in sorted(facts.settings, key=lambda s: (s.key, s.location.path, s.location.line)):
        said.setdefault((st.key, st.value, st.framework, st.location.path), []).append(
            st.location.line
        )
    lines += [
        f"setting {k} = {v} ({fw}) at {path}:" + ", ".join(map(str, sorted(set(at))))
        for (k, v, fw, path), at in said.items()
    ]
    return "\n".join(lines[:limit])
