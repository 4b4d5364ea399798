"""Koa apps read the way Koa runs them (fixtures/js/koa-mounted): koa-mount prefixes, a
koa-router whose paths need no leading slash, routers behind a barrel re-export and a
tsconfig path alias, and ``(ctx, next)`` middleware whose refusals are judged by what
they throw and when they run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.code.jsast import callee, nodes_of, resolve_module
from threatmodel.code.jsworkspace import alias_candidates, repo_files
from threatmodel.code.treesitter import parse_js
from threatmodel.collect.effects_js import classify_js
from threatmodel.config import Settings
from threatmodel.frameworks.express.routes import ExpressCollector
from threatmodel.models import Facts
from threatmodel.scan import ScanOptions, run_scan

APP = Path(__file__).parent / "fixtures" / "js" / "koa-mounted"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(APP, ExpressCollector())


def status(facts: Facts, method: str, path: str) -> str:
    return by_route(facts)[(method, path)].auth.status.value


def test_routes_under_the_mount_prefix_with_koa_router_concatenation(facts: Facts) -> None:
    # router.post("notes.list") used at "/" of an app koa-mount puts at /v2: /v2/notes.list;
    # each route once (the mounted app is not also replayed bare at the root)
    assert sorted(by_route(facts)) == [
        ("GET", "/"),
        ("GET", "/v2/members.me"),
        ("GET", "/v2/notes.optout"),
        ("GET", "/v2/notes.page"),
        ("POST", "/v2/members.passkeyLogin"),
        ("POST", "/v2/notes.list"),
        ("POST", "/v2/notes.optout"),
        ("POST", "/v2/notes.purge"),
        ("POST", "/v2/notes.read"),
        ("POST", "/v2/notes.rename"),
        ("POST", "/v2/notes.retitle"),
    ]


def test_koa_guard_factory_through_alias_and_its_waiving_option(facts: Facts) -> None:
    listed = by_route(facts)[("POST", "/v2/notes.list")].auth
    assert listed.status.value == "authenticated"
    assert "signedIn()" in (listed.mechanism or "")
    # signedIn({ role: ... }) hands the role to the check the middleware runs
    assert status(facts, "POST", "/v2/notes.purge") == "restricted"
    # signedIn({ guestsToo: true }) swallows the refusal: anyone may call it
    assert status(facts, "POST", "/v2/notes.read") == "public"


def test_koa_throws_that_refuse_no_caller(facts: Facts) -> None:
    # the error mapper throws only after next() (the route's own errors), the CSRF check
    # refuses forged requests, the input check throws a validation error: none is a login
    assert status(facts, "GET", "/") == "public"
    optout = by_route(facts)[("GET", "/v2/notes.optout")].auth
    # ... but the handler's constant-time compare of the link's token is a gate
    assert optout.status.value == "authenticated"
    assert "url_token" in (optout.mechanism or "")


def test_a_koa_handler_that_refuses_without_ctx_state_user(facts: Facts) -> None:
    me = by_route(facts)[("GET", "/v2/members.me")].auth
    assert me.status.value == "authenticated" and "ctx.state.user" in (me.mechanism or "")


def test_tsconfig_paths_resolve_imports() -> None:
    files = repo_files(APP, [str(p.relative_to(APP)) for p in APP.rglob("*") if p.is_file()])
    assert alias_candidates("srv/api/index.ts", "@srv/middlewares/csrf", files.aliases) == [
        "srv/middlewares/csrf"
    ]
    assert (
        resolve_module("srv/api/index.ts", "@srv/middlewares/csrf", files)
        == "srv/middlewares/csrf.ts"
    )
    assert resolve_module("srv/api/index.ts", "@other/x", files) is None


def test_koa_context_and_metrics_calls_store_nothing() -> None:
    code = """ctx.remove("X-Frame-Options"); Metrics.increment("hits");
    ctx.state.member.save(); note.destroy();"""
    tree = parse_js(code, "typescript")
    kinds = {
        callee(c): classify_js(callee(c), c) for c in nodes_of(tree.root_node, {"call_expression"})
    }
    assert kinds == {
        "ctx.remove": None,
        "Metrics.increment": None,
        "ctx.state.member.save": "db_write",
        "note.destroy": "db_write",
    }


def test_a_handler_that_hands_its_request_to_a_checking_function_is_gated(facts: Facts) -> None:
    for method in ("GET", "POST"):  # return optOut(ctx) / optOut itself
        auth = by_route(facts)[(method, "/v2/notes.optout")].auth
        assert auth.status.value == "authenticated", method
        assert "url_token" in (auth.mechanism or "")


def test_counting_a_visit_is_no_overwrite(tmp_path: Path) -> None:
    shutil.copytree(APP, tmp_path / "app")
    report = run_scan(
        tmp_path / "app",
        Settings(provider=None, cache_dir=tmp_path / ".cache"),
        ScanOptions(use_cache=False, jobs=1),
    )
    tm101 = {f.claims[0].route.path: f for f in report.findings if f.rule_id == "TM101"}
    # every value the update sets is the server's (a clock, a counter): a visit recorded
    page = tm101["/v2/notes.page"]
    assert page.severity.value == "low" and "records a visit" in page.title
    # a title from the request overwrites the record: high
    assert tm101["/v2/notes.rename"].severity.value == "high"
    # save(options): its argument is no value set; the title was set from the request
    assert "records a visit" not in tm101["/v2/notes.retitle"].title
    assert "/v2/notes.optout" not in tm101  # the link's token is the gate
    assert "/v2/members.passkeyLogin" not in tm101  # it signs the caller in: sign-in itself
