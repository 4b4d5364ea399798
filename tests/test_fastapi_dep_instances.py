"""A FastAPI dependency given as a module variable that holds an instance of the
repository's own class (``admin_only = RoleChecker(["admin"])``, FastAPI's "parameterized
dependencies") guards as the class's ``__call__`` does; a library's object (a security
scheme) stays what it was."""

from __future__ import annotations

from pathlib import Path

from threatmodel.collect import collect_facts

APP = """
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


def current_user(token: str | None = None):
    if token is None:
        raise HTTPException(status_code=401)
    return {"role": "user"}


class RoleChecker:
    def __init__(self, roles):
        self.roles = roles

    def __call__(self, user=Depends(current_user)):
        if user["role"] not in self.roles:
            raise HTTPException(status_code=403)
        return user


class Tagger:
    def __init__(self, tag):
        self.tag = tag

    def __call__(self):
        return self.tag


admin_only = RoleChecker(["admin"])
tagged = Tagger("x")
Admin = Annotated[dict, Depends(admin_only)]


@app.get("/admin")
def admin(user: Admin):
    return user


@app.get("/tagged")
def tag(t=Depends(tagged)):
    return t


@app.get("/scheme")
def scheme(token: str = Depends(oauth2_scheme)):
    return token
"""


def test_a_dependency_instance_guards_as_its_class(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    facts = collect_facts(tmp_path, ["app.py"], cache=None, jobs=1).facts
    status = {r.id: r.auth.status.value for r in facts.routes}
    assert status["GET /admin"] == "restricted"
    assert status["GET /tagged"] == "public"  # its __call__ checks nothing
    assert status["GET /scheme"] == "unknown"  # a token's presence, not its validity
