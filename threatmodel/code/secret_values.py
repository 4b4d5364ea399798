"""What makes a string a secret: known token formats, placeholders, entropy.

Token formats are matched by regular expressions over text (their shape is the signal;
context does not matter). Literals assigned to secret-looking names are judged by
``looks_like_secret``: not a placeholder, not an identifier, path, URL or sentence, and
random enough for the name (a ``password``/``secret_key`` name accepts a short weak value,
which is exactly the vulnerability; a generic ``token`` name needs a random-looking one).

Nothing here returns a value: callers get kinds, positions and ``fingerprint(value)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterator

from threatmodel.code.letters import LetterRuns, probe
from threatmodel.code.names import KEY_QUALIFIERS, words


def fingerprint(value: str) -> str:
    """sha256 prefix: lets a user match a finding to a key without revealing the key."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


# (kind, pattern, group holding the secret: 0 = whole match)
TOKEN_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    (
        "aws_access_key",
        re.compile(
            r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?![A-Z0-9])"
        ),
        0,
    ),
    ("github_token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"), 0),
    ("github_token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{50,}\b"), 0),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), 0),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}\b"), 0),
    # test mode: no live money moves, only the account's test data (hardcoded_secret: low)
    ("stripe_test_key", re.compile(r"\b(?:sk|rk)_test_[0-9A-Za-z]{20,}\b"), 0),
    ("slack_token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}\b"), 0),
    (
        "slack_webhook",
        re.compile(
            r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,}"
        ),
        0,
    ),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"), 0),
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{32,}"), 0),
    ("openai_key", re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{40,}"), 0),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"), 0),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), 0),
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z]{34}\b"), 0),
    ("twilio_key", re.compile(r"\bSK[0-9a-f]{32}\b"), 0),
    (
        "private_key",
        re.compile(
            r"-----BEGIN ((?:RSA|EC|DSA|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----"
            r"(?:\\[rn]|\s)+([A-Za-z0-9+/=:\s\\-]{40,}?)(?:\\[rn]|\s)*-----END"
        ),
        3,
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"), 0),
    (
        "connection_string",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql"
            r"|sqlserver)://[^\s:@/'\"`]+:([^\s@/'\"`]+)@[^\s'\"`/]+"
        ),
        1,
    ),
]

# Words that, beside a name's own, say the value is missing: ``"no_api_key"``.
_ABSENT_WORDS = frozenset({"no", "not", "without", "missing", "unset", "empty"})
_PLACEHOLDER_WORDS = frozenset(
    {
        "example",
        "examples",
        "changeme",
        "changethis",
        "change",
        "placeholder",
        "your",
        "yours",
        "dummy",
        "sample",
        "fake",
        "todo",
        "replace",
        "redacted",
        "insert",
        "xxx",
        "foo",
        "bar",
        "mock",
        "none",
        "null",
        "undefined",
        "default",
        "test",
        "dev",
    }
)
# Values that are local-development defaults in config files and connection strings.
DEV_DEFAULTS = frozenset(
    {
        "postgres",
        "password",
        "pass",
        "passwd",
        "root",
        "admin",
        "secret",
        "mysql",
        "redis",
        "guest",
        "user",
        "username",
        "dev",
        "local",
        "docker",
        "example",
        "test",
        "changeme",
        "mongo",
        "rabbitmq",
        "pwd",
        "pw",
    }
)
# ``{name}``: a format field (``f"amqp://{USER}:{PASSWORD}@host"``), any case.
_TEMPLATE = re.compile(
    r"\$\{|\{\{|\$\(|%\(|%s|<[^>]*>|^\$[A-Za-z_]|\{(?:[A-Za-z_][\w.]*)?\}|^\*+$|^\.+$"
)
# (a leading dot: a jQuery event namespace or CSS class, ``DATA_API_KEY = ".data-api"``)
_IDENTIFIER = re.compile(
    r"\.?[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
    # camelCase, dotted too: an error code or a field path ("incorrectPassword",
    # "credentials.apiKey"): words joined as code joins them
    r"|[a-z][a-z0-9]*(?:\.?[A-Z][a-z0-9]+|\.[a-z][a-z0-9]*)*[A-Z][a-z0-9]+"
)
# A settings store's dotted address (``"mail.smtp.api_key"``): lower-case identifiers.
_SETTING_PATH = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
# ``"app.auth.TokenStrategy"``: a dotted import path a setting names a class by (Django's
# ``*_BACKEND`` / ``*_STRATEGY`` / ``*_CLASS`` settings), code, not a credential.
_IMPORT_PATH = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+\.[A-Z][A-Za-z0-9_]*")
# A version or a dependency's version range (``^0.4.1``, ``~2.0``, ``>=1.2.0-rc.1``).
_VERSION_RANGE = re.compile(r"(?:[\^~]|[<>]=?|=)?\s*v?\d+(?:\.(?:\d+|x|\*)){1,2}(?:[-+][\w.]+)?")
_PROSE = re.compile(r"[A-Za-z][A-Za-z,.'!?:;()\-]*(?: [A-Za-z,.'!?:;()\-]+)+")
_FILE_PATH = re.compile(
    r"[\w.\-]+(?:/[\w.\-]+)*\.(?:md|rst|html?|py|js|ts|json|ya?ml|txt|png|jpe?g|svg|css|pem|crt"
    r"|key|pub|p12|jks|env|cfg|conf|ini|toml|xml|csv)"
)
# A relative API route (``api/v2/user/reset-password``, ``api/auth/v4.0/login-with-token``):
# three or more segments, each a lower-case word, a version or a path parameter. A client's
# table of endpoints names them after what they do (``RESET_PASSWORD``, ``LOGIN_TOKEN``).
_ROUTE_SEGMENT = r"(?:[a-z][a-z0-9_-]*|v?\d+(?:\.\d+)*|\{\w+\}|:\w+)"
_ROUTE_PATH = re.compile(rf"{_ROUTE_SEGMENT}(?:/{_ROUTE_SEGMENT}){{2,}}/?")
_REPEATED = re.compile(r"^(.)\1+$|^(?:0123456789|123456789|abcdef)")


