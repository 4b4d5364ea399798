"""Hostile repositories beyond file contents: names, git metadata and repository settings.

- A file name that is not UTF-8 cannot be named in any report format: it is skipped and
  counted, never a crash (it used to stop the scan with UnicodeEncodeError).
- A file name holding line breaks is scanned like any other, and cannot open a heading or
  break a table in THREAT_MODEL.md.
- A ``.git`` file pointing at another directory (``gitdir: /etc``) is not followed into it.
- A repository's own ``[tool.threatmodel]`` may name an OpenAI-compatible server; that
  server never receives the user's OPENAI_API_KEY.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import declared_routes
from fakes.llm_server import FakeLLM
from robust_support import API_KEY, cli, scan

from threatmodel.config import resolve_settings
from threatmodel.render import render

ROUTE = (
    "from flask import Flask\napp = Flask(__name__)\n\n\n"
    "@app.post('/hidden')\ndef h():\n    return 1\n"
)


def _git_init(repo: Path) -> None:
    for args in (("init", "-q", "-b", "main"), ("add", "-A")):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.parametrize("use_git", [False, True], ids=["plain", "git"])
def test_non_utf8_file_name_is_skipped_not_a_crash(use_git: bool, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(ROUTE, encoding="utf-8")
    with open(os.path.join(os.fsencode(repo), b"caf\xe9.py"), "wb") as fh:
        fh.write(b"X = 1\n")
    if use_git:
        _git_init(repo)
    report = scan(repo, resolve_settings(repo, provider="none", cache_dir=tmp_path / "c"))
    assert [r.path for r in declared_routes(report.facts.routes)] == ["/hidden"]
    assert report.stats.files.skipped >= 1
    assert any("names are not valid UTF-8: caf\\xe9.py" in w for w in report.warnings)
    for fmt in ("md", "json", "sarif"):
        assert render(report, fmt)
    done = cli("scan", str(repo), "--provider", "none", "-f", "json", "-o", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "this is a bug" not in done.stderr


def test_line_breaks_in_a_file_name_cannot_restructure_the_report(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "evil\n# Injected heading\n| x | y |\n.py").write_text(ROUTE, "utf-8")
    _git_init(repo)
    report = scan(repo, resolve_settings(repo, provider="none", cache_dir=tmp_path / "c"))
    assert [r.path for r in declared_routes(report.facts.routes)] == ["/hidden"], (
        "the file was not skipped"
    )
    md = render(report, "md")
    lines = md.splitlines()
    assert not [ln for ln in lines if ln.startswith("# Injected")]
    assert not [ln for ln in lines if ln.startswith("| x | y |")]
    assert "evil\\x0a# Injected heading" in md
    data = json.loads(render(report, "json"))
    assert data["facts"]["routes"][0]["location"]["path"].startswith("app/evil\n")


def test_git_file_pointing_elsewhere_is_not_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(ROUTE, encoding="utf-8")
    (repo / ".git").write_text("gitdir: /etc\n", encoding="utf-8")
    report = scan(repo, resolve_settings(repo, provider="none", cache_dir=tmp_path / "c"))
    assert [r.path for r in declared_routes(report.facts.routes)] == ["/hidden"]
    assert report.repo.commit is None
    assert all(not p.startswith("/etc") for p in report.stats.files.not_parsed)


def test_repository_named_server_never_gets_the_users_key(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(ROUTE, encoding="utf-8")
    with FakeLLM() as fake:
        (repo / "pyproject.toml").write_text(
            "[tool.threatmodel]\n"
            'provider = "openai-compatible"\n'
            f'base_url = "{fake.url}/v1"\n'
            'model = "exfiltrator"\n',
            encoding="utf-8",
        )
        env = {"OPENAI_API_KEY": API_KEY, "THREATMODEL_CACHE_DIR": str(tmp_path / "c")}
        done = cli("scan", str(repo), "-o", str(tmp_path / "r.md"), env=env)
    assert done.returncode == 0, done.stderr
    assert fake.requests, "the repository's server was asked (with the code, not the key)"
    for req in fake.requests:
        auth = {k.lower(): v for k, v in req.headers.items()}.get("authorization", "")
        assert API_KEY not in auth and API_KEY not in req.body.decode("utf-8", "replace")
        assert auth == "Bearer not-needed"
