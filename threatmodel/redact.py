"""The one place text is masked so secret values never leave the machine or reach a report.

Three kinds of text quote repository lines: evidence snippets in reports (``redact_report``,
``Redactor``), code excerpts put in front of an LLM (``summarize``) and excerpts ``ask`` shows
and sends (``chat/retrieval``). All of them go through ``mask_line`` / ``mask_lines``, so a
token format or secret-name rule added here (or in ``code/secret_values.py``, which
decides what a secret is) covers every output at once. A masked value becomes ``MASK``.

A line is masked by these nets, any of which suffices (over-masking is safe, leaking is not):

- every token-format value (``_secret_values.mask_tokens``: AWS, Stripe, GitHub, OpenAI,
  JWT, private keys, URL passwords, ...), wherever it appears;
- on a line where the secrets collector found a value (``Facts.secrets``), the literal whose
  hash is that secret's fingerprint, else every literal that is not a mapping key, else the
  unquoted value after ``KEY=`` / ``key:`` (.env, YAML);
- a literal assigned to a secret-named setting or key (``_secret_named``: ``is_secret_name``,
  the secrets collector's names), whatever its length or entropy (``'aaaaaaa'`` too);
- a long random-looking literal (a word of 16+ characters, letters and digits, high entropy;
  or, on a line naming a secret, any 16+ character high-entropy literal without spaces);
- the unquoted value of a secret-named ``KEY=value`` / ``key: value`` that looks random.

Only values are masked: a mapping key or subscript (``{"verify_signature": False}``) is code
a reviewer needs, not a secret (a token-format key is still masked by the first net).

Regexes here run over token and literal shapes of single lines, not over code structure,
and each line is read a bounded number of times (a literal's name is looked for in the
``_NAME_REACH`` characters before it), so a 250 KB minified line costs linear time. Report
evidence is first cut to ``SNIPPET_LIMIT`` characters around what it cites (``cap_snippet``).

Layering: depends only on ``models`` and ``collect`` (``_secret_values``, ``_names``); it
sits right after collect, so summarize, render, chat and diff can all use it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from threatmodel.code.names import is_secret_name
from threatmodel.code.secret_values import (
    MASK,
    entropy,
    fingerprint,
    looks_like_secret,
    mask_tokens,
    may_hold_secret,
)
from threatmodel.models import Evidence, Facts, Finding, Report, Route

__all__ = [
    "CUT",
    "MASK",
    "SNIPPET_LIMIT",
    "Redactor",
    "cap_snippet",
    "mask_line",
    "mask_lines",
    "redact_report",
    "secret_literal",
    "secret_locations",
]

# A quoted literal on one line ('...', "...", `...`) with backslash escapes. Every literal is
# matched however short: skipping a short one would pair its closing quote with the next
# opening one and take the code *between* two literals for a literal.
_STRING = re.compile(r"""(?P<q>["'`])(?P<body>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
# KEY=value or key: value without quotes (.env, YAML, INI, compose lists).
# (A value opening a prefixed literal, `f'{...}'`, is a literal: the literal net judges it.)
_UNQUOTED = re.compile(
    r"""^(\s*(?:export\s+|-\s+)?([\w.\-]+)\s*[=:]\s*)(?![rbuf]{1,2}['"`])([^\s#'"`][^\s#]*)"""
)
# The name a literal is assigned to: `NAME = "..."`, `name: "..."`, `"name": "..."`, a
# subscript `cfg['NAME'] = "..."`, an annotated `name: str = "..."`, or the key a call's
# first argument names (`getenv("NAME", "...")`, `setdefault('NAME', '...')`: the value a
# setting falls back to is that setting's value).
_ASSIGNED = re.compile(
    r"""([A-Za-z_$][\w$.-]*)(?:['"]?\]?\s*(?:=|:|=>|:=)|\s*:\s*[\w.\[\], |]+=)\s*[rbuf]*$"""
    r"""|(?:^|[^\w$])(?!(?:in|not|and|or|if|elif|while|return|assert|yield)\b)[\w$.)\]]+\s*\("""
    r"""\s*[rbuf]*['"]([A-Za-z_$][\w$.-]*)['"]\s*,\s*[rbuf]*$"""
)
# A field of an f-string or a template literal: code, not text.
_FIELD = re.compile(r"\$?\{[^{}]*\}")
# An interpolation in a literal (`f"{user}:{password}"`, `${TOKEN}`, `%(pw)s`): the value
# is assembled from others, the code a reviewer must read to see where it comes from.
_INTERPOLATED = re.compile(r"^(?:[^\w{}$%]*(?:\$?\{[^{}]*\}|%\(\w+\)s))+[^\w{}$%]*$")
_IDENT = re.compile(r"[A-Za-z_$][\w$-]*")
# A URL (a scheme) or a file name with an extension: judged by its pieces. Base64 secrets
# hold `/` too, but never start with a scheme nor end in `.ext`.
_PATHLIKE = re.compile(r"^[A-Za-z][\w+.-]*://|\.[a-z]{1,4}$")
_PIECES = re.compile(r"[/?&=#:@]")
# A part of a name (split at `_ . -`): letters, then a short counter (`BenchmarkTest00001`,
# `Lab_2021`, `A2_Crypto_failur`). Random tokens mix digits among letters.
_NAME_PART = re.compile(r"^([A-Za-z]*)\d{0,6}$")
_NAME_SPLIT = re.compile(r"[_.\-]")
# An unquoted `name = value` whose value is code, not a literal: a chain of names read or
# called (`request.POST["password"]`, `os.environ.get(...)`, `md5(...)`).
_CODE_VALUE = re.compile(r"^([A-Za-z_][\w.]*)[\[(]")
# A key is followed by `]` or `:`, but not by the `:` that ends a block (`if x == 'y':`).
_KEY_AFTER = re.compile(r"\s*(?:\]|:(?!\s*(?:#.*)?$))")
# How far before a literal its name is looked for: a name, quotes and an operator. Bounded
# so that a 250 KB line is not searched again before each of its thousands of literals.
_NAME_REACH = 160

# Evidence snippets are cut to a readable window (a minified bundle or a JSON fixture is one
# 250 KB line). CUT marks each cut: it is an ellipsis, so the evidence check (which accepts
# elided quotes) still finds a cut snippet in the file.
SNIPPET_LIMIT = 2000
CUT = "\u2026"

# {path: {line: fingerprints of the secrets collected on that line}}
SecretLines = Mapping[int, frozenset[str]]


def secret_locations(facts: Facts) -> dict[str, dict[int, frozenset[str]]]:
    """Where the secrets collector found values: path -> line -> their fingerprints."""
    out: dict[str, dict[int, frozenset[str]]] = {}
    for s in facts.secrets:
        lines = out.setdefault(s.location.path, {})
        lines[s.location.line] = lines.get(s.location.line, frozenset()) | {s.fingerprint}
    return out


def _is_key(line: str, end: int) -> bool:
    """A literal used as a subscript or mapping key (``config['KEY']``, ``{'KEY': ...}``)."""
    return _KEY_AFTER.match(line, end) is not None


def _is_name(piece: str) -> bool:
    """Words with short counters, camel humps at most every fourth letter: a name."""
    for part in _NAME_SPLIT.split(piece):
        m = _NAME_PART.match(part)
        if m is None:
            return False
        letters = m.group(1)
        if not letters.isupper() and sum(c.isupper() for c in letters[1:]) > len(letters) // 4:
            return False
    return True


def _is_code(value: str) -> bool:
    """An unquoted value that reads or calls a chain of names: where a secret comes from."""
    m = _CODE_VALUE.match(value)
    return m is not None and all(part and _is_name(part) for part in m.group(1).split("."))


def _random_piece(piece: str) -> bool:
    return (
        len(piece) >= 16
        and any(c.isdigit() for c in piece)
        and any(c.isalpha() for c in piece)
        and entropy(piece) >= 3.5
        and not _is_name(piece)
    )


def _random_word(value: str) -> bool:
    """A word of the literal is a long random-looking token ("Bearer <token>" counts).

    A URL or file path (or any ``a/b`` of names: ``2021/discussion/A6/api2``) is judged
    piece by piece: ``playground/A6/utility.py`` or
    ``https://pypi.org/pypi/{name}/json`` is long and mixed as a whole, yet it is the code a
    reviewer (or the LLM) must read to see which file a handler overwrites or which host it
    calls; a token inside it (``/reset/<token>``) is still a long random piece. A URL's
    password is a token format (``mask_tokens``), masked before this runs.
    """
    for word in value.split():
        pieces = _PIECES.split(word)
        if not _PATHLIKE.search(word) and not all(_is_name(p) for p in pieces if p):
            pieces = [word]  # `a/b` of random pieces is base64, judged whole
        if any(_random_piece(piece) for piece in pieces):
            return True
    return False


def _names_secret(line: str) -> bool:
    return any(is_secret_name(name) for name in _IDENT.findall(line))


def _forced(line: str, fingerprints: frozenset[str]) -> str:
    """A line known to hold a secret, with the secret's literal masked.

    The literal whose value hashes to a collected fingerprint is the secret; when none does
    (the secret is part of a longer string, or no fingerprint is known), every literal that
    is not a key is masked; with no literal, the unquoted value after the key.
    """
    literals = [m for m in _STRING.finditer(line) if m.group("body")]
    if not literals:
        return _UNQUOTED.sub(lambda m: m.group(1) + MASK, line)
    exact = [m for m in literals if fingerprint(m.group("body")) in fingerprints]
    chosen = exact or [m for m in literals if not _is_key(line, m.end())] or literals
    out, pos = [], 0
    for m in chosen:
        out += [line[pos : m.start()], f"{m.group('q')}{MASK}{m.group('q')}"]
        pos = m.end()
    return "".join(out) + line[pos:]


def _unquoted(m: re.Match[str]) -> str:
    """``KEY: value`` where the key names a secret and the value looks like one."""
    name, value = m.group(2), m.group(3)
    if MASK in value or "://" in value or not is_secret_name(name):
        return m.group(0)  # a URL's password, if any, is a token span
    if _is_code(value):
        return m.group(0)  # where the value comes from is what a reviewer must read
    if looks_like_secret(value, name, "config") or (len(value) >= 12 and entropy(value) > 3.0):
        return m.group(1) + MASK
    return m.group(0)


def _secret_named(before: str, value: str) -> bool:
    """Whether the literal ``value``, preceded on its line by ``before``, is assigned to a
    secret-named setting or key (``SECRET_KEY = 'aaaaaaa'``): its value is withheld
    whatever its length or randomness. Being weak or a placeholder is what makes a
    hardcoded secret worth reporting (``looks_like_secret`` judges that for findings); it
    never makes the value fit to leave the machine. What is no value by its shape (a field
    name, a message, a path: ``may_hold_secret``) and an interpolation only are kept."""
    m = _ASSIGNED.search(before)
    if m is None:
        return False
    name = (m.group(1) or m.group(2)).rsplit(".", 1)[-1]
    return is_secret_name(name) and may_hold_secret(value, name) and not _INTERPOLATED.match(value)


def mask_line(line: str, fingerprints: frozenset[str] = frozenset(), force: bool = False) -> str:
    """``line`` with its secret values replaced by MASK.

    ``force`` (or a non-empty ``fingerprints``) says the secrets collector found a value on
    this line; ``fingerprints`` are those values' fingerprints, to mask exactly their literal.
    """
    if force or fingerprints:
        line = _forced(line, fingerprints)
    line = mask_tokens(line)
    named = _names_secret(line)

    def literal(m: re.Match[str]) -> str:
        value, q = m.group("body"), m.group("q")
        if not value or MASK in value:
            return m.group(0)
        if _secret_named(line[max(0, m.start() - _NAME_REACH) : m.start()], value):
            return f"{q}{MASK}{q}"
        if len(value) < 4:
            return m.group(0)
        if q == "`" or line[max(0, m.start() - 2) : m.start()].lower().endswith(("f", "fr")):
            # An f-string's or template literal's fields are code (`{escape(p.read_text()
            # [:1000])}`, a sink a reviewer must read), judged by the text around them.
            value = _FIELD.sub(" ", value)
        if (
            _random_word(value)
            # A key names a value, it is not one: {"verify_signature": False} stays readable.
            or (
                named
                and len(value) >= 16
                and " " not in value
                and entropy(value) > 3.5
                and not _is_key(line, m.end())
            )
        ):
            return f"{q}{MASK}{q}"
        return m.group(0)

    line = _STRING.sub(literal, line)
    return _UNQUOTED.sub(_unquoted, line)


def mask_lines(
    lines: list[str], first_line: int, secret_lines: Collection[int] | SecretLines = ()
) -> list[str]:
    """``lines`` (one file's lines from ``first_line`` on, 1-based) masked; ``secret_lines``
    are the line numbers where the secrets collector found a value, or a mapping from them
    to those values' fingerprints (``secret_locations(facts)[path]``).

    Token formats are masked over the whole block first, so a private key spanning lines is
    masked line by line (the line count never changes).
    """
    lines = mask_tokens("\n".join(lines)).split("\n")
    prints = secret_lines if isinstance(secret_lines, Mapping) else {}
    return [
        mask_line(
            text,
            prints.get(first_line + i, frozenset()),
            force=(first_line + i) in secret_lines,
        )
        for i, text in enumerate(lines)
    ]


def secret_literal(text: str, prints: Collection[str]) -> str:
    """The quoted literal in ``text`` whose value has one of these fingerprints, or ""."""
    for m in _STRING.finditer(text):
        if fingerprint(m.group("body")) in prints:
            return m.group(0)
    return ""


def cap_snippet(text: str, focus: str = "", limit: int = SNIPPET_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters around ``focus`` (a part of it to keep in
    view, e.g. the secret's literal or the quote a claim cited), each cut marked by CUT.

    Long lines are windowed first (the line holding ``focus`` around it, the others from
    their start); if the lines are still too many, the last ones give way to one CUT line.
    """
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    at = text.find(focus) if focus else -1
    focus_row = text.count("\n", 0, at) if at >= 0 else -1
    focus_col = at - (text.rfind("\n", 0, at) + 1) if at >= 0 else 0
    width = max(120, limit // len(lines) - 1)
    out = []
    for row, line in enumerate(lines):
        if len(line) > width:
            middle = focus_col + len(focus) // 2 if row == focus_row else 0
            a = max(0, min(middle - width // 2, len(line) - width))
            line = (CUT if a else "") + line[a : a + width - 2] + CUT
        out.append(line)
    capped = "\n".join(out)
    if len(capped) <= limit:
        return capped
    keep, size = [], 0
    for line in out:
        if size + len(line) + 1 > limit - len(CUT) - 1:
            break
        keep.append(line)
        size += len(line) + 1
    return "\n".join([*keep, CUT])


class Redactor:
    """Masks the evidence of one report's findings and routes (its Facts say where secrets are)."""

    def __init__(self, report: Report) -> None:
        self.secrets = secret_locations(report.facts)

    def snippet(self, ev: Evidence) -> Evidence:
        secrets = self.secrets.get(ev.path, {})
        # Cut first: masking then reads a window, not a whole minified line.
        lines = cap_snippet(ev.snippet, self._secret_literal(ev, secrets)).split("\n")
        text = "\n".join(mask_lines(lines, ev.start_line, secrets))
        return ev if text == ev.snippet else ev.model_copy(update={"snippet": text})

    @staticmethod
    def _secret_literal(ev: Evidence, secrets: SecretLines) -> str:
        """The literal of a secret collected in ``ev``'s lines, to keep a cut window on it."""
        if len(ev.snippet) <= SNIPPET_LIMIT:
            return ""
        for row, line in enumerate(ev.snippet.split("\n")):
            prints = secrets.get(ev.start_line + row)
            if prints and (found := secret_literal(line, prints)):
                return found
        return ""

    def finding(self, f: Finding) -> Finding:
        evidence = [self.snippet(e) for e in f.evidence]
        return f if evidence == f.evidence else f.model_copy(update={"evidence": evidence})

    def route(self, r: Route) -> Route:
        evidence = [self.snippet(e) for e in r.auth.evidence]
        if evidence == r.auth.evidence:
            return r
        return r.model_copy(update={"auth": r.auth.model_copy(update={"evidence": evidence})})


def redact_report(report: Report) -> Report:
    """The report with every quoted snippet masked where it could hold a secret value."""
    red = Redactor(report)
    facts = report.facts.model_copy(update={"routes": [red.route(r) for r in report.facts.routes]})
    return report.model_copy(
        update={
            "facts": facts,
            "findings": [red.finding(f) for f in report.findings],
            "suppressed": [red.finding(f) for f in report.suppressed],
        }
    )
