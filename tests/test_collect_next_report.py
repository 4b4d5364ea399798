"""Next.js handlers guarded through a repository helper that reports the caller.

``tests/fixtures/js/next-report``: ``readRequest`` (src/lib/request.ts) calls
``resolveCaller`` (src/lib/caller.ts, a lookup by what it does: it reads the bearer token,
finds the account and answers null) and flags ``error`` when it finds no one, unless
called with ``{ public: true }``. ``validated`` flags ``error`` on a bad body only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.code.source import SourceFile
from threatmodel.frameworks._js.report import lookup_functions, reporters, skipped
from threatmodel.frameworks.nextjs.files import NextFile
from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.models import Facts

FIXTURE = Path(__file__).parent / "fixtures" / "js" / "next-report"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(FIXTURE, NextJsCollector())


def status(facts: Facts, method: str, path: str) -> str:
    return by_route(facts)[(method, path)].auth.status.value


def _file(rel: str) -> NextFile:
    src = SourceFile.from_bytes(rel, (FIXTURE / rel).read_bytes())
    assert src.ts_tree is not None
    return NextFile(src, src.ts_tree.root_node)


def test_handler_refusing_on_the_helpers_error_is_authenticated(facts: Facts) -> None:
    route = by_route(facts)[("POST", "/api/me/password")]
    assert route.auth.status.value == "authenticated"
    assert "readRequest()" in (route.auth.mechanism or "")
    assert route.auth.evidence[0].snippet == "if (error) {"
    # the helper's error tested through the answer object, in an `||`
    assert status(facts, "DELETE", "/api/teams") == "authenticated"


def test_skip_option_unchecked_error_and_body_only_helper_stay_public(facts: Facts) -> None:
    assert status(facts, "POST", "/api/login") == "public"  # { public: true }
    assert status(facts, "POST", "/api/reports") == "public"  # error never tested
    assert status(facts, "POST", "/api/feedback") == "public"  # validates the body only
    assert status(facts, "POST", "/api/export") == "public"  # error && something else


def test_lookup_known_by_what_it_does(facts: Facts) -> None:
    # `if (!found) return unauthorized()` on resolveCaller's answer guards the route
    assert status(facts, "GET", "/api/profile") == "authenticated"
    # the empty lookup answered with the public feed is no refusal
    assert status(facts, "GET", "/api/feed") == "public"
    # bearerOnly reads the token but looks no one up and never answers empty
    assert status(facts, "POST", "/api/keys") == "public"
    caller = _file("src/lib/caller.ts")
    assert lookup_functions(caller.functions) == {"resolveCaller"}
    assert lookup_functions(_file("src/lib/token.ts").functions) == set()
    # db.session.findFirst reads a visitor's record: a name is not a credential read
    assert lookup_functions(_file("src/lib/visits.ts").functions) == set()
    assert status(facts, "GET", "/api/visits/{visitId}") == "public"


def test_role_test_on_the_reported_caller_restricts(facts: Facts) -> None:
    assert status(facts, "POST", "/api/admin/users") == "restricted"


def test_reporter_summary_names_props_and_skip_option() -> None:
    f = _file("src/lib/request.ts")
    summaries = {s["lookup"]: s for s in reporters(f.functions["readRequest"])}
    auth = summaries["resolveCaller"]
    assert auth["truthy"] == ["error"] and auth["falsy"] == ["caller"]
    assert auth["skip"] == [[2, "public", True]]
    assert not auth["known"] and not auth["rejects"]
    # the schema check reports the same way; only link time tells it is no lookup
    assert summaries["schema.safeParse"]["truthy"] == ["error"]
    assert [s["lookup"] for s in reporters(f.functions["validated"])] == ["schema.safeParse"]


@pytest.mark.parametrize(
    ("args", "skip"),
    [
        (["request", "schema"], False),
        (["request", "schema", {"public": "true"}], True),
        (["request", "schema", {"public": "false"}], False),
        (["request", "schema", {"other": "true"}], False),
        (["request", "schema", "opts"], True),  # built elsewhere: unknown, stays public
    ],
)
def test_skip_option_at_the_call(args: list[object], skip: bool) -> None:
    assert skipped({"skip": [[2, "public", True]]}, args) is skip


def test_helper_refusing_on_a_repository_lookup(facts: Facts) -> None:
    # requireCaller throws when resolveCaller (another file) finds no one
    route = by_route(facts)[("PUT", "/api/settings")]
    assert route.auth.status.value == "authenticated"
    assert "requireCaller()" in (route.auth.mechanism or "")


def test_predicate_over_the_reported_caller_restricts(facts: Facts) -> None:
    route = by_route(facts)[("POST", "/api/projects/{projectId}")]
    assert route.auth.status.value == "restricted"
    assert route.auth.evidence[0].snippet.startswith("if (!(await canEditProject(caller")
    # the caller's own fields compared in a refused condition: the owner or an admin
    assert status(facts, "DELETE", "/api/accounts/{accountId}") == "restricted"
    # the predicate alone, with readRequest's error never tested, shows no sign-in
    assert status(facts, "POST", "/api/drafts") == "public"


def test_helper_answering_nothing_for_an_empty_lookup(facts: Facts) -> None:
    # currentAccount returns null when resolveCaller (another file) finds no one
    assert status(facts, "GET", "/api/billing") == "authenticated"
    summary = reporters(_file("src/lib/account.ts").functions["currentAccount"])[0]
    assert summary["falsy"] == [""] and summary["truthy"] == []
