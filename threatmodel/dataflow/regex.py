"""Regular-expression allow-lists: ``re.fullmatch(r'[a-z0-9_]+', x)`` (or ``re.match`` /
``re.search`` anchored at both ends) being true, and ``re.sub(r'[^a-z0-9]', '', x)``, leave
``x`` holding only the characters of one character class (``sub_kinds`` reads ``re.sub``).

Only a pattern that is one character class, optionally repeated, is read: then which ASCII
characters can remain is decided character by character with Python's own ``re``, and a
kind is safe when no catalog guard needle can be spelled from what remains (an alphanumeric
class is safe for every injection kind, like ``str.isalnum``). Anything more complex
(alternations, lookarounds, anchors inside) is no allow-list here.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from threatmodel.dataflow.catalog import Catalog

ONE_CLASS = re.compile(r"(\[(?:\\.|[^\]\\])+\]|\\[wdsWDS])[+*]?")
WORD = frozenset(string.ascii_letters + string.digits + "_")
ASCII = [chr(i) for i in range(128)]


@lru_cache(maxsize=256)
def _class_chars(body: str) -> frozenset[str] | None:
    m = ONE_CLASS.fullmatch(body)
    if m is None:
        return None
    try:
        cls = re.compile(m.group(1))
    except re.error:
        return None
    return frozenset(c for c in ASCII if cls.fullmatch(c))


def allow_list_kinds(pattern: str, how: str, catalog: Catalog) -> frozenset[str]:
    """Kinds a value is safe for when ``re.<how>(pattern, s)`` is true. The final newline
    ``$`` lets through ends a shell command and starts none: the kinds that need all their
    needles gone (``Catalog.all_needles``) are judged without it."""
    allowed, final = _matched(pattern, how)
    if allowed is None:
        return frozenset()
    kinds = safe_kinds(allowed, catalog)
    if final:
        kinds |= safe_kinds(allowed - {"\n"}, catalog) & catalog.all_needles
    return kinds


def _matched(pattern: str, how: str) -> tuple[frozenset[str] | None, bool]:
    """The characters a string can hold when ``re.<how>(pattern, s)`` is true (None when
    ``pattern`` is no whole-string allow-list), and whether its newline is only the final
    one ``$`` allows."""
    body, extra = pattern, frozenset[str]()
    start = how == "fullmatch" or how == "match"
    for head in ("^", r"\A"):
        if body.startswith(head):
            body, start = body[len(head) :], True
    end = how == "fullmatch"
    if body.endswith(r"\Z"):
        body, end = body[:-2], True
    elif body.endswith("$") and not body.endswith(r"\$"):
        body, end, extra = body[:-1], True, frozenset("\n")  # ``$`` allows a final newline
    if not (start and end):
        return None, False
    chars = _class_chars(body)
    if chars is None:
        return None, False
    return chars | extra, bool(extra) and "\n" not in chars


def class_chars(pattern: str) -> frozenset[str]:
    """The characters ``re.search(pattern, s)`` finds when ``pattern`` is one positive
    character class (``r'[;&|]'``): none of them is in ``s`` when it finds nothing."""
    if pattern.startswith("[^"):
        return frozenset()
    return _class_chars(pattern.rstrip("+*")) or frozenset()


def kept_chars(pattern: str, repl: str) -> frozenset[str] | None:
    """The characters ``re.sub(pattern, repl, s)`` can leave, for a one-class pattern."""
    chars = _class_chars(pattern)
    if chars is None:
        return None
    return frozenset(c for c in ASCII if c not in chars) | frozenset(repl)


def safe_kinds(allowed: frozenset[str], catalog: Catalog) -> frozenset[str]:
    """Kinds a value made only of ``allowed`` ASCII characters is safe for."""
    if allowed <= WORD:
        return catalog.taint_kinds
    return frozenset(
        kind
        for kind, needles in catalog.needles.items()
        if needles and all(any(c not in allowed for c in n) for n in needles)
    )


def sub_kinds(pattern: str, repl: str, catalog: Catalog) -> frozenset[str]:
    r"""Kinds ``re.sub(pattern, repl, x)`` (every occurrence) makes ``x`` safe for. A
    one-class pattern leaves only the characters outside the class (and ``repl``'s); a
    pattern of one literal character (``r'\.'``, ``'/+'``) removes that character, which
    reads as the guard ``c not in x`` does (``Catalog.guarded_by``: no ``.``, no ``..``).
    Other patterns are not read: one that can match the empty string, or only in some
    context (anchors, lookarounds), may leave the character in place."""
    kept = kept_chars(pattern, repl)
    if kept is not None:
        return safe_kinds(kept, catalog)
    literal = pattern[:-1] if pattern.endswith("+") else pattern
    if len(literal) == 2 and literal[0] == "\\" and not literal[1].isalnum():
        literal = literal[1]  # an escaped metacharacter: ``\.`` is a dot
    elif len(literal) != 1 or literal in ".^$*+?{}[]|()\\":
        return frozenset()
    if literal not in repl:
        return catalog.guarded_by(literal)
    return frozenset()