def is_placeholder(value: str) -> bool:
    """Empty, templated, masked or obviously illustrative values."""
    v = value.strip()
    if len(v) < 4 or _TEMPLATE.search(v) or _REPEATED.search(v.lower()):
        return True
    lowered = v.lower()
    if "xxxx" in lowered or "****" in v or "...." in v:
        return True
    # Only digit-free parts are read as words: "9devX" inside a random key is not "dev".
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", v) if p and not any(c.isdigit() for c in p)]
    return any(w in _PLACEHOLDER_WORDS for p in parts for w in words(p))


def _random_enough(value: str) -> bool:
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return len(value) >= 16 and entropy(value) >= 3.0 and has_digit and has_alpha


# Words that mark an identifier-shaped value as naming a field rather than being a secret.
_FIELD_WORDS = frozenset(
    {"password", "passwd", "token", "field", "input", "name", "id", "type", "hash", "confirm",
     "confirmation", "new", "old", "current", "access", "refresh", "bearer", "header", "param",
     "user", "username", "email"}
)  # fmt: skip


# Words that make a string a message about credentials rather than a credential.
_MESSAGE_WORDS = frozenset(
    {"password", "passwords", "passwd", "secret", "token", "key", "must", "should", "please",
     "invalid", "enter", "required", "incorrect", "wrong", "your", "the", "is", "not", "be"}
)  # fmt: skip


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _strong_name(name: str) -> bool:
    """Names whose literal is a credential whatever it looks like (a weak one is the bug)."""
    ws = words(name)
    if set(ws) & {"password", "passwd", "pwd", "secret", "passphrase", "jwt"}:
        return True
    return len(ws) > 1 and ws[-1] == "key" and bool(set(ws[:-1]) & KEY_QUALIFIERS)


def _not_a_value(v: str, name: str) -> bool:
    """Whether the stripped literal ``v`` assigned to ``name`` names, describes or addresses
    something rather than holding a credential: a storage key spelled from the name's own
    words, a setting's address, a field name, an import path, a version, a schema type, a
    URL or file path, a translation, a message. Its shape decides, never its strength."""
    if v.lower() in {"true", "false", "bearer", "basic"}:
        return True  # a switch, an authorization scheme
    if _IDENTIFIER.fullmatch(v) and set(words(v)) - set(words(name)) <= _ABSENT_WORDS:
        # PREFERENCES_KEY = "app_preferences", AWS_SECRET_ACCESS_KEY=secret-key: the value
        # is spelled from its own name's words (a storage key's name, a placeholder);
        # api_key = "no_api_key": those words saying there is none (a sentinel)
        return True
    if _SETTING_PATH.fullmatch(v) and set(words(v.rsplit(".", 1)[1])) <= set(words(name)):
        # {"SMTP_API_KEY": "mail.smtp.api_key"}: the address of the setting that holds the
        # key (a config store's dotted path ending in the name's own words), not the key
        return True
    # "access_token", "new_password", "SECRET_KEY" name a field or a variable; but
    # "session_cookie_secret_key_here" assigned to a cookie secret is the secret itself.
    if (
        _IDENTIFIER.fullmatch(v)
        and not any(c.isdigit() for c in v)
        and (v.isupper() or set(words(v)) & _FIELD_WORDS or not _strong_name(name))
    ):
        return True
    if _IMPORT_PATH.fullmatch(v):
        return True  # a class named by its import path
    if _VERSION_RANGE.fullmatch(v):
        return True  # "react-password-strength-bar": "^0.4.1", a dependency's version
    if v.lower() in {"string", "str", "text", "number", "boolean", "required", "optional"}:
        return True  # a schema type, not a value
    if (
        re.match(r"^(?:https?://|/|\./|~/|[A-Za-z]:\\)", v)
        or _FILE_PATH.fullmatch(v)
        or _ROUTE_PATH.fullmatch(v)
    ):
        return True  # a URL without credentials, a file path, an API route
    if any(c.isalpha() and not c.isascii() for c in v):
        return True  # a translation
    if _PROSE.fullmatch(v) or len(v.split()) > 2:
        # A sentence is a message, unless a password field holds a short passphrase
        # ("my little nest of vipers") that says nothing about passwords.
        sentence = len(v.split()) > 12 or v.rstrip()[-1:] in ".?!:" or v[:1].isupper()
        return not _strong_name(name) or sentence or bool(set(words(v)) & _MESSAGE_WORDS)
    return False


