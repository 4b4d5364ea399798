"""A Next.js app inside a monorepo (fixtures/js/next-monorepo): middleware that dispatches
per hostname on constants from a workspace package, ownership checks in signed-in
handlers, and two apps that each serve the same path."""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.code.components import app_roots, component_of
from threatmodel.code.jsast import resolve_module
from threatmodel.code.jsworkspace import RepoFiles, workspace_packages
from threatmodel.code.walk import walk
from threatmodel.collect import collect_facts
from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.models import Facts

APP = Path(__file__).parent / "fixtures" / "js" / "next-monorepo"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(APP, NextJsCollector())


def test_workspace_package_imports_resolve_to_its_sources() -> None:
    files = walk(APP).files
    repo = RepoFiles(files, workspace_packages(APP, files))
    assert repo.packages["@acme/hosts"] == "packages/hosts"
    got = resolve_module("apps/web/middleware.ts", "@acme/hosts", repo)
    assert got == "packages/hosts/src/index.ts"
    # a plain file list knows no workspace: the import is a library's
    assert resolve_module("apps/web/middleware.ts", "@acme/hosts", frozenset(files)) is None
    assert resolve_module("apps/web/middleware.ts", "next/server", repo) is None


def test_host_folder_pages_get_the_guard_of_the_helper_their_host_reaches(facts: Facts) -> None:
    routes = by_route(facts)
    # isAppHost (a predicate in the workspace package) -> AppMiddleware, whose user comes
    # from a helper in another file that returns getToken()'s result
    settings = routes[("GET", "/settings")].auth
    assert settings.status.value == "authenticated"
    assert settings.evidence[0].path == "apps/web/lib/middleware/app.ts"
    # ADMIN_HOSTS.has(domain), a Set exported through a barrel -> AdminMiddleware, which
    # sends signed-in callers without a staff row on with next(), never into the host folder
    users = routes[("GET", "/users")].auth
    assert users.status.value == "restricted"
    assert users.evidence[0].path == "apps/web/lib/middleware/admin.ts"
    assert "next()" in (users.mechanism or "")
    # the app host rewrites every signed-in caller into its folder: signed in is enough
    assert settings.status.value == "authenticated"
    # the app host's exception list, and a page on no host, are not guarded
    assert routes[("GET", "/share/{id}")].auth.status.value == "public"
    assert routes[("GET", "/cloaked/{url}")].auth.status.value == "public"


def test_a_lookup_for_the_signed_in_caller_that_refuses_restricts(facts: Facts) -> None:
    routes = by_route(facts)
    owned = routes[("GET", "/api/projects/{projectId}")].auth
    assert owned.status.value == "restricted"
    assert "getProjectOrThrow" in (owned.mechanism or "")
    # the same identity and route parameter handed to a function that refuses no one
    assert routes[("POST", "/api/projects/{projectId}")].auth.status.value == "authenticated"
    # a refusing lookup keyed by the caller alone chooses nothing from the URL
    assert routes[("GET", "/api/me")].auth.status.value == "authenticated"


def test_each_app_of_a_monorepo_is_its_own_component() -> None:
    files = walk(APP).files
    roots = app_roots(APP, files)
    assert roots == ["apps/docs", "apps/web"]  # packages/hosts serves nothing
    assert component_of("apps/web/app/api/health/route.ts", roots) == "apps/web"
    result = collect_facts(APP, files, cache=None, jobs=1).facts
    health = [r for r in result.routes if r.path == "/api/health"]
    assert sorted(r.component for r in health) == ["apps/docs", "apps/web"]
    assert len({r.id for r in health}) == 2
    assert {r.id for r in health} == {"GET /api/health", "GET /api/health (apps/web)"}


def test_a_page_is_guarded_by_the_server_component_it_renders(facts: Facts) -> None:
    invite = by_route(facts)[("GET", "/invite/{token}")].auth
    assert invite.status.value == "authenticated"
    assert "<AcceptInvite>" in (invite.mechanism or "")


def test_pages_of_an_app_that_is_not_next_are_no_routes(facts: Facts) -> None:
    """apps/console is a create-react-app (its package.json lists no ``next``): its
    ``src/pages`` are React Router screens, though another app of the repository is Next.js."""
    assert not [r for r in facts.routes if r.location.path.startswith("apps/console/")]
    assert any(r.location.path.startswith("apps/docs/") for r in facts.routes)
