"""Hardcoded secrets: what is found, what is not, and that no value ever leaves extract().

The planted values are generated at run time (pseudo-random from a fixed seed, so the run is
repeatable and the values are never committed as literals), written into a small
repository of Python, TypeScript, .env, YAML, JSON, a notebook and a key file; the test then
greps every report format and every cache file for them.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from threatmodel.code.secret_values import find_tokens, looks_like_secret
from threatmodel.code.source import SourceFile
from threatmodel.collect.secrets import SecretsCollector, context_of

ALNUM = string.ascii_letters + string.digits
# Fixed seed: a truly random draw can spell a placeholder word ("/dev/", "test") now and then,
# which made the test flaky; a seed keeps the values unguessable from the repository's text
# while making every run see the same ones.
random_source = random.Random(20261121)


def _rand(n: int, alphabet: str = ALNUM) -> str:
    # At least one digit and one letter, as real keys have.
    body = "".join(random_source.choice(alphabet) for _ in range(n - 2))
    return body + random_source.choice(string.digits) + random_source.choice("abcdefgh")


@pytest.fixture(scope="module")
def planted() -> dict[str, str]:
    return {
        "stripe": "sk_" + "live_" + _rand(28),
        "jwt_secret": _rand(24),
        "flask_secret": _rand(20),
        "db_password": "Pw" + _rand(14),
        "hmac": _rand(22),
        "api_key": _rand(32),
        "client_secret": _rand(26),
        "github": "gh" + "p_" + _rand(36),
        "sign": _rand(18),
        "pg_password": _rand(16),
        "openai": "sk-" + "proj-" + _rand(48),
        "smtp": _rand(18),
        "aws_secret": _rand(40, ALNUM + "/+"),
        "aws_id": "AK" + "IA" + _rand(16, string.ascii_uppercase + string.digits).upper(),
        "anthropic": "sk-" + "ant-api03-" + _rand(80),
        "pem_body": _rand(64, ALNUM + "+/"),
    }


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, planted: dict[str, str]) -> Path:
    root = tmp_path_factory.mktemp("secret-repo")
    p = planted
    cell = {"cell_type": "code", "source": [f'ANTHROPIC_KEY = "{p["anthropic"]}"\n', "%pip x"]}
    _write(
        root,
        {
            "app/config.py": (
                "import hmac, os\n"
                f'STRIPE_KEY = "{p["stripe"]}"\n'
                f'JWT_SECRET = "{p["jwt_secret"]}"\n'
                f'app.config["SECRET_KEY"] = "{p["flask_secret"]}"\n'
                f'db = connect(host="db", password="{p["db_password"]}")\n'
                f'sig = hmac.new(b"{p["hmac"]}", b"msg", "sha256")\n'
                # placeholders and reads, never secrets:
                'PASSWORD = ""\nTOKEN = "${TOKEN}"\nAPI_KEY = "your-api-key-here"\n'
                'SECRET = os.environ["SECRET"]\nPASSWORD_FIELD = "password"\n'
                'token_type = "bearer"\nlabel = "Enter your password"\n'
            ),
            "web/src/config.ts": (
                f'export const apiKey = "{p["api_key"]}";\n'
                f'const oauth = {{ clientSecret: "{p["client_secret"]}", scope: "email" }};\n'
                f'const gh = "{p["github"]}";\n'
                f'const token = jwt.sign(payload, "{p["sign"]}");\n'
                'const passwordLabel = "Password";\nconst t = process.env.API_TOKEN;\n'
            ),
            ".env": (
                f"DATABASE_URL=postgres://app:{p['pg_password']}@db.internal:5432/app\n"
                f"OPENAI_API_KEY={p['openai']}\nPORT=3000\nDEBUG=false\n"
            ),
            ".env.example": "SECRET_KEY=changeme\nAPI_KEY=your-api-key-here\nPORT=3000\n",
            "deploy/config.yml": f"smtp:\n  host: mail\n  password: {p['smtp']}\n",
            "deploy/docker-compose.yml": (
                "services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD=postgres\n"
            ),
            "settings.json": json.dumps(
                {"aws_secret_access_key": p["aws_secret"], "aws_access_key_id": p["aws_id"]},
                indent=2,
            ),
            "analysis.ipynb": json.dumps({"cells": [cell], "nbformat": 4}, indent=1),
            "certs/server.key": (
                "-----BEGIN RSA PRIVATE KEY-----\n"
                f"{p['pem_body']}\n{p['pem_body']}\n"
                "-----END RSA PRIVATE KEY-----\n"
            ),
            "tests/test_login.py": 'PASSWORD = "hunter2-in-a-test"\n',
        },
    )
    return root


def _extract_all(root: Path) -> list[tuple[str, str, str, int, str]]:
    collector, found = SecretsCollector(), []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        src = SourceFile.from_bytes(rel, path.read_bytes())
        if not collector.wants(rel, src.language):
            continue
        for kind, name, line, fp in collector.extract(src) or []:
            found.append((rel, kind, name, line, fp))
    return found


def test_every_planted_secret_is_found(repo: Path, planted: dict[str, str]) -> None:
    found = {(path, kind, name, line) for path, kind, name, line, _ in _extract_all(repo)}
    assert found == {
        ("app/config.py", "stripe_key", "STRIPE_KEY", 2),
        ("app/config.py", "jwt_secret", "JWT_SECRET", 3),
        ("app/config.py", "secret_key", "SECRET_KEY", 4),
        ("app/config.py", "password", "password", 5),
        ("app/config.py", "secret", "hmac_secret", 6),
        ("web/src/config.ts", "api_key", "apiKey", 1),
        ("web/src/config.ts", "secret", "clientSecret", 2),
        ("web/src/config.ts", "github_token", "gh", 3),
        ("web/src/config.ts", "jwt_secret", "jwt_secret", 4),
        (".env", "connection_string", "DATABASE_URL", 1),
        (".env", "openai_key", "OPENAI_API_KEY", 2),
        ("deploy/config.yml", "password", "password", 3),
        ("settings.json", "access_key", "aws_secret_access_key", 2),
        ("settings.json", "aws_access_key", "aws_access_key_id", 3),
        ("analysis.ipynb", "anthropic_key", "ANTHROPIC_KEY", 6),
        ("certs/server.key", "private_key", "private_key", 1),
    }


def test_fingerprint_is_a_sha256_prefix_of_the_value(repo: Path, planted: dict[str, str]) -> None:
    stripe = next(f for f in _extract_all(repo) if f[1] == "stripe_key")
    assert stripe[4] == hashlib.sha256(planted["stripe"].encode()).hexdigest()[:16]


def _leaks(text: str, planted: dict[str, str]) -> list[str]:
    # The random core of each value: prefixes like "sk_live_" are not secret on their own.
    return [name for name, value in planted.items() if value[-14:] in text]


def test_no_value_in_extracts(repo: Path, planted: dict[str, str]) -> None:
    assert _leaks(json.dumps(_extract_all(repo)), planted) == []


@pytest.fixture(scope="module")
def scanned(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path, str]:
    """Scan the planted repository to every format with one cache folder."""
    out_dir = tmp_path_factory.mktemp("out")
    cache = out_dir / "cache"
    outputs, console = [], ""
    for fmt in ("json", "md", "sarif"):
        out = out_dir / f"report.{fmt}"
        proc = subprocess.run(
            [sys.executable, "-m", "threatmodel", "scan", str(repo), "--format", fmt,
             "--out", str(out), "--cache-dir", str(cache)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode in (0, 1), proc.stderr
        console += proc.stdout + proc.stderr
        outputs.append(out)
    return outputs, cache, console


@pytest.mark.slow
def test_no_value_in_reports_console_or_fact_cache(
    scanned: tuple[list[Path], Path, str], planted: dict[str, str]
) -> None:
    outputs, cache, console = scanned
    assert _leaks(console, planted) == []
    report = json.loads(outputs[0].read_text())
    kinds = {s["kind"] for s in report["facts"]["secrets"]}
    assert {"stripe_key", "private_key", "anthropic_key", "openai_key"} <= kinds
    fact_cache = [p for p in cache.rglob("*") if p.is_file() and p.name != "report.json"]
    assert any(p.name == "facts.sqlite3" for p in fact_cache)  # the extracts really are cached
    for path in [*outputs, *fact_cache]:
        assert _leaks(path.read_bytes().decode("utf-8", "replace"), planted) == [], path


@pytest.mark.slow
def test_no_value_in_the_cached_report(
    scanned: tuple[list[Path], Path, str], planted: dict[str, str]
) -> None:
    _, cache, _ = scanned
    cached = cache / "report.json"
    assert cached.is_file()
    assert _leaks(cached.read_text("utf-8", "replace"), planted) == []


@pytest.mark.parametrize(
    ("path", "context"),
    [
        ("app/settings.py", "code"),
        ("tests/test_api.py", "test"),
        ("netbox/configuration_testing.py", "test"),
        ("src/auth.spec.ts", "test"),
        ("src/i18n/de.json", "test"),
        ("public/intl/messages/de.json", "test"),
        ("messages/da-DK.json", "test"),  # a locale with a region: a translation catalog
        ("locale/pt_BR.yml", "test"),
        ("config/db.json", "config"),  # two letters alone name no locale
        (".env", "config"),
        (".env.production", "config"),
        (".env.example", "template"),
        ("server/.env.testing", "test"),
        (".env.test", "test"),
        (".env.staging", "config"),
        ("docker-compose.yml", "config"),
        ("Dockerfile", "config"),
        # a config file named as a template, a folder named as examples
        ("config_examples/config_full.example.json", "test"),
        ("deploy/settings.sample.yaml", "template"),
        ("conf/app.dist.ini", "template"),
        ("config/production.json", "config"),
        ("sample-data/seed.json", "test"),
        ("samplers/config.json", "config"),  # a word of the name, not its start
    ],
)
def test_context_of(path: str, context: str) -> None:
    assert context_of(path) == context


@pytest.mark.parametrize(
    ("value", "name", "secret"),
    [
        ("app_rail_preferences", "APP_RAIL_PREFERENCES_KEY", False),  # a storage key's name
        ("secret-key", "AWS_SECRET_ACCESS_KEY", False),  # spelled from its name: placeholder
        ("secret", "SECRET_KEY", True),  # a weak key is the finding
        ("prod_signing_key_2", "SIGNING_KEY", True),  # words of its own, and a digit
        (".data-api", "DATA_API_KEY", False),  # Bootstrap's event namespace
        ("web.search.brave_api_key", "BRAVE_API_KEY", False),  # a settings store's address
        ("audio.tts.api_key", "TTS_API_KEY", False),  # ends in the name's own words
        ("web.search.k7f2q9x4m1", "BRAVE_API_KEY", True),  # dotted, but the tail is no name
        ("no_api_key", "api_key", False),  # its name's words saying there is none
        ("missing-token", "AUTH_TOKEN", False),
        ("no_secret_9f8e7d", "api_key", True),  # words and digits of its own
    ],
)
def test_values_spelled_from_their_name(value: str, name: str, secret: bool) -> None:
    assert looks_like_secret(value, name, "code") is secret


def test_a_firebase_app_config_key_is_public() -> None:
    key = "AIza" + "Sy" + "B1x2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
    text = f'{{"client": [{{"api_key": [{{"current_key": "{key}"}}]}}]}}\n'.encode()
    collector = SecretsCollector()
    assert collector.extract(SourceFile.from_bytes("app/google-services.json", text)) is None
    assert collector.extract(SourceFile.from_bytes("app/config.json", text))


def test_enum_members_are_labels(tmp_path: Path) -> None:
    code = (
        "from enum import StrEnum\n\n\nclass TokenType(StrEnum):\n"
        '    client_secret = "acme_client_secret_x9"\n\n\n'
        'API_SECRET = "acme_client_secret_x9"\n'
    )
    got = SecretsCollector().extract(SourceFile.from_bytes("app/enums.py", code.encode()))
    assert [item[1] for item in got or []] == ["API_SECRET"]


def test_a_connection_string_built_from_fields_is_not_hardcoded() -> None:
    text = 'BROKER = f"amqp://{RABBITMQ_USER}:{RABBITMQ_PASSWORD}@{HOST}:5672/"\n'
    assert [k for k, _o, _v in find_tokens(text)] == []
    planted = 'BROKER = "amqp://app:Zq8vN2rLx4@broker:5672/"\n'
    assert [k for k, _o, _v in find_tokens(planted)] == ["connection_string"]


def test_public_supabase_anon_jwt_is_not_a_secret() -> None:
    def b64(data: dict[str, str]) -> str:
        import base64

        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    anon = f"{b64({'alg': 'HS256'})}.{b64({'role': 'anon', 'iss': 'supabase'})}.{_rand(43)}"
    service = f"{b64({'alg': 'HS256'})}.{b64({'role': 'service_role'})}.{_rand(43)}"
    text = f'const a = "{anon}";\nconst b = "{service}";\n'
    found = SecretsCollector().extract(SourceFile.from_bytes("src/db.ts", text.encode()))
    assert [(kind, line) for kind, _, line, _ in found or []] == [("jwt", 2)]


def test_candidates_sharing_a_line_are_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A minified bundle holds hundreds of named literals on one line: whether that line
    says "not a secret" is asked once, not once per literal (quadratic in the line's length:
    seconds on a 250 KB bundle)."""
    from threatmodel.collect import secrets as module

    line = "".join(f'var apiPassword{i}="Zq7{i:04d}xVb2Lm9Tr4Kp8";' for i in range(300))
    searched: list[int] = []
    real = module._NOT_SECRET

    class Counting:
        def search(self, text: str) -> object:
            searched.append(len(text))
            return real.search(text)

    monkeypatch.setattr(module, "_NOT_SECRET", Counting())
    found = SecretsCollector().extract(SourceFile.from_bytes("src/bundle.js", line.encode()))
    assert found is not None and len(found) == 300
    assert len(searched) <= 2, f"the line was searched {len(searched)} times"


