"""OpenAPI / connexion: operationId -> handler, the spec's security, base_path."""

from __future__ import annotations

from pyweb_facts import facts_of, routes_by_id


def test_spec_routes_security_and_handlers() -> None:
    facts = facts_of("connexion_app")
    routes = routes_by_id(facts)
    assert sorted(routes) == ["DELETE /v2/pets/{pet_id}", "GET /v2/pets", "POST /v2/pets"]
    assert routes["GET /v2/pets"].auth.status == "public"  # security: [] overrides the default
    post = routes["POST /v2/pets"]
    assert post.auth.status == "authenticated"  # document-level bearerAuth
    assert post.handler == "api.handlers.create_pet" and post.framework == "connexion"
    assert routes["DELETE /v2/pets/{pet_id}"].auth.status == "restricted"  # scoped requirement
    assert all(r.location.path == "openapi.yaml" for r in facts.routes)
