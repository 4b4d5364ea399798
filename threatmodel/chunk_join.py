"""Routes that share a handler and every fact are one section, their methods and paths joined.

A Django class view answers GET, POST and DELETE on one path through one class; Flask's
``methods=['GET', 'POST']`` declares two routes on one function. When the collectors found
the same auth, flags, dangerous calls, flows and code for each, their sections would say
the same thing once per method: the model reads it once, headed ``route GET, POST /path``.
The same holds across paths and registrations: one function under two route decorators
(``/posts/`` and ``/posts/<username>``), or one blueprint registered by two entry points of
an app (the same method and path twice, ids ``GET /a`` and ``GET /a #2``) is one section,
headed ``route GET /posts/; GET /posts/{username}`` (a path's methods said once).
A route whose facts differ (a method the class leaves public, another app's middleware)
keeps its own section.

A quiet route (nothing in its handler to read: no dangerous call, flow, table, write or
use of the request) is shown only for its guard, once per pass. Quiet routes declared in
one file with the same facts and guards are one section whatever their handlers, one short
entry each (``routes in urls.py with only their guard to read: ANY /a :9 page_a; ...``):
the route line's ``handler X at path:line`` said thirty times for thirty pages behind one
decorator costs more than the pages tell.
"""

from __future__ import annotations

from threatmodel.chunk_pack import Section, key
from threatmodel.chunk_shared import FRAMEWORK
from threatmodel.excerpts import CodeRef
from threatmodel.models import Route

_Key = tuple[str, str, str, str, tuple[object, ...], CodeRef | None]


def lead(routes: list[Route]) -> str:
    """``route GET, POST /a; GET /b``: each path once with its methods, in first-seen order
    (a second registration of a method and path adds nothing the model reads)."""
    by_path: dict[str, list[str]] = {}
    for r in routes:
        methods = by_path.setdefault(r.path, [])
        if r.method not in methods:
            methods.append(r.method)
    return "route " + "; ".join(f"{', '.join(ms)} {p}" for p, ms in by_path.items())


class Joiner:
    """Remembers the sections built so far (one summarise run)."""

    def __init__(self) -> None:
        self._seen: dict[_Key, tuple[Section, list[Route]]] = {}
        self._quiet: dict[tuple[str, str, tuple[object, ...]], tuple[Section, list[Route]]] = {}

    def joined_quiet(self, r: Route, sec: Section) -> bool:
        """Whether ``sec``, quiet route ``r``'s (its route line and its guards), joined an
        earlier quiet section of ``r``'s file with the same facts and guards: that section
        then lists ``r`` by its method, path, line and handler, and the caller drops
        ``sec``."""
        first, _, rest = sec.text.partition("\n")
        k = (r.location.path, rest, tuple(key(ref) for ref in sec.refs))
        if k not in self._quiet:
            self._quiet[k] = (sec, [r])
            return False
        prev, routes = self._quiet[k]
        routes.append(r)
        entries = "; ".join(
            f"{q.method} {q.path} :{q.location.line} {q.handler.rsplit('.', 1)[-1]}" for q in routes
        )
        framework = m.group() if (m := FRAMEWORK.search(first)) else ""
        head = f"routes in {r.location.path} with only their guard to read: {entries}"
        prev.text = "\n".join([head + framework, *([rest] if rest else [])])
        prev.routes.append(r.id)
        return True

    def joined(self, r: Route, sec: Section) -> bool:
        """Whether ``sec`` (route ``r``'s) joined an earlier section with the same facts:
        then that section names ``r`` too and the caller drops ``sec``."""
        head = f"route {r.id}"
        if not sec.text.startswith(head):
            return False
        rest = sec.text[len(head) :]
        brief = sec.brief[len(head) :] if sec.brief.startswith(head) else ""
        refs = tuple(key(ref) for ref in sec.refs)
        # The path is not in the key: every fact of a route's section is in ``rest`` (a
        # scoped middleware names the route's path there), so equal text is equal facts.
        k = (r.location.path, r.handler, rest, brief, refs, sec.located)
        if k not in self._seen:
            self._seen[k] = (sec, [r])
            return False
        prev, routes = self._seen[k]
        routes.append(r)
        head = lead(routes)
        prev.text = head + rest
        if brief:
            prev.brief = head + brief
        prev.routes.append(r.id)
        return True
