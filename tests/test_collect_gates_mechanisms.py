"""Gates that are not logins are named: API keys and verified webhook signatures (gated_app)."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("gated_app")


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        ("GET /api/checks", "authenticated", "decorator @require_api_key (api_key)"),
        (
            "POST /webhooks/stripe",
            "authenticated",
            "webhook_signature: stripe.Webhook.construct_event()",
        ),
        (
            "POST /webhooks/github",
            "authenticated",
            "check in the handler (webhook_signature)",
        ),
        ("POST /webhooks/unsigned", "public", None),
        (
            "GET /reset/{token}",
            "authenticated",
            "url_token: {token} in the path (a secret link)",
        ),
        (
            "POST /hooks/jira/{secret}",
            "authenticated",
            "url_token: {secret} in the path (a secret link)",
        ),
    ],
)
def test_gate_named(facts, route: str, status: str, mechanism: str | None) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)


def test_javascript_rows_named_like_python_builtins_open_no_python_file() -> None:
    # pg-promise's db.any / db.map are JS sinks; in Python, any() / map() are builtins
    from threatmodel.collect.flows_python import GATE as PY_GATE

    assert PY_GATE.search("ok = any(x > 1 for x in xs)\nys = list(map(str, xs))\n") is None
    assert PY_GATE.search("cursor.execute(q)\n") is not None
