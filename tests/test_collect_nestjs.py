"""NestJS controllers and guards (fixtures/js/nest-app)."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.collect.nestjs import NestJsCollector

APP = Path(__file__).parent / "fixtures" / "js" / "nest-app"


def test_routes_prefixes_and_guards() -> None:
    routes = by_route(collect(APP, NestJsCollector()))
    got = {key: r.auth.status.value for key, r in routes.items()}
    assert got == {
        ("GET", "/api/cats"): "public",
        ("GET", "/api/cats/{id}"): "public",  # LoggingGuard's canActivate returns true
        ("POST", "/api/cats"): "authenticated",  # AuthGuard('jwt') at method level
        ("DELETE", "/api/cats/{id}"): "restricted",  # RolesGuard reads roles
        ("GET", "/api/owners"): "authenticated",  # class-level @UseGuards
    }
    owners = routes[("GET", "/api/owners")]
    assert owners.handler == "OwnersController.list"
    assert owners.auth.evidence[0].snippet == '@UseGuards(AuthGuard("jwt"))'
