"""A request whose content type a page on another site cannot send: no victim's browser
renders the answer.

Reflected cross-site scripting and open redirects need a victim's browser to *navigate* to
the request: a link, or a form another site submits. A form can only send
``application/x-www-form-urlencoded``, ``multipart/form-data`` or ``text/plain``, and a
cross-site ``fetch`` may set no other Content-Type without a CORS preflight (in
``no-cors`` mode the header is dropped); what ``fetch`` gets back is handed to the script
that asked, never rendered as a page, and a redirect answered to it is followed by
``fetch``, not by the window. So past a test that the request's content type *equals* some
other type (``if request.content_type != "application/json": return``, Flask's
``request.is_json``), nothing of this request reaches a browser that did not choose to send
it: its values are safe for the kinds that need one (``KINDS``).

Only equality proves it: ``"application/json" in content_type`` also holds for
``text/plain; x=application/json``, which a cross-site page may send.

The fact is an env key under ``REREAD``, so a join of two branches keeps it only when both
hold it (``assign.join_env``), and ``or`` keeps it only when each part proves it.
"""

from __future__ import annotations

import ast

from threatmodel.dataflow.frame import REREAD, Frame, dotted
from threatmodel.dataflow.values import Value, distinct

KINDS = frozenset({"xss", "open_redirect"})
NAME = "a content type no cross-site page can send"
KEY = REREAD + "<browserless request>"
# The media types a cross-site form or a no-cors fetch may send (CORS-safelisted).
SIMPLE_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
_TYPE_ATTRS = frozenset({"content_type", "mimetype"})  # Django / Flask / Werkzeug
_TYPE_KEYS = frozenset({"content-type", "content_type"})  # headers / META (lowercased)


def content_type_of(node: ast.AST) -> ast.expr | None:
    """The request expression whose content type ``node`` reads (``request.content_type``,
    ``request.headers.get("Content-Type")``, ``request.META["CONTENT_TYPE"]``), or None."""
    if isinstance(node, ast.Attribute) and node.attr in _TYPE_ATTRS:
        return node.value
    key: object = None
    holder: ast.expr | None = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant):
            key, holder = node.args[0].value, node.func.value
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        key, holder = node.slice.value, node.value
    if not isinstance(key, str) or key.lower() not in _TYPE_KEYS:
        return None
    if isinstance(holder, ast.Attribute) and holder.attr in ("headers", "META"):
        return holder.value
    return None


def is_json_test(node: ast.AST) -> ast.expr | None:
    """The request of ``request.is_json`` (Werkzeug: a JSON media type), or None."""
    if isinstance(node, ast.Attribute) and node.attr == "is_json" and dotted(node.value):
        return node.value
    return None


def not_simple(media: object) -> bool:
    """A constant media type that is none of a cross-site page's (parameters ignored)."""
    if not isinstance(media, str):
        return False
    essence = media.split(";")[0].strip().lower()
    return "/" in essence and essence not in SIMPLE_TYPES


def mark(v: Value) -> Value:
    """``v`` with its request labels safe for ``KINDS`` (the others as they were)."""
    labels = distinct(x.sanitized(KINDS, NAME) if x.kind == "request" else x for x in v.labels)
    items = None if v.items is None else tuple((k, mark(x)) for k, x in v.items)
    return Value(labels, v.const, items, v.seq, v.affix)


def hold(f: Frame) -> None:
    """Record that this request passed the test: what was read of it is marked now, and
    what is read later is marked as it is read (``holds``)."""
    for k, v in list(f.env.items()):
        if v.labels or v.items:
            f.env[k] = mark(v)
    f.env[KEY] = Value(const=True)


def holds(f: Frame) -> bool:
    return KEY in f.env
