"""LLM-named paths: a finding that cites a path outside the repository is refuted unread.

A model (or a findings file, or a hostile repository steering the model) can cite
``../../etc/passwd``, an absolute path, or a path through a symlink that leaves the
repository. Each such finding must be refuted, with the reason, *without the target ever
being opened*. Two proofs:

- every ``open`` in the process (``builtins.open``, ``io.open``, ``os.open``) is
  instrumented during the scan, and any open of a path that resolves outside the
  repository fails the test;
- a symlink points at a FIFO outside the repository: opening it for reading would block
  forever, so ``threatmodel verify`` in a subprocess with a timeout proves it was not
  opened (the subprocess finishes).
"""

from __future__ import annotations

import builtins
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.llm_server import FakeLLM, Recorded
from robust_support import cli, llm_finding, scan, settings_for

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.models import Verdict

CANARY = "canary-outside-the-repository-5f1e"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """(repo, outside): a small app, and a folder outside it that symlinks point into."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{CANARY}\npassword = 'x'\n", encoding="utf-8")
    os.mkfifo(outside / "pipe")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "views.py").write_text(
        "from flask import Flask, request\napp = Flask(__name__)\n\n\n@app.get('/ping')\n"
        # it tests what the caller sent, so its chunk shows its code (a page that does
        # nothing with the request is only a line of the overview) and the pass asks at
        # least two questions
        "def ping():\n    if request.args.get('loud'):\n        return 'PONG'\n    return 'pong'\n",
        encoding="utf-8",
    )
    os.symlink(outside / "secret.txt", repo / "app" / "settings.py")  # file link out
    os.symlink(outside, repo / "vendor")  # folder link out
    os.symlink(outside / "pipe", repo / "app" / "pipe.py")  # link to a FIFO outside
    os.mkfifo(repo / "app" / "inner_pipe.py")  # a FIFO inside: not a regular file
    os.symlink("loop.py", repo / "app" / "loop.py")  # a link to itself
    return repo, outside


def hostile_paths(outside: Path) -> list[str]:
    return [
        "../../etc/passwd",
        "app/../../outside/secret.txt",
        "..\\..\\outside\\secret.txt",
        "/etc/passwd",
        str(outside / "secret.txt"),
        "C:\\Windows\\win.ini",
        "~/.ssh/id_rsa",
        "file:///etc/passwd",
        "app/settings.py",
        "vendor/secret.txt",
        "app/pipe.py",
        "app/inner_pipe.py",
        "app/loop.py",
        "app/views.py\0../../etc/passwd",
        "app/" + "x" * 290 + ".py",  # a name too long for the file system
    ]


def finding_citing(path: str, n: int) -> dict[str, Any]:
    return llm_finding(
        "hardcoded_secret", path, 1, f"{CANARY}", f"Secret in cited file #{n:02d}", severity="high"
    )


@pytest.fixture
def watch_opens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Every path opened during the test that resolves outside ``tmp_path / 'repo'``."""
    repo = (tmp_path / "repo").resolve()
    outside = (tmp_path / "outside").resolve()
    escaped: list[str] = []

    def note(target: Any) -> None:
        if isinstance(target, int):
            return
        try:
            real = Path(os.path.realpath(os.fsdecode(target)))
        except (TypeError, ValueError, OSError):
            return
        leaves = real.is_relative_to(outside) or str(real).startswith(("/etc/", "/root/.ssh"))
        fifo = real.is_relative_to(repo) and "pipe" in real.name
        if leaves or fifo:
            escaped.append(str(real))

    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

    def fake_open(file: Any, *a: Any, **k: Any) -> Any:
        note(file)
        return real_open(file, *a, **k)

    def fake_io_open(file: Any, *a: Any, **k: Any) -> Any:
        note(file)
        return real_io_open(file, *a, **k)

    def fake_os_open(path: Any, *a: Any, **k: Any) -> int:
        note(path)
        return real_os_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_io_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    yield escaped


def test_reader_refuses_before_opening(layout: tuple[Path, Path], watch_opens: list[str]) -> None:
    repo, outside = layout
    reader = RepoReader(repo)
    for path in hostile_paths(outside):
        with pytest.raises(PathRefused):
            reader.lines(path)
        assert reader.snippet(path, 1) == ""
    assert watch_opens == []
    assert reader.lines("app/views.py")[0] == "from flask import Flask, request"
    # Control: the instrument does see an open outside the repository (via pathlib too).
    assert (outside / "secret.txt").read_text("utf-8").startswith(CANARY)
    assert watch_opens == [str((outside / "secret.txt").resolve())]


def test_scan_refutes_llm_findings_citing_paths_outside(
    layout: tuple[Path, Path],
    watch_opens: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo, outside = layout
    # the overview a request of its own (``join_overview`` would end the one views request
    # with it): two answers of 8 findings each carry every citation
    monkeypatch.setattr("threatmodel.summarize.join_overview", lambda c, o, *_: [*c, o])
    paths = hostile_paths(outside)
    cited = [finding_citing(p, i) for i, p in enumerate(paths)]
    # A claim about a real file inside, so the pass is seen to confirm what it should.
    cited.append(
        llm_finding(
            "route_unauthenticated",
            "app/views.py",
            6,
            "def ping():",
            "Ping is public",
            route=("GET", "/ping"),
            severity="low",
        )
    )

    def answer(req: Recorded) -> dict[str, Any]:
        # The schema allows 8 findings per answer: spread them over the chunks it asks.
        return {"findings": cited[:8] if "views" in req.chunk else cited[8:]}

    with FakeLLM(answer=answer) as fake:
        report = scan(repo, settings_for("openai", fake.url, tmp_path / "cache", concurrency=1))
    assert len(fake.requests) >= 2, [r.chunk for r in fake.requests]
    by_title = {f.title: f for f in report.findings + report.suppressed}
    for i, path in enumerate(paths):
        f = by_title[f"Secret in cited file #{i:02d}"]
        assert f.verdict == Verdict.REFUTED, (path, f.verdict, f.reason)
        assert f.reason, path
    assert by_title["Ping is public"].verdict == Verdict.CONFIRMED
    assert watch_opens == []
    assert report.llm.status == "ran"


def test_verify_command_never_opens_a_fifo_outside(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    """``threatmodel verify``: reading the FIFO would block; the run must finish, refuting."""
    repo, outside = layout
    findings = [finding_citing(p, i) for i, p in enumerate(hostile_paths(outside))]
    for f in findings:
        f["source"] = "external"
    (tmp_path / "claims.json").write_text(json.dumps({"findings": findings}), encoding="utf-8")
    out = tmp_path / "verdicts.json"
    done = cli(
        "verify", str(tmp_path / "claims.json"), "--repo", str(repo), "--format", "json",
        "--out", str(out),
        env={"THREATMODEL_CACHE_DIR": str(tmp_path / "cache")},
        timeout=120,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(out.read_text("utf-8"))
    assert data["findings"] == []
    assert len(data["suppressed"]) == len(findings)
    reasons = {f["title"]: f["reason"] for f in data["suppressed"]}
    assert "outside the repository" in reasons["Secret in cited file #08"]  # the file link
    assert "outside the repository" in reasons["Secret in cited file #10"]  # the FIFO link
    assert "'..'" in reasons["Secret in cited file #00"]
    assert "absolute" in reasons["Secret in cited file #03"]
