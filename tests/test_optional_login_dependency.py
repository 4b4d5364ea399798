"""An optional login is no guard: a dependency that calls the real check inside ``try`` and
returns None from an ``except Exception`` lets an anonymous caller through.

``try_current_user`` wraps ``current_user`` (which raises 401) that way, so a route
depending on it is public (it may show more to a signed-in caller); ``current_user``
itself, or a wrapper that raises again, still guards.
"""

from __future__ import annotations

import ast
from pathlib import Path

from threatmodel.collect import collect_facts
from threatmodel.frameworks._python.calls import swallows

APP = """
from fastapi import Depends, FastAPI, HTTPException, Request

app = FastAPI(openapi_url=None)


def current_user(request: Request):
    token = request.headers.get("authorization")
    if not token:
        raise HTTPException(status_code=401)
    return {"token": token}


def try_current_user(request: Request):
    try:
        return current_user(request)
    except Exception:
        return None


def strict_user(request: Request):
    try:
        return current_user(request)
    except HTTPException:
        raise


@app.get("/recipes/{slug}")
def recipe(slug: str, user=Depends(try_current_user)):
    return {"slug": slug, "mine": user is not None}


@app.get("/me")
def me(user=Depends(current_user)):
    return user


@app.get("/strict")
def strict(user=Depends(strict_user)):
    return user
"""


def test_a_swallowed_check_guards_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    facts = collect_facts(tmp_path, ["app.py"], cache=None, jobs=1).facts
    assert {r.id: r.auth.status.value for r in facts.routes} == {
        "GET /recipes/{slug}": "public",
        "GET /me": "authenticated",
        "GET /strict": "authenticated",
    }


REFUSING = """
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

app = FastAPI(openapi_url=None)


def current_user(request: Request):
    if not request.headers.get("authorization"):
        raise HTTPException(status_code=401)
    return {}


def user_or_refuse(request: Request):
    try:
        current_user(request)
    except Exception:
        return JSONResponse({"error": "login"}, status_code=401)


@app.get("/account")
def account(request: Request):
    refused = user_or_refuse(request)
    return refused or {}
"""


def test_a_handler_that_refuses_itself_is_no_optional_login() -> None:
    tree = ast.parse(REFUSING)
    tries = [n for n in ast.walk(tree) if isinstance(n, ast.Try)]
    assert [swallows(t) for t in tries] == [False]
    opt = [n for n in ast.walk(ast.parse(APP)) if isinstance(n, ast.Try)]
    assert [swallows(t) for t in opt] == [True, False]
