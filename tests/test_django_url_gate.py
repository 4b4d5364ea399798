"""Django: a middleware refusing by a URL-name table, routers filled by helper functions,
URL prefixes formatted from a setting read at run time (fixture ``django_urlgate``)."""

from __future__ import annotations

import ast

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.frameworks.django.url_gate import gates, tables


@pytest.fixture(scope="module")
def routes():  # type: ignore[no-untyped-def]
    return routes_by_id(facts_of("django_urlgate"))


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # the URL name is a key of the table the installed middleware refuses by
        (
            "ANY /teams/{tid}/edit",
            "restricted",
            "middleware PagePermissionMiddleware: URL name 'team_edit' in PAGE_RULES",
        ),
        # an empty entry checks nothing
        ("ANY /teams/{tid}", "public", None),
        # added under ``if settings.BETA_PAGES`` (True in the settings module)
        (
            "ANY /beta",
            "restricted",
            "middleware PagePermissionMiddleware: URL name 'beta_page' in PAGE_RULES",
        ),
        # added under ``if settings.LEGACY_PAGES`` (False): maybe absent, never a guard
        ("ANY /legacy", "public", None),
        # the middleware lets /hooks/ through before it looks the name up
        ("ANY /hooks/team", "public", None),
        # named in the audit middleware's table, which only logs: nothing refuses
        ("ANY /about", "public", None),
    ],
)
def test_url_name_table(routes, route: str, status: str, mechanism: str | None) -> None:  # type: ignore[no-untyped-def]
    auth = routes[route].auth
    assert (auth.status.value, auth.mechanism) == (status, mechanism)


def test_the_table_entry_and_the_refusal_are_the_evidence(routes) -> None:  # type: ignore[no-untyped-def]
    ev = routes["ANY /teams/{tid}/edit"].auth.evidence
    assert [(e.path, e.snippet.strip()) for e in ev[:2]] == [
        ("proj/rules.py", '"team_edit": [("perm", "teams.change_team")],'),
        ("proj/gate.py", "if name in PAGE_RULES:"),
    ]


def test_router_filled_by_a_function_it_is_handed_to(routes) -> None:  # type: ignore[no-untyped-def]
    listed = routes["GET /api/teams/"]
    assert listed.location.path == "proj/api_urls.py"  # where the viewset is registered
    # DEFAULT_PERMISSION_CLASSES is replaced by the viewset's own: IsAuthenticated, and an
    # object permission that only detail routes (which load the object) meet
    assert listed.auth.status.value == "authenticated"
    assert routes["POST /api/teams/"].auth.status.value == "authenticated"
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        auth = routes[f"{method} /api/teams/{{pk}}/"].auth
        assert auth.status.value == "restricted"
        assert "has_object_permission" in (auth.mechanism or "")


def test_prefix_read_at_run_time_is_empty_and_marked(routes) -> None:  # type: ignore[no-untyped-def]
    # '"^{}api/".format(get_site_setting("url_prefix"))': no path is invented for the prefix
    assert routes["GET /api/teams/"].unread_prefix == "get_site_setting('url_prefix')"
    # a list built with += and included under the same prefix
    assert routes["ANY /about"].unread_prefix == "get_site_setting('url_prefix')"
    assert routes["ANY /beta"].unread_prefix == ""


def test_a_computed_prefix_is_not_read_as_empty() -> None:
    from threatmodel.frameworks.django.url_text import formatted

    call = ast.parse('"^{}/(?P<p>.*)$".format(settings.MEDIA_URL.strip("/"))', mode="eval")
    assert formatted(call.body, {}) is None
    fstr = ast.parse("f\"^{get_config('prefix')}api/\"", mode="eval")
    assert formatted(fstr.body, {}) == ("^api/", "get_config('prefix')")


def test_a_lookup_without_a_refusal_is_no_gate() -> None:
    src = """
class M:
    def process_view(self, request, view_func, args, kwargs):
        rule = RULES.get(request.resolver_match.url_name)
        if rule:
            print(rule)
"""
    found = gates(ast.parse(src), src.splitlines())
    assert found["M"]["rejects"] is False
    assert found["M"]["calls"] == ["print"]


def test_tables_keep_unconditional_keys_and_name_the_condition() -> None:
    src = """
T = {"a": ["x"], "b": []}
if settings.FLAG:
    T.update({"c": ["y"], "a": ["z"]})
"""
    t = tables(ast.parse(src), src.splitlines())["T"]
    assert sorted(t["keys"]) == ["a", "c"]
    assert t["cond"] == {"c": "FLAG"}


def test_model_permissions_ask_nothing_of_reads(routes) -> None:  # type: ignore[no-untyped-def]
    # DRF's DjangoModelPermissions: GET needs a signed-in user, writes a model permission
    assert routes["GET /api/tags/"].auth.status.value == "authenticated"
    assert routes["GET /api/tags/{pk}/"].auth.status.value == "authenticated"
    assert routes["POST /api/tags/"].auth.status.value == "restricted"
    assert routes["DELETE /api/tags/{pk}/"].auth.status.value == "restricted"


def test_a_prefix_named_by_a_package_constant(routes) -> None:  # type: ignore[no-untyped-def]
    # register(rf"{path}", ...) with ``path = "members"`` in the package's __init__.py
    assert routes["GET /api/members/"].location.path == "proj/api_urls.py"
    assert routes["GET /api/members/{pk}/"].auth.status.value == "restricted"
