"""`threatmodel diff --post` against a real HTTP server on loopback standing in for GitHub.

Asserts the requests themselves: the first run creates one comment, re-runs edit it, a
CSS-only change posts nothing, and the token travels only in the Authorization header.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from diff_support import FakeGitHub, History, run_cli, scripted_history

from threatmodel.diff.github import CommentPoster, GitHubError, Target, resolve_target
from threatmodel.errors import ConfigError
from threatmodel.render.pr_comment import MARKER

TOKEN = "ghs_test0token0that0must0never0be0printed"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return scripted_history(tmp_path_factory.mktemp("hist") / "leaky-notes")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


def actions_env(fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    """What GitHub Actions provides on a pull_request event."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": fake.pr, "pull_request": {"number": fake.pr}}))
    env = dict(os.environ)
    env.update(
        GITHUB_TOKEN=TOKEN,
        GITHUB_API_URL=fake.url,
        GITHUB_REPOSITORY=fake.repo,
        GITHUB_EVENT_PATH=str(event),
    )
    return env


def post(h: History, base: str, head: str, env: dict[str, str], *extra: str):  # type: ignore[no-untyped-def]
    proc = run_cli("diff", "--base", base, "--head", head, str(h.repo), "--post", *extra, env=env)
    assert TOKEN not in proc.stdout and TOKEN not in proc.stderr
    return proc


def test_first_run_creates_one_comment_and_reruns_edit_it(
    history: History, github: FakeGitHub, tmp_path: Path
) -> None:
    for i in range(3):  # other people's comments, over two pages
        github.add_comment(f"looks good {i}")
    env = actions_env(github, tmp_path)

    proc = post(history, history.c0, history.c1, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # posting, not printing
    assert "posted a comment on acme/notes#7" in proc.stderr
    (created,) = github.writes()
    assert (created.method, created.path) == ("POST", "/repos/acme/notes/issues/7/comments")
    assert "`POST /admin/purge`" in created.body["body"]
    assert created.body["body"].rstrip().endswith(MARKER)
    listing = [r for r in github.requests if r.method == "GET"]
    assert [r.query.get("page", ["1"])[0] for r in listing] == ["1", "2"]  # followed Link
    assert len(github.comments) == 4
    comment_id = github.comments[-1]["id"]

    github.requests.clear()
    proc = post(history, history.c0, history.c2, env)  # the PR gains the policy commit
    assert proc.returncode == 0, proc.stderr
    assert "updated the comment on acme/notes#7" in proc.stderr
    (edited,) = github.writes()
    assert (edited.method, edited.path) == (
        "PATCH",
        f"/repos/acme/notes/issues/comments/{comment_id}",
    )
    body = edited.body["body"]
    assert "`POST /admin/purge`" in body and "`payments: owners read their payments`" in body
    assert len(github.comments) == 4 and github.comments[-1]["body"] == body

    for r in github.requests:
        assert r.authorization == f"Bearer {TOKEN}"


def test_css_only_change_posts_no_comment(
    history: History, github: FakeGitHub, tmp_path: Path
) -> None:
    github.add_comment("unrelated")
    proc = post(history, history.c2, history.c3, actions_env(github, tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert github.writes() == []
    assert "architecture unchanged: nothing posted on acme/notes#7" in proc.stderr


def test_css_only_change_turns_an_old_comment_into_unchanged(
    history: History, github: FakeGitHub, tmp_path: Path
) -> None:
    old = github.add_comment(f"stale findings\n\n{MARKER}\n", login="github-actions[bot]")
    proc = post(history, history.c2, history.c3, actions_env(github, tmp_path))
    assert proc.returncode == 0, proc.stderr
    (edited,) = github.writes()
    assert edited.method == "PATCH" and edited.path.endswith(f"/comments/{old['id']}")
    assert edited.body["body"].startswith("⚪ **threatmodel**: architecture unchanged")


def test_flags_override_the_environment(
    history: History, github: FakeGitHub, tmp_path: Path
) -> None:
    env = actions_env(github, tmp_path)
    env["GITHUB_REPOSITORY"] = "someone/else"
    env.pop("GITHUB_EVENT_PATH")
    proc = post(history, history.c0, history.c1, env, "--repo", "acme/notes", "--pr", "7")
    assert proc.returncode == 0, proc.stderr
    assert [r.method for r in github.writes()] == ["POST"]


def test_api_error_is_one_line_without_the_token(
    history: History, github: FakeGitHub, tmp_path: Path
) -> None:
    github.fail_with = (401, f"Bad credentials: {TOKEN}")  # a server that echoes the token
    proc = post(history, history.c0, history.c1, actions_env(github, tmp_path))
    assert proc.returncode == 2
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert "HTTP 401 Bad credentials: ***" in line and "is GITHUB_TOKEN valid?" in line


def test_missing_token_fails_before_scanning(history: History, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    proc = run_cli("diff", "--base", history.c0, str(history.repo), "--post", "--repo", "a/b",
                   "--pr", "1", env=env)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --post needs a token in GITHUB_TOKEN")
    assert "scanning" not in proc.stderr


def test_target_from_actions_event(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}))
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_PATH": str(event)}
    target = resolve_target(None, None, env)
    assert (target.api_url, target.repo, target.pr) == ("https://api.github.com", "o/r", 42)
    assert TOKEN not in repr(target)
    with pytest.raises(ConfigError, match="pull request number"):
        resolve_target(None, None, {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "o/r"})


def test_token_is_never_sent_to_another_host(github: FakeGitHub) -> None:
    # A pagination link pointing elsewhere must not receive the Authorization header.
    github.add_comment("a")
    github.add_comment("b")
    github.add_comment("c")
    target = Target(api_url=github.url.replace("127.0.0.1", "localhost"), repo="acme/notes",
                    pr=7, token=TOKEN)  # fmt: skip
    poster = CommentPoster(target)
    try:
        with pytest.raises(GitHubError, match="refusing to send the token") as info:
            poster.find_marked(MARKER)
    finally:
        poster.close()
    assert TOKEN not in str(info.value)
    assert len(github.requests) == 1  # the first page only; the next link was not followed


@pytest.mark.parametrize("fork", [False, True])
def test_composite_action_script_posts_against_the_merge_base(
    history: History, github: FakeGitHub, tmp_path: Path, fork: bool
) -> None:
    """The `run` script of action.yml, executed by bash as the Actions runner would."""
    import subprocess
    import sys

    import yaml

    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "diff")
    env = actions_env(github, tmp_path)
    output, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        TM_BASE="",
        TM_HEAD=history.c2,
        TM_PR_BASE=history.c0,
        TM_FORK="true" if fork else "false",
        TM_PATH=".",
        TM_POST="true",
        TM_FAIL_ON="",
        TM_SARIF="",
        TM_PROVIDER="",
        TM_MODEL="",
    )
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=history.repo, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    assert "comment=" in output.read_text()
    assert summary.read_text().startswith("🔴 **threatmodel**")
    assert summary.read_text().rstrip().endswith(MARKER)
    if fork:  # read-only token: nothing posted, the job summary carries the comment
        assert github.writes() == [] and "from a fork" in proc.stdout
        return
    (created,) = github.writes()
    assert created.method == "POST"
    assert "`payments: owners read their payments`" in created.body["body"]
