"""Name heuristics shared by the data-layer collectors: sensitive columns and secret-like names.

A name is split into words (``cardNumber`` -> ``card``, ``number``; ``API_KEY`` -> ``api``,
``key``) and matched word by word, so ``password_hash`` is sensitive while ``passport_photo``
is not mistaken for a password and ``cardinality`` is not a card.
"""

from __future__ import annotations

import itertools
import re

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Single words that make a column sensitive wherever they appear in its name.
_SENSITIVE_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "token",
        "secret",
        "ssn",
        "card",
        "cvv",
        "cvc",
        "iban",
        "dob",
        "passport",
        "salt",
        "otp",
        "totp",
        "mfa",
        "pin",
        "apikey",
        "birthdate",
        "birthday",
        "creditcard",
        "hash",
    }
)
# Word pairs that are sensitive together but not apart ("api" alone, "key" alone are not).
_SENSITIVE_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("access", "key"),
        ("social", "security"),
        ("date", "of"),
        ("birth", "date"),
        ("tax", "id"),
        ("account", "number"),
        ("routing", "number"),
        ("credit", "card"),
    }
)

# Words that make an identifier name a secret when a literal is assigned to it.
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "passphrase",
        "dsn",
    }
)
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("access", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("auth", "key"),
        ("client", "secret"),
        ("master", "key"),
        ("service", "key"),
        ("webhook", "secret"),
        ("role", "key"),
        ("app", "key"),
        ("database", "url"),
        ("db", "url"),
        ("connection", "string"),
    }
)
# Words that mark the name as describing a secret rather than holding one.
_NOT_SECRET_WORDS = frozenset(
    {
        "url",
        "uri",
        "endpoint",
        "path",
        "file",
        "dir",
        "name",
        "field",
        "header",
        "type",
        "length",
        "len",
        "expires",
        "expiry",
        "expiration",
        "ttl",
        "timeout",
        "label",
        "placeholder",
        "prefix",
        "format",
        "pattern",
        "regex",
        "policy",
        "reset",
        "min",
        "max",
        "count",
        "id",
        "env",
        "var",
        "param",
        "error",
        "message",
        "msg",
        "hint",
        "help",
        "column",
        "validator",
        "required",
        "confirm",
        "confirmation",
        "input",
        "form",
        "schema",
        "storage",
        "cookie",
        "location",
        "algorithm",
        "algo",
        "scope",
        "scopes",
        "lifetime",
        "age",
        "mode",
        "enabled",
        "class",
        "module",
        "handler",
        "backend",
        "kind",
        "provider",  # SECRET_PROVIDER names which provider holds the secrets: a choice
        "query",
        "route",
        # an e-mail's template file and subject line (``PASSWORD_RESET_DEFAULT_TEMPLATE``)
        "template",
        "subject",
        "title",
        "key",  # "token_key", "secret_key_name": a lookup key, not the secret
        "hash",
        "hashed",
        "digest",
        "address",
        "addr",
        "contract",
        "symbol",
        "status",
    }
)


def words(name: str) -> list[str]:
    """``getAPIKey`` -> ``['get', 'api', 'key']``; ``DB_PASSWORD`` -> ``['db', 'password']``."""
    return [w.lower() for w in _WORD.findall(name)]


def _has_pair(ws: list[str], pairs: frozenset[tuple[str, str]]) -> bool:
    return any((a, b) in pairs for a, b in itertools.pairwise(ws))


def is_sensitive_column(name: str) -> bool:
    """A column or field that holds credentials or personal data worth protecting."""
    ws = words(name)
    if "last4" in name.lower().replace("_", ""):
        return True
    return bool(set(ws) & _SENSITIVE_WORDS) or _has_pair(ws, _SENSITIVE_PAIRS)


# Words that, before a final "key", make it a cryptographic key (SECRET_COOKIE_KEY, cryptoKey).
KEY_QUALIFIERS = frozenset(
    {"secret", "private", "api", "signing", "encryption", "crypto", "cipher", "hmac",
     "jwt", "master", "access", "auth", "client", "app", "service", "license", "aes"}
)  # fmt: skip


# Words that make a name a yes/no setting (``USE_ID_TOKEN``, ``ENABLE_API_KEY``): what
# follows them names what is switched on; the value is a flag, not that thing.
_SWITCH_WORDS = frozenset({"use", "enable", "disable", "allow", "require", "should"})


def is_switch_name(name: str) -> bool:
    """A setting that turns something on or off (``..._USE_ID_TOKEN``), whatever it names."""
    return any(w in _SWITCH_WORDS for w in words(name)[:-1])


def is_secret_name(name: str) -> bool:
    """An identifier or config key that, when given a literal value, holds a secret."""
    ws = words(name)
    if not ws or is_switch_name(name):
        return False
    pair = _has_pair(ws, _SECRET_PAIRS)
    if ws[-1] == "key" and len(ws) > 1 and set(ws[:-1]) & KEY_QUALIFIERS:
        return True
    # The last word decides what the value is: SECRET_KEY holds a secret, TOKEN_URL a URL.
    if ws[-1] in _NOT_SECRET_WORDS and not (pair and ws[-1] in {"key", "url"}):
        return False
    return pair or bool(set(ws) & _SECRET_WORDS)
