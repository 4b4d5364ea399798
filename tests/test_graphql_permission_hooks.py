"""GraphQL mutations whose permissions are decided in code, not declared (``graphql_hooks``):

- a resolver that calls a helper raising ``PermissionDenied`` when a permission is missing
  is restricted, whatever the helper's test looks like (a list of the missing ones);
- a mutation whose repository base defines ``check_permissions`` (asked by the base's
  ``mutate`` on every call) is decided per request: unknown, not public;
- a plain ``graphene.Mutation`` with neither stays public.
"""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.models import Facts


@pytest.fixture(scope="module")
def facts() -> Facts:
    return facts_of("graphql_hooks")


@pytest.mark.parametrize(
    ("route", "status"),
    [
        ("MUTATION /graphql/Mutation.kindCreate", "restricted"),
        ("MUTATION /graphql/Mutation.noteUpdate", "unknown"),
        ("MUTATION /graphql/Mutation.ping", "public"),
    ],
)
def test_permissions_decided_in_code(facts: Facts, route: str, status: str) -> None:
    assert routes_by_id(facts)[route].auth.status.value == status


def test_the_hook_is_named(facts: Facts) -> None:
    r = routes_by_id(facts)["MUTATION /graphql/Mutation.noteUpdate"]
    assert "BaseMutation.check_permissions() decides per request" in (r.auth.mechanism or "")
