"""Django / DRF: include() prefixes, routers, decorators, mixins, permission classes, settings."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id, settings_of


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("django_app")


def test_routes_with_include_prefixes_and_router(facts) -> None:  # type: ignore[no-untyped-def]
    assert sorted(routes_by_id(facts)) == [
        "ANY /admin/",
        "ANY /legacy/{slug}/",
        "ANY /shop/",
        "ANY /shop/account/",
        "DELETE /api/orders/{pk}/",
        "GET /api/orders/",
        "GET /api/orders/{pk}/",
        "GET /api/tags/{slug}/",  # lookup_url_kwarg None: the lookup field names it
        "GET /shop/dashboard/",
        "GET /shop/products/{pk}/",
        "GET /shop/reports/",
        "GET /shop/status/",
        "PATCH /api/orders/{pk}/",
        "PATCH /shop/products/{pk}/",
        "POST /api/orders/",
        "POST /api/orders/{pk}/cancel/",
        "POST /shop/hook/",
        "PUT /api/orders/{pk}/",
        "PUT /shop/products/{pk}/",
    ]


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("ANY /shop/", "public"),
        ("ANY /shop/account/", "authenticated"),  # @login_required
        ("GET /shop/dashboard/", "authenticated"),  # LoginRequiredMixin
        ("GET /shop/status/", "public"),  # permission_classes = [AllowAny] overrides the default
        ("GET /shop/products/{pk}/", "authenticated"),  # DEFAULT_PERMISSION_CLASSES
        ("GET /shop/reports/", "restricted"),  # IsAdminUser
        ("GET /api/orders/", "authenticated"),  # viewset, default permissions
        ("POST /api/orders/{pk}/cancel/", "public"),  # @action(permission_classes=[AllowAny])
        ("ANY /admin/", "restricted"),
    ],
)
def test_view_auth(facts, route: str, status: str) -> None:  # type: ignore[no-untyped-def]
    assert routes_by_id(facts)[route].auth.status == status


def test_csrf_exempt_and_methods(facts) -> None:  # type: ignore[no-untyped-def]
    hook = routes_by_id(facts)["POST /shop/hook/"]  # @require_POST
    assert hook.csrf_exempt
    assert not routes_by_id(facts)["ANY /shop/account/"].csrf_exempt


def test_settings_and_middleware(facts) -> None:  # type: ignore[no-untyped-def]
    assert settings_of(facts) == {
        "allowed_hosts": "*",
        "cors.allow_origins": "*",
        "csrf.enabled": "true",
        "debug": "true",
        "secret_key": "env",
        "session.cookie_secure": "false",
    }
    kinds = {m.kind for m in facts.middleware}
    assert {"csrf", "cors", "session", "security_headers"} <= kinds
