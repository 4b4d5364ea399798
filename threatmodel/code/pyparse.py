"""Parse Python source whatever Python runs the tool: the one ``ast`` parse of the project.

``parse_python`` first asks the running interpreter (``ast.parse``). When that refuses the
text, the syntax may simply be newer than the interpreter (the tool supports 3.11; a
repository may be written for 3.14), so the text is rewritten into an equivalent that 3.11
reads, keeping every line and, as far as possible, every column:

- f-strings (PEP 701: nested quotes of the same kind, backslashes, comments and newlines in
  replacement fields) and t-strings (PEP 750) are lexed by ``_pylex`` and replaced by a
  plain string of the same layout; after parsing, each is rebuilt as the ``JoinedStr``
  3.12 would give (its fields' expressions parsed at their real positions, recursively);
- type parameter lists (PEP 695/696: ``def f[T: (int, str)]``, ``class C[T = int]``) are
  blanked; ``type X[T] = ...`` becomes the assignment ``X = ...``;
- ``except A, B:`` (PEP 758) gets its parentheses (the rest of that line moves one column).

Blanking preserves each line's UTF-8 length, so the byte columns ``ast`` reports are the
original's. Text that is not Python even then raises ``NotPython`` with the line: a caller
says "not Python 3.x syntax", never that valid code has a syntax error.
"""

from __future__ import annotations

import ast
import re
import tokenize
import warnings
from bisect import bisect_left, bisect_right
from functools import lru_cache

from threatmodel.code._pylex import Field, LexError, StrToken, string_tokens

__all__ = ["NotPython", "parse_python", "python_tree"]

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_SKIP_BEFORE_STMT = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
_ALIAS_MARK = "_;  "  # replaces `type` in `type X = ...`; the `_` statement is dropped after


class NotPython(ValueError):
    """The text is not Python 3 (as far as any version up to 3.14 goes)."""

    def __init__(self, line: int | None, reason: str = "") -> None:
        self.line = line
        self.reason = reason
        at = f" at line {line}" if line else ""
        super().__init__(f"not Python 3.x syntax{at}")


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """The module's AST; raises ``NotPython`` (or RecursionError/MemoryError when too deep)."""
    tree = _parse(text, filename, "exec")
    assert isinstance(tree, ast.Module)
    return tree


@lru_cache(maxsize=32)
def python_tree(text: str) -> ast.Module | None:
    """``parse_python`` for readers that re-read a file (verifiers, excerpts, ``ask``), or
    None when it is not Python; one parse per text however many of them ask.

    The tree is shared between callers: read it, never change it.
    """
    try:
        return parse_python(text)
    except (NotPython, RecursionError, MemoryError):
        return None


def parse_lines(lines: list[str], first: int, last: int, filename: str) -> list[ast.stmt]:
    """The statements of lines ``first``..``last`` (1-based) of a file, parsed alone at their
    own line numbers and columns (an indented block, a method, under an ``if 1:`` on the
    line above: a method always has its class's line there); [] when they do not parse
    alone. A reader that needs one definition of a large file parses it, not the file."""
    segment = "\n".join(lines[first - 1 : last])
    indented = segment[:1].isspace()
    if indented and first < 2:
        return []
    head = "\n" * (first - 2) + "if 1:\n" if indented else "\n" * (first - 1)
    try:
        body = parse_python(head + segment, filename=filename).body
    except (NotPython, RecursionError, MemoryError):
        return []
    if indented:
        return body[0].body if body and isinstance(body[0], ast.If) else []
    return body


def _parse(text: str, filename: str, mode: str) -> ast.AST:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in user code
            return ast.parse(text, filename=filename, mode=mode)
    except SyntaxError as exc:
        first = exc
    except ValueError as exc:  # NUL bytes
        raise NotPython(None, str(exc)) from None
    try:
        return _Rewrite(text, mode).parse(filename)
    except (SyntaxError, LexError, tokenize.TokenError, ValueError):
        raise NotPython(first.lineno, first.msg) from None


