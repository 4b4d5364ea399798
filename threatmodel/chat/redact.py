"""Keep secret values out of what ``ask`` shows and sends: excerpts are redacted first.

Two nets, because the secrets collector may miss a format: (1) a line where the facts record
a hardcoded secret has every string literal on it replaced; (2) any token in a known secret
format (or a long high-entropy literal assigned to a key/secret/token/password-like name) is
replaced wherever it appears. Regexes here run over token formats, not over code structure.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from threatmodel.models import Facts

MASK = "«redacted»"
TOKEN_FORMATS = re.compile(
    r"(sk|rk|pk)_(live|test)_[0-9A-Za-z]{10,}"  # Stripe
    r"|sk-(proj-|ant-)?[0-9A-Za-z_-]{20,}"  # OpenAI / Anthropic
    r"|(AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{30,}"
    r"|xox[abpr]-[0-9A-Za-z-]{10,}"  # Slack
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API key
    r"|eyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\.[0-9A-Za-z_-]{10,}"  # a JWT
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).){6,})\1""")
SECRET_NAME = re.compile(r"(secret|passw|pwd|token|api[_-]?key|private|credential)", re.I)
# KEY=value / key: value without quotes (.env, YAML, INI, compose lists): the value group.
UNQUOTED = re.compile(r"""^(\s*(?:export\s+|-\s+)?([\w.\-]+)\s*[=:]\s*)([^\s#'"`][^\s#]*)""")
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)([^@\s/]+)(@)", re.I)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def redact_line(text: str, facts: Facts, path: str, line: int) -> str:
    """``text`` (line ``line`` of ``path``) with secret values masked."""
    if any(s.location.path == path and s.location.line == line for s in facts.secrets):
        text = STRING.sub(lambda m: m.group(1) + MASK + m.group(1), text)
        # An unquoted value (.env, YAML) has no literal to mask: mask what follows the key.
        text = UNQUOTED.sub(lambda m: m.group(1) + MASK, text)
    text = TOKEN_FORMATS.sub(MASK, text)
    text = URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    if SECRET_NAME.search(text):
        text = STRING.sub(_mask_random, text)
        text = UNQUOTED.sub(_mask_unquoted, text)
    return text


def _mask_unquoted(m: re.Match[str]) -> str:
    """``KEY: value`` where the key names a secret and the value looks random."""
    value = m.group(3)
    if "://" in value:
        return m.group(0)  # a URL (its password, if any, is masked above)
    if SECRET_NAME.search(m.group(2)) and len(value) >= 12 and _entropy(value) > 3.0:
        return m.group(1) + MASK
    return m.group(0)


def _mask_random(m: re.Match[str]) -> str:
    body = m.group(2)
    if len(body) >= 16 and " " not in body and _entropy(body) > 3.5:
        return m.group(1) + MASK + m.group(1)
    return m.group(0)


def redact_lines(lines: list[str], facts: Facts, path: str, first_line: int) -> list[str]:
    return [redact_line(t, facts, path, first_line + i) for i, t in enumerate(lines)]
