"""Dependencies: manifests give the direct ones, lockfiles beside them the resolved versions."""

from __future__ import annotations

from pathlib import Path

from data_support import collect

from threatmodel.collect.deps import DependencyCollector

FIXTURE = Path(__file__).parent / "fixtures" / "data" / "deps"


def test_direct_dependencies_with_resolved_versions() -> None:
    facts, errors = collect(DependencyCollector(), FIXTURE)
    assert errors == []
    got = {
        (d.ecosystem, d.name, d.version, d.location.path, d.location.line)
        for d in facts.dependencies
    }
    assert got == {
        ("pypi", "flask", "3.0.3", "py/requirements.txt", 2),
        ("pypi", "requests", ">=2.31", "py/requirements.txt", 3),
        ("pypi", "django-rest-framework", "~=3.15", "py/requirements.txt", 6),
        ("pypi", "fastapi", "0.111.0", "py/pyproject.toml", 3),  # resolved by uv.lock
        ("pypi", "pydantic", "2.7.1", "py/pyproject.toml", 3),
        ("pypi", "pytest", ">=8", "py/pyproject.toml", 6),
        ("pypi", "sqlalchemy", "2.0.30", "poetry/pyproject.toml", 6),  # poetry.lock
        ("pypi", "celery", "5.3.6", "poetry/pyproject.toml", 7),
        ("pypi", "black", None, "poetry/pyproject.toml", 10),
        ("npm", "express", "4.19.2", "web/package.json", 4),  # package-lock.json
        ("npm", "@supabase/supabase-js", "2.45.4", "web/package.json", 5),
        ("npm", "typescript", "5.4.5", "web/package.json", 8),
        ("npm", "lodash", "4.17.21", "yarn/package.json", 1),  # yarn.lock
        ("npm", "@babel/core", "7.24.5", "yarn/package.json", 1),
        ("npm", "next", "14.2.3", "pnpm/package.json", 1),  # pnpm-lock.yaml
    }  # transitive packages (starlette, debug) are left out


def test_lockfile_without_manifest_reports_its_packages(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "Rich"\nversion = "13.7.1"\n')
    facts, _ = collect(DependencyCollector(), tmp_path)
    assert [(d.name, d.version) for d in facts.dependencies] == [("rich", "13.7.1")]


def test_broken_manifest_is_reported(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{not json")
    facts, errors = collect(DependencyCollector(), tmp_path)
    assert facts.dependencies == [] and errors == [
        "package.json: package.json not parsed: JSONDecodeError"
    ]