class _Rewrite:
    """One text rewritten for the running interpreter, and the way back to 3.12's tree."""

    def __init__(self, text: str, mode: str) -> None:
        self.text = text
        self.mode = mode
        self.line_starts = [m.start() for m in _LINES.finditer(text)] or [0]
        self.all_tokens = string_tokens(text)
        self.tokens = [t for t in self.all_tokens if t.formatted]
        self.starts = [t.start for t in self.all_tokens]
        self.alias_marks: set[tuple[int, int]] = set()
        # (row, byte column) of a `type` statement's name -> the column of `type` itself
        self.alias_names: dict[tuple[int, int], int] = {}
        self.shifts: dict[int, list[tuple[int, int]]] = {}  # row -> (byte column, inserted)

    # -- positions ---------------------------------------------------------------------
    def where(self, index: int) -> tuple[int, int]:
        """(1-based line, UTF-8 byte column) of a character index."""
        row = bisect_right(self.line_starts, index) - 1
        start = self.line_starts[row]
        return row + 1, len(self.text[start:index].encode("utf-8", "surrogatepass"))

    def index(self, line: int, col: int) -> int:
        """The character index of an ``ast`` (line, byte column)."""
        start = self.line_starts[line - 1]
        head = self.text[start : start + col].encode("utf-8", "surrogatepass")[:col]
        return start + len(head.decode("utf-8", "ignore"))

    # -- rewriting ---------------------------------------------------------------------
    def parse(self, filename: str) -> ast.AST:
        source = self._rewrite_statements(self._placeholders())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=filename, mode=self.mode)
        if self.shifts:
            self.unshift(tree)
        return ast.fix_missing_locations(_Restore(self).visit(tree))

    def _placeholders(self) -> str:
        """The text with each f/t-string replaced by a blank plain string of the same layout."""
        out: list[str] = []
        pos = 0
        for tok in self.tokens:
            out.append(self.text[pos : tok.start])
            q = tok.quote
            body = self.text[tok.start + len(tok.prefix) + len(q) : tok.end - len(q)]
            out.append(q + " " * len(tok.prefix) + _blank(body, continued=len(q) == 1) + q)
            pos = tok.end
        out.append(self.text[pos:])
        return "".join(out)

    def _rewrite_statements(self, source: str) -> str:
        """Blank type parameters, turn ``type`` statements into assignments, parenthesise
        ``except A, B``: edits on the tokens the running interpreter's tokenizer gives."""
        lines = [m.group() for m in _LINES.finditer(source)]
        feed = iter(lines)
        toks = list(tokenize.generate_tokens(lambda: next(feed, "")))
        edits: list[tuple[int, int, int, str]] = []  # (row, col, end col, replacement)
        for i, tok in enumerate(toks):
            nxt = toks[i + 1 : i + 3]
            if tok.type != tokenize.NAME or len(nxt) < 2:
                continue
            if tok.string in ("def", "class") and nxt[0].type == tokenize.NAME:
                if nxt[1].string == "[":
                    edits += _blank_brackets(toks, i + 2, lines)
            elif tok.string == "type" and nxt[0].type == tokenize.NAME and _starts_stmt(toks, i):
                if nxt[1].string in ("[", "="):
                    row, col = tok.start
                    edits.append((row, col, col + 4, _ALIAS_MARK))
                    at = len(lines[row - 1][:col].encode())
                    self.alias_marks.add((row, at))
                    name_at = len(lines[row - 1][: nxt[0].start[1]].encode())
                    self.alias_names[(row, name_at)] = at
                    if nxt[1].string == "[":
                        edits += _blank_brackets(toks, i + 2, lines)
            elif tok.string == "except":
                for row, col, end, new in _paren_except(toks, i):
                    edits.append((row, col, end, new))
                    if end == col:  # an insertion: later columns on the row move
                        at = len(lines[row - 1][:col].encode())
                        self.shifts.setdefault(row, []).append((at, len(new)))
        for row, col, end, new in sorted(edits, reverse=True):
            line = lines[row - 1]
            lines[row - 1] = line[:col] + new + line[end:]
        return "".join(lines)

    # -- the way back ------------------------------------------------------------------
    def unshift(self, tree: ast.AST) -> None:
        """Columns moved by inserted parentheses moved back."""
        for node in ast.walk(tree):
            for lname, cname in (("lineno", "col_offset"), ("end_lineno", "end_col_offset")):
                row = getattr(node, lname, None)
                for at, delta in self.shifts.get(row, ()) if row is not None else ():
                    if getattr(node, cname) > at:
                        setattr(node, cname, getattr(node, cname) - delta)

    def joined(self, node: ast.Constant) -> ast.expr | None:
        """The ``JoinedStr`` a placeholder ``node`` stands for, or None if it is none."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        start = self.index(node.lineno, node.col_offset)
        end = self.index(node.end_lineno, node.end_col_offset)
        group = [
            t
            for t in self.all_tokens[
                bisect_left(self.starts, start) : bisect_left(self.starts, end)
            ]
            if t.end <= end
        ]
        if not any(t.formatted for t in group):
            return None
        values: list[ast.expr] = []
        for tok in group:
            values += self._values(tok) if tok.formatted else [_constant(self.literal(tok))]
        out = ast.JoinedStr(values=_merge(values))
        self._locate(out, group[0].start, group[-1].end)
        return out

    def literal(self, tok: StrToken) -> str:
        value = ast.literal_eval(self.text[tok.start : tok.end])
        return value if isinstance(value, str) else ""

    def _values(self, tok: StrToken, parts: list[str | Field] | None = None) -> list[ast.expr]:
        raw = "r" in tok.prefix
        values: list[ast.expr] = []
        for part in tok.parts if parts is None else parts:
            if isinstance(part, str):
                values.append(_constant(part if raw else _unescape(part)))
                continue
            if part.debug is not None:
                values.append(_constant(part.debug))
            expr = self.expression(part)
            conversion = part.conversion
            if part.debug is not None and conversion < 0 and part.spec is None:
                conversion = ord("r")
            spec = None
            if part.spec is not None:
                spec = ast.JoinedStr(values=_merge(self._values(tok, part.spec)))
                self._locate(spec, part.start, part.end)
            value = ast.FormattedValue(value=expr, conversion=conversion, format_spec=spec)
            self._locate(value, part.start, part.end)
            values.append(value)
        return values

    def expression(self, part: Field) -> ast.expr:
        """A replacement field's expression, parsed as ``(expr)`` and moved into place."""
        text = self.text[part.expr_start : part.expr_end]
        tree = _parse(f"({text})", "<f-string>", "eval")
        assert isinstance(tree, ast.Expression)
        line, col = self.where(part.start)  # the "(" stands where "{" stood
        for sub in ast.walk(tree.body):
            if "lineno" not in sub._attributes:
                continue
            for lname, cname in (("lineno", "col_offset"), ("end_lineno", "end_col_offset")):
                row = getattr(sub, lname, None)
                if row is None:
                    continue
                if row == 1:
                    setattr(sub, cname, getattr(sub, cname) + col)
                setattr(sub, lname, row + line - 1)
        return tree.body

    def _locate(self, node: ast.AST, start: int, end: int) -> None:
        node.lineno, node.col_offset = self.where(start)  # type: ignore[attr-defined]
        node.end_lineno, node.end_col_offset = self.where(end)  # type: ignore[attr-defined]
        if isinstance(node, ast.JoinedStr):
            for value in node.values:
                if isinstance(value, ast.Constant):
                    ast.copy_location(value, node)


