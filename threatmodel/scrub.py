"""Remove secret values from code excerpts before they are put in front of an LLM.

Secret values never leave the machine. Excerpts are handler bodies, guard functions and
policy text, not config files, but a key can sit in a handler all the same, so every
excerpt passes through ``scrub`` with the same detection the secrets collector uses
(``collect/_secret_values.py``: known token formats, literals assigned to secret-looking
names judged by ``looks_like_secret``), plus two belt-and-braces rules:

- every string literal on a line where the collector found a secret (``Facts.secrets``
  locations) is redacted, whatever it looks like;
- any quoted literal that is a long random-looking blob (16+ characters, letters and
  digits, high entropy, no spaces) is redacted even without a telling name.

A redacted literal becomes ``[REDACTED <kind>]``; the surrounding code stays readable so the
model can still say "hardcoded Stripe key at config.py:8" (the fingerprint is in the facts).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from threatmodel.collect._names import is_secret_name
from threatmodel.collect._secret_values import entropy, find_tokens, looks_like_secret

# A quoted literal on one line ('...', "...", `...`), with simple backslash escapes. This is
# a token-level scan for redaction (over-redacting is safe), not a parse of the code. Every
# literal is matched, however short: a minimum length here would make the scan skip a short
# literal (`"sub"`) and pair its closing quote with the next opening one, so the text
# *between* two literals is taken for one and the real literal after it is never examined.
_LITERAL = re.compile(r"""(['"`])((?:\\.|(?!\1).)*?)\1""")
# Credentials in a URL: scheme://user:password@host.
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)([^@\s/]+)(@)", re.I)
# The name a literal is assigned to on its line: `NAME = "..."`, `name: "..."`, `"name": "..."`.
_ASSIGNED = re.compile(r"""([A-Za-z_$][\w$.-]*)['"]?\s*(?:=|:|=>|:=)\s*[rbuf]*$""")


def _random_blob(value: str) -> bool:
    """A word of the literal is a long random-looking token ("Bearer <token>" counts)."""
    return any(
        len(word) >= 16
        and any(c.isdigit() for c in word)
        and any(c.isalpha() for c in word)
        and entropy(word) >= 3.5
        for word in value.split()
    )


def scrub_line(line: str, force: bool = False) -> str:
    """``line`` with secret values replaced; ``force`` redacts every literal on it."""
    for kind, _offset, value in sorted(find_tokens(line), key=lambda t: -len(t[2])):
        line = line.replace(value, f"[REDACTED {kind}]")

    line = _URL_PASSWORD.sub(r"\1[REDACTED password]\3", line)

    def literal(m: re.Match[str]) -> str:
        quote, value = m.group(1), m.group(2)
        if len(value) < 4 or value.startswith("[REDACTED"):
            return m.group(0)
        before = _ASSIGNED.search(line[: m.start()])
        name = before.group(1).rsplit(".", 1)[-1] if before else ""
        secret_named = bool(name) and is_secret_name(name) and looks_like_secret(value, name)
        if force or secret_named or _random_blob(value):
            return f"{quote}[REDACTED {'secret' if force or secret_named else 'random'}]{quote}"
        return m.group(0)

    return _LITERAL.sub(literal, line)


def scrub(lines: list[str], first_line: int, secret_lines: Collection[int] = ()) -> list[str]:
    """Scrub ``lines`` (file lines from ``first_line`` on, 1-based); ``secret_lines`` are the
    line numbers of this file where the secrets collector found a value."""
    return [
        scrub_line(text, force=(first_line + i) in secret_lines) for i, text in enumerate(lines)
    ]
