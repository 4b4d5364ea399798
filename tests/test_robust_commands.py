"""``ask`` and ``diff`` against a failing provider: a clear error or a partial result, never a
traceback or an "unexpected error" (the message that says "this is a bug").

The fake LLM server (``tests/fakes/llm_server.py``) fails every call with a server error, a
body that is not even UTF-8, or a dropped connection, for the OpenAI and Anthropic APIs,
streaming (``ask``) and structured (``diff``'s focused LLM pass) alike.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fakes.llm_server import FakeLLM
from robust_support import API_KEY, SHOP, cli, shop_repo, write_tuning

FAULTS = ("500", "garbage_body", "drop")
APIS = ("openai", "anthropic")


def _flags(api: str, url: str) -> list[str]:
    return ["--provider", api, "--base-url", f"{url}/v1" if api == "openai" else url]


def _env(tmp: Path) -> dict[str, str]:
    return {
        "THREATMODEL_CACHE_DIR": str(tmp / "cache"),
        "OPENAI_API_KEY": API_KEY,
        "ANTHROPIC_API_KEY": API_KEY,
    }


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "this is a bug" not in stderr


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("fault", FAULTS)
def test_ask_reports_a_failing_provider_as_an_error(api: str, fault: str, tmp_path: Path) -> None:
    repo = shop_repo(tmp_path)
    write_tuning(repo, max_retries=1, timeout=5)
    env = _env(tmp_path)
    # The scan ask opens over runs first, without an LLM, so only the question meets the fault.
    built = cli("scan", str(repo), "--provider", "none", "-o", str(tmp_path / "r.md"), env=env)
    assert built.returncode == 0, built.stderr
    with FakeLLM(lambda _r, _i: fault) as fake:
        question = "How would an attacker abuse the report export?"
        done = cli("ask", str(repo), question, "--json", *_flags(api, fake.url), env=env)
    _clean(done.stderr)
    assert done.returncode == 2
    answer = json.loads(done.stdout)
    assert answer["question"] == question
    assert answer["error"].startswith(api)
    assert API_KEY not in done.stdout + done.stderr
    assert 1 <= len(fake.requests) <= 2, "one call and at most one retry"


def _two_commit_repo(tmp: Path) -> Path:
    repo = tmp / "shop"
    shutil.copytree(SHOP, repo)
    added = repo / "app" / "reports.py"
    body = added.read_text("utf-8")
    added.unlink()

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    write_tuning(repo, max_retries=1, timeout=5)
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    added.write_text(body, encoding="utf-8")
    git("add", "-A")
    git("commit", "-q", "-m", "add a report export")
    return repo


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("fault", FAULTS)
def test_diff_keeps_its_deterministic_comment_when_the_llm_fails(
    api: str, fault: str, tmp_path: Path
) -> None:
    repo = _two_commit_repo(tmp_path)
    with FakeLLM(lambda _r, _i: fault) as fake:
        done = cli(
            "diff", "--base", "HEAD~1", "--head", "HEAD", str(repo), "-f", "json",
            *_flags(api, fake.url), env=_env(tmp_path),
        )  # fmt: skip
    _clean(done.stderr)
    assert fake.requests, "the focused LLM pass was attempted"
    report = json.loads(done.stdout)  # the comment is written whatever the provider did
    assert report["llm"]["status"] in ("partial", "failed")
    # README's table: a provider that analysed nothing is a provider error (exit 2), a
    # partial pass is not.
    assert done.returncode == (2 if report["llm"]["status"] == "failed" else 0), done.stderr
    assert report["llm"]["failed_chunks"]
    # The new route and its rule finding are reported without the LLM.
    text = json.dumps(report)
    assert "/reports/export" in text
    titles = {f["title"] for f in report["new_findings"]}
    assert "GET /reports/export runs shell command built from input (subprocess.check_output)" in (
        titles
    )
