"""Koa apps read the way Koa runs them (fixtures/js/koa-mounted): koa-mount prefixes, a
koa-router whose paths need no leading slash, routers behind a barrel re-export and a
tsconfig path alias, and ``(ctx, next)`` middleware whose refusals are judged by what
they throw and when they run."""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.code.jsast import callee, nodes_of, resolve_module
from threatmodel.code.jsworkspace import alias_candidates, repo_files
from threatmodel.code.treesitter import parse_js
from threatmodel.collect.effects_js import classify_js
from threatmodel.frameworks.express.routes import ExpressCollector
from threatmodel.models import Facts

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
        ("GET", "/v2/notes.optout"),
        ("POST", "/v2/notes.list"),
        ("POST", "/v2/notes.purge"),
        ("POST", "/v2/notes.read"),
    ]


def test_koa_guard_factory_through_alias_and_its_waiving_option(facts: Facts) -> None:
    listed = by_route(facts)[("POST", "/v2/notes.list")].auth
    assert listed.status.value == "authenticated"
    assert "signedIn()" in (listed.mechanism or "")
    assert status(facts, "POST", "/v2/notes.purge") == "authenticated"
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
