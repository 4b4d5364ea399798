"""Which lines of a long function the LLM reads; the quiet rest is folded to one marker line.

A route's handler, a function it calls or a function a flow passes through is quoted whole
when it is short (at most ``FOCUS_MIN_LINES`` lines). A longer one keeps:

- its head (decorators and signature: where the request arrives);
- every line a fact points at: the dataflow engine's flow points (source, each step, sink)
  and the dangerous calls the collectors found (``anchors``);
- every statement that reads request data or a value derived from it: names are followed
  through the excerpt's own text from the function's parameters and the request objects
  (``request``, ``req``, ``ctx``), across assignments, ``for`` targets, ``with ... as`` and
  ``x.append(v)``-style mutations, so a check on a request value, an ORM lookup by a
  request id or a request value written into a response is kept whether or not it reaches
  a catalogued sink (the request object merely handed on, ``render(request, "page.html")``,
  is not request data);

plus ``WINDOW`` lines either side of each. A run of at least ``MIN_FOLD`` other lines is
one marker line, ``a-b| … n lines without request data or sinks``, so the model still knows
the lines exist and where; nothing is dropped without saying so. The following is textual
(any language the excerpts hold), deliberately generous: a line kept for a name it merely
shares with a request value costs tokens, never a missed threat.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Sequence

FOCUS_MIN_LINES = 12  # a function this short is read whole
WINDOW = 1  # lines kept either side of a line that matters
MIN_FOLD = 3  # a shorter quiet run costs less shown than as a marker
MAX_HEAD_LINES = 6  # decorators and a long signature
REQUEST_NAMES = frozenset({"request", "req", "ctx"})
# Parameters that are not data (the response writer, the next middleware) and literals.
_NOT_DATA = frozenset(
    {"self", "cls", "this", "res", "response", "next", "app", "None", "True", "False", "null"}
    | {"undefined", "async", "def", "function", "str", "int", "bool", "dict", "list", "any"}
)
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_STRING = re.compile(r"""(?:'[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*")""")
# `x = v`, `x += v`, `a, b = v`, `const {a, b} = v`, `let [a] = v`, `x.y = v`, `x[k] = v`
_ASSIGN = re.compile(
    r"""^\s*(?:(?:const|let|var|export)\s+)*(?P<lhs>[\w$.\[\]{}:,\s'"*]+?)
    \s*(?::\s*[\w\[\], |.]+\s*)?(?:[-+*/%|&^]|//|\?\?|\|\||&&)?=(?!=)""",
    re.X,
)
_FOR = re.compile(
    r"^\s*(?:async\s+)?for\s*\(?\s*(?:const|let|var)?\s*(?P<lhs>[\w$,\s\[\]{}()]+?)\s+(?:in|of)\s"
)
_WITH_AS = re.compile(r"\bas\s+(?P<lhs>[A-Za-z_]\w*)")
_MUTATE = re.compile(
    r"([A-Za-z_$][\w$]*)\s*\.\s*(?:append|extend|add|update|insert|push|unshift|set)\s*\("
)
_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|function)\b|=>|^\s*(?:export\s+)?(?:async\s+)?\w+\s*\(")


def _names(text: str) -> set[str]:
    return set(_IDENT.findall(_STRING.sub("''", text)))


def names(text: str) -> set[str]:
    """The identifiers of a line of code, those inside string literals too (an f-string's
    ``{bar}``)."""
    return set(_IDENT.findall(text))


def _statements(lines: Sequence[str]) -> list[tuple[int, int]]:
    """Index ranges (first, last) of logical lines: a line with an open bracket runs on."""
    out: list[tuple[int, int]] = []
    depth, first = 0, 0
    for i, text in enumerate(lines):
        code = _STRING.sub("''", text.split("#", 1)[0] if text.lstrip().startswith("#") else text)
        depth = max(
            0, depth + sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        )
        if depth == 0:
            out.append((first, i))
            first = i + 1
    if first < len(lines):
        out.append((first, len(lines) - 1))
    return out


def _body_statements(lines: Sequence[str]) -> list[tuple[int, int]]:
    """``_statements`` of a function read as its head, then its body's statements.

    A brace language's head opens the brackets its body closes (``router.get(p, function
    (req, res) {`` ... ``})``): counted from the head, the whole body would be one statement,
    kept whole as soon as any line of it reads the request."""
    if not is_function(lines):
        return _statements(lines)
    head = _head_end(lines)
    body = _statements(lines[head + 1 :])
    return [(0, head), *((head + 1 + a, head + 1 + b) for a, b in body)]


def statement_spans(lines: Sequence[str], start: int) -> list[tuple[int, int]]:
    """Line numbers (first, last) of ``lines``' logical lines (``start`` is the first's); a
    function's body statements apart from its head."""
    return [(start + a, start + b) for a, b in _body_statements(lines)]


def _head_end(lines: Sequence[str]) -> int:
    """Index of the signature's last line (decorators and signature are the head)."""
    for i, text in enumerate(lines[:MAX_HEAD_LINES]):
        if _DEF.search(text):
            for j in range(i, min(len(lines), i + MAX_HEAD_LINES)):
                stripped = lines[j].rstrip()
                if stripped.endswith((":", "{", "=>")) or "=> " in stripped:
                    return j
            return i
    return 0


def _targets(text: str) -> set[str]:
    names: set[str] = set()
    for pattern in (_ASSIGN, _FOR):
        m = pattern.match(text)
        if m:
            lhs = m.group("lhs")
            # `x.y = v` / `x[k] = v` taint x; `{a, b: c}` taints a and c
            names |= {n for n in _IDENT.findall(lhs) if n not in ("const", "let", "var")}
    names |= {m.group("lhs") for m in _WITH_AS.finditer(text)}
    return names


def _block_targets(stmt: Sequence[str]) -> set[str]:
    """``_targets`` of a statement and of the statements a brace block of it holds (a line
    after one ending in ``{``, ``}`` or ``;``: ``} else {`` then ``data = file.data``)."""
    names = _targets("\n".join(stmt))
    for before, text in itertools.pairwise(stmt):
        if before.rstrip().endswith(("{", "}", ";")):
            names |= _targets(text)
    return names


def assigned(text: str) -> set[str]:
    """The names a statement assigns (``x = ...``, ``for x in``, ``with ... as x``)."""
    return _targets(text) - _NOT_DATA


def live_lines(lines: Sequence[str], start: int, anchors: Collection[int]) -> set[int]:
    """Line numbers (``start`` is the first's) of ``lines`` the model must read."""
    return _followed(lines, start, anchors)[0]


# A function's head (`def`, `function`, an arrow, a method `name(args) {`), not a call that
# `_DEF` would also take for one (`path('logout/', LogoutView.as_view()),`).
# (``function`` anywhere: an Express handler written inline, ``router.get(p, function (req,
# res) {``, is a function too)
_FUNCTION = re.compile(r"^\s*(?:async\s+)?def\b|\bfunction\b|=>|^\s*\w+\s*\(.*\)\s*\{\s*$")
_EXIT = re.compile(r"^\s*(?:return|raise|throw|abort)\b")
_BRANCH = re.compile(r"^\s*(?:\}\s*)?(?:(?:el)?if\b|else\b)")


def is_function(lines: Sequence[str]) -> bool:
    """Whether an excerpt is a function (its head in the first lines), not a route table's
    entry or a module's statements."""
    return any(_FUNCTION.search(t) for t in lines[:MAX_HEAD_LINES])


def touched_lines(lines: Sequence[str], start: int, anchors: Collection[int]) -> set[int]:
    """``live_lines``, every exit (``return``, ``raise``, ``throw``, ``abort``) and the
    branch line it ends (``if not session.get('uid'):`` before ``abort(403)``): a plain
    write route's handler read by what it does with request data, what it answers and
    the checks that refuse a caller (``CodeRef.touched``)."""
    if not is_function(lines):
        return set(range(start, start + len(lines)))  # not a function: read whole
    out = live_lines(lines, start, anchors)
    stmts = _body_statements(lines)
    for i, (a, b) in enumerate(stmts):
        if _EXIT.match(lines[a]):
            out.update(range(start + a, start + b + 1))
            if i and _BRANCH.match(lines[stmts[i - 1][0]]):
                out.update(range(start + stmts[i - 1][0], start + stmts[i - 1][1] + 1))
    return out


_REQUEST_VALUE = re.compile(r"\b(?:request|req|ctx)\s*[.\[]")


def _reads(text: str, names: set[str], tainted: Collection[str]) -> bool:
    """Whether a statement reads request data: a value derived from it, a field of a request
    object (``request.GET['q']``, ``request.user``), or what a call makes of the whole object
    kept in a name (``wrapped = request_wrapper(request)``). The request object merely
    handed on (``return render(request, "page.html")``) reads nothing: in a Django view every
    other line does that, and quoting them all would spend the budget on templates."""
    if names & (set(tainted) - REQUEST_NAMES):
        return True
    if not names & REQUEST_NAMES:
        return False
    return bool(_REQUEST_VALUE.search(_STRING.sub("''", text)) or _targets(text))


def _followed(
    lines: Sequence[str], start: int, anchors: Collection[int], params: bool = True
) -> tuple[set[int], frozenset[str]]:
    """(line numbers to read, the names that hold request data); ``params=False``: the
    function's parameters are not taken for request data, only the request objects."""
    head = _head_end(lines)
    # The parameters: the names inside the signature's brackets (not the decorators').
    first = next((i for i, t in enumerate(lines[: head + 1]) if _DEF.search(t)), 0)
    signature = "\n".join(lines[first : head + 1])
    names = _names(signature[signature.find("(") + 1 : signature.rfind(")")])
    tainted = (REQUEST_NAMES | (names if params else frozenset())) - _NOT_DATA
    stmts = _body_statements(lines)
    keep: set[int] = set(range(head + 1))
    for _ in range(2):  # twice: a loop body taints a name used above it
        for a, b in stmts:
            text = "\n".join(lines[a : b + 1])
            names = _names(text)
            hit = _reads(text, names, tainted) or any(start + i in anchors for i in range(a, b + 1))
            if not hit:
                continue
            keep.update(range(a, b + 1))
            tainted |= _block_targets(lines[a : b + 1]) - _NOT_DATA
            tainted |= {m.group(1) for m in _MUTATE.finditer(text)} - _NOT_DATA
    return {start + i for i in keep}, tainted


# Builtins that inspect the value itself: `if isinstance(bar, str)` decides nothing.
_INSPECT = frozenset(
    {"isinstance", "len", "str", "int", "float", "bool", "type", "hasattr", "repr", "callable"}
    # printing a value decides nothing either
    | {"print", "console.log"}
)
# Keywords before a bracket: `if(request.method == "POST"):` is no call, and the call (if
# any) around the bracket is the one the value goes to (`return (lookup(x))`).
_KEYWORDS = frozenset(
    {"if", "elif", "while", "for", "return", "not", "and", "or", "in", "switch", "assert"}
    | {"await", "yield", "typeof", "new", "throw", "raise", "del"}
)
_CALLEE = re.compile(r"([\w$.]+)\s*$")
_DEFINES = re.compile(r"\b(?:def|function)\s*[\w$]*\s*$")
# What a brace opening a block follows (`) {`, `=> {`, `else {`); any other opens a value.
_BLOCK = re.compile(r"(?:\)|=>|\b(?:else|try|finally|do))\s*$")
_OPEN = {"(": ")", "[": "]", "{": "}"}


def _handed_on(stack: Sequence[tuple[str, str]], tainted: Collection[str]) -> bool:
    """Whether a value inside these open brackets (innermost last) is an argument of a call
    that is not a read of the request itself nor a builtin looking at the value.

    A bracket of a keyword, a tuple, a list or an object literal lies between the value and
    its call (``f({"q": request.GET["q"]})``); a block's brace or a definition's parameters
    end the search: the statement inside a callback is its own."""
    for bracket, callee in reversed(stack):
        if callee in ("block", "def"):
            return False
        if bracket != "(" or not callee or callee in _KEYWORDS:
            continue
        return callee not in _INSPECT and callee.split(".")[0] not in tainted
    return False


def _bracket(code: str, at: int) -> tuple[str, str]:
    """The frame a bracket opening at ``code[at]`` pushes: (bracket, what it belongs to:
    a callee's dotted name, ``def``, ``block`` or "")."""
    before = code[:at]
    if code[at] == "{":
        return "{", "block" if _BLOCK.search(before) else ""
    if code[at] == "[" or _DEFINES.search(before):
        return code[at], "def" if code[at] == "(" else ""
    m = _CALLEE.search(before)
    return "(", m.group(1) if m else ""


# What the server set or matched, handed on (``set_cookie(..., path=request.path)``): the
# method, the signed-in user, the path the router matched (a parameter in it is read by
# name, a derived value).
_ROUTED = re.compile(r"\b(?:request|req|ctx)\s*\.\s*(?:method|user|path)\b")


def request_uses(lines: Sequence[str], start: int, params: bool = True) -> set[int]:
    """Line numbers of statements that hand a value read from the request to a call: a
    password compared by a lookup, an ownership test (``if Doc.objects.filter(owner=uid)``),
    request text written to a file (``f.write(code)``), a request value in a multi-line
    call's arguments (``res.render(page, {\n vuln: req.params.vuln, ...``: the line of the
    value is the use). Not one: a read (``request.form.get(k)``), a builtin inspecting the
    value (``isinstance``, ``len``), the request object itself handed to the framework
    (``render(request, ...)``). ``params=False`` for a helper the handler calls: its
    parameters may be any value (an escaping loop tests its input's characters), only what
    it reads from the request objects counts."""
    live, tainted = _followed(lines, start, (), params)
    head = _head_end(lines)
    out = set()
    derived = tainted - REQUEST_NAMES
    for a, b in _body_statements(lines):
        stack: list[tuple[str, str]] = []  # a statement's brackets close within it
        for i in range(max(a, head + 1), b + 1):
            code = _STRING.sub("''", lines[i])
            if code.lstrip().startswith(("#", "//")):
                continue  # a comment line
            # a value read from the request (`code`, `request.POST['x']`), not the request
            # object itself handed to the framework (`render(request, ...)`)
            values = {m.start() for m in _IDENT.finditer(code) if m.group() in derived}
            values |= {m.start() for m in _REQUEST_VALUE.finditer(code)}
            values -= {m.start() for m in _ROUTED.finditer(code)}
            for col, ch in enumerate(code):
                if col in values and start + i in live and _handed_on(stack, tainted):
                    out.add(start + i)
                if ch in _OPEN:
                    stack.append(_bracket(code, col))
                elif ch in ")]}" and stack:
                    stack.pop()
    return out


_CONDITION = re.compile(r"^\s*(?:\}\s*)?(?:(?:el)?if|while)\b")
# What the server itself set on a request, not what the caller sent: `if request.method ==
# "POST"` dispatches, `if request.user.is_authenticated` is the login check (guards.py).
_SERVER_SET = re.compile(r"\b(?:request|req|ctx)\s*\.\s*(?:method|user)\b")


def request_branches(lines: Sequence[str], start: int, params: bool = True) -> set[int]:
    """Line numbers of the conditions (``if``, ``elif``, ``while``) that test what the caller
    sent: a header compared to a host name that unlocks a secret, a field that picks a
    branch. Not one: a test of the method or of the logged-in user. Such a handler decides
    on attacker input without a catalogued sink, which is where logic flaws live."""
    _live, tainted = _followed(lines, start, (), params)
    derived = tainted - REQUEST_NAMES
    head = _head_end(lines)
    out = set()
    for a, b in _body_statements(lines):
        text = _STRING.sub("''", "\n".join(lines[a : b + 1]))
        if a <= head or not _CONDITION.match(text):
            continue
        if _names(text) & derived or _REQUEST_VALUE.search(_SERVER_SET.sub("", text)):
            out.add(start + a)
    return out


_CLOSE = re.compile(r"^\s*[)}\]]*;?\s*$")


def passes_on(lines: Sequence[str]) -> bool:
    """Whether a function's body is one ``return`` of a call and nothing else (a GET handler
    answering with the POST handler's response, a wrapper): one line says all it does."""
    if not is_function(lines):
        return False
    # the body alone: a brace language's head opens a block the statements would run on in
    rest = [t for t in lines[_head_end(lines) + 1 :] if t.strip() and not _CLOSE.match(t)]
    body = _statements(rest)
    if len(body) != 1:
        return False
    text = "\n".join(rest[body[0][0] : body[0][1] + 1])
    return bool(_EXIT.match(text)) and text.lstrip().startswith("return") and "(" in text


def request_reads(lines: Sequence[str], start: int) -> set[int]:
    """Line numbers of the statements after the head that read the request objects
    (``request.form.get(k)``, ``req.body.x``, ``request.COOKIES['id']``) or keep what a
    call makes of one (``wrapped = request_wrapper(request)``)."""
    head = _head_end(lines)
    out: set[int] = set()
    for a, b in _body_statements(lines):
        text = _STRING.sub("''", "\n".join(lines[a : b + 1]))
        if a <= head:
            continue
        if _REQUEST_VALUE.search(text) or (_ASSIGN.match(text) and _names(text) & REQUEST_NAMES):
            out.add(start + a)
    return out


def fold(numbered: list[tuple[int, str]], live: set[int]) -> list[str]:
    """``n|code`` lines with quiet runs (no line within ``WINDOW`` of a live one) folded."""
    near = {n + d for n in live for d in range(-WINDOW, WINDOW + 1)}
    out: list[str] = []
    run: list[tuple[int, str]] = []

    def flush() -> None:
        if len(run) >= MIN_FOLD:
            a, b = run[0][0], run[-1][0]
            out.append(f"{a}-{b}| … {len(run)} lines without request data or sinks")
        else:
            out.extend(f"{n}|{t}" for n, t in run)
        run.clear()

    for n, text in numbered:
        if n in near:
            flush()
            out.append(f"{n}|{text}")
        else:
            run.append((n, text))
    flush()
    return out
