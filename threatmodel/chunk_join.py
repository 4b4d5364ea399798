"""Routes that share a handler and every fact are one section, their methods joined.

A Django class view answers GET, POST and DELETE on one path through one class; Flask's
``methods=['GET', 'POST']`` declares two routes on one function. When the collectors found
the same auth, flags, dangerous calls, flows and code for each, their sections would say
the same thing once per method: the model reads it once, headed ``route GET, POST /path``.
A route whose facts differ (a method the class leaves public) keeps its own section.
"""

from __future__ import annotations

from threatmodel.chunk_pack import Section, key
from threatmodel.excerpts import CodeRef
from threatmodel.models import Route

_Key = tuple[str, str, str, str, str, tuple[object, ...], CodeRef | None]


class Joiner:
    """Remembers the sections built so far (one summarise run)."""

    def __init__(self) -> None:
        self._seen: dict[_Key, tuple[Section, list[str]]] = {}

    def joined(self, r: Route, sec: Section) -> bool:
        """Whether ``sec`` (route ``r``'s) joined an earlier section with the same facts:
        then that section names ``r`` too and the caller drops ``sec``."""
        head = f"route {r.id}"
        if r.id != f"{r.method} {r.path}" or not sec.text.startswith(head):
            return False
        rest = sec.text[len(head) :]
        brief = sec.brief[len(head) :] if sec.brief.startswith(head) else ""
        refs = tuple(key(ref) for ref in sec.refs)
        k = (r.location.path, r.path, r.handler, rest, brief, refs, sec.located)
        if k not in self._seen:
            self._seen[k] = (sec, [r.method])
            return False
        prev, methods = self._seen[k]
        methods.append(r.method)
        lead = f"route {', '.join(methods)} {r.path}"
        prev.text = lead + rest
        if brief:
            prev.brief = lead + brief
        prev.routes.append(r.id)
        return True
