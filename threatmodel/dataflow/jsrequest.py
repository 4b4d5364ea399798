"""What the JavaScript / TypeScript engine knows a request's parts are, by what they are.

``Obj``: the Express / Next.js request, Koa's ``ctx``, a tRPC resolver's options and an
instance of a repository class, known as objects rather than by labels. A request read is
``request`` input; the request's own URL has this site's scheme and host (``own_url``); its
path starts with '/' (``request_path``); its Referer header is the page the browser comes
from (``previous_page``).
"""

from __future__ import annotations

from dataclasses import dataclass

from threatmodel.dataflow.values import Label, Value


@dataclass(frozen=True)
class Obj:
    kind: str  # req | ctx | trpc | instance
    qual: str = ""


REQ = Value(const=Obj("req"))
CTX = Value(const=Obj("ctx"))
# a tRPC procedure resolver's one argument: only its ``input`` is the client's
TRPC = Value(const=Obj("trpc"))
OWN = "this site's own origin"
PREVIOUS_PAGE = "the browser's previous page (Referer)"
REFERER = frozenset({"referer", "referrer"})


def own_url(origin: str, line: int) -> Value:
    """This request's own URL (``req.url``, ``req.nextUrl``): its scheme and host are this
    site's, so a redirect or fetch to it (``new URL('/login', req.url)``) stays on this site."""
    return request_value(origin, line).sanitized(frozenset({"open_redirect", "ssrf"}), OWN)


def request_value(origin: str, line: int) -> Value:
    return Value(frozenset({Label("request", origin, line)}))


def previous_page(origin: str, line: int, asked: Value, key: object) -> Value | None:
    """The Referer header when ``key`` names it on ``asked``, the request (``req.get(
    'Referrer')``, ``req.headers.referer``, ``request.headers.get('referer')``): the page the
    browser comes from, Express's ``res.redirect('back')``. A redirect there leads back to
    that page, which a third party can only make its own page, where the victim already
    was: not a redirect anywhere else."""
    if not isinstance(key, str) or key.lower() not in REFERER:
        return None
    o = asked.const
    whole = isinstance(o, Obj) and o.kind in ("req", "ctx")
    headers = bool(asked.labels) and all(
        x.kind == "request" and x.origin.endswith("headers") for x in asked.labels
    )
    if not whole and not headers:
        return None
    return request_value(origin, line).sanitized(frozenset({"open_redirect"}), PREVIOUS_PAGE)


def request_path(origin: str, line: int) -> Value:
    """The path of this request's URL (Express's ``req.path``, Koa's ``ctx.path``, a WHATWG
    ``pathname``): client input that starts with '/'. A browser sends its request line's
    target as a path, so where a victim's browser is led it is '/...' (``//evil.example``
    too: alone it can still be a redirect's host, but after ``https://host`` it is a path)."""
    return Value(frozenset({Label("request", origin, line)}), affix=("/", ""))