class _Restore(ast.NodeTransformer):
    """Placeholders back to ``JoinedStr``; the marks of ``type`` statements dropped."""

    def __init__(self, rewrite: _Rewrite) -> None:
        self.rw = rewrite

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and self.rw.tokens:
            return self.rw.joined(node) or node
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        value = node.value
        mark = (node.lineno, node.col_offset) in self.rw.alias_marks
        if mark and isinstance(value, ast.Name) and value.id == "_":
            return None
        self.generic_visit(node)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        # `type X = ...` starts where `type` does, as 3.12's TypeAlias node.
        at = self.rw.alias_names.get((node.lineno, node.col_offset))
        if at is not None:
            node.col_offset = at
        self.generic_visit(node)
        return node


def _starts_stmt(toks: list[tokenize.TokenInfo], i: int) -> bool:
    prev = toks[i - 1] if i else None
    return prev is None or prev.type in _SKIP_BEFORE_STMT or prev.string == ";"


def _blank_brackets(
    toks: list[tokenize.TokenInfo], open_at: int, lines: list[str]
) -> list[tuple[int, int, int, str]]:
    """Edits blanking the bracketed list opening at ``toks[open_at]`` (``[``...``]``)."""
    depth = 0
    for k in range(open_at, len(toks)):
        s = toks[k].string
        if toks[k].type == tokenize.OP and s in "([{":
            depth += 1
        elif toks[k].type == tokenize.OP and s in ")]}":
            depth -= 1
            if depth == 0:
                return _blank_span(toks[open_at].start, toks[k].end, lines)
    raise LexError(0, "unclosed type parameter list")


