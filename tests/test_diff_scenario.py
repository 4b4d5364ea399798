"""`threatmodel diff` end to end on a real git history: each commit's comment names what changed.

The history (tests/diff_support.py): leaky-notes, then an unauthenticated admin route, then a
new migration that loosens an RLS policy, then a CSS-only edit.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from diff_support import History, git, run_cli, scripted_history

from threatmodel.config import resolve_settings
from threatmodel.diff import DiffOptions, run_diff
from threatmodel.render.pr_comment import MARKER
from threatmodel.scan import ScanOptions


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return scripted_history(tmp_path_factory.mktemp("hist") / "leaky-notes")


def diff_json(h: History, base: str, head: str) -> dict:  # type: ignore[type-arg]
    proc = run_cli("diff", "--base", base, "--head", head, str(h.repo), "--format", "json", "-q")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def changes(report: dict) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {(c["area"], c["action"], c["subject"]) for c in report["changes"]}


def test_admin_route_commit_names_the_route_and_its_missing_auth(history: History) -> None:
    report = diff_json(history, history.c0, history.c1)
    assert changes(report) == {("route", "added", "POST /admin/purge")}
    (change,) = report["changes"]
    assert change["risk"] is True and change["detail"] == "public: no auth guard"
    assert report["changed_files"] == ["app.py"]
    new = report["new_findings"]
    assert [f["claims"][0]["route"] for f in new] == [{"method": "POST", "path": "/admin/purge"}]
    assert report["resolved_findings"] == []

    proc = run_cli("diff", "--base", history.c0, "--head", history.c1, str(history.repo),
                   "--repo", "acme/notes", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert md.splitlines()[0].startswith("🔴 **threatmodel**")
    assert "1 architecture change (1 raising risk); 1 new finding (1 high)" in md.splitlines()[0]
    rows = [line for line in md.splitlines() if line.startswith("| ⚠️")]
    assert (
        len(rows) == 1 and "`POST /admin/purge`" in rows[0] and "public: no auth guard" in rows[0]
    )
    link = f"https://github.com/acme/notes/blob/{history.c1}/app.py#L"
    assert link in rows[0]
    assert "#### New findings" in md and "POST /admin/purge changes data" in md
    assert md.rstrip().endswith(MARKER)


def test_loosened_policy_commit_names_the_policy(history: History) -> None:
    report = diff_json(history, history.c1, history.c2)
    assert changes(report) == {("policy", "changed", "payments: owners read their payments")}
    (change,) = report["changes"]
    assert change["risk"] is True
    assert "using (auth.uid() = owner) → SELECT to authenticated using (" in change["detail"]
    assert change["detail"].endswith("now lets every row through")
    assert change["location"]["path"] == "supabase/migrations/0003_share_payments.sql"
    proc = run_cli("diff", "--base", history.c1, "--head", history.c2, str(history.repo), "-q")
    assert "`payments: owners read their payments`" in proc.stdout
    assert "[supabase/migrations/0003_share_payments.sql#L4]" in proc.stdout  # relative link


def test_whole_pull_request_names_both_changes(history: History) -> None:
    report = diff_json(history, history.c0, history.c3)
    assert changes(report) == {
        ("route", "added", "POST /admin/purge"),
        ("policy", "changed", "payments: owners read their payments"),
    }


def test_css_only_commit_is_architecture_unchanged(history: History) -> None:
    report = diff_json(history, history.c2, history.c3)
    assert report["changes"] == [] and report["new_findings"] == []
    assert report["resolved_findings"] == []
    assert report["changed_files"] == ["web/src/app.css"]
    proc = run_cli("diff", "--base", history.c2, "--head", history.c3, str(history.repo), "-q")
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("⚪ **threatmodel**: architecture unchanged")
    assert lines[2] == MARKER


def test_nonexistent_ref_is_one_line_exit_2(history: History) -> None:
    proc = run_cli("diff", "--base", "no-such-branch", str(history.repo))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: git ref 'no-such-branch' does not exist in {history.repo} (in CI, fetch it "
        "first: actions/checkout with fetch-depth: 0)."
    ]


def test_fail_on_gates_new_findings_only_and_sarif_holds_them(
    history: History, tmp_path: Path
) -> None:
    sarif = tmp_path / "new.sarif"
    proc = run_cli("diff", "--base", history.c0, "--head", history.c1, str(history.repo),
                   "--fail-on", "high", "--sarif", str(sarif), "-q")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == [
        "app.py"
    ]
    # CSS-only: the high findings already on main are not this change's doing.
    proc = run_cli("diff", "--base", history.c2, "--head", history.c3, str(history.repo),
                   "--fail-on", "high", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_working_tree_index_and_worktrees_are_untouched(tmp_path: Path) -> None:
    h = scripted_history(tmp_path / "repo")
    (h.repo / "app.py").write_text("# local edit, not committed\n")
    (h.repo / "scratch.txt").write_text("untracked\n")
    (h.repo / "README.md").write_text("staged edit\n")
    git(h.repo, "add", "README.md")
    before = (git(h.repo, "status", "--porcelain"), git(h.repo, "stash", "list"))
    proc = run_cli("diff", "--base", h.c0, "--head", h.c1, str(h.repo), "--format", "json", "-q")
    assert proc.returncode == 0, proc.stderr
    # The head commit's route was found even though the working copy of app.py is a stub.
    assert "POST /admin/purge" in proc.stdout
    assert (git(h.repo, "status", "--porcelain"), git(h.repo, "stash", "list")) == before
    assert (h.repo / "app.py").read_text() == "# local edit, not committed\n"
    assert len(git(h.repo, "worktree", "list").splitlines()) == 1
    assert git(h.repo, "rev-parse", "HEAD") == h.c3


def test_head_scan_reuses_the_cache_and_parses_only_changed_files(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from threatmodel.collect import _run

    # Files extraction parses. Link may parse again the lines of the few functions whose
    # guard summaries it reads (collect/pyweb_lazy.py): that is not an extraction.
    parsed: list[str] = []
    original = _run._extract_one

    def counting(path: str, data: bytes, *args: Any) -> str:
        parsed.append(path)
        return original(path, data, *args)

    monkeypatch.setattr(_run, "_extract_one", counting)
    cache = tmp_path / "cache"

    def settings_for(base_tree: Path):  # type: ignore[no-untyped-def]
        return resolve_settings(base_tree, provider="none", cache_dir=cache, env={})

    options = DiffOptions(base=history.c0, head=history.c1, scan=ScanOptions(jobs=1))
    report = run_diff(history.repo, options, settings_for)
    assert report.changed_files == ["app.py"]
    counts = Counter(parsed)
    assert counts["app.py"] == 2  # once per commit: it changed
    assert {p: n for p, n in counts.items() if p != "app.py"} == dict.fromkeys(
        set(counts) - {"app.py"}, 1
    )  # every other file parsed once, for the base; the head scan read them from the cache
    assert len(counts) >= 5
    parsed.clear()
    run_diff(history.repo, options, settings_for)  # a re-run parses nothing at all
    assert parsed == []
    assert os.listdir(cache)


def test_a_folder_inside_the_repository_is_diffed_and_linked_with_its_prefix(
    history: History,
) -> None:
    h = history  # PATH is supabase/, a folder of the repository: only it is compared
    proc = run_cli("diff", "--base", h.c0, "--head", h.c1, str(h.repo / "supabase"),
                   "--format", "json", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["path_prefix"] == "supabase/"
    assert report["changes"] == [] and report["changed_files"] == []  # app.py is outside
    proc = run_cli("diff", "--base", h.c1, "--head", h.c2, str(h.repo / "supabase"),
                   "--repo", "o/r", "-q")  # fmt: skip
    url = f"https://github.com/o/r/blob/{h.c2}/supabase/migrations/0003_share_payments.sql#L4"
    assert f"[migrations/0003_share_payments.sql#L4]({url})" in proc.stdout
