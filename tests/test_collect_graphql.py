"""GraphQL (graphene, strawberry): root fields as entry points, with their permissions."""

from __future__ import annotations

import pytest
from pyweb_facts import facts_of, routes_by_id


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("graphql_app")


def test_every_root_field_is_an_operation_under_the_endpoint(facts) -> None:  # type: ignore[no-untyped-def]
    ops = sorted(r for r in routes_by_id(facts) if r.startswith(("QUERY", "MUTATION")))
    assert ops == [
        # graphene: mixins followed across files, names camelCased as clients call them
        "MUTATION /graphql/Mutation.addressDelete",
        "MUTATION /graphql/Mutation.cartAdd",
        "MUTATION /graphql/Mutation.orderCancel",
        # strawberry with auto_camel_case=False keeps the Python names
        "MUTATION /graphql/Mutation.update_profile",
        "QUERY /graphql/Query.myOrders",
        "QUERY /graphql/Query.my_orders",
        "QUERY /graphql/Query.my_profile",
        "QUERY /graphql/Query.orderList",
        "QUERY /graphql/Query.salesReport",
        "QUERY /graphql/Query.server_time",
        "QUERY /graphql/Query.shopName",
    ]


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        ("QUERY /graphql/Query.orderList", "restricted", "permissions MANAGE_ORDERS"),
        ("QUERY /graphql/Query.myOrders", "authenticated", "permissions AUTHENTICATED_USER"),
        ("QUERY /graphql/Query.shopName", "public", None),
        ("QUERY /graphql/Query.salesReport", "restricted", "decorator @staff_required"),
        (
            "MUTATION /graphql/Mutation.orderCancel",
            "restricted",
            "OrderCancel.Meta.permissions MANAGE_ORDERS",
        ),
        ("MUTATION /graphql/Mutation.cartAdd", "public", None),
        # No Meta.permissions, but perform_mutation refuses anonymous callers.
        ("MUTATION /graphql/Mutation.addressDelete", "authenticated", "check in the handler"),
        (
            "MUTATION /graphql/Mutation.update_profile",
            "authenticated",
            "permissions IsAuthenticated",
        ),
        ("QUERY /graphql/Query.server_time", "public", None),
        # the field's type returns only the caller's rows (its base's get_queryset)
        (
            "QUERY /graphql/Query.my_orders",
            "restricted",
            "ScopedType.get_queryset filters rows by the caller",
        ),
    ],
)
def test_operation_auth(facts, route: str, status: str, mechanism: str | None) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status, r.auth.mechanism) == (status, mechanism)


def test_operation_points_at_its_field(facts) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)["MUTATION /graphql/Mutation.orderCancel"]
    assert (r.location.path, r.location.line) == ("store/orders/schema.py", 23)


def test_a_module_that_only_assembles_the_root_types_is_read() -> None:
    # saleor's api.py mixes the apps' Query classes without importing graphene itself.
    from threatmodel.frameworks.graphql.python import relevant

    assert relevant("from .checkout.schema import CheckoutQueries\nclass Query(CheckoutQueries):")
    assert not relevant("class QueryBuilder:\n    pass")
