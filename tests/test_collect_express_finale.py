"""finale-rest's generated REST endpoints are routes, behind the guards the app mounts in
front of them (fixtures/js/express-finale)."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.frameworks.express.routes import ExpressCollector

APP = Path(__file__).parent / "fixtures" / "js" / "express-finale"


def test_resource_endpoints_unrolled_from_a_loop_over_constant_models() -> None:
    routes = by_route(collect(APP, ExpressCollector()))
    for name in ("Users", "Products"):
        assert {("GET", f"/api/{name}"), ("POST", f"/api/{name}")} <= set(routes)
        for method in ("GET", "PUT", "DELETE"):
            assert (method, f"/api/{name}/{{id}}") in routes
    # registration is open; the item routes sit behind app.use('/api/Users/:id', guard)
    assert routes[("POST", "/api/Users")].auth.status.value == "public"
    assert routes[("PUT", "/api/Users/{id}")].auth.status.value == "authenticated"
    assert routes[("GET", "/api/Users")].auth.status.value == "authenticated"
    assert routes[("GET", "/api/Products/{id}")].auth.status.value == "public"


def test_actions_and_update_method_options() -> None:
    routes = by_route(collect(APP, ExpressCollector()))
    notes = {k for k in routes if k[1].startswith("/api/notes")}
    assert notes == {
        ("GET", "/api/notes"),
        ("GET", "/api/notes/{id}"),
        ("PATCH", "/api/notes/{id}"),
    }