def _blank_span(
    start: tuple[int, int], end: tuple[int, int], lines: list[str]
) -> list[tuple[int, int, int, str]]:
    """Blank from ``start`` to ``end`` (rows, char columns); a line that goes on gets a
    backslash so the statement stays one logical line."""
    edits = []
    for row in range(start[0], end[0] + 1):
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        a = start[1] if row == start[0] else 0
        b = end[1] if row == end[0] else len(body)
        new = _blank(line[a:b], continued=False)
        if row != end[0]:
            if not new:
                raise LexError(0, "empty line in a type parameter list")
            new = new[:-1] + "\\"
        edits.append((row, a, b, new))
    return edits


def _paren_except(toks: list[tokenize.TokenInfo], i: int) -> list[tuple[int, int, int, str]]:
    """``except A, B:`` → ``except (A, B):`` (PEP 758); nothing for the other forms."""
    k = i + 1
    if k < len(toks) and toks[k].string == "*":
        k += 1
    first, depth, comma = k, 0, False
    while k < len(toks) and toks[k].type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
        s = toks[k].string
        if s in ("(", "[", "{"):
            depth += 1
        elif s in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and s == ",":
            comma = True
        elif depth == 0 and s == "as":
            return []
        elif depth == 0 and s == ":":
            if not comma:
                return []
            (r0, c0), (r1, c1) = toks[first].start, toks[k].start
            if toks[first - 1].end[0] == r0 and toks[first - 1].end[1] < c0:
                return [(r1, c1, c1, ")"), (r0, c0 - 1, c0, "(")]  # "(" takes a space
            return [(r1, c1, c1, ")"), (r0, c0, c0, "(")]
        k += 1
    return []


def _blank(text: str, continued: bool) -> str:
    """``text`` as spaces of the same UTF-8 length, line breaks kept; ``continued``: a
    backslash before each break, for a single-quoted placeholder that spans lines."""
    out: list[str] = []
    for c in text:
        if c in "\r\n":
            if continued and c == "\n" and out and out[-1] == "\r":
                pass
            elif continued:
                if not out or out[-1] in "\r\n":
                    raise LexError(0, "line break at the start of a string")
                out[-1] = out[-1][:-1] + "\\"
            out.append(c)
        else:
            out.append(" " * len(c.encode("utf-8", "surrogatepass")))
    return "".join(out)


def _constant(value: str) -> ast.Constant:
    return ast.Constant(value=value)


def _merge(values: list[ast.expr]) -> list[ast.expr]:
    """Adjacent constants joined, empty ones dropped (as the compiler does)."""
    out: list[ast.expr] = []
    for v in values:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            if not v.value:
                continue
            if out and isinstance(out[-1], ast.Constant) and isinstance(out[-1].value, str):
                out[-1] = ast.copy_location(_constant(out[-1].value + v.value), out[-1])
                continue
        out.append(v)
    return out


def _unescape(text: str) -> str:
    """A non-raw literal's escapes decoded (``\\n``, ``\\x41``, ``\\N{DASH}``, ...)."""
    if "\\" not in text:
        return text
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return text
