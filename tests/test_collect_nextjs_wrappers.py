"""Next.js handlers judged by what their wrappers, clients and middleware helpers do
(fixtures/js/next-wrappers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from js_support import by_route, collect

from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.models import Facts, RouteAuth

APP = Path(__file__).parent / "fixtures" / "js" / "next-wrappers"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(APP, NextJsCollector())


def auth(facts: Facts, method: str, path: str) -> RouteAuth:
    return by_route(facts)[(method, path)].auth


def test_wrapper_followed_to_its_definition_through_a_barrel(facts: Facts) -> None:
    got = auth(facts, "GET", "/api/items")
    assert got.status.value == "authenticated"
    assert got.evidence[0].path == "lib/auth/session.ts"
    # a wrapper whose name says auth but that rejects no one guards nothing
    assert auth(facts, "GET", "/api/context").status.value == "public"


def test_method_alias_and_reexported_handlers(facts: Facts) -> None:
    assert auth(facts, "POST", "/api/items").status.value == "authenticated"  # POST = GET
    assert auth(facts, "GET", "/api/legacy").status.value == "authenticated"  # export *
    assert auth(facts, "POST", "/api/legacy").status.value == "authenticated"


def test_webhook_signatures_gate_callers_with_the_mechanism_named(facts: Facts) -> None:
    stripe = auth(facts, "POST", "/api/stripe/webhook")
    assert stripe.status.value == "authenticated"
    assert (stripe.mechanism or "").startswith("webhook_signature")
    # withCron -> verifySignature -> receiver.verify(): two hops into other files
    cron = auth(facts, "POST", "/api/cron/sync")
    assert (cron.mechanism or "").startswith("webhook_signature")
    assert cron.evidence[0].path == "lib/cron/verify.ts"


def test_safe_action_client_whose_middleware_rejects(facts: Facts) -> None:
    routes = by_route(facts)
    guarded = routes[("POST", "action:lib/actions/update-name.ts#updateNameAction")]
    assert guarded.auth.status.value == "authenticated"
    plain = routes[("POST", "action:lib/actions/update-name.ts#subscribeAction")]
    assert plain.auth.status.value == "public"


def test_host_folder_is_not_a_path_segment(facts: Facts) -> None:
    route = by_route(facts)[("GET", "/dashboard")]
    assert route.location.path == "app/app.example.com/dashboard/page.tsx"


def test_middleware_delegating_to_a_helper_in_another_file(facts: Facts) -> None:
    account = auth(facts, "GET", "/account")
    assert account.status.value == "authenticated"
    assert account.evidence[0].path == "lib/supabase/middleware.ts"
    assert auth(facts, "GET", "/").status.value == "public"


def test_membership_and_role_checks_in_a_wrapper_restrict(facts: Facts) -> None:
    # findFirst({where: {id: teamId, members: {some: {userId: session.user.id}}}}) + 404
    team = auth(facts, "GET", "/api/teams/{teamId}")
    assert team.status.value == "restricted"
    assert team.evidence[0].path == "lib/auth/team.ts"
    assert auth(facts, "DELETE", "/api/admin").status.value == "restricted"  # staffRole
    # a lookup by the caller's identity alone is their own profile, not an access check
    assert auth(facts, "GET", "/api/items").status.value == "authenticated"


def test_hmac_compare_and_verifying_library_handlers(facts: Facts) -> None:
    slack = auth(facts, "POST", "/api/slack")
    assert slack.status.value == "authenticated"
    assert (slack.mechanism or "").startswith("webhook_signature")
    workflow = auth(facts, "POST", "/api/workflow")
    assert (workflow.mechanism or "").startswith("webhook_signature")