def test_a_password_spelled_as_its_user_name_is_no_secret() -> None:
    """A compose password equal to the user / database name beside it is a default printed
    in the clear; a value of its own in the same mapping is still found."""
    text = (
        "services:\n  db:\n    environment:\n      ARCHIVE_DB: ledgerbox\n"
        "      ARCHIVE_USER: ledgerbox\n      ARCHIVE_PASSWORD: ledgerbox\n"
        "  queue:\n    environment:\n      - QUEUE_USER=ledgerbox\n"
        "      - QUEUE_PASSWORD=Vq7rT2mXk9pL\n"
    )
    got = SecretsCollector().extract(SourceFile.from_bytes("compose.yml", text.encode()))
    assert [item[1] for item in got or []] == ["QUEUE_PASSWORD"]


def test_a_relative_api_route_is_no_secret() -> None:
    # a web client's table of endpoints, named after what each does
    assert not looks_like_secret("api/v2/user/reset-password", "RESET_PASSWORD")
    assert not looks_like_secret("api/auth/v4.0/user/login-with-token", "LOGIN_TOKEN")
    assert looks_like_secret("k3j4/h5g6/Tz9q", "API_TOKEN")  # no words: a value
    assert looks_like_secret("hunter2/hunter3", "PASSWORD")  # two segments: not a route


