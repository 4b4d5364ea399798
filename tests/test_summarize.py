"""Facts -> chunks: grouped by component, within budget, deterministic, never a secret value."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE, FIXTURES, git_repo_copy, overview_of

from threatmodel.chunk_overview import secret_lines
from threatmodel.code.reader import RepoReader
from threatmodel.config import Settings
from threatmodel.models import Facts, Location, Secret
from threatmodel.redact import MASK, mask_line
from threatmodel.scan import ScanOptions, run_scan
from threatmodel.summarize import Focus, count_tokens, summarize

PLANTED = FIXTURES / "llm" / "planted"
PLANTED_VALUES = (
    "sk_live_51PlantedQ8wE2rT5yU7iO9pA1sD3fG6hJ4kL0zX",
    "AKIAQ3PLANTED7XYZ4WQ",
    "9f8e7d6c5b4a39281706f5e4d3c2b1a0ff",
    "Tr0ub4dor&3-planted",
    "sk-proj-PlantedEnvValue0123456789abcdefghijklmnopqrstuv",
    "plantedsessionsecretvalue42",
    "yamlPlantedPassw0rd!",
)
STRIPE_EXAMPLE = "sk_live_51MzQv2HkT8pLw3XcR7yN4bJ6dE0fG9aS2uV5iK1oPqW3eZ8rT"


def facts_of(root: Path, cache: Path) -> Facts:
    settings = Settings(provider=None, cache_dir=cache)
    return run_scan(root, settings, ScanOptions(use_cache=False, jobs=1)).facts


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Facts, RepoReader]:
    root = git_repo_copy(EXAMPLE, tmp_path_factory.mktemp("ex") / "leaky-notes")
    return facts_of(root, tmp_path_factory.mktemp("c")), RepoReader(root)


def test_component_chunk_has_handlers_guards_and_tables(example: tuple[Facts, RepoReader]) -> None:
    facts, reader = example
    chunks = summarize(facts, reader, 6000)
    kinds = [c.kind for c in chunks]
    # the database section shares a request (the last route request when it fits), and so
    # does the overview: the small app is one request
    setup = "\n".join(c.data for c in chunks if c.kind != "cross")
    assert kinds == ["component"] and chunks[-1].overview and "table " in setup
    app = next(c for c in chunks if c.id == "routes in app.py#1")
    assert "POST /api/notes/{note_id}/share" in app.routes
    # the share handler, line-numbered, and the body of the @audit wrapper that checks nothing
    assert "50|def share_note(note_id):" in app.data
    assert "--- decorator audit: auth.py lines 32-40" in app.data
    assert 'log.info("call %s", view.__name__)' in app.data
    # a guard used by three routes is shown once per chunk
    assert app.data.count("--- decorator login_required: auth.py") == 1
    # the SQL-injectable query is there for the model to see
    assert "WHERE body LIKE '%{q}%'" in app.data
    assert "table profiles" in setup and "row level security DISABLED" in setup


def test_secrets_appear_by_name_kind_and_place_only(
    example: tuple[Facts, RepoReader],
) -> None:
    facts, reader = example
    chunks = summarize(facts, reader, 6000)
    text = "\n".join(c.data for c in chunks)
    assert STRIPE_EXAMPLE not in text
    secret = next(s for s in facts.secrets if s.name == "STRIPE_SECRET_KEY")
    assert f"hardcoded secret STRIPE_SECRET_KEY ({secret.kind}) at " in text
    # the fingerprint is no use to the model: not sent (places of one value share a line)
    assert secret.fingerprint not in text


def test_places_of_one_secret_value_share_a_line() -> None:
    def at(path: str, line: int, fp: str = "a" * 16) -> Secret:
        return Secret(
            kind="jwt_secret", name="key", location=Location(path=path, line=line), fingerprint=fp
        )

    lines = secret_lines([at("b.py", 4), at("a.py", 9), at("a.py", 3), at("c.py", 1, "b" * 16)])
    assert lines == [
        "hardcoded secret key (jwt_secret) (the same value) at a.py:3, 9; b.py:4",
        "hardcoded secret key (jwt_secret) at c.py:1",
    ]
    # values written once each in one file share a line (ten test passwords in a view)
    each = [at("v.py", n, f"{n:016x}") for n in (12, 3, 7)] + [at("w.py", 1, "c" * 16)]
    assert secret_lines(each) == [
        "hardcoded secret key (jwt_secret) (3 values) at v.py:3, 7, 12",
        "hardcoded secret key (jwt_secret) at w.py:1",
    ]


def test_chunks_respect_the_budget_and_are_deterministic(example: tuple[Facts, RepoReader]) -> None:
    facts, reader = example
    small = summarize(facts, reader, 1000)
    assert len([c for c in small if c.kind == "component"]) >= 2  # had to split
    for c in small:
        assert c.tokens == count_tokens(c.data)
        assert c.tokens <= 1000 + 200  # an oversized single section is cut to about the budget
    again = summarize(facts, reader, 1000)
    assert [(c.id, c.data) for c in again] == [(c.id, c.data) for c in small]
    routes = sorted(r for c in small if c.kind == "component" for r in c.routes)
    assert routes == sorted(r.id for r in facts.routes)  # every route, exactly once


def test_tokens_sent_are_a_fraction_of_the_source(example: tuple[Facts, RepoReader]) -> None:
    facts, reader = example
    chunks = summarize(facts, reader, 6000)
    source = sum(
        count_tokens(p.read_text("utf-8"))
        for p in reader.root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )
    sent = sum(c.tokens for c in chunks)
    assert 0 < sent < source * 3  # tiny app: facts overhead; the ratio matters on real apps


def test_focus_keeps_only_changed_routes_and_tables(example: tuple[Facts, RepoReader]) -> None:
    facts, reader = example
    focus = Focus(routes=frozenset({"GET /api/search"}))
    chunks = summarize(facts, reader, 6000, focus)
    comps = [c for c in chunks if c.kind == "component"]
    assert [r for c in comps for r in c.routes] == ["GET /api/search"]
    assert not [c for c in chunks if c.kind == "database"]
    assert "\n* GET /api/search :" in overview_of(chunks)  # marked as changed under review
    only_table = summarize(facts, reader, 6000, Focus(tables=frozenset({"profiles"})))
    assert [c.kind for c in only_table] == ["database"] and only_table[0].overview


def test_planted_secrets_never_reach_a_chunk(tmp_path: Path) -> None:
    root = git_repo_copy(PLANTED, tmp_path / "planted")
    facts = facts_of(root, tmp_path / "cache")
    chunks = summarize(facts, RepoReader(root), 6000)
    text = "\n".join(c.data for c in chunks)
    assert "def charge():" in text and "decorator require_partner" in text
    for value in PLANTED_VALUES:
        assert value not in text, value
    assert MASK in text


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ('KEY = "sk_live_51MzQv2HkT8pLw3XcR7yN4bJ6dE0fG9aS2uV5iK1oPqW3eZ8rT"', "KEY = "),
        ('password = "hunter2hunter2"', "password = "),
        ('h = {"Authorization": "Bearer abcDEF123456ghiJKL7890mnoPQR"}', '"Authorization": '),
        ('url = "postgres://app:S3cr3tPa55@db.internal/app"', "url = "),
    ],
)
def test_mask_line_redacts_values_and_keeps_code(line: str, kept: str) -> None:
    out = mask_line(line)
    assert MASK in out and kept in out
    secret = line.split('"')[-2] if "postgres" not in line else "S3cr3tPa55"
    assert secret.split()[-1] not in out


def test_mask_line_leaves_ordinary_code_alone() -> None:
    code = 'rows = db().execute("SELECT id FROM notes WHERE owner = ?", (g.user_id,))'
    assert mask_line(code) == code
    assert mask_line('x = "anything"', force=True) == f'x = "{MASK}"'


def test_django_route_chunk_shows_the_view_not_the_urlconf(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = git_repo_copy(FIXTURES / "python" / "django_app", tmp_path_factory.mktemp("dj") / "d")
    facts = facts_of(root, tmp_path_factory.mktemp("c"))
    data = "\n".join(c.data for c in summarize(facts, RepoReader(root), 6000))
    assert "def payment_hook(" in data  # the function view's body, from shop/views.py
    assert "class ProductDetail(" in data  # a class-based view's class
    # a view with nothing dangerous, no guard code and no write is the overview's line only
    assert "def index(" not in data and '  ANY /shop/ :8 | path("", views.index),' in data
