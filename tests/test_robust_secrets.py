"""Secrets stay home: planted values never reach an LLM, a report, a log or the cache.

``tests/fixtures/robust/secrets`` plants distinct (fake) secret values in Python and
TypeScript code (module level and inside route handlers, which are the excerpts an LLM
sees), a ``.env``, YAML, JSON, a notebook and a docker-compose file. Every command that
can show them runs for real in a subprocess against the fake LLM server on loopback:
``scan`` in Markdown, JSON and SARIF, ``ask --json``, and ``diff`` (the PR comment). The
test then greps every surface for every value (and for a 12-character slice of each
value's random part, so a partial leak is caught too):

- each request body the LLM server received (OpenAI and Anthropic);
- each report file, stdout and stderr of each command;
- every file under the cache folder (facts cache, report cache, LLM answer cache).

The API key, the GitHub token and the cookie the server sets must not appear either, except
in the request headers that carry the key to the provider; and no cassette in the
repository holds an auth header, a cookie or a key.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CASSETTES, FIXTURES
from fakes.llm_server import COOKIE, FakeLLM, Recorded
from robust_support import API_KEY, cli, llm_finding

SECRETS_APP = FIXTURES / "robust" / "secrets"
GITHUB_TOKEN = "ghp_T0kenOfTheCIrunnerZZ9fQ2w8Lm4Xc7Vb3Nk"
COOKIE_VALUE = COOKIE.split("=", 1)[1]

# Every value planted in the fixture: (file, value).
PLANTED = (
    ("app/__init__.py", "Fl4skS3cretKey-q8ZrT2mWv9XbN5cYp"),
    ("app/__init__.py", "sk_live_AEiocaraLCWhjJIECQPstdF0r86MDkrZ"),
    ("app/__init__.py", "tr0ub4dor&3-Stapl3-horse"),
    ("app/__init__.py", "UIoskQaqdEceYbhLyG4nlNXtPY4AsmRd"),
    ("app/__init__.py", "sk_live_WReNjstVdR5XuZlrJew9EFt5zm7xcikf"),
    ("app/__init__.py", "eduADUqOnn09k5XScfZcq5MRotPsxxYq"),
    ("web/server.ts", "F8NUKDtazKG3sjM0Uvqoe2jiAlDgty8b"),
    ("web/server.ts", "AIzaSyB3kL9mQ2xV7nR4tW8yZ1aC5dF0gH6jK2p"),
    (".env", "kpu9qvrgWohdwau82uKEbf94RrFNKYrG"),
    (".env", "O4nJJFTWjhZTZjmUvH4pSMOz0koy85Dw"),
    (".env", "sk-proj-o3QcJ1rtHV95f1NQbrO62GZucc3SQrj6"),
    ("config/settings.yaml", "AKIAQ7XK2M9PLR4TVW3N"),
    ("config/settings.yaml", "hNBmsExQoPEIlx402olhXxJUm1x1DMOY"),
    ("config/settings.yaml", "xoxb-4815162342-x3Lt1vy8BWwPgeW6rE1pgEZmnozBEjgt"),
    ("config/keys.json", "ghp_qgjg0mG1IN8J9tH40FT5LklpOLf9Zb0AxYzW"),
    ("config/keys.json", "LUjouLrHP77FgflirJgW0jmXTw67Rd7I"),
    ("notebooks/explore.ipynb", "sk-proj-7OTYy7UojQqlGE2NYgyfAuoICS9g0GED"),
    ("docker-compose.yml", "81UnI0lMQmlCsra1ZioLWPp8O7uql0uq"),
    ("docker-compose.yml", "sk_live_Zq7Lm2Xv9Rt4Wp8Ky3Nb6Hc1Jd5Fg0Sa"),
)


def needles(value: str) -> list[str]:
    """The value, and a 12-character slice from the middle of its random part."""
    core = re.sub(r"^(sk_live_|sk-proj-|ghp_|xoxb-\d+-|AIza|AKIA)", "", value)
    mid = max(0, (len(core) - 12) // 2)
    return [value, core[mid : mid + 12]] if len(core) >= 16 else [value]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def answer_about_secrets(req: Recorded) -> dict[str, object]:
    """A model's answer that cites the secret lines it was shown (redacted) as evidence."""
    return {
        "findings": [
            llm_finding(
                "hardcoded_secret",
                "app/__init__.py",
                9,
                'STRIPE_KEY = "«redacted»"',
                "Stripe live key hardcoded in the payments module",
            ),
            llm_finding(
                "hardcoded_secret",
                ".env",
                1,
                "SECRET_KEY=«redacted»",
                "Secret key committed in .env",
            ),
        ]
    }