def may_hold_secret(value: str, name: str) -> bool:
    """Whether a literal assigned to the secret-looking ``name`` may be its value, however
    weak: not empty, and not a name, message, path or the like (``_not_a_value``). What may
    hold a secret is withheld from every output (redact.py); ``looks_like_secret`` decides
    whether it is worth a finding."""
    v = value.strip()
    return bool(v) and not _not_a_value(v, name)


def looks_like_secret(value: str, name: str, context: str = "code") -> bool:
    """Whether a literal assigned to the secret-looking ``name`` is a real secret.

    ``context`` is ``code`` (application source: a weak ``password = "admin123"`` is the
    vulnerability itself), ``config`` (YAML, committed .env, Dockerfile: local-development
    defaults such as ``postgres`` do not count and weak values need 6 characters) or
    ``template`` (.env.example: only random-looking values count).
    """
    v = value.strip()
    if is_placeholder(v) or "\n" in v:
        return False
    lowered = v.lower()
    if lowered in DEV_DEFAULTS and context != "code":
        return False
    if _squash(lowered) == _squash(name):
        return False  # SECRET_MULTILINE = "SecretMultiline": an enum constant
    if _not_a_value(v, name):
        return False
    if context in ("test", "template"):
        return _random_enough(v)
    if context == "config" and v.isalpha() and v.islower() and len(v) < 8:
        return False  # POSTGRES_PASSWORD: myapp, a local service default
    min_weak = 4 if context == "code" else 6
    return (
        _random_enough(v)
        or (_strong_name(name) and len(v) >= min_weak)
        or (len(v) >= 10 and entropy(v) >= 2.8)
    )


# Issuers of JWTs published for local development: the Supabase CLI signs its local stack's
# anon and service-role keys with one documented secret, the same on every machine.
_DEMO_ISSUERS = frozenset({"supabase-demo"})


