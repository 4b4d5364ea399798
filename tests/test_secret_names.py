"""The secrets collector's prefilter (``_secret_names``) never changes what it finds.

``may_name_secret`` decides whether a file (or one statement of it) is walked for literals
given secret-looking names; it must be a necessary condition of a finding. Each case here is
a spelling that reaches a secret-looking name the easy way (a name in the text) or a hard
way (escapes, implicit concatenation, NFKC identifiers, YAML's escaped line break, a key
call, a notebook cell, a decorator above a ``def``): the collector must find the same with
the prefilter as with every file walked whole, and find the secret at all. Then every file
of every fixture repository is compared the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import threatmodel.collect.secrets as secrets_module
from threatmodel.code.source import SourceFile, detect_language
from threatmodel.collect._secret_names import may_name_secret
from threatmodel.collect.secrets import SecretsCollector

FIXTURES = Path(__file__).parent / "fixtures"
# A weak value is the finding for password-like names (see looks_like_secret), so no value
# here needs to look random, and none is a real credential.
VALUE = "Tr0ub4dor&3xyz"
# "password" in fullwidth letters: Python's parser folds the identifier to ASCII (NFKC).
FULLWIDTH_PASSWORD = "".join(chr(ord(c) + 0xFEE0) for c in "password")


def _extract(path: str, text: str, walk_all: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        if walk_all:
            m.setattr(secrets_module, "may_name_secret", lambda text, language, runs=None: True)
            m.setattr(secrets_module, "python_nodes", lambda module, text: None)
            m.setattr(secrets_module, "js_keep", None)
        return SecretsCollector().extract(SourceFile.from_bytes(path, text.encode()))


def _notebook(code: str) -> str:
    cell = {"cell_type": "code", "source": code.splitlines(keepends=True), "metadata": {}}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


CASES = [
    ("app/settings.py", f'SECRET_KEY = "{VALUE}"\n'),
    ("app/conf.py", f'class Conf:\n    apiKey = "{VALUE}"\n\ndef f():\n    return 1\n'),
    ("app/kw.py", f'def f():\n    return connect(host="db", password="{VALUE}")\n'),
    ("app/dict.py", f'CONF = {{\n    "x": 1,\n    "API-KEY": "{VALUE}",\n}}\n'),
    ("app/default.py", f'def login(user, passwd="{VALUE}"):\n    return user\n'),
    ("app/compare.py", f'def ok(pw):\n    if form["pwd"] == "{VALUE}":\n        return 1\n'),
    ("app/decorated.py", f'@guard(client_secret="{VALUE}")\ndef view():\n    return 1\n'),
    ("app/escape.py", f'CONF = {{"pass\\x77ord": "{VALUE}"}}\n'),
    ("app/concat.py", f'CONF = {{"pass" "word": "{VALUE}"}}\n'),
    ("app/concat2.py", f'CONF = {{\n    ("pass"  # split\n     "word"): "{VALUE}",\n}}\n'),
    # the hard spellings carry an ASCII "key" elsewhere: the collector's own first test
    # (a secret word anywhere in the lowercased text) must pass for them to be walked at all
    ("app/nfkc.py", f'{FULLWIDTH_PASSWORD} = "{VALUE}"\nkeys = []\n'),
    ("app/hmac_key.py", f'import hmac\nsig = hmac.new(b"{VALUE}", b"m", "sha256")\n'),
    ("web/server.ts", f'const cfg = {{ api_key: "{VALUE}" }};\nexport default cfg;\n'),
    ("web/auth.js", f'app.use(cookieParser("{VALUE}"));\n'),
    ("web/Login.tsx", f'export const L = () => <Input password="{VALUE}" />;\n'),
    ("web/cls.ts", f'class A {{\n  private signingKey = "{VALUE}";\n}}\n'),
    ("config/app.yaml", f'db:\n  password: "{VALUE}"\n'),
    ("config/esc.yaml", f'db:\n  "pass\\x77ord": "{VALUE}"\n'),
    ("config/fold.yaml", f'db:\n  ? "pass\\\n    word"\n  : "{VALUE}"\n  keys: 1\n'),
    ("config/keys.json", f'{{"\\u0070assword": "{VALUE}", "keys": 1}}\n'),
    ("notebooks/a.ipynb", _notebook(f'import os\nTOKEN = "{VALUE}"\n')),
]


@pytest.mark.parametrize(("path", "text"), CASES, ids=[c[0] for c in CASES])
def test_prefilter_finds_what_the_full_walk_finds(
    path: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked = _extract(path, text, walk_all=True, monkeypatch=monkeypatch)
    assert walked, f"the full walk finds the planted secret in {path}"
    assert _extract(path, text, walk_all=False, monkeypatch=monkeypatch) == walked


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("def f():\n    pass\n", "python"),  # `pass` is not a password
        ("x = Column(String(64))\nkeys = d.keys()\n", "python"),  # "key" with no qualifier
        ("const monkey = 'x'; items.map((it) => <li key={it.id} />);\n", "tsx"),
        ("a:\n  b: c\n", "yaml"),
    ],
)
def test_prefilter_skips_text_without_a_secret_name(text: str, language: str) -> None:
    assert not may_name_secret(text, language)


def test_only_the_statements_that_can_name_a_secret_are_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file with one secret among many unrelated statements: same findings, same lines."""
    filler = "".join(f"def f{i}(x, y=1):\n    return {{'a': x, 'b': 'c'}}\n\n" for i in range(50))
    text = f'{filler}DB = {{"password": "{VALUE}"}}\n{filler}'
    walked = _extract("app/big.py", text, walk_all=True, monkeypatch=monkeypatch)
    assert walked and walked[0][2] == 151
    assert _extract("app/big.py", text, walk_all=False, monkeypatch=monkeypatch) == walked


def _fixture_files() -> list[Path]:
    collector = SecretsCollector()
    return sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and collector.wants(p.name, detect_language(p.name))
    )


def test_every_fixture_file_gives_the_same_extract(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _fixture_files()
    assert len(files) > 50  # the fixtures are there
    found = 0
    for p in files:
        rel = p.relative_to(FIXTURES).as_posix()
        text = p.read_bytes().decode("utf-8", "replace")
        walked = _extract(rel, text, walk_all=True, monkeypatch=monkeypatch)
        assert _extract(rel, text, walk_all=False, monkeypatch=monkeypatch) == walked, rel
        found += bool(walked)
    assert found > 5  # the comparison covers files with secrets, not only empty ones
