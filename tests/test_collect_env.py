"""Env var names: dotenv files, Python reads and settings classes, compose and Dockerfile."""

from __future__ import annotations

from pathlib import Path

from data_support import collect

from threatmodel.collect.env import EnvCollector, dockerfile_env

FIXTURE = Path(__file__).parent / "fixtures" / "data" / "envapp"


def test_names_and_where_they_are_read() -> None:
    facts, errors = collect(EnvCollector(), FIXTURE)
    assert errors == []
    where = {v.name: [(loc.path, loc.line) for loc in v.locations] for v in facts.env_vars}
    assert where == {
        "ALLOWED_HOSTS": [("api/settings.py", 16)],
        "APP_HOME": [("Dockerfile", 3)],
        "APP_PORT": [("api/settings.py", 25)],  # pydantic field with env_prefix
        "BUILD_SHA": [("Dockerfile", 2)],
        "DATABASE_URL": [(".env.example", 2)],
        "DEBUG": [("api/settings.py", 11)],
        "DJANGO_SECRET_KEY": [("api/settings.py", 12)],
        "DJANGO_SETTINGS_MODULE": [("api/settings.py", 14)],
        "FEATURE_X": [("api/settings.py", 18)],
        "LEGACY_NAME": [("Dockerfile", 5)],
        "LOG_LEVEL": [("docker-compose.yml", 6)],
        "MAIL_PASSWORD": [("api/settings.py", 17)],
        "NEXT_PUBLIC_API_BASE": [(".env.example", 3)],
        "OPENAI_API_KEY": [("api/settings.py", 26)],  # Field(alias=...)
        "POSTGRES_HOST": [("docker-compose.yml", 5)],
        "PYTHONUNBUFFERED": [("Dockerfile", 3)],
        "REDIS_URL": [("api/settings.py", 13)],
        "SENTRY_DSN": [("api/settings.py", 15)],
        "STRIPE_SECRET_KEY": [(".env.example", 4)],
        "VITE_PUBLIC_URL": [("docker-compose.yml", 9)],
    }
    exposed = sorted(v.name for v in facts.env_vars if v.client_exposed)
    assert exposed == ["NEXT_PUBLIC_API_BASE", "VITE_PUBLIC_URL"]


def test_dockerfile_values_stay_with_the_caller() -> None:
    parsed = list(dockerfile_env("ENV A=1 B=two\nARG C\nENV D some value\n"))
    assert parsed == [("A", 1, "1"), ("B", 1, "two"), ("C", 2, None), ("D", 3, "some value")]


def test_walker_keeps_config_env_folders(tmp_path: Path) -> None:
    from threatmodel.code.walk import walk

    (tmp_path / "config" / "env").mkdir(parents=True)
    (tmp_path / "config" / "env" / "all.js").write_text("module.exports = {};\n")
    (tmp_path / "env" / "lib").mkdir(parents=True)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "lib" / "site.py").write_text("x = 1\n")
    assert walk(tmp_path).files == ["config/env/all.js"]