def test_a_class_named_by_import_path_is_code() -> None:
    assert not looks_like_secret("ledger.auth.SessionTokenStrategy", "LEDGER_TOKEN_STRATEGY")
    assert looks_like_secret("ledger.auth.s3cr3t-Tok3n-9f8e7d", "LEDGER_TOKEN")


@pytest.mark.parametrize(
    ("value", "name", "secret"),
    [
        ("incorrectPassword", "password", False),  # an error code: { password: '...' }
        ("missingOldPassword", "oldPassword", False),
        ("credentials.apiKey", "credentials.user", False),  # a field path ($rename)
        ("mySecretPass", "password", True),  # camelCase words of its own: a weak password
        ("aB3dE5fG7hJ9kL1m", "apiKey", True),  # digits: no identifier
        ("^0.4.1", "react-password-strength-bar", False),  # a dependency's version
    ],
)
def test_camel_case_identifiers_and_versions(value: str, name: str, secret: bool) -> None:
    assert looks_like_secret(value, name, "code") is secret


def test_a_table_of_placeholders_holds_no_secret() -> None:
    """An app that refuses to start with the sample secrets lists them: their table's name
    says what they are (a placeholder); a secret beside it is still one."""
    text = (
        "const PLACEHOLDER_SECRETS = { SESSION_SECRET: 'secret', SIGNING_SECRET: 'sign_it' };\n"
        "const config = { SESSION_SECRET: 'pr0d-S3ss10n-k3y' };\n"
    )
    got = SecretsCollector().extract(SourceFile.from_bytes("src/config/secrets.ts", text.encode()))
    assert [(item[1], item[2]) for item in got or []] == [("SESSION_SECRET", 2)]


