"""A value assigned to a secret-named setting or key is withheld whatever its length or
randomness: the rule "secret values never reach an LLM, a report or a log" has no threshold.

The fixture (``fixtures/python/flask_weak_secret``) signs sessions with a seven-letter
repeated key and holds a three-character token: neither looks random, both are secrets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.models import Evidence, Finding, Severity, Stride, Verdict
from threatmodel.redact import MASK, mask_line
from threatmodel.render import render
from threatmodel.scan import ScanOptions, run_scan
from threatmodel.summarize import summarize

APP = Path(__file__).resolve().parent / "fixtures" / "python" / "flask_weak_secret"
WEAK = ("qqqqqqq", "zq1")


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("app.config['SECRET_KEY'] = 'aaaaaaa'", "app.config['SECRET_KEY'] = "),  # subscript
        ('SECRET_KEY = "abc"', "SECRET_KEY = "),  # shorter than any entropy net reads
        ('password: str = "pw"', "password: str = "),  # annotated
        ("const apiKey = 'x1'", "const apiKey = "),
        ("secret: 'keyboard cat',", "secret: "),  # a phrase is a secret too
        ('key = os.getenv("SECRET_KEY", "dev")', 'key = os.getenv("SECRET_KEY", '),  # fallback
        ('headers["X-Api-Key"] = "k"', 'headers["X-Api-Key"] = '),
    ],
)
def test_a_secret_named_value_is_masked_however_weak(line: str, kept: str) -> None:
    out = mask_line(line)
    assert out.startswith(kept) and MASK in out, out


@pytest.mark.parametrize(
    "line",
    [
        'token = ""',  # nothing to withhold
        'auth = f"{user}:{password}"',  # assembled from other values: where they come from
        'if password == "admin":',  # a comparison, not an assignment
        'fields = ("password", "email")',  # a tuple of field names, not a call's key
        'PASSWORD_FIELD = "password"',  # names a field (is_secret_name says no)
        "var x = {type: 'password', name: 'password'}",
        # a value by its shape is none: a switch, an option's word, a message, an env name
        'response.set_cookie("token", "true")',
        "fetch(url, {credentials: 'same-origin'})",
        'INVALID_TOKEN = "Invalid or expired token."',
        "'auth.api_key': 'AUTH_API_KEY',",
        "if k not in ('connection_token', 'installation_id'):",  # no call: a tuple
        'token = f\'{cfg.get("access_token", "")}\'',  # the unquoted net reads no literal
    ],
)
def test_code_around_secret_names_stays_readable(line: str) -> None:
    assert mask_line(line) == line


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = Settings(provider=None, cache_dir=tmp_path_factory.mktemp("c"))
    return run_scan(APP, settings, ScanOptions(use_cache=False, jobs=1))


def test_the_weak_key_never_reaches_a_chunk(scanned) -> None:  # type: ignore[no-untyped-def]
    files = sorted(p.relative_to(APP).as_posix() for p in APP.rglob("*") if p.is_file())
    chunks = summarize(scanned.facts, RepoReader(APP), 6000, files=files)
    every = "\n".join(c.data for c in chunks)
    # the setting's line is still shown (a hardcoded key is what the model judges) ...
    assert f"app.config['SECRET_KEY'] = '{MASK}'" in every
    # ... without its value
    assert not any(v in every for v in WEAK)


def test_the_weak_key_never_reaches_a_report(scanned) -> None:  # type: ignore[no-untyped-def]
    lines = (APP / "app.py").read_text().splitlines()
    quoted = Evidence(path="app.py", start_line=8, end_line=10, snippet="\n".join(lines[7:10]))
    finding = Finding(
        source="llm",
        title="Sessions are signed with a hardcoded key",
        severity=Severity.HIGH,
        stride=[Stride.SPOOFING],
        attack="Forge a session cookie with the key read from the source.",
        evidence=[quoted],
        verdict=Verdict.CONFIRMED,  # SARIF holds confirmed findings only
    )
    report = scanned.model_copy(update={"findings": [*scanned.findings, finding]})
    for fmt in ("md", "json", "sarif"):
        text = render(report, fmt)
        assert "SECRET_KEY" in text and not any(v in text for v in WEAK), fmt
