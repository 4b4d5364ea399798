"""SQL / Supabase migrations: final state after every migration, permissive policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from pglast import parser

from threatmodel.code.collector import FactsBuilder, LinkContext
from threatmodel.code.source import SourceFile
from threatmodel.collect._rls import is_open, policy_is_permissive
from threatmodel.collect.sql import SqlCollector, migration_order, parse_file
from threatmodel.models import Facts, Table

FIXTURE = Path(__file__).parent / "fixtures" / "data" / "supabase"


def _facts(root: Path) -> tuple[Facts, list[str]]:
    collector, extracts, errors = SqlCollector(), {}, []
    for path in sorted(root.rglob("*.sql")):
        rel = path.relative_to(root).as_posix()
        src = SourceFile.from_bytes(rel, path.read_bytes())
        data = collector.extract(src)
        errors += [f"{rel}: {e}" for e in src.parse_errors]
        if data is not None:
            extracts[rel] = data
    out = FactsBuilder()
    collector.link(extracts, out, LinkContext(root, ()))
    return out.build(), errors


@pytest.fixture(scope="module")
def facts() -> Facts:
    return _facts(FIXTURE)[0]


def _table(facts: Facts, name: str) -> Table:
    return next(t for t in facts.tables if t.name == name)


def test_final_tables_and_rls_state(facts: Facts) -> None:
    state = {t.name: t.rls_enabled for t in facts.tables}
    assert state == {
        "audit_log": True,
        "new_name": True,  # renamed, then RLS enabled under the new name
        "posts": True,
        "profiles": False,  # a later migration disables RLS
        "secrets_vault": True,
        "storage.objects": True,
    }  # "scratch" was dropped, "old_name" renamed


def test_a_later_migration_closes_open_policies(facts: Facts) -> None:
    posts = {p.name: p for p in _table(facts, "posts").policies}
    assert set(posts) == {"posts readable", "published posts"}  # "posts insert" dropped
    assert posts["posts readable"].using == "auth.uid() = author"
    assert not posts["posts readable"].permissive  # replaced by an owner check
    assert not posts["published posts"].permissive  # a row filter, not an open door
    vault = _table(facts, "secrets_vault").policies[0]
    assert vault.using == "id = 0" and not vault.permissive  # ALTER POLICY recomputes


def test_permissive_policies_in_the_final_state(facts: Facts) -> None:
    permissive = sorted((t.name, p.name) for t in facts.tables for p in t.policies if p.permissive)
    assert permissive == [
        ("profiles", "profiles for logged in"),
        ("profiles", "profiles role check"),
        ("storage.objects", "avatar read"),
    ]
    profiles = {p.name: p for p in _table(facts, "profiles").policies}
    assert "profiles delete own" in profiles  # renamed by ALTER POLICY ... RENAME TO
    admins = profiles["admins"]
    assert admins.restrictive and admins.command == "ALL" and not admins.permissive
    logged_in = profiles["profiles for logged in"]
    assert logged_in.roles == ["authenticated"] and logged_in.command == "SELECT"
    assert logged_in.location is not None and logged_in.location.line == 22


def test_columns_grants_buckets_functions(facts: Facts) -> None:
    profiles = {c.name: c.sensitive for c in _table(facts, "profiles").columns}
    assert profiles == {
        "id": False,
        "username": False,
        "password_hash": True,
        "date_of_birth": True,
    }
    posts = _table(facts, "posts")
    assert [c.name for c in posts.columns][-1] == "api_token"  # ALTER TABLE ADD COLUMN
    assert [(g.role, g.privileges) for g in posts.grants] == [("anon", ["SELECT"])]
    assert {b.name: b.public for b in facts.buckets} == {
        "avatars": False,  # update storage.buckets set public = false
        "exports": True,  # inserted inside a DO block
        "invoices": False,
    }
    assert [(f.name, f.security_definer) for f in facts.functions] == [("is_admin", True)]


def test_unparsable_statement_is_reported_and_the_rest_kept() -> None:
    facts, errors = _facts(FIXTURE)
    assert errors == [
        "supabase/migrations/20240301000000_broken.sql: SQL not parsed at line 4: syntax error"
    ]
    audit = _table(facts, "audit_log")
    assert audit.rls_enabled and [p.name for p in audit.policies] == ["audit insert"]


def test_insecure_script_alone_leaves_rls_disabled(tmp_path: Path) -> None:
    (tmp_path / "deploy.sql").write_text(
        "drop table if exists documents cascade;\n"
        "create table documents (id uuid primary key, user_id uuid);\n"
        'drop policy if exists "own" on documents;\n'
    )
    facts, _ = _facts(tmp_path)
    assert [(t.name, t.rls_enabled, t.policies) for t in facts.tables] == [("documents", False, [])]


def test_migration_order_compares_numbers() -> None:
    paths = ["db/V10__x.sql", "db/V2__y.sql", "db/V1__z.sql"]
    assert sorted(paths, key=migration_order) == ["db/V1__z.sql", "db/V2__y.sql", "db/V10__x.sql"]


def _expr(sql: str):  # type: ignore[no-untyped-def]
    return parser.parse_sql(f"select 1 where {sql}")[0].stmt.whereClause


@pytest.mark.parametrize(
    ("expression", "table", "expected"),
    [
        ("true", "t", True),
        ("1 = 1", "t", True),
        ("auth.uid() is not null", "t", True),
        ("(select auth.uid()) is not null", "t", True),
        ("auth.role() = 'authenticated'", "t", True),
        ("auth.jwt() ->> 'role' = 'anon'", "t", True),
        ("auth.role() in ('anon', 'authenticated')", "t", True),
        ("true or owner = auth.uid()", "t", True),
        ("auth.uid() is not null and true", "t", True),
        ("bucket_id = 'avatars'", "storage.objects", True),
        ("bucket_id = 'avatars'", "t", False),
        ("owner = auth.uid()", "t", False),
        ("auth.uid() is not null and owner = auth.uid()", "t", False),
        ("auth.uid() is null", "t", False),
        ("auth.role() = 'service_role'", "t", False),
        ("auth.jwt() ->> 'role' = 'admin'", "t", False),
        ("is_admin()", "t", False),
        ("not false", "t", False),
        ("published", "t", False),
        ("exists (select 1 from members m where m.user_id = auth.uid())", "t", False),
    ],
)
def test_is_open(expression: str, table: str, expected: bool) -> None:
    assert is_open(_expr(expression), table) is expected


def test_command_decides_which_expression_counts() -> None:
    open_, closed = _expr("true"), _expr("owner = auth.uid()")
    assert policy_is_permissive("INSERT", closed, open_, "t")  # WITH CHECK (true)
    assert not policy_is_permissive("SELECT", closed, open_, "t")
    assert policy_is_permissive("UPDATE", open_, closed, "t")  # every row can be touched
    assert policy_is_permissive("ALL", None, open_, "t")


def test_irrelevant_sql_is_skipped_fast() -> None:
    src = SourceFile.from_bytes("queries/report.sql", b"select * from orders where id = $1;")
    assert SqlCollector().extract(src) is None
    ops, error = parse_file("create table t (id int);")
    assert error is None and ops[0]["op"] == "create_table" and ops[0]["line"] == 1