def test_seed_data_named_dummy_is_still_read() -> None:
    """Dummy or sample data is what a seed script writes into the database: its users'
    passwords are the deployment's credentials, not placeholders."""
    text = (
        "var dummy_info = { users: [ { username: 'admin', password: 'Adm1n-Passw0rd' } ] };\n"
        "module.exports = dummy_info;\n"
    )
    got = SecretsCollector().extract(SourceFile.from_bytes("dummy.js", text.encode()))
    assert [(item[1], item[2]) for item in got or []] == [("password", 1)]


def test_a_components_preview_props_hold_sample_values() -> None:
    """React Email renders a template in its preview server with ``PreviewProps``: sample
    values; a token elsewhere in the file, or a preview token's own setting, is still read."""
    text = (
        "export const TokenLeaked = (props) => null;\n"
        "TokenLeaked.PreviewProps = { email: 'a@b.c', access_token: 'tok_9fQ2xLm4Vb7Kp1Zr' };\n"
        "const CMS_PREVIEW_TOKEN = 'cpt_8Hs2Lq9Xw4Rt6Yu1';\n"
    )
    got = SecretsCollector().extract(SourceFile.from_bytes("emails/leaked.tsx", text.encode()))
    assert [(item[1], item[2]) for item in got or []] == [("CMS_PREVIEW_TOKEN", 3)]
