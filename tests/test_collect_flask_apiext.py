"""Flask: an Api subclass's own method that hands resources to ``self.add_resource``, a
resource inheriting ``decorators`` and methods from a base in another module (one with no
route of its own), and a rule computed by a repository helper from a literal."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def routes():  # type: ignore[no-untyped-def]
    return routes_by_id(facts_of("flask_apiext"))


def test_routes_and_auth(routes) -> None:  # type: ignore[no-untyped-def]
    got = {rid: (r.auth.status.value, r.auth.mechanism) for rid, r in routes.items()}
    login = ("authenticated", "decorators login_required")
    assert got["GET /api/pins/{pin_id}"] == login
    assert got["DELETE /api/pins/{pin_id}"] == login
    assert got["GET /signin"] == ("public", None)
    assert got["POST /signin"] == ("public", None)
    assert got["GET /boards/{board_id}"] == ("authenticated", "decorator @login_required")


def test_a_helper_rule_names_its_unread_prefix(routes) -> None:  # type: ignore[no-untyped-def]
    assert routes["GET /signin"].unread_prefix == "tenant_rule()"
    assert routes["GET /api/pins/{pin_id}"].unread_prefix == ""
