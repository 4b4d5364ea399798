"""Hardcoded secrets: known token formats anywhere, literals assigned to secret-looking names.

Two detectors, both aiming at detect-secrets-grade precision:

- **Token formats** (``_secret_values.TOKEN_PATTERNS``): cloud and SaaS keys, private key
  blocks, JWTs (not public Supabase anon keys), connection strings with a password, matched
  over the text of every source and config file.
- **Assignments**: a string literal given to a name that says it holds a secret
  (``SECRET_KEY = "..."``, ``app.config["JWT_SECRET"] = "..."``, ``{password: "..."}``,
  ``connect(password="...")``, ``if pw == "..."``, YAML/JSON keys, committed ``.env``
  lines, Dockerfile ``ENV``), parsed with Python's ``ast``, tree-sitter, PyYAML's composer,
  judged by ``looks_like_secret`` (placeholders, entropy, context: tests and
  ``.env.example`` need random-looking values, config files ignore dev defaults).

**The value never leaves ``extract()``**: the extract holds the kind, the name, the line and
a sha256 prefix of the value, nothing else, so neither the cache nor any report can leak it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.letters import is_letters
from threatmodel.code.names import is_secret_name, words
from threatmodel.code.pyparse import python_tree
from threatmodel.code.secret_scan import fake_name, scan_js, scan_python, scan_structured
from threatmodel.code.secret_values import find_tokens, fingerprint, looks_like_secret
from threatmodel.code.source import JS_LANGUAGES, SourceFile
from threatmodel.collect._secret_names import js_keep, may_name_secret, python_nodes
from threatmodel.collect.scope import TEST_CODE, classify_path
from threatmodel.models import Location, Secret

_LANGUAGES = frozenset(
    {*JS_LANGUAGES, "python", "env", "yaml", "json", "notebook", "toml", "ini", "dockerfile"}
)
# Other file types worth a token scan (keys pasted into shell scripts, PEM files, configs).
_TOKEN_ONLY_SUFFIXES = (
    ".pem", ".key", ".properties", ".conf", ".sh", ".bash", ".php", ".rb", ".go", ".java",
    ".cs", ".xml", ".tf", ".tfvars", ".sql", ".html", ".vue", ".svelte", ".kt", ".swift",
)  # fmt: skip
_SKIP_NAMES = frozenset(
    {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock", "Pipfile.lock"}
)
_TEST_DIRS = frozenset(
    {"test", "tests", "__tests__", "spec", "specs", "fixtures", "__fixtures__", "e2e", "cypress",
     "testdata", "examples", "example", "docs", "mocks", "__mocks__", "samples", "i18n", "l10n",
     "intl", "locales", "locale", "translations", "lang", ".github", ".devcontainer",
     ".circleci"}
)  # fmt: skip
# A translation catalog named by its locale with a region or script (``da-DK.json``,
# ``pt_BR.yml``, ``zh-Hans.json``): UI text ("password": "Adgangskode"), not credentials. A
# bare ``de.json`` is not enough on its own (``db.json``, ``ci.yml`` look the same).
_LOCALE_FILE = re.compile(
    r"[a-z]{2,3}[-_](?:[A-Z]{2}|[A-Z][a-z]{3}|\d{3})\.(?:json|ya?ml|po|arb|toml)"
)
# Every secret-looking name contains one of these (see _names.is_secret_name, _KEY_ARGS).
_NAME_HINTS = ("pass", "pwd", "secret", "token", "key", "credential", "dsn", "jwt", "hmac",
               "cookieparser", "cipher", "database_url", "db_url", "connection")  # fmt: skip
# Hints of letters only are asked of a file's letter runs (code/letters.py), others of its text.
_LETTER_HINTS = tuple(h for h in _NAME_HINTS if is_letters(h))
_OTHER_HINTS = tuple(h for h in _NAME_HINTS if not is_letters(h))
_KEY_NAME = re.compile(r"[A-Za-z_$][\w$.\-]{0,63}")
_FIXTURE_KINDS = frozenset({"jwt", "connection_string", "private_key"})
# Firebase's mobile app configs: their API key identifies the project and ships in every
# copy of the app (Firebase documents it as not secret; rules and key restrictions guard).
_CLIENT_CONFIGS = frozenset({"google-services.json", "GoogleService-Info.plist"})
# Words of a folder's name that make it a folder of examples.
_EXAMPLE_WORDS = frozenset({"example", "examples", "sample", "samples"})
# Names that say their value is not real.
_ENV_TEMPLATES = ("example", "sample", "template", "dist", "defaults", "tmpl", "schema")


def context_of(path: str) -> str:
    """How literals in this file are judged (see ``looks_like_secret``).

    ``test`` (tests, examples, docs, translations by folder or locale-named file: literals
    there are fixtures and prose, so only high-value token formats count), ``template``
    (``.env.example``: only random-looking values), ``config`` (YAML, JSON, committed .env,
    Dockerfile) or ``code``.
    """
    p = PurePosixPath(path)
    name = p.name.lower()
    # Test code is never parsed (code/collector.py ``reads_test_code``): token formats only.
    if classify_path(path) in TEST_CODE or any(_test_dir(part) for part in p.parts[:-1]):
        return "test"
    stem = name.split(".")[0]
    if (
        stem.startswith("test_")
        or stem.endswith(("_test", "_tests", "_testing"))
        or (".test." in name)
    ):
        return "test"
    if ".spec." in name or name in ("conftest.py", "setuptests.ts", "setuptests.js"):
        return "test"
    if _LOCALE_FILE.fullmatch(p.name):
        return "test"
    if name.startswith(".env") or name.endswith(".env"):
        if set(re.split(r"[.\-_]", name)) & {"test", "testing", "ci"}:
            return "test"  # .env.test, .env.testing: the test suite's own services
        return "template" if any(t in name for t in _ENV_TEMPLATES) else "config"
    if p.suffix.lower() in (".yml", ".yaml", ".json", ".toml", ".ini", ".cfg") or (
        name.startswith("dockerfile")
    ):
        # ``config.example.json``, ``settings.sample.yaml``: a template, as .env.example is
        return "template" if set(name.split(".")[1:-1]) & set(_ENV_TEMPLATES) else "config"
    return "code"


def _test_dir(part: str) -> bool:
    """A folder of tests, examples or docs, by name or by one word of it
    (``config_examples``, ``sample-data``)."""
    low = part.lower()
    return low in _TEST_DIRS or bool(set(re.split(r"[-_.]", low)) & _EXAMPLE_WORDS)


def secret_kind(name: str) -> str:
    """A stable kind for a secret found by its name."""
    ws = words(name)
    pairs = set(itertools.pairwise(ws))
    if "jwt" in ws:
        return "jwt_secret"
    if set(ws) & {"password", "passwd", "pwd", "passphrase"}:
        return "password"
    if ("private", "key") in pairs:
        return "private_key"
    if ("api", "key") in pairs or "apikey" in ws:
        return "api_key"
    if ("access", "key") in pairs:
        return "access_key"
    if ("secret", "key") in pairs or name.lower() in ("secret", "secret_key", "secretkey"):
        return "secret_key"
    if "token" in ws:
        return "token"
    if set(ws) & {"dsn", "url"} or ("connection", "string") in pairs:
        return "connection_string"
    return "secret"


class _Findings:
    """Secrets of one file, deduplicated by (line, fingerprint)."""

    def __init__(self) -> None:
        self.items: dict[tuple[int, str], list[Any]] = {}

    def add(self, kind: str, name: str, line: int, value: str) -> None:
        fp = fingerprint(value)
        key = (line, fp)
        held = self.items.get(key)
        if held is None:
            self.items[key] = [kind, name, line, fp]
        elif held[1].startswith("<"):
            held[1] = name  # a known token format keeps its kind and takes the assigned name


_NOT_SECRET = re.compile(
    r"not (actually |really )?a (real )?secret|not sensitive|no secret|nosec\b|"
    r"pragma: allowlist secret|gitleaks:allow|noqa: ?S105|public (by design|key)",
    re.I,
)


_REFERENCE_TAILS = frozenset({"name", "ref", "arn", "id", "path", "file", "env", "var"})


def names_a_reference(name: str) -> bool:
    """``existingSecret``, ``secretName``, ``passwordSecretRef``, ``SECRET_KEY_ENV``: the value
    names where a secret is kept (a Kubernetes secret, a variable), not the secret."""
    ws = words(name)
    return bool(ws) and ("existing" in ws or ws[-1] in _REFERENCE_TAILS)


def sentinel(value: str, name: str) -> bool:
    """A password field holding an all-capitals word (``"password": "LDAP"``, ``user.password
    == "OIDC"``): a marker for "this account logs in elsewhere", not a credential."""
    v = value.strip()
    password = bool(set(words(name)) & {"password", "passwd", "pwd"})
    return password and v.isalpha() and v.isupper() and len(v) <= 12


def said_not_secret(lines: list[str], line: int, memo: dict[int, bool] | None = None) -> bool:
    """The line, or the comment line above it, says the value is not a secret.

    ``lines``: the file's ``SourceFile.lines``, split once; ``memo``: answers already given
    for this file, by line. Splitting the text on every call made a 250 KB JSON fixture of
    2,500 keys take 1.5 s, and searching a minified bundle's one line again for each of its
    literals took as long: both quadratic.
    """
    if memo is not None and line in memo:
        return memo[line]
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    above = lines[line - 2].strip() if 1 < line <= len(lines) + 1 else ""
    comment = above if above.startswith(("#", "//", "/*", "*")) else ""
    said = bool(_NOT_SECRET.search(here) or _NOT_SECRET.search(comment))
    if memo is not None:
        memo[line] = said
    return said


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _dotenv(text: str) -> Iterator[tuple[str, int, str]]:
    """(name, line, value) of each assignment in a dotenv file (``export`` and quotes allowed)."""
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].strip()
        yield name.strip(), i, value


def _notebook_cells(text: str) -> Iterator[str]:
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError):
        return
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            code = "".join(source) if isinstance(source, list) else str(source)
            # IPython magics and shell escapes are not Python: blank them, keep line count
            yield "\n".join(
                "" if ln.lstrip().startswith(("%", "!")) else ln for ln in code.split("\n")
            )


def _raw_line(text: str, value: str) -> int:
    """The line of a notebook's JSON text that holds ``value`` (as JSON-escaped)."""
    needle = json.dumps(value)[1:-1]
    offset = text.find(needle)
    return _line_at(text, offset) if offset >= 0 else 1


