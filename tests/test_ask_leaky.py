"""``ask`` on examples/leaky-notes (issue 21 "ask"): near-miss names, concrete paths, and the
report's own findings in "who can write" answers. Each test failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE, git_repo_copy

from threatmodel.chat.answers import ChatContext, answer_deterministic
from threatmodel.config import Settings
from threatmodel.scan import ScanOptions, run_scan


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ChatContext:
    root = git_repo_copy(EXAMPLE, tmp_path_factory.mktemp("ex") / "leaky-notes")
    settings = Settings(provider=None, cache_dir=tmp_path_factory.mktemp("c"))
    return ChatContext(run_scan(root, settings, ScanOptions(jobs=1)), Path(root))


def test_unknown_name_suggests_the_prefixed_variable(ctx: ChatContext) -> None:
    a = answer_deterministic("where is SUPABASE_SERVICE_ROLE_KEY read?", ctx)
    assert a is not None and a.intent == "name_reads"
    assert "Did you mean `VITE_SUPABASE_SERVICE_ROLE_KEY`?" in a.text
    assert any(c.path == "web/src/supabaseClient.ts" for c in a.citations)


def test_a_concrete_path_matches_its_route_template(ctx: ChatContext) -> None:
    a = answer_deterministic("what guards DELETE /admin/users/3?", ctx)
    assert a is not None and a.intent == "route_guard"
    assert "/admin/users/{user_id}" in a.text
    b = answer_deterministic("what guards DELETE /users/3?", ctx)  # the tail of the path
    assert b is not None and "/admin/users/{user_id}" in b.text
    assert answer_deterministic("what guards GET /nothing/here/3?", ctx) is None


def test_who_can_write_includes_the_leaked_service_role_key(ctx: ChatContext) -> None:
    a = answer_deterministic("who can write to the notes table?", ctx)
    assert a is not None and a.intent == "table_writers"
    assert "Anyone can write to every row" in a.text
    assert "VITE_SUPABASE_SERVICE_ROLE_KEY is shipped to the browser" in a.text


def test_open_question_is_asked_with_the_scans_chunks(ctx: ChatContext) -> None:
    from threatmodel.chat.llm_answer import build_prompt
    from threatmodel.chat.retrieval import retrieve

    got = retrieve("is GET /api/search safe from injection?", ctx, 6_000)
    assert got.chunks and "GET /api/search" in got.chunks[0].routes
    # the scan's chunk, as summarize built it (whole, not re-excerpted)
    assert "--- handler: app.py lines" in got.chunks[0].data
    _, user, _, tokens = build_prompt("is GET /api/search safe from injection?", ctx, 6_000)
    assert f"CHUNK {got.chunks[0].title}:" in user and tokens <= 6_000


def test_ask_counts_one_policy_in_the_singular(ctx: ChatContext) -> None:
    import re

    a = answer_deterministic("/tables", ctx)
    b = answer_deterministic("who can read the notes table?", ctx)
    assert a is not None and b is not None
    assert "1 policy" in a.text + b.text
    assert not re.search(r"\b1 policies\b", a.text + b.text)
