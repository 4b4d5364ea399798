"""A Flask application factory imports its blueprints inside ``create_app`` (Flask's own
tutorial does): the prefixes they are registered with apply to their routes."""

from __future__ import annotations

import ast

from pyweb_facts import facts_of, routes_by_id

from threatmodel.code.pyast import imports_of


def test_blueprints_imported_in_the_factory_get_their_prefixes() -> None:
    routes = routes_by_id(facts_of("flask_factory"))
    assert {"GET /auth/login", "POST /auth/login", "GET /entries/{entry_id}"} <= set(routes)
    assert not {"GET /login", "GET /{entry_id}"} & set(routes)


def test_a_route_module_that_imports_nothing_from_flask() -> None:
    # ``from journal.entries import bp`` then ``@bp.route``: the blueprint is Flask's
    assert "POST /entries/tokens" in routes_by_id(facts_of("flask_factory"))


def test_a_function_import_never_overrides_a_module_name() -> None:
    tree = ast.parse(
        "from a import bp\n"
        "helper = 1\n"
        "def f():\n    from b import bp\n    from c import helper\n    from d import x\n"
        "def g():\n    from e import x\n    from d import y\n"
    )
    got = imports_of(tree)
    assert got["bp"] == ["a", "bp", 0]  # the module's own import
    assert "helper" not in got  # the module assigns it
    assert "x" not in got  # two functions import it from two places: no guess
    assert got["y"] == ["d", "y", 0]
