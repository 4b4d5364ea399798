"""A Mermaid data-flow diagram (``flowchart LR``) that GitHub renders inside THREAT_MODEL.md.

Actors on the left, entry points grouped by path prefix inside one subgraph per trust
boundary (public, signed-in, privileged, undecided), the server components, then data
stores and third-party services. Node ids are generated (``n1``, ``n2``), never taken from
the repository; every label is quoted and every character outside a small safe set is
written as a Mermaid entity code, so a route path or table name cannot break the diagram
or inject markup. Large systems are capped so the diagram stays readable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from threatmodel.models import AuthStatus, Facts, Route
from threatmodel.render.system import SystemView
from threatmodel.words import plural

MAX_GROUPS_PER_BOUNDARY = 8
MAX_STORES = 8
MAX_LABEL = 60
_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-./:*,+{}()@$=?!"
)
_NAMED = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;", ";": "#59;"}

BOUNDARIES = [
    (AuthStatus.PUBLIC, "Public entry points (no authentication)", "Anonymous internet user"),
    (AuthStatus.AUTHENTICATED, "Entry points for signed-in users", "Signed-in user"),
    (AuthStatus.RESTRICTED, "Entry points with a role or permission check", "Privileged user"),
    (AuthStatus.UNKNOWN, "Entry points with undetermined auth", "Anonymous internet user"),
]


def label(text: str) -> str:
    """A quoted Mermaid label: truncated, with unsafe characters as entity codes."""
    text = " ".join(text.split())
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    out = []
    for ch in text:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.append(_NAMED.get(ch) or f"#{ord(ch)};")
    return '"' + "".join(out) + '"'


def route_prefix(path: str) -> str:
    """Group key: the first segment, or the first two under ``/api`` or a version segment."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "/"
    keep = 1
    if len(parts) > 1 and (parts[0] in {"api", "rest", "graphql"} or parts[0][:1] == "v"):
        keep = 2
    if parts[0][:1] == "v" and len(parts) > 2 and parts[1] == "api":
        keep = 3
    head = [p for p in parts[:keep] if not p.startswith(("{", ":", "<", "["))]
    return "/" + "/".join(head) if head else "/"


@dataclass
class _Diagram:
    lines: list[str] = field(default_factory=lambda: ["flowchart LR"])
    counter: int = 0

    def node(self, text: str, shape: str = "[]", indent: int = 1) -> str:
        self.counter += 1
        nid = f"n{self.counter}"
        left, right = {
            "[]": ("[", "]"),
            "stadium": ("([", "])"),
            "db": ("[(", ")]"),
            "hex": ("{{", "}}"),
        }[shape]
        self.lines.append("  " * indent + f"{nid}{left}{label(text)}{right}")
        return nid

    def subgraph(self, text: str) -> str:
        self.counter += 1
        sid = f"s{self.counter}"
        self.lines.append(f"  subgraph {sid}[{label(text)}]")
        return sid


def _group(routes: list[Route]) -> list[tuple[str, list[Route]]]:
    groups: dict[str, list[Route]] = defaultdict(list)
    for r in routes:
        groups[route_prefix(r.path)].append(r)
    return sorted(groups.items())


def _group_text(prefix: str, routes: list[Route]) -> str:
    methods = " ".join(sorted({r.method for r in routes}))
    if len(routes) == 1:  # a node that is one route names it; a count adds nothing
        return f"{methods} {routes[0].path}"
    return f"{methods} {prefix.rstrip('/')}/* ({plural(len(routes), 'route')})"


def render_mermaid(facts: Facts, system: SystemView) -> str:
    """The diagram's source (without the surrounding ```mermaid fence)."""
    d = _Diagram()
    actors: dict[str, str] = {}
    boundary_ids: list[tuple[str, str, AuthStatus]] = []
    group_nodes: list[tuple[str, Route]] = []
    for status, title, actor in BOUNDARIES:
        routes = sorted(
            (r for r in facts.routes if r.auth.status is status), key=lambda r: (r.path, r.method)
        )
        if not routes:
            continue
        if actor not in actors:
            actors[actor] = d.node(actor, "stadium")
        sid = d.subgraph(title)
        groups = _group(routes)
        for prefix, members in groups[:MAX_GROUPS_PER_BOUNDARY]:
            group_nodes.append((d.node(_group_text(prefix, members), indent=2), members[0]))
        rest = [r for _, members in groups[MAX_GROUPS_PER_BOUNDARY:] for r in members]
        if rest:
            more = f"{len(rest)} more route{'s' if len(rest) != 1 else ''}"
            group_nodes.append((d.node(more, indent=2), rest[0]))
        d.lines.append("  end")
        boundary_ids.append((actors[actor], sid, status))

    servers: dict[str, str] = {}
    if system.components:
        sid = d.subgraph("Server")
        for comp in system.components:
            servers[comp.name] = d.node(
                f"{comp.name} app ({plural(comp.routes, 'route')})", indent=2
            )
        d.lines.append("  end")

    stores = _stores(d, facts, system)
    services: list[str] = []
    if system.external:
        d.subgraph("Third-party services")
        services = [d.node(s.name, "hex", indent=2) for s in system.external]
        d.lines.append("  end")
    browser = None
    if system.client_exposed:
        browser = d.node(f"Browser bundle ({len(system.client_exposed)} exposed env vars)")

    for actor_id, sid, status in boundary_ids:
        arrow = "-.->" if status is AuthStatus.UNKNOWN else "-->"
        d.lines.append(f"  {actor_id} {arrow}|{label(status.value)}| {sid}")
    for gid, sample in group_nodes:
        target = servers.get(sample.framework)
        if target:
            d.lines.append(f"  {gid} --> {target}")
    for server in servers.values():
        d.lines.extend(f"  {server} --> {sid}" for sid in stores + services)
    if browser:
        anon = "Anonymous internet user"
        actor = actors.get(anon) or d.node(anon, "stadium")
        d.lines.append(f"  {actor} -->|{label('reads')}| {browser}")
        if any("SUPABASE" in n.upper() for n in system.client_exposed) and stores:
            d.lines.append(f"  {browser} -.->|{label('direct from the browser')}| {stores[0]}")
    return "\n".join(d.lines) + "\n"


def _stores(d: _Diagram, facts: Facts, system: SystemView) -> list[str]:
    """Data-store subgraph; returns its id (in a list, empty when there is none)."""
    if not (facts.tables or facts.buckets or system.datastores):
        return []
    sid = d.subgraph("Data stores")
    entries: list[tuple[str, str]] = []
    for t in sorted(facts.tables, key=lambda t: t.name):
        rls = {None: "", True: ", RLS on", False: ", RLS off"}[t.rls_enabled]
        entries.append((f"table {t.name}{rls}", "db"))
    for b in sorted(facts.buckets, key=lambda b: b.name):
        entries.append((f"bucket {b.name}{', public' if b.public else ''}", "db"))
    if not facts.tables:
        entries += [(s.name, "db") for s in system.datastores]
    for text, shape in entries[:MAX_STORES]:
        d.node(text, shape, indent=2)
    if len(entries) > MAX_STORES:
        d.node(f"{len(entries) - MAX_STORES} more stores", "db", indent=2)
    d.lines.append("  end")
    return [sid]
