"""Django: a URL prefix named from settings takes the default the settings module writes."""

from __future__ import annotations

import ast

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.frameworks._python.settings import str_default


def test_prefix_from_a_setting_default_and_none_without_one() -> None:
    # BASE_PATH defaults to "" (through a normalising call); PARTNER_MOUNT has no default in
    # the repository, so its route cannot be placed and is left out. The API URLconf is
    # included from the root's local list: under its prefix only, never again as a root.
    assert sorted(routes_by_id(facts_of("django_basepath"))) == ["ANY /api/ping/", "ANY /status/"]


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('"netbox/"', "netbox/"),
        ('getattr(configuration, "BASE_PATH", "")', ""),
        ('trailing_slash(getattr(configuration, "BASE_PATH", ""))', ""),
        ('os.environ.get("BASE_PATH", "app/")', "app/"),
        ('env("BASE_PATH", default="x/")', "x/"),
        ('os.environ["BASE_PATH"]', None),
        ('trailing_slash(getattr(configuration, "BASE_PATH", "x"))', None),
        ("compute()", None),
    ],
)
def test_str_default(expr: str, want: str | None) -> None:
    assert str_default(ast.parse(expr, mode="eval").body) == want
