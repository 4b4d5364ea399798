"""Pattern + context kinds: weak hash, insecure cookie, weak random, trust boundary.

These are not request -> sink flows, so each has its own honest predicate:

- weak_hash: MD5 / SHA-1 (``hashlib.md5``, ``hashlib.new('sha1')`` ...) not marked
  ``usedforsecurity=False``, in a function whose text names passwords, secrets, credentials
  or signatures (not the framework's ``SECRET_KEY`` keying a digest), or hashing request
  input (a cache key or an ETag is not a finding);
- insecure_cookie: ``set_cookie`` without ``secure=True``, or with ``httponly=False``;
- weak_random: a ``random`` module value (not ``SystemRandom``) stored under a name that
  says session, token, password, secret, key, nonce, salt or OTP, or set as a cookie;
- trust_boundary: request input stored in the session (as key or value).
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from threatmodel.dataflow.frame import Frame, Hit, dotted
from threatmodel.dataflow.values import Label, Value

if TYPE_CHECKING:
    from threatmodel.dataflow.base import EngineBase

EXTERNAL_FEATURES = (
    "feature_external_ges",
    "feature_external_pes",
    "external-general-entities",
    "external-parameter-entities",
)
WEAK_HASHES = frozenset({"md5", "sha1", "md4", "md2", "sha", "ripemd160"})
SECURITY_WORDS = re.compile(
    r"passw|passwd|pwd|secret|token|credential|signature|api_?key|auth|nonce|salt|otp|session",
    re.IGNORECASE,
)
SECURE_RANDOM = frozenset({"random.SystemRandom", "random.seed", "random.Random.seed"})
# MD5 / SHA-1 break where the input is guessable (passwords) or a collision forges a
# signature; a digest of a high-entropy token used as a cache key is not a finding.
HASH_CONTEXT = re.compile(r"passw|passwd|pwd|secret|credential|signature|signing", re.I)
# The framework's secret key (Django ``settings.SECRET_KEY``, Flask ``app.secret_key``) mixed
# into a digest is its key, not the value hashed: ``sha1(email + SECRET_KEY)`` names a rate
# limit's bucket. A keyed digest is a finding where the function signs or checks a password
# (the other words), not for naming the key.
APP_KEY = re.compile(r"\bsecret_key\b", re.I)
MAYBE_REQUEST = frozenset({"request", "call", "param", "self"})  # link() decides
SESSION_NAMES = frozenset({"flask.session", "quart.session", "request.session", "session"})


def weak_hash_name(qual: str, args: list[Value]) -> str | None:
    last = qual.rsplit(".", 1)[-1].lower()
    if qual.startswith("hashlib."):
        if last == "new" and args and args[0].known:
            name = str(args[0].const).lower().replace("-", "")
            return name if name in WEAK_HASHES else None
        return last if last in WEAK_HASHES else None
    if qual.startswith(("Crypto.Hash.", "Cryptodome.Hash.")) and last == "new":
        mod = qual.rsplit(".", 2)[-2].lower()
        return mod if mod in WEAK_HASHES else None
    if qual.startswith("cryptography.hazmat.primitives.hashes.") and last.lower() in WEAK_HASHES:
        return last.lower()
    return None


def random_source(qual: str) -> bool:
    return qual.startswith("random.") and qual not in SECURE_RANDOM and qual.count(".") == 1


def check_patterns(
    engine: EngineBase,
    node: ast.Call,
    qual: str,
    method: str | None,
    args: list[Value],
    kwargs: dict[str, Value],
    receiver: Value,
    f: Frame,
) -> None:
    line = node.lineno
    weak = weak_hash_name(qual, args)
    if weak is not None:
        off = kwargs.get("usedforsecurity")
        data_from_request = any(
            x.kind == "request"
            for a in args[1 if qual.endswith(".new") else 0 :]
            for x in a.all_labels()
        )
        if not (off is not None and off.known and not off.const) and (
            data_from_request or bool(HASH_CONTEXT.search(APP_KEY.sub("", f.text)))
        ):
            f.hits.append(Hit("weak_hash", line, qual, frozenset({Label("pattern", weak, line)})))
    if method == "set_cookie":
        secure, httponly = kwargs.get("secure"), kwargs.get("httponly")
        bad = []
        if secure is None or (secure.known and not secure.const):
            bad.append("secure")
        if httponly is not None and httponly.known and not httponly.const:
            bad.append("httponly")
        if bad:
            label = Label("pattern", "no " + "/".join(bad), line)
            f.hits.append(Hit("insecure_cookie", line, ".set_cookie", frozenset({label})))
        value = args[1] if len(args) > 1 else kwargs.get("value")
        if value is not None:
            randoms = frozenset(x for x in value.all_labels() if x.kind in ("random", "call"))
            if randoms:
                f.hits.append(Hit("weak_random", line, ".set_cookie", randoms))
    if method == "setFeature" and len(node.args) == 2:
        # the feature's name or its URI string; the last setting wins (True then False: off)
        feature = dotted(node.args[0]) or str(args[0].const if args[0].known else "")
        on = args[1]
        key = dotted(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        if key and feature.endswith(EXTERNAL_FEATURES):
            if not on.known or on.const:
                f.env[f"{key}.<external>"] = Value()
            else:
                f.env.pop(f"{key}.<external>", None)
    on_session = isinstance(node.func, ast.Attribute) and _is_session(node.func.value, f)
    if method in ("update", "setdefault") and on_session:
        labels = frozenset(x for a in args for x in a.all_labels() if x.kind == "request")
        if labels:
            f.hits.append(Hit("trust_boundary", line, "session", labels))
    del engine


def _is_session(node: ast.AST, f: Frame) -> bool:
    name = dotted(node)
    if not name:
        return False
    head, _, rest = name.partition(".")
    full = (f.aliases.get(head, head) + ("." + rest if rest else "")) if head else name
    return full in SESSION_NAMES or (full.endswith(".session") and "request" in full)


def check_store(target: ast.AST, value: Value, key: Value | None, f: Frame, line: int) -> None:
    """An assignment to ``target``: session stores (trust boundary), security names (random)."""
    base = target.value if isinstance(target, ast.Subscript) else None
    if base is not None and _is_session(base, f):
        labels = [x for x in value.all_labels() if x.kind in MAYBE_REQUEST]
        labels += [x for x in (key.all_labels() if key else ()) if x.kind in MAYBE_REQUEST]
        if labels:
            f.hits.append(Hit("trust_boundary", line, "session", frozenset(labels)))
    randoms = frozenset(x for x in value.all_labels() if x.kind in ("random", "call"))
    if randoms:
        text = dotted(base if base is not None else target)
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            text += f" {target.slice.value!s}"
        if SECURITY_WORDS.search(text):
            f.hits.append(Hit("weak_random", line, text, randoms))
