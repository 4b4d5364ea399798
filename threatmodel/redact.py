"""Keep secret values out of every report format, even when evidence quotes their line.

A finding about a hardcoded key quotes the line that holds it, and verification needs that
quote; the report must not repeat the value. Before rendering, every evidence snippet line
that is the location of a collected secret has its string literals (and the value after an
``=`` or ``:`` in .env-style files) masked, and every snippet is swept for well-known token
formats in case a secret was quoted from a line the collectors did not flag. Regexes over
token formats are the right tool here: this is masking text, not understanding code.
"""

from __future__ import annotations

import hashlib
import re

from threatmodel.models import Evidence, Finding, Report, Route

MASK = "«redacted»"

# String literals: '...', "...", `...` (no multi-line handling: a snippet line is masked
# one line at a time, which over-masks rather than leaks).
_STRING = re.compile(r"""(?P<q>["'`])(?:\\.|(?!(?P=q)).)+(?P=q)""")
# KEY=value or key: value without quotes (.env, YAML, INI).
_ASSIGNED = re.compile(r"""^(\s*(?:export\s+)?[\w.\-]+\s*[=:]\s*)([^\s#'"`][^\s#]*)""")
TOKEN_FORMATS = [
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{10,}\b"),  # Stripe
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}\b"),  # OpenAI / Anthropic
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub
    re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}\b"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),  # Google API key
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
]


def _fingerprint(value: str) -> str:
    # The same sha256 prefix the secret collectors record (collect/_secret_values.py).
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]


def _is_key(line: str, end: int) -> bool:
    """A literal used as a subscript or mapping key (``config['KEY']``, ``{'KEY': ...}``)."""
    rest = line[end:].lstrip()
    return rest.startswith(("]", ":"))


def mask_line(line: str, fingerprints: frozenset[str] = frozenset()) -> str:
    """A line known to hold a secret, with the secret's literal masked.

    The literal whose value hashes to a collected secret's fingerprint is the secret; when
    none does (the secret is part of a longer string), every literal that is not a key is
    masked, which over-masks rather than leaks.
    """
    literals = list(_STRING.finditer(line))
    if not literals:
        return _ASSIGNED.sub(lambda m: m.group(1) + MASK, line)
    exact = [m for m in literals if _fingerprint(m.group(0)[1:-1]) in fingerprints]
    chosen = exact or [m for m in literals if not _is_key(line, m.end())] or literals
    out, pos = [], 0
    for m in chosen:
        q = m.group("q")
        out += [line[pos : m.start()], f"{q}{MASK}{q}"]
        pos = m.end()
    return "".join(out) + line[pos:]


def mask_tokens(text: str) -> str:
    for pattern in TOKEN_FORMATS:
        text = pattern.sub(MASK, text)
    return text


class Redactor:
    def __init__(self, report: Report) -> None:
        self.secret_lines: dict[tuple[str, int], frozenset[str]] = {}
        for s in report.facts.secrets:
            key = (s.location.path, s.location.line)
            self.secret_lines[key] = self.secret_lines.get(key, frozenset()) | {s.fingerprint}

    def snippet(self, ev: Evidence) -> Evidence:
        lines = ev.snippet.split("\n")
        out = [
            mask_line(text, self.secret_lines[(ev.path, ev.start_line + i)])
            if (ev.path, ev.start_line + i) in self.secret_lines
            else text
            for i, text in enumerate(lines)
        ]
        text = mask_tokens("\n".join(out))
        return ev if text == ev.snippet else ev.model_copy(update={"snippet": text})

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