def _jwt_is_public(token: str) -> bool:
    """Supabase anon keys and similar JWTs are meant to ship to browsers; the local stack's
    published demo keys (``"iss": "supabase-demo"``) open nothing but a developer's own
    machine."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return False
    if not isinstance(data, dict):
        return False
    return data.get("role") in ("anon", "public") or data.get("iss") in _DEMO_ISSUERS


# Shapes looser than TOKEN_PATTERNS (shorter bodies, publishable Stripe keys, a private key
# block cut off by the end of an excerpt, a password in any URL): too loose to report as a
# finding, but text that leaves the machine or reaches a report is masked on them too.
# (kind, pattern, group holding the secret)
MASK_ONLY_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    ("stripe_key", re.compile(r"\b[srp]k_live_[0-9A-Za-z]{10,}"), 0),
    ("stripe_test_key", re.compile(r"\b[srp]k_test_[0-9A-Za-z]{10,}"), 0),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"), 0),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}"), 0),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0),
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?(?:-----END [A-Z ]*-----|\Z)"
        ),
        0,
    ),
    ("url_password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^:/\s@]*:([^@\s/]+)@", re.I), 1),
]
MASK = "«redacted»"

# A token format can only match where one of its literal parts occurs: checking for them
# first skips most patterns on most files (the scan is ~10x faster).
_NEEDLES: dict[str, tuple[str, ...]] = {
    "aws_access_key": ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": ("glpat-",),
    "stripe_key": ("_live_",),
    "stripe_test_key": ("_test_",),
    "slack_token": ("xox",),
    "slack_webhook": ("hooks.slack.com",),
    "google_api_key": ("AIza",),
    "anthropic_key": ("sk-ant-",),
    "openai_key": ("sk-",),
    "sendgrid_key": ("SG.",),
    "npm_token": ("npm_",),
    "huggingface_token": ("hf_",),
    "twilio_key": ("SK",),
    "private_key": ("PRIVATE KEY",),
    "jwt": ("eyJ",),
    "connection_string": ("://",),
    "url_password": ("://",),
}
# One search per kind for any of its needles: an alternation runs in one pass over the text,
# where ``any(n in text ...)`` scans the text once per needle (eight for AWS).
_NEEDLE_RES: dict[str, re.Pattern[str]] = {
    kind: re.compile("|".join(re.escape(n) for n in needles)) for kind, needles in _NEEDLES.items()
}
# Any kind's needle: a text holding none (most single lines of code) can match no kind.
_ANY_NEEDLE = re.compile("|".join(re.escape(n) for ns in _NEEDLES.values() for n in ns))
# "://" is in most files (any URL); a connection string spells its scheme before it.
_DB_SCHEMES = ("postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis",
               "rediss", "amqp", "amqps", "mssql", "sqlserver")  # fmt: skip


def _needle_letters(needles: tuple[str, ...]) -> tuple[str, ...] | None:
    """What a text's letter runs hold if it holds each needle (``letters.probe``); None if
    a needle has no letter ("://" cannot be ruled out by letters)."""
    probes = [probe(n) for n in needles]
    return tuple(p for p in probes if p is not None) if None not in probes else None


_NEEDLE_LETTERS = {kind: _needle_letters(needles) for kind, needles in _NEEDLES.items()}


def _may_match(kind: str, text: str, runs: LetterRuns | None = None) -> bool:
    """Does ``text`` hold a literal part of every match of ``kind``'s pattern?

    ``runs``: the letter runs of ``text.lower()``, if known: a kind none of whose needles'
    letters occur there is ruled out without scanning the text (most kinds in most files).
    """
    letters = _NEEDLE_LETTERS[kind]
    if runs is not None and letters is not None and not any(map(runs.may_hold, letters)):
        return False
    if kind != "connection_string":
        return _NEEDLE_RES[kind].search(text) is not None
    at = text.find("://")
    while at >= 0:
        if text.endswith(_DB_SCHEMES, max(0, at - 11), at):
            return True
        at = text.find("://", at + 3)
    return False


def find_tokens(text: str, runs: LetterRuns | None = None) -> Iterator[tuple[str, int, str]]:
    """(kind, offset, value) of every known-format token in ``text``; values stay in-process.

    ``runs``: the letter runs of ``text.lower()`` if the caller has them (a prefilter).
    """
    for kind, pattern, group in TOKEN_PATTERNS:
        if not _may_match(kind, text, runs):
            continue
        for m in pattern.finditer(text):
            value = m.group(group)
            if value is None:
                continue
            if kind == "connection_string":
                user = m.group(0).split("://", 1)[1].split(":", 1)[0]
                if value.lower() in DEV_DEFAULTS or is_placeholder(value) or value in user:
                    continue  # postgres://app:app@db/app: a local default
                value = m.group(0)
            elif kind == "jwt":
                if _jwt_is_public(value):
                    continue
            elif kind == "private_key":
                if "..." in value or len(re.sub(r"\\[rn]|\s", "", value)) < 40:
                    continue
            elif is_placeholder(value.split("_")[-1] if kind.startswith("stripe") else value) or (
                "EXAMPLE" in value
            ):
                continue
            if kind in ("openai_key", "twilio_key") and not _random_enough(value):
                continue
            yield kind, m.start(), value


def token_spans(text: str) -> list[tuple[int, int]]:
    """Merged (start, end) spans of every token-format value in ``text``, for masking.

    Every shape of TOKEN_PATTERNS and MASK_ONLY_PATTERNS counts, without the judgement
    ``find_tokens`` applies (placeholders, public JWTs, local-default passwords): masking
    one of those costs nothing, missing a real one leaks it.
    """
    if _ANY_NEEDLE.search(text) is None:  # one search, not one per kind (_may_match)
        return []
    spans: list[tuple[int, int]] = []
    for kind, pattern, group in TOKEN_PATTERNS + MASK_ONLY_PATTERNS:
        if not _may_match(kind, text):
            continue
        spans += [m.span(group) for m in pattern.finditer(text) if m.group(group)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mask_tokens(text: str) -> str:
    """``text`` with every token-format value replaced by MASK; line breaks are kept (each
    line of a multi-line private key becomes one MASK), so line numbers still hold."""
    out, pos = [], 0
    for start, end in token_spans(text):
        out += [text[pos:start], re.sub(r"[^\n]+", MASK, text[start:end])]
        pos = end
    return "".join(out) + text[pos:]
