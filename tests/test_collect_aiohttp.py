"""aiohttp: RouteTableDef, router.add_*, web.get lists, sub-app prefixes, aiohttp_security."""

from __future__ import annotations

from pyweb_facts import facts_of, routes_by_id


def test_routes_and_auth() -> None:
    facts = facts_of("aiohttp_app")
    got = {rid: r.auth.status for rid, r in routes_by_id(facts).items()}
    assert got == {
        "GET /": "public",
        "POST /notes/{note_id}": "authenticated",  # await check_authorized(request)
        "DELETE /admin/purge": "restricted",  # check_permission, under the /admin/ sub-app
        "GET /whoami": "authenticated",  # raises HTTPUnauthorized itself
        # board/routes.py names only `router = app.router` and its add_get calls
        "GET /board": "authenticated",  # redirects to login when authorized_userid is empty
        "GET /login": "public",  # redirects the signed-in away: no guard
    }
    assert [m.kind for m in facts.middleware] == ["session"]


def test_a_fastapi_router_in_a_module_using_the_aiohttp_client_is_not_an_aiohttp_table() -> None:
    # ``@router.get`` on a FastAPI APIRouter, in a file that imports aiohttp for its client:
    # the routes are FastAPI's, under the include_router prefix, guarded by their Depends
    got = {
        rid: (r.framework, r.auth.status)
        for rid, r in routes_by_id(facts_of("fastapi_http_client")).items()
    }
    assert got["GET /api/notes/{note_id}"] == ("fastapi", "authenticated")
    assert got["DELETE /api/notes/purge"] == ("fastapi", "restricted")
    assert "GET /{note_id}" not in got and "DELETE /purge" not in got  # no public phantoms


def test_a_route_table_imported_from_another_module_still_serves() -> None:
    got = {rid: r.framework for rid, r in routes_by_id(facts_of("aiohttp_shared_table")).items()}
    assert got == {"GET /status": "aiohttp"}
