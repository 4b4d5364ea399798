"""Flask routes the framework and its extensions generate: static files, RESTX's spec and docs.

Flask adds ``GET <static_url_path>/<path:filename>`` to every app whose ``static_folder`` is
not None (by default ``/static``), and to a blueprint given a ``static_folder`` (under the
blueprint's prefix). A Flask-RESTX ``Api`` serves its root (``<prefix>/``), its spec
``<prefix>/swagger.json`` (unless ``add_specs=False``), the docs page at ``doc`` (default the
root) and registers the Swagger UI assets on the app at ``/swaggerui/<path:filename>``.
Flask-RESTful's ``Api`` adds none. They are entry points like any other: each gets the
``before_request`` hooks of the app and blueprints it sits under; the spec, served as a
resource, also gets the ``Api(decorators=)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.frameworks._python.link import Guard, decide
from threatmodel.frameworks.flask.resources import Key, Resources, join_path
from threatmodel.models import Location, Route

SWAGGER_UI = "/swaggerui/<path:filename>"


def emit(
    fl: Mapping[str, Any],
    key: Callable[[str, str], Key | None],
    res: Resources,
    hooks: Mapping[Any, list[Guard]],
    out: FactsBuilder,
) -> None:
    def guards(chain: list[Any]) -> list[Guard]:
        return [*hooks.get(None, []), *(g for bp in chain for g in hooks.get(bp, []))]

    def add(path: str, handler: str, p: str, line: int, gs: list[Guard]) -> None:
        full = join_path("", path)
        out.routes.append(
            Route(
                id=f"GET {full}",
                method="GET",
                path=full,
                framework="flask",
                handler=handler,
                location=Location(path=p, line=line),
                auth=decide(gs),
            )
        )

    registered = {key(p, child) for p, d in fl.items() for _o, child, *_ in d["registrations"]}
    for p, d in fl.items():
        for owner, url, line, _text in d.get("static", []):
            if owner not in d["apps"] and key(p, owner) not in registered:
                continue  # a blueprint no app registers serves nothing
            for prefix, chain in res.prefixes(key(p, owner)):
                add(
                    join_path(prefix, url) + "/<path:filename>",
                    "flask.static",
                    p,
                    line,
                    guards(chain),
                )
    ui = False  # the Swagger UI assets blueprint is registered once, on the app
    for (p, name), (doc, specs) in sorted(
        ((p, n), v) for p, d in fl.items() for n, v in d.get("api_docs", {}).items()
    ):
        line = res.apis[(p, name)][5]
        for prefix, chain, api_gs in res.api_mounts((p, name)):
            hook_gs = guards(chain)
            add(join_path(prefix, "/"), "flask_restx.Api.render_root", p, line, hook_gs)
            if specs:
                add(
                    join_path(prefix, "/swagger.json"),
                    "flask_restx.Api.specs",
                    p,
                    line,
                    hook_gs + api_gs,
                )
                if doc and doc != "/":
                    add(join_path(prefix, doc), "flask_restx.Api.render_doc", p, line, hook_gs)
        if not ui:
            ui = True
            add(SWAGGER_UI, "flask_restx.apidoc.static", p, line, guards([]))
