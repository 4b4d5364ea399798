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
