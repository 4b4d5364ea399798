"""Routes registered through the repository's own helper around ``add_url_rule``
(``register_view(bp, routes=[...], view_func=View.as_view(...))``), and two library
guards: a requirement decorator on a class view and flask-login's ``needs_refresh``."""

from __future__ import annotations

from pyweb_facts import facts_of, routes_by_id


def test_routes_registered_through_a_helper_are_found() -> None:
    routes = routes_by_id(facts_of("flask_registrar"))
    assert {
        "GET /forum/topic/{topic_id}",
        "GET /forum/t/{topic_id}",
        "ANY /forum/ping",
        "GET /admin/settings",
        "POST /admin/settings",
    } <= set(routes)
    assert routes["GET /forum/topic/{topic_id}"].auth.status.value == "public"


def test_a_stale_session_sent_to_sign_in_again_guards_the_blueprint() -> None:
    routes = routes_by_id(facts_of("flask_registrar"))
    # the blueprint's hook returns login_manager.needs_refresh() without a fresh login;
    # the library's requirement decorator on the view adds what the code does not spell out
    assert routes["POST /admin/settings"].auth.status.value == "authenticated"


def test_a_library_requirement_decorator_makes_a_view_unknown_not_public() -> None:
    # ``decorators = [allows.requires(...)]``: it refuses whoever fails the requirement
    routes = routes_by_id(facts_of("flask_registrar"))
    assert routes["POST /forum/settings"].auth.status.value == "unknown"
