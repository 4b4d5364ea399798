"""FastAPI shapes read as the framework serves them.

A rejection whose status is an enum member's value (``HTTPStatus.FORBIDDEN.value``) is a
403; a helper the handler calls that returns only when a request's signature matches and
raises that otherwise turns away every caller without a valid signature. An app mounted
under a prefix (``main.mount("/api/v1", app=api)``) serves its own OpenAPI and docs pages
under that prefix, as it serves its routes. A decorator applied by a call
(``router.post("/register")(register)``, often under a setting) makes a route as the
decorator does.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.collect import collect_facts

SIGNED = """
from http import HTTPStatus

from fastapi import APIRouter, FastAPI, HTTPException, Request

from verify import signature_ok

router = APIRouter()


def handler_for(request: Request, configs: list):
    for config in configs:
        if signature_ok(request, config):
            return config
    raise HTTPException(status_code=HTTPStatus.FORBIDDEN.value, detail="Invalid signature")


@router.post("/hooks/event")
async def hook(request: Request):
    return handler_for(request, [])


app = FastAPI(openapi_url=None)
app.include_router(router)
"""


def test_a_status_given_as_an_enum_members_value_rejects(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SIGNED)
    facts = collect_facts(tmp_path, ["app.py"], cache=None, jobs=1).facts
    assert {r.id: r.auth.status.value for r in facts.routes} == {
        "POST /hooks/event": "authenticated"
    }


MOUNTED = """
from fastapi import FastAPI

main = FastAPI(openapi_url=None)
api = FastAPI(openapi_url="/spec.json", docs_url=None, redoc_url="/docs")


@api.get("/ping")
def ping():
    return "pong"


main.mount("/api/v1", app=api)
"""


def test_a_mounted_apps_own_pages_are_served_under_its_mount(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(MOUNTED)
    facts = collect_facts(tmp_path, ["app.py"], cache=None, jobs=1).facts
    assert {r.id for r in facts.routes} == {
        "GET /api/v1/ping",
        "GET /api/v1/spec.json",
        "GET /api/v1/docs",
    }


APPLIED = """
from fastapi import APIRouter, FastAPI

SIGNUP_OPEN = True
router = APIRouter()


def register(email: str):
    return {"email": email}


if SIGNUP_OPEN:
    register = router.post("/register")(register)

app = FastAPI(openapi_url=None)
app.include_router(router, prefix="/auth")
"""


def test_a_route_decorator_applied_by_a_call_makes_a_route(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APPLIED)
    facts = collect_facts(tmp_path, ["app.py"], cache=None, jobs=1).facts
    assert {(r.id, r.handler, r.auth.status.value) for r in facts.routes} == {
        ("POST /auth/register", "app.register", "public")
    }
