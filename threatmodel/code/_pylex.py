"""A lexer for Python string literals as Python 3.12+ reads them (PEP 701 f-strings, t-strings).

``pyparse`` needs to know where every string literal of a file starts and ends, and the
structure of each f-string (literal text, replacement fields with their expression text,
conversion and format spec), when the running interpreter's own tokenizer cannot tell: under
Python 3.11 ``f"{x["a"]}"`` ends at the second quote. This lexer follows the 3.12 rules: inside
a replacement field a quote always opens a new, nested string; backslashes, comments and
newlines are allowed there. Everything outside strings and comments is skipped: the parser,
not this lexer, reads the code.

Positions are indices into the text (characters). A malformed literal raises ``LexError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Every string prefix Python 3.14 accepts (case-insensitive); "t" is PEP 750's template.
_PREFIXES = frozenset({"", "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"})
_TOP = re.compile(r"""[#'"]""")
# Runs of characters with no meaning inside an f-string's literal text.
_FTEXT = re.compile(r"""[^\\{}\r\n'"]+""")
# Runs with no meaning inside a replacement field's expression.
_FEXPR = re.compile(r"""[^\\{}()\[\]'"#!:=\r\n]+""")


class LexError(ValueError):
    """The text has a string literal that no Python version accepts; ``pos`` is its index."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos


@dataclass
class Field:
    """One ``{expr!c:spec}`` of an f-string: indices of ``{``, the expression and the end."""

    start: int
    expr_start: int
    expr_end: int
    end: int  # after the closing brace
    debug: str | None = None  # "expr=" text of a self-documenting field, verbatim
    conversion: int = -1
    spec: list[str | Field] | None = None


@dataclass
class StrToken:
    """A string literal: ``start`` is its prefix's index, ``end`` is after its closing quote."""

    start: int
    end: int
    prefix: str  # lower-case
    quote: str
    parts: list[str | Field] = field(default_factory=list)  # f/t-strings: raw literal text, fields

    @property
    def formatted(self) -> bool:
        return "f" in self.prefix or "t" in self.prefix


def string_tokens(text: str) -> list[StrToken]:
    """Every top-level string literal of ``text``, in order (comments skipped)."""
    out: list[StrToken] = []
    i = 0
    while (m := _TOP.search(text, i)) is not None:
        j = m.start()
        if text[j] == "#":
            i = _line_end(text, j)
            continue
        tok = scan_string(text, j)
        out.append(tok)
        i = tok.end
    return out


def _line_end(text: str, i: int) -> int:
    ends = [k for k in (text.find("\n", i), text.find("\r", i)) if k >= 0]
    return min(ends) if ends else len(text)


def _prefix_before(text: str, quote_at: int) -> str:
    """The string prefix written right before the quote at ``quote_at``, or ""."""
    k = quote_at
    while k > 0 and quote_at - k < 3 and (text[k - 1].isalnum() or text[k - 1] == "_"):
        k -= 1
    word = text[k:quote_at]
    if k > 0 and (text[k - 1].isalnum() or text[k - 1] == "_"):
        return ""  # part of a longer name (`elif"x"`): not a prefix
    return word if word.lower() in _PREFIXES else ""


def scan_string(text: str, quote_at: int) -> StrToken:
    """The literal whose (first) quote is at ``quote_at``."""
    prefix = _prefix_before(text, quote_at)
    q = text[quote_at]
    quote = q * 3 if text.startswith(q * 3, quote_at) else q
    tok = StrToken(quote_at - len(prefix), -1, prefix.lower(), quote)
    body = quote_at + len(quote)
    if tok.formatted:
        tok.parts, tok.end = _scan_fbody(text, body, quote, "r" in tok.prefix, in_spec=False)
    else:
        tok.end = _scan_plain(text, body, quote)
    return tok


def _scan_plain(text: str, i: int, quote: str) -> int:
    n = len(text)
    single = len(quote) == 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif text.startswith(quote, i):
            return i + len(quote)
        elif single and c in "\r\n":
            break
        else:
            i += 1
    raise LexError(i, "unterminated string literal")


def _scan_fbody(
    text: str, i: int, quote: str, raw: bool, in_spec: bool
) -> tuple[list[str | Field], int]:
    """The parts of an f-string's body (or a format spec) from ``i``; returns them and the
    index after the closing quote (after the spec: the index of its closing brace)."""
    parts: list[str | Field] = []
    lit: list[str] = []
    n = len(text)
    single = len(quote) == 1
    while True:
        if i >= n:
            raise LexError(i, "unterminated f-string")
        if not in_spec and text.startswith(quote, i):
            i += len(quote)
            break
        m = _FTEXT.match(text, i)
        if m:
            lit.append(m.group())
            i = m.end()
            continue
        c = text[i]
        if c == "\\":
            nxt = text[i + 1 : i + 2]
            if not raw and nxt == "N" and text.startswith("{", i + 2):
                k = text.find("}", i)
                if k < 0:
                    raise LexError(i, "unterminated \\N{...} escape")
                lit.append(text[i : k + 1])
                i = k + 1
            elif nxt in ("{", "}", ""):
                lit.append(c)  # "\{": the brace still opens a field
                i += 1
            else:
                lit.append(text[i : i + 2])
                i += 2
        elif c in "\r\n":
            if single and not in_spec:
                raise LexError(i, "newline in a single-quoted f-string")
            lit.append(c)
            i += 1
        elif c == "{":
            if not in_spec and text.startswith("{{", i):
                lit.append("{")
                i += 2
                continue
            if lit:
                parts.append("".join(lit))
                lit = []
            fld = _scan_field(text, i, quote, raw)
            parts.append(fld)
            i = fld.end
        elif c == "}":
            if in_spec:
                break
            if not text.startswith("}}", i):
                raise LexError(i, "single '}' in an f-string")
            lit.append("}")
            i += 2
        else:  # the other quote character: plain text
            lit.append(c)
            i += 1
    if lit:
        parts.append("".join(lit))
    return parts, i


def _scan_field(text: str, start: int, quote: str, raw: bool) -> Field:
    """The replacement field whose ``{`` is at ``start``."""
    i = start + 1
    n = len(text)
    depth = 0
    fld = Field(start, start + 1, -1, -1)
    while True:
        if i >= n:
            raise LexError(start, "unterminated replacement field")
        m = _FEXPR.match(text, i)
        if m:
            i = m.end()
            continue
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                if c != "}":
                    raise LexError(i, f"unmatched {c!r} in a replacement field")
                break
            depth -= 1
        elif c in "'\"":
            i = scan_string(text, i).end
            continue
        elif c == "#":
            i = _line_end(text, i)
            continue
        elif c == "\\":
            i += 2  # a line continuation inside the expression
            continue
        elif (depth == 0 and c == "!" and not text.startswith("=", i + 1)) or (
            depth == 0 and c == ":"
        ):
            break
        elif depth == 0 and c == "=" and text[i + 1 : i + 2] != "=" and text[i - 1] not in "=!<>":
            fld.expr_end = i
            i += 1
            while i < n and text[i] in " \t\r\n\f":
                i += 1
            fld.debug = text[fld.expr_start : i]
            break
        i += 1
    if fld.expr_end < 0:
        fld.expr_end = i
    if text.startswith("!", i):
        m = re.compile(r"!\s*([A-Za-z]+)\s*").match(text, i)
        if not m or m.group(1) not in ("r", "s", "a"):
            raise LexError(i, "bad conversion in a replacement field")
        fld.conversion = ord(m.group(1))
        i = m.end()
    if text.startswith(":", i):
        fld.spec, i = _scan_fbody(text, i + 1, quote, raw, in_spec=True)
    if not text.startswith("}", i):
        raise LexError(i, "expected '}' closing a replacement field")
    fld.end = i + 1
    return fld
