"""The deterministic half of ``ask``: questions about the facts, answered with no LLM.

An ordered table of intents, each a pattern over the question plus an entity the facts must
supply (a real route, table or name). The first intent whose pattern matches *and* whose
entity is found answers; a question no intent answers returns None and goes to the LLM.
Every line of an answer that states a fact cites the ``path:line`` it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from threatmodel.chat import listings
from threatmodel.chat.chunks import ChunkIndex
from threatmodel.chat.entities import (
    find_name,
    find_routes,
    find_table,
    finding_ref,
    similar_names,
)
from threatmodel.chat.handlers import Access, HandlerIndex, table_matches
from threatmodel.chat.references import ReferenceIndex
from threatmodel.chat.types import Answer, Citation, cite
from threatmodel.code.reader import RepoReader
from threatmodel.models import Report, Route
from threatmodel.words import plural

WRITE_OPS = ("INSERT", "UPDATE", "DELETE", "ALL")
READ_OPS = ("SELECT", "ALL")


@dataclass
class ChatContext:
    report: Report
    root: Path
    reader: RepoReader = field(init=False)
    handlers: HandlerIndex = field(init=False)
    references: ReferenceIndex = field(init=False)
    chunks: ChunkIndex = field(init=False)  # the scan's chunks, for open questions

    def __post_init__(self) -> None:
        self.reader = RepoReader(self.root)
        self.handlers = HandlerIndex(self.reader)
        self.references = ReferenceIndex(self.root, self.reader)
        self.chunks = ChunkIndex(self.report.facts, self.reader)


Handler = Callable[[str, ChatContext], Answer | None]


def _i(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def show_finding(q: str, ctx: ChatContext) -> Answer | None:
    index, ident = finding_ref(q)
    found = ctx.report.findings
    if ident is not None:
        hits = [
            (i, f)
            for i, f in enumerate(found, 1)
            if f.id.lower() == ident.lower() or f.fingerprint.startswith(ident.lower())
        ]
        if not hits:
            return Answer(q, "show_finding", f"No finding with id {ident}.", [])
        text, cites = listings.finding_detail(*hits[0])
        return Answer(q, "show_finding", text, cites)
    if index is None:
        return None
    if not 1 <= index <= len(found):
        return Answer(
            q, "show_finding", f"There is no finding {index}: the report has {len(found)}.", []
        )
    text, cites = listings.finding_detail(index, found[index - 1])
    return Answer(q, "show_finding", text, cites)


def route_guard(q: str, ctx: ChatContext) -> Answer | None:
    routes = find_routes(q, ctx.report.facts)
    if not routes:
        return None
    blocks, cites = [], []
    for r in routes[:5]:
        text, c = _guard_block(r, ctx)
        blocks.append(text)
        cites += c
    if len(routes) > 5:
        blocks.append(f"(+{len(routes) - 5} more routes match; name the method to narrow it)")
    return Answer(q, "route_guard", "\n\n".join(blocks), cites)


def _guard_block(r: Route, ctx: ChatContext) -> tuple[str, list[Citation]]:
    loc = r.location
    cites = [cite(loc.path, loc.line)]
    lines = [f"{r.method} {r.path} -> {r.handler} ({loc.path}:{loc.line}, {r.framework})"]
    auth = r.auth
    lines.append(
        f"  auth: {auth.status.value}" + (f" via {auth.mechanism}" if auth.mechanism else "")
    )
    if auth.status.value == "public":
        lines.append("  no authentication guard was found on this route")
    for e in auth.evidence:
        first = e.snippet.strip().splitlines()[0] if e.snippet.strip() else ""
        lines.append(f"    {e.path}:{e.start_line}  {first}")
        cites.append(Citation(e.path, e.start_line, "fact", e.end_line))
    code = ctx.handlers.for_route(loc.path, loc.line, r.handler)
    if code is not None and code.wrappers:
        lines.append("  wrapped by (as written on the handler):")
        for text, line in code.wrappers:
            lines.append(
                f"    {code.path}:{line}  {'@' if code.path.endswith('.py') else ''}{text}"
            )
            cites.append(cite(code.path, line))
    for m in sorted(ctx.report.facts.middleware, key=lambda m: (m.kind, m.name)):
        prefix = m.scope.rstrip("/")
        under = m.scope.startswith("/") and (r.path == prefix or r.path.startswith(prefix + "/"))
        if m.scope in ("global", r.id) or under:
            lines.append(
                f"  middleware {m.kind}: {m.name} (scope {m.scope})  "
                f"{m.location.path}:{m.location.line}"
            )
            cites.append(cite(m.location.path, m.location.line))
    if r.csrf_exempt:
        lines.append("  CSRF protection is exempted on this route")
    if r.rate_limited is not None:
        lines.append(f"  rate limited: {'yes' if r.rate_limited else 'no'}")
    for i, f in enumerate(ctx.report.findings, 1):
        if any(c.route and _same_route(c.route.method, c.route.path, r) for c in f.claims):
            lines.append(f"  finding {i}: [{f.severity.value}] {f.title}")
    return "\n".join(lines), cites


def _same_route(method: str, path: str, r: Route) -> bool:
    return method.upper() in (r.method, "ANY") and path == r.path


def _table_access(q: str, ctx: ChatContext, write: bool) -> Answer | None:
    name, tables = find_table(q, ctx.report.facts)
    if name is None:
        return None
    verb = "write to" if write else "read"
    lines, cites = [f"Who can {verb} `{name}`:"], []
    seen = _routes_touching(name, ctx, write)
    if seen:
        lines.append(f"Routes whose handlers {'write' if write else 'read'} it:")
        for r, code_path, acc in seen:
            where = f"{code_path}:{acc.line}"  # the handler's file
            lines.append(f"  {r.method} {r.path} [{r.auth.status.value}]  {acc.how} at {where}")
            cites.append(cite(code_path, acc.line))
    else:
        lines.append(
            f"No route handler was seen {'writing' if write else 'reading'} it directly "
            "(handlers are read on their own; helpers in other modules are not followed)."
        )
    ops = WRITE_OPS if write else READ_OPS
    for t in tables:
        lines.append(f"Table {t.name} ({t.source})  {t.location.path}:{t.location.line}")
        cites.append(cite(t.location.path, t.location.line))
        if t.rls_enabled is None:
            lines.append("  no row-level security semantics (not a Postgres RLS table)")
        elif not t.rls_enabled:
            lines.append(
                f"  row-level security is OFF: every role with a table grant can {verb} every row"
            )
        else:
            chosen = [i for i, p in enumerate(t.policies) if p.command.upper() in ops]
            lines.append(f"  row-level security is ON; {plural(len(chosen), 'policy')} apply:")
            for i in chosen:
                text, c = listings.policy_line(t, i)
                lines.append(text)
                if c:
                    cites.append(c)
            covered = {t.policies[i].command.upper() for i in chosen}
            missing = [op for op in ops[:-1] if op not in covered and "ALL" not in covered]
            if missing:
                lines.append(
                    f"  no policy for {', '.join(missing)}: denied to every role that does not "
                    "bypass RLS (table owner, service role)"
                )
        for g in t.grants:
            privs = {p.upper() for p in g.privileges}
            if privs & {*ops, "ALL PRIVILEGES"}:
                where = f"  {g.location.path}:{g.location.line}" if g.location else ""
                lines.append(f"  GRANT {', '.join(sorted(privs))} to {g.role}{where}")
                if g.location:
                    cites.append(cite(g.location.path, g.location.line))
    if not tables:
        lines.append(f"No table named `{name}` is in the facts (schema, migrations, models).")
    if any(t.rls_enabled is not None for t in tables):
        lines += _bypass_keys(ctx, verb, cites)
    return Answer(q, "table_writers" if write else "table_readers", "\n".join(lines), cites)


def _bypass_keys(ctx: ChatContext, verb: str, cites: list[Citation]) -> list[str]:
    """The report's own findings that hand anyone a role bypassing row-level security: a
    service-role key shipped to the browser makes every policy above moot."""
    out = []
    for f in ctx.report.findings:
        claims = [c for c in f.claims if c.kind == "client_exposed_secret"]
        if not claims or "SERVICE_ROLE" not in (claims[0].name or "").upper():
            continue
        out.append(
            f"Anyone can {verb} every row: {f.id} {claims[0].name} is shipped to the browser, "
            "and the service role bypasses row-level security."
        )
        for e in f.evidence[:2]:
            out.append(f"  {e.path}:{e.start_line}  {_line(ctx, e.path, e.start_line)}")
            cites.append(cite(e.path, e.start_line))
    return out


def _routes_touching(name: str, ctx: ChatContext, write: bool) -> list[tuple[Route, str, Access]]:
    out = []
    for r in sorted(ctx.report.facts.routes, key=lambda r: (r.path, r.method)):
        code = ctx.handlers.for_route(r.location.path, r.location.line, r.handler)
        if code is None:
            continue
        for acc in code.accesses:
            if acc.write == write and table_matches(acc.name, name):
                out.append((r, code.path, acc))
                break
    return out


def name_reads(q: str, ctx: ChatContext) -> Answer | None:
    name = find_name(q, ctx.report.facts)
    if name is None:
        return None
    facts = ctx.report.facts
    lines, cites = [], []
    for e in facts.env_vars:
        if e.name == name:
            exposed = " (exposed to the browser bundle)" if e.client_exposed else ""
            lines.append(f"`{name}` is read from the environment{exposed} at:")
            for loc in sorted(e.locations, key=lambda x: (x.path, x.line)):
                lines.append(f"  {loc.path}:{loc.line}  {_line(ctx, loc.path, loc.line)}")
                cites.append(cite(loc.path, loc.line))
    for s in sorted(facts.secrets, key=lambda s: (s.location.path, s.location.line)):
        if s.name == name:
            lines.append(
                f"`{name}` is a hardcoded {s.kind} at {s.location.path}:{s.location.line} "
                f"(sha256:{s.fingerprint}; value not shown)"
            )
            cites.append(cite(s.location.path, s.location.line))
    refs = [r for r in ctx.references.lookup(name) if (r[0], r[1]) not in _cited(cites)]
    if refs:
        lines.append(f"`{name}` appears in the code at:")
        for path, line, kind in refs[:40]:
            lines.append(f"  {path}:{line}  {_line(ctx, path, line)}  ({kind})")
            cites.append(cite(path, line))
        if len(refs) > 40:
            lines.append(f"  (+{len(refs) - 40} more)")
    if not lines:
        lines.append(
            f"`{name}` is not an environment variable or secret in the facts and does not "
            "appear in the parsed Python/JavaScript code."
        )
        for other in similar_names(name, facts):
            lines.append(f"Did you mean `{other}`?")
            for e in facts.env_vars:
                if e.name == other:
                    for loc in sorted(e.locations, key=lambda x: (x.path, x.line))[:5]:
                        lines.append(f"  {loc.path}:{loc.line}  {_line(ctx, loc.path, loc.line)}")
                        cites.append(cite(loc.path, loc.line))
    return Answer(q, "name_reads", "\n".join(lines), cites)


def _cited(cites: list[Citation]) -> set[tuple[str, int]]:
    return {(c.path, c.line) for c in cites}


def _line(ctx: ChatContext, path: str, line: int) -> str:
    from threatmodel.redact import mask_lines, secret_locations

    text = ctx.reader.snippet(path, line).strip()
    secrets = secret_locations(ctx.report.facts).get(path, {})
    return mask_lines([text], line, secrets)[0][:120]


STATUS_WORDS = {
    "public": {"public"},
    "unauthenticated": {"public"},
    "unauthed": {"public"},
    "anonymous": {"public"},
    "open": {"public"},
    "unprotected": {"public"},
    "authenticated": {"authenticated", "restricted"},
    "protected": {"authenticated", "restricted"},
    "admin": {"restricted"},
    "restricted": {"restricted"},
    "unknown": {"unknown"},
}


def routes_by_status(q: str, ctx: ChatContext) -> Answer | None:
    low = q.lower()
    wanted: set[str] = set()
    for word, statuses in STATUS_WORDS.items():
        if re.search(rf"\b{word}\b", low) and not re.search(rf"\b(not|non|un)[ -]?{word}", low):
            wanted |= statuses
    if re.search(r"\b(no|without|missing|lack\w*)\s+(auth|login|authentication)\b", low):
        wanted |= {"public"}
    if not wanted:
        return None
    text, cites = listings.routes(ctx.report.facts, wanted)
    label = "/".join(sorted(wanted))
    unknown = sum(1 for r in ctx.report.facts.routes if r.auth.status.value == "unknown")
    if "public" in wanted and unknown and "unknown" not in wanted:
        text += f"\n{unknown} more routes have auth the collectors could not decide (`/routes`)."
    return Answer(q, "routes_by_status", f"Routes that are {label}: " + text, cites)


def listing(q: str, ctx: ChatContext) -> Answer | None:
    low = q.lower()
    for word, command in LISTING_WORDS:
        if re.search(word, low):
            return run_command(command, ctx, q)
    return None


LISTING_WORDS = (
    (r"\bfindings?\b|\bthreats\b|\bvulnerabilit", "/findings"),
    (r"\bsecrets?\b|\bkeys\b|\bcredentials\b", "/secrets"),
    (r"\benv\b|\benvironment\b", "/env"),
    (r"\btables?\b|\bschema\b", "/tables"),
    (r"\broutes?\b|\bendpoints?\b", "/routes"),
)

# The intent table, in order: the first pattern that matches and finds its entity answers.
INTENTS: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("show_finding", _i(r"\bfinding\b|\bTM-[0-9a-f]{4,}"), show_finding),
    (
        "route_guard",
        _i(r"\b(guard\w*|protect\w*|secur\w*|auth\w*|who can (call|access|reach|hit)|public)\b"),
        route_guard,
    ),
    (
        "table_writers",
        _i(r"\b(write\w*|wrote|insert\w*|updat\w*|delet\w*|modif\w*|change\w*|edit\w*|mutat\w*)"),
        lambda q, c: _table_access(q, c, write=True),
    ),
    (
        "table_readers",
        _i(r"\b(read\w*|select\w*|see|view\w*|access\w*)\b.*\b(table|from|rows?|`)|who can read"),
        lambda q, c: _table_access(q, c, write=False),
    ),
    (
        "name_reads",
        _i(r"\bwhere\b|\bwho (reads|uses)\b|\bused\b|\bread\b|\bdefined\b|\bcomes? from\b"),
        name_reads,
    ),
    (
        "routes_by_status",
        _i(r"\b(routes?|endpoints?|apis?|urls?|paths?|handlers?)\b"),
        routes_by_status,
    ),
    ("listing", _i(r"\b(list|show|what|which|all)\b"), listing),
)

COMMANDS = {
    "/routes": "every HTTP route with its auth status, handler and location",
    "/tables": "every table with its row-level-security state and policies",
    "/findings": "the findings, numbered (then `show finding N`)",
    "/secrets": "hardcoded secrets (kind, name, location, fingerprint; never the value)",
    "/env": "environment variables the code reads, and where",
    "/help": "this help",
    "/quit": "leave (or Ctrl-D)",
}

EXAMPLES = (
    "which routes are public?",
    "who can write to `orders`?",
    "where is `STRIPE_SECRET_KEY` read?",
    "what guards DELETE /users/{id}?",
    "show finding 3   (or: show finding TM-1a2b3c4d)",
)


def help_text() -> str:
    lines = ["Commands:"]
    lines += [f"  {name:<10} {what}" for name, what in COMMANDS.items()]
    lines.append("Answered from the facts, with no LLM:")
    lines += [f"  {e}" for e in EXAMPLES]
    lines.append(
        "Anything else goes to the LLM (when one is configured) with the relevant facts and "
        "code; its citations are checked against the files."
    )
    lines.append("Multi-line input: end a line with \\ or press Esc then Enter.")
    return "\n".join(lines)


def run_command(command: str, ctx: ChatContext, question: str | None = None) -> Answer:
    cmd = command.strip().split()[0].lower() if command.strip() else ""
    facts, q = ctx.report.facts, question or command
    if cmd == "/routes":
        text, cites = listings.routes(facts)
    elif cmd == "/tables":
        text, cites = listings.tables(facts)
    elif cmd == "/findings":
        text, cites = listings.findings(ctx.report.findings, len(ctx.report.suppressed))
    elif cmd == "/secrets":
        text, cites = listings.secrets(facts)
    elif cmd == "/env":
        text, cites = listings.env_vars(facts)
    elif cmd in ("/help", "/?", "/h"):
        return Answer(q, "help", help_text(), [])
    elif cmd in ("/quit", "/exit", "/q"):
        return Answer(q, "quit", "", [])
    else:
        return Answer(q, "help", f"Unknown command {cmd[:40]!r}.\n" + help_text(), [])
    return Answer(q, cmd.lstrip("/"), text, cites)


def answer_deterministic(question: str, ctx: ChatContext) -> Answer | None:
    """The facts' answer to ``question``, or None when no intent can answer it."""
    q = question.strip()
    if q.startswith("/"):
        return run_command(q, ctx)
    for _name, pattern, handler in INTENTS:
        if pattern.search(q[:5000]):
            answer = handler(q, ctx)
            if answer is not None:
                return answer
    return None
