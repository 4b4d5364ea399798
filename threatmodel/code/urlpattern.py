"""What a URL pattern says of each parameter it captures: its converter.

``/users/<int:id>`` (Flask, Django ``path``) and ``/f/{p:path}`` (Starlette, FastAPI,
aiohttp) name theirs; a Django ``re_path`` group's regex is read for what it can match
(``regex_converters``). The dataflow engine reads a converter's meaning
(``dataflow.urlparams``); route collectors record the converters on the route fact.
"""

from __future__ import annotations

import re

_ANGLE = re.compile(r"<(?:(\w+)(?:\([^>]*\))?:)?(\w+)>")
_BRACE = re.compile(r"\{(\w+)(?::(\w+))?\}")
# A regex group's body that matches only word characters and '-' (no payload fits):
# ``\d+``, ``[0-9]{4}``, ``[-\w]+``, ``[a-zA-Z0-9_-]+``, ``(?:a|b)``.
_SCALAR_CLASS = re.compile(r"\[(?:\\[dw]|[a-zA-Z0-9]-[a-zA-Z0-9]|[\w-])+\]")
_SCALAR_REST = re.compile(r"(?:\\[dw]|[\w|():?]|\{\d+(?:,\d*)?\}|[+*?])*")
_GROUP = re.compile(r"\(\?P<(\w+)>")


def pattern_converters(pattern: str) -> dict[str, str]:
    """Parameter -> converter ("" for the default) of one URL pattern string."""
    out: dict[str, str] = {}
    for conv, name in _ANGLE.findall(pattern):
        out.setdefault(name, conv)
    for name, conv in _BRACE.findall(pattern):
        out.setdefault(name, conv)
    return out


def regex_converters(pattern: str) -> dict[str, str]:
    """Parameter -> converter of a Django ``re_path`` / ``url()`` pattern's named groups:
    "scalar" for a group matching only word characters and '-', "" (one segment) for one
    that never matches '/', else "path"."""
    out: dict[str, str] = {}
    for m in _GROUP.finditer(pattern):
        body = pattern[m.end() : group_end(pattern, m.end()) - 1]
        out.setdefault(m.group(1), _regex_kind(body))
    return out


def group_end(pattern: str, inside: int) -> int:
    """The index just past the ``)`` closing the regex group whose body starts at
    ``inside`` (nested groups and escaped parentheses skipped)."""
    depth, j = 1, inside
    while j < len(pattern) and depth:
        if pattern[j] == "\\":
            j += 1
        elif pattern[j] == "(":
            depth += 1
        elif pattern[j] == ")":
            depth -= 1
        j += 1
    return j


def _regex_kind(body: str) -> str:
    if body and _SCALAR_REST.fullmatch(_SCALAR_CLASS.sub("", body)):
        return "scalar"
    if re.search(r"\\[SWD]", body):
        return "path"
    rest = re.sub(r"\\.", "", body)  # escaped characters match themselves ('\/' aside)
    for cls in re.findall(r"\[\^?[^\]]*\]", rest):
        if cls.startswith("[^") != ("/" in cls):  # ``[^/]`` and ``[a-z]`` never match '/'
            return "path"
    rest = re.sub(r"\[[^\]]*\]", "", rest)
    return "path" if "." in rest or "/" in rest or "\\/" in body else ""
