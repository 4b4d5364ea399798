"""Find the route, table or name a question is about, matched against the real facts.

A question says "DELETE /users/{id}" while the app routes "DELETE /admin/users/{user_id}";
it says `orders` for "public.orders". Matching is on the facts' own names, so an answer
never invents a route or a table: a path is compared segment by segment with parameters in
any framework's spelling (``{id}``, ``:id``, ``<int:id>``, ``[id]``) treated alike, and a
question's path may be the tail of the route's.
"""

from __future__ import annotations

import difflib
import re

from threatmodel.models import Facts, Route, Table

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_METHOD = re.compile(r"\b(" + "|".join(METHODS) + r")\b", re.IGNORECASE)
_PATH = re.compile(r"(?<![\w.])(/[^\s`'\"?,;()]*)")
_PARAM = re.compile(r"^(\{.*\}|:.+|<.*>|\[.*\]|\*.*)$")
_WORD = re.compile(r"[A-Za-z_][\w.$-]*")
_BACKTICK = re.compile(r"[`'\"]([^`'\"\s]{1,200})[`'\"]")
_UPPER = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{3,}[A-Z0-9]*\b")


def norm_path(path: str) -> tuple[str, ...]:
    segs = [s for s in path.strip().rstrip(".").split("/") if s]
    return tuple("{}" if _PARAM.match(s) else s.lower() for s in segs)


def _instance(asked: tuple[str, ...], template: tuple[str, ...]) -> bool:
    """``asked`` is ``template`` with its parameters given values (or left as parameters)."""
    return len(asked) == len(template) and all(
        a == t or t == "{}" for a, t in zip(asked, template, strict=True)
    )


def find_routes(question: str, facts: Facts) -> list[Route]:
    """Routes the question names by path (and method when given), best matches only."""
    q = question[:2000]  # a route reference is short; never scan a huge paste with regexes
    methods = {m.upper() for m in _METHOD.findall(q)}
    paths = [norm_path(p) for p in _PATH.findall(q)]
    scored: list[tuple[int, Route]] = []
    for route in facts.routes:
        rpath = norm_path(route.path)
        best = 0
        for qp in paths:
            if qp == rpath:
                best = max(best, 4)
            elif _instance(qp, rpath):
                best = max(best, 3)  # "/users/3" is a request to "/users/{id}"
            elif qp and len(qp) < len(rpath) and _instance(qp, rpath[-len(qp) :]):
                best = max(best, 2)
        if not paths and route.handler.split(".")[-1] in set(_WORD.findall(q)):
            best = 1  # named by its handler function
        if best and methods and route.method not in methods and route.method != "ANY":
            best = 0
        if best:
            scored.append((best, route))
    if not scored:
        return []
    top = max(s for s, _ in scored)
    return sorted((r for s, r in scored if s == top), key=lambda r: (r.path, r.method))


def find_table(question: str, facts: Facts) -> tuple[str | None, list[Table]]:
    """(the name asked about, the tables with that name). The name may not be a known table."""
    q = question[:2000]
    quoted = _BACKTICK.findall(q)
    words = quoted + _WORD.findall(q)
    for word in words:
        w = word.strip(".").lower()
        hits = [t for t in facts.tables if w in (t.name.lower(), t.name.lower().split(".")[-1])]
        if hits:
            return word.strip("."), sorted(hits, key=lambda t: (t.name, t.source))
    if quoted:
        return quoted[0], []
    m = re.search(r"\b(?:to|into|from|in|on|table)\s+([A-Za-z_][\w.]*)\s*\??\s*$", q)
    return (m.group(1), []) if m else (None, [])


# Prefixes bundlers use to ship a variable to the browser; "SERVICE_ROLE_KEY" asked about
# may be known only as "VITE_SUPABASE_SERVICE_ROLE_KEY".
_PUBLIC_PREFIXES = (
    "NEXT_PUBLIC_",
    "VITE_",
    "REACT_APP_",
    "PUBLIC_",
    "EXPO_PUBLIC_",
    "NUXT_PUBLIC_",
)


def similar_names(name: str, facts: Facts) -> list[str]:
    """Known env var / secret names the user may have meant by an unknown ``name``: the same
    name under a bundler prefix, a name ending with it, or a close spelling."""
    known = sorted({e.name for e in facts.env_vars} | {s.name for s in facts.secrets})
    want = name.upper()
    out = [
        k
        for k in known
        if k.upper() != want
        and (
            any(k.upper() == p + want for p in _PUBLIC_PREFIXES)
            or k.upper().endswith("_" + want)
            or want.endswith("_" + k.upper())
        )
    ]
    if not out:
        out = difflib.get_close_matches(name, known, n=3, cutoff=0.8)
    return out[:3]


def find_name(question: str, facts: Facts) -> str | None:
    """An env var or secret name: one the facts know first, else an UPPER_SNAKE or quoted word."""
    q = question[:2000]
    known = {e.name.lower(): e.name for e in facts.env_vars}
    known.update({s.name.lower(): s.name for s in facts.secrets})
    for word in _BACKTICK.findall(q) + _WORD.findall(q):
        if word.lower() in known:
            return known[word.lower()]
    upper = _UPPER.findall(q)
    skip = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "SQL", "API"}
    upper = [u for u in upper if u not in skip]
    if upper:
        return upper[0]
    quoted = _BACKTICK.findall(q)
    return quoted[0] if quoted else None


def finding_ref(question: str) -> tuple[int | None, str | None]:
    """(1-based index, id) of the finding a question names: "finding 3", "TM-1a2b3c4d"."""
    q = question[:2000]
    m = re.search(r"\b(TM-[0-9a-f]{4,16}|[0-9a-f]{8,16})\b", q, re.IGNORECASE)
    if m and not m.group(1).isdigit():
        return None, m.group(1)
    m = re.search(r"finding\s*(?:no\.?|number|#)?\s*#?(\d{1,6})\b|#(\d{1,6})\b", q, re.IGNORECASE)
    if m:
        return int(m.group(1) or m.group(2)), None
    m = re.search(r"\b(\d{1,6})(?:st|nd|rd|th)?\s+finding\b", q, re.IGNORECASE)
    if m:
        return int(m.group(1)), None
    return None, None


def mentioned_locations(question: str) -> list[tuple[str, int]]:
    """(path, line) for each file a question names (``src/app.py``, ``app.py:60``; line 1
    when none is given). Only names: the files are read later, through RepoReader."""
    out: list[tuple[str, int]] = []
    for m in re.finditer(r"([\w./\\-]+\.[A-Za-z]{1,8})\b(?::(\d{1,7}))?", question[:5000]):
        tok = m.group(1).removeprefix("./")
        loc = (tok, max(1, int(m.group(2) or 1)))
        if not re.fullmatch(r"[\d.]+", tok) and loc not in out:
            out.append(loc)
    return out[:5]


def mentioned_paths(question: str) -> list[str]:
    return list(dict.fromkeys(path for path, _ in mentioned_locations(question)))