@dataclass
class Surfaces:
    texts: dict[str, str] = field(default_factory=dict)  # surface name -> content
    bodies: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    apis: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory: pytest.TempPathFactory) -> Surfaces:
    tmp = tmp_path_factory.mktemp("secrets")
    repo = tmp / "payments"
    repo.mkdir()
    (repo / "README.md").write_text("# payments\n", encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    shutil.copytree(SECRETS_APP, repo, dirs_exist_ok=True)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "add the payments service")
    cache = tmp / "cache"
    out = tmp / "out"
    out.mkdir()  # -o never creates folders (issue 21)
    env = {
        "THREATMODEL_CACHE_DIR": str(cache),
        "OPENAI_API_KEY": API_KEY,
        "ANTHROPIC_API_KEY": API_KEY,
        "GITHUB_TOKEN": GITHUB_TOKEN,
    }
    found = Surfaces()
    with FakeLLM(answer=answer_about_secrets) as fake:
        openai = ["--provider", "openai", "--base-url", f"{fake.url}/v1"]
        anthropic = ["--provider", "anthropic", "--base-url", fake.url]
        runs = {
            "scan-md": ["scan", str(repo), *openai, "-o", str(out / "r.md")],
            "scan-json": ["scan", str(repo), *openai, "-f", "json", "-o", str(out / "r.json")],
            "scan-sarif": ["scan", str(repo), *anthropic, "-f", "sarif", "-o", str(out / "r.sf")],
            "ask-facts": ["ask", str(repo), "which secrets are hardcoded?", "--json", *openai],
            "ask-llm": ["ask", str(repo), "How would you steal the Stripe key?", "--json", *openai],
            "diff": ["diff", "--base", "HEAD~1", "--head", "HEAD", str(repo), *openai],
            "diff-json": ["diff", "--base", "HEAD~1", "-f", "json", str(repo), *anthropic],
        }  # fmt: skip
        for name, args in runs.items():
            done = cli(*args, env=env)
            assert done.returncode in (0, 1), f"{name}: {done.stderr}"
            found.texts[f"{name} stdout"] = done.stdout
            found.texts[f"{name} stderr"] = done.stderr
        found.bodies = fake.bodies()
        found.headers = [r.headers for r in fake.requests]
        found.apis = {r.api for r in fake.requests}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            found.texts[f"report {path.name}"] = path.read_text("utf-8")
    for path in sorted(cache.rglob("*")):
        if path.is_file():
            # Binary-safe: the facts cache is SQLite; latin-1 maps every byte to a character.
            found.texts[f"cache {path.relative_to(cache)}"] = path.read_bytes().decode("latin-1")
    return found


def test_every_surface_was_exercised(surfaces: Surfaces) -> None:
    assert surfaces.apis == {"openai", "anthropic"}
    # a request from each command that asks the model (the small app is one request per
    # scan; the second openai scan replays the answer cache)
    assert len(surfaces.bodies) >= 5
    names = set(surfaces.texts)
    assert {"report r.md", "report r.json", "report r.sf"} <= names
    assert any(n.startswith("cache ") for n in names)
    # The findings about the planted secrets are there: the values are withheld, not the facts.
    assert "hardcoded" in surfaces.texts["report r.md"].lower()
    assert "config/keys.json" in surfaces.texts["report r.json"]


@pytest.mark.parametrize(("path", "value"), PLANTED, ids=[v[:14] for _p, v in PLANTED])
def test_planted_secret_never_leaves(surfaces: Surfaces, path: str, value: str) -> None:
    for needle in needles(value):
        leaks = [f"LLM request body #{i}" for i, b in enumerate(surfaces.bodies) if needle in b]
        leaks += [name for name, text in surfaces.texts.items() if needle in text]
        assert leaks == [], f"{value!r} from {path} leaked (as {needle!r}) into {leaks}"


def test_credentials_never_in_output_logs_or_cache(surfaces: Surfaces) -> None:
    for needle in (API_KEY, GITHUB_TOKEN, COOKIE_VALUE):
        leaks = [name for name, text in surfaces.texts.items() if needle in text]
        leaks += [f"body #{i}" for i, b in enumerate(surfaces.bodies) if needle in b]
        assert leaks == [], f"{needle!r} leaked into {leaks}"
    # The key went where it belongs: the provider's auth header, and nowhere else.
    sent = {
        h.get("Authorization") or h.get("authorization") or h.get("x-api-key")
        for h in surfaces.headers
    }
    assert sent <= {f"Bearer {API_KEY}", API_KEY}
    for h in surfaces.headers:
        assert GITHUB_TOKEN not in str(h)


def test_no_cassette_holds_a_credential() -> None:
    """Recorded traffic in cassettes/ carries no auth header, cookie or key."""
    files = sorted(p for p in CASSETTES.rglob("*") if p.is_file())
    assert files, "cassettes/ should hold the recorded LLM traffic"
    header = re.compile(
        r"^\s*-?\s*['\"]?(authorization|x-api-key|api-key|cookie|set-cookie)['\"]?\s*:",
        re.I | re.M,
    )
    key = re.compile(
        r"\b(sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9]{30,}|Bearer\s+\S{12,})"
    )
    for path in files:
        text = path.read_text("utf-8", "replace")
        assert not header.search(text), f"{path}: an auth or cookie header was recorded"
        assert not key.search(text), f"{path}: {key.search(text)}"
        for _p, value in PLANTED:
            assert value not in text, f"{path} holds a planted secret"