@register
class SecretsCollector(Collector):
    id = "secrets"
    version = 10  # 6: a name's own words saying there is none ("no_api_key") are no secret;
    # 7: a relative API route (``RESET_PASSWORD: "api/v2/user/reset-password"``) is none;
    # 8: config files named as templates, folders named by an example word (context_of);
    # 9: a Stripe test-mode key is its own kind (stripe_test_key); 10: a component's
    # ``PreviewProps`` (React Email) hold sample values
    reads_test_code = True  # token formats only there (context_of), never a parse

    def wants(self, path: str, language: str) -> bool:
        name = path.rpartition("/")[2]  # asked of every walked file: no PurePosixPath
        if name in _SKIP_NAMES:
            return False
        return language in _LANGUAGES or name.lower().endswith(_TOKEN_ONLY_SUFFIXES)

    def extract(self, src: SourceFile) -> Extract:
        text = src.text
        if not text:
            return None
        found = _Findings()
        context = context_of(src.path)
        tokens: dict[int, list[str]] = {}  # line -> token values, to merge with assignments
        client_config = src.path.rpartition("/")[2] in _CLIENT_CONFIGS
        for kind, offset, value in find_tokens(text, src.letter_runs):
            if context == "test" and kind in _FIXTURE_KINDS:
                continue  # tests are full of sample JWTs, local databases and test keys
            if client_config and kind == "google_api_key":
                continue  # a Firebase app's key ships inside the app by design
            line = _line_at(text, offset)
            found.add(kind, f"<{kind}>", line, value)
            tokens.setdefault(line, []).append(value)
        # Walking the tree costs far more than the token scan and finds nothing in most
        # files: walk only where a secret-looking name can occur (a necessary condition, see
        # _secret_names) or a token can take the name it is assigned to (any name).
        walk = context != "test" and (
            bool(tokens) or may_name_secret(text, src.language, src.letter_runs)
        )
        said: dict[int, bool] = {}  # said_not_secret by line
        for name, line, value in self._assignments(src, bool(tokens)) if walk else ():
            held = [t for t in tokens.get(line, ()) if t in value]
            if held:  # a known token format assigned to a name: keep its kind, take the name
                found.add("", name, line, held[0])
                continue
            if not _KEY_NAME.fullmatch(name) or fake_name(name):
                continue  # "Invalid password." is a translation key; DUMMY_PASSWORD is fake
            kind = secret_kind(name)
            if kind == "connection_string":
                continue  # URLs count only through the connection-string token format
            if (
                sentinel(value, name)
                or names_a_reference(name)
                or said_not_secret(src.lines, line, said)
            ):
                continue
            if is_secret_name(name) and looks_like_secret(value, name, context):
                found.add(kind, name, line, value)
        key_file = src.path.lower().endswith((".key", ".pem")) and "\n" not in text.strip()
        if key_file and not found.items and looks_like_secret(text.strip(), "key", "template"):
            found.add("key_file", "<key_file>", 1, text.strip())  # a bare key in a key file
        # A token nobody assigned is named by its format.
        items = [
            [k, k if n.startswith("<") else n, line, fp] for k, n, line, fp in found.items.values()
        ]
        return sorted(items, key=lambda i: (i[2], i[0], i[1])) or None

    def _assignments(
        self, src: SourceFile, held_tokens: bool = False
    ) -> Iterator[tuple[str, int, str]]:
        """(name, line, value) of literals given names; ``held_tokens``: the file holds a
        token format, whose assigned name counts whatever it is (see ``extract``)."""
        lang = src.language
        if not (
            any(map(src.letter_runs.may_hold, _LETTER_HINTS))
            or any(hint in src.lowered for hint in _OTHER_HINTS)
        ):
            return  # no secret-looking name anywhere: skip walking the tree
        if lang == "python":
            module = src.python_ast
            if module is not None:
                nodes = None if held_tokens else python_nodes(module, src.text)
                yield from scan_python(module, nodes)
        elif lang in JS_LANGUAGES:
            tree = src.ts_tree
            if tree is not None:
                yield from scan_js(tree.root_node, None if held_tokens else js_keep)
        elif lang == "env":
            yield from _dotenv(src.text)
        elif lang in ("yaml", "json"):
            yield from scan_structured(src.text)
        elif lang == "dockerfile":
            from threatmodel.collect.env import dockerfile_env

            yield from ((n, line, v) for n, line, v in dockerfile_env(src.text) if v is not None)
        elif lang == "notebook":
            for cell in _notebook_cells(src.text):
                if not (held_tokens or may_name_secret(cell, "python")):
                    continue  # no literal here can be given a secret-looking name
                cell_tree = python_tree(cell)
                if cell_tree is None:
                    continue
                for name, _, value in scan_python(cell_tree):
                    yield name, _raw_line(src.text, value), value

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path, items in extracts.items():
            for kind, name, line, fp in items:
                out.secrets.append(
                    Secret(
                        kind=kind,
                        name=name,
                        location=Location(path=path, line=line),
                        fingerprint=fp,
                    )
                )
