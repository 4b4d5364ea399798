"""A reset / invite token in the body or query that the handler looks up (tokens.py).

Same notion as a token in the path: the caller is admitted by holding the link.
"""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.models import Route


@pytest.fixture(scope="module")
def routes() -> dict[str, Route]:
    return routes_by_id(facts_of("flask_reset"))


@pytest.mark.parametrize(
    ("route", "status", "key"),
    [
        ("POST /reset", "authenticated", "token"),  # form token handed to verify_reset_token
        ("GET /invites/accept", "authenticated", "invite_token"),  # query token in filter_by
        ("POST /search", "public", None),  # a CSRF token gates no caller
        ("GET /echo", "public", None),  # read and echoed, never looked up
    ],
)
def test_body_token(routes: dict[str, Route], route: str, status: str, key: str | None) -> None:
    auth = routes[route].auth
    assert auth.status == status
    if key:
        assert auth.mechanism == f"url_token: {key} from the request body or query (a secret link)"
        assert auth.evidence and auth.evidence[0].path == "app.py"
    else:
        assert "url_token" not in (auth.mechanism or "")


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("POST /reset-password/", "authenticated"),  # body.token of the body model
        ("GET /verify", "authenticated"),  # a `token` query parameter
        ("POST /notes", "public"),  # a body model, no token looked up
    ],
)
def test_fastapi_parameters(route: str, status: str) -> None:
    auth = routes_by_id(facts_of("fastapi_reset"))[route].auth
    assert auth.status == status
    assert ("url_token: token from" in (auth.mechanism or "")) == (status == "authenticated")
