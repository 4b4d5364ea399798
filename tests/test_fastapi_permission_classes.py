"""Permission classes run by a FastAPI dependency: ``Depends(Checks([OwnerRule]))``.

The dependency's ``__call__`` loops over the classes it was built with and calls each
(``rule(request=request)``); calling a class runs its ``__init__`` (the base's, with
``self.<method>`` the subclass's), which raises 403 unless the caller is permitted. The
loop runs over a known, non-empty collection, so each class is called on every request;
the status of the raise is a class attribute (``denied_code = HTTP_403_FORBIDDEN``), read
as written there. A rule whose ``__init__`` checks nothing, or a raise whose class
attribute is a 404, guards nothing; ``Depends(SomeRule)`` (FastAPI calls the class) guards
as its ``__init__`` does.
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.collect import collect_facts

RULES = """
from abc import ABC, abstractmethod

from fastapi import HTTPException
from starlette.requests import Request
from starlette.status import HTTP_403_FORBIDDEN, HTTP_404_NOT_FOUND


def current_account(request: Request):
    account = request.state.account
    if account is None:
        raise HTTPException(status_code=401)
    return account


class Rule(ABC):
    level = None
    missing_code = HTTP_404_NOT_FOUND
    denied_code = HTTP_403_FORBIDDEN

    @abstractmethod
    def grants_permission(self, request: Request) -> bool: ...

    def __init__(self, request: Request):
        account = request.state.account
        if account.org is None:
            raise HTTPException(status_code=self.missing_code)
        self.level = account.level
        if not self.grants_permission(request):
            raise HTTPException(status_code=self.denied_code)


class OwnerRule(Rule):
    def grants_permission(self, request: Request) -> bool:
        return self.level == "owner"


class Lookup:
    not_found = HTTP_404_NOT_FOUND

    def __init__(self, request: Request):
        if request.path_params.get("thing_id") is None:
            raise HTTPException(status_code=self.not_found)


class Checks:
    def __init__(self, rules: list):
        self.rules = rules

    def __call__(self, request: Request):
        for rule in self.rules:
            rule(request=request)
"""

APP = """
from fastapi import APIRouter, Depends, FastAPI

from rules import Checks, Lookup, OwnerRule, current_account

inner = APIRouter()


@inner.put("/things/{thing_id}", dependencies=[Depends(Checks([OwnerRule]))])
def update_thing(thing_id: int):
    return {"id": thing_id}


@inner.delete("/things/{thing_id}", dependencies=[Depends(OwnerRule)])
def delete_thing(thing_id: int):
    return {"id": thing_id}


@inner.get("/things/{thing_id}", dependencies=[Depends(Checks([Lookup]))])
def read_thing(thing_id: int):
    return {"id": thing_id}


@inner.get("/things", dependencies=[Depends(Checks([]))])
def list_things():
    return []


app = FastAPI(openapi_url=None)
app.include_router(inner, dependencies=[Depends(current_account)])
open_app = FastAPI(openapi_url=None)


@open_app.post("/open/{thing_id}", dependencies=[Depends(Checks([OwnerRule]))])
def open_update(thing_id: int):
    return {"id": thing_id}
"""


def _status(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "rules.py").write_text(RULES)
    (tmp_path / "app.py").write_text(APP)
    facts = collect_facts(tmp_path, ["app.py", "rules.py"], cache=None, jobs=1).facts
    return {r.id: r.auth.status.value for r in facts.routes}


def test_permission_classes_a_dependency_loops_over_restrict(tmp_path: Path) -> None:
    status = _status(tmp_path)
    assert status["PUT /things/{thing_id}"] == "restricted"
    assert status["POST /open/{thing_id}"] == "restricted"  # the rule alone, no router guard


def test_a_class_given_to_depends_guards_as_its_init(tmp_path: Path) -> None:
    assert _status(tmp_path)["DELETE /things/{thing_id}"] == "restricted"


def test_a_not_found_raise_or_no_class_at_all_adds_nothing(tmp_path: Path) -> None:
    status = _status(tmp_path)
    assert status["GET /things/{thing_id}"] == "authenticated"  # the router's login only
    assert status["GET /things"] == "authenticated"
