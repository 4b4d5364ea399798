"""Where input lands in a URL built by concatenation: after a fixed start it cannot move
the browser (or a request) to another host.

A URL's scheme and host are in its first characters. Once the text before a piece of
input is a local path (``/items/``), a fixed host (``https://api.example.com/``) or holds a
``?`` or ``#`` (``f"{settings.LOGIN_URL}?next={x}"``: whatever the configured start is, the
input is in the query or fragment), no value of the input changes where the URL goes. Only
input that can be the *start* of the URL (``//evil.example``, ``https:evil.example``) can.
So the pieces after such a start are marked safe for the kinds whose sinks ask that the
URL's host be fixed (``url_host`` rows: open redirect, SSRF) as the string is built, which
keeps holding through variables (``url = base + "?q=" + q`` ... ``redirect(url)``).

Text the engine does not know but that is no input (configuration, a database value, a
repository call given no input) is a placeholder character: it may be anything, but the
input after a ``?`` that follows it is still in the query.

The mark is on the input's labels, not on its place in the string: code that parses the
built URL back apart (``parse_qs(urlparse(u).query)["next"]``) would get the input back
still marked. Reading a redirect target out of a URL the same code just built is rare; the
mark is what lets the fact survive variables and helpers.
"""

from __future__ import annotations

from threatmodel.dataflow.catalog import CATALOG
from threatmodel.dataflow.conds import sanitize_keep
from threatmodel.dataflow.sinkconds import FIXED_URL
from threatmodel.dataflow.values import Label, Value

HOST_KINDS = CATALOG.host_kinds
NAME = "fixed URL start"
# Label kinds that never carry what the client sent (``conds.HELD`` plus a module value).
_NOT_INPUT = frozenset({"database", "config", "random", "self"})


def _input(label: Label, kind: str) -> bool:
    """Can ``label`` carry input that decides the URL's host for ``kind`` (not yet safe for
    it)? Per kind: the request's own origin (``request.base_url``) is this site for a
    redirect, and still what the client's Host header says for a server-side request."""
    if kind in label.safe or label.kind in _NOT_INPUT:
        return False
    if label.kind == "call":
        # a repository call's result is input only if input was passed to it
        return any(_input(x, kind) for _, v in label.args for x in v)
    return True


def _fixed(text: str) -> bool:
    return bool(FIXED_URL.match(text)) or "?" in text or "#" in text


def _start(parts: list[Value], kind: str) -> int | None:
    """The index of the first of ``parts`` past a fixed start for ``kind``; None when input
    may start the URL."""
    text = ""
    for i, part in enumerate(parts):
        if part.known:
            text += str(part.const)
        elif any(_input(x, kind) for x in part.all_labels()):
            # input with a known start (a request's path: '/...') lands after it
            return i if _fixed(text + (part.affix or ("", ""))[0]) else None
        else:
            # not input: its known start, something unknown, its known end
            head, tail = part.affix or ("", "")
            text += head + "\0" + tail
        if _fixed(text):
            return i + 1
    return None


def fixed_tail(parts: list[Value]) -> list[Value]:
    """``parts`` of one string, in order, with every piece after a fixed start (see the
    module docstring) safe for the ``HOST_KINDS`` that start is fixed for."""
    starts = {k: at for k in sorted(HOST_KINDS) if (at := _start(parts, k)) is not None}
    if not starts:
        return parts
    out = []
    for i, part in enumerate(parts):
        kinds = frozenset(k for k, at in starts.items() if i >= at)
        out.append(_safe(part, kinds) if kinds else part)
    return out


def _safe(v: Value, kinds: frozenset[str]) -> Value:
    return v if v.known or not v.all_labels() else sanitize_keep(v, kinds, NAME)
