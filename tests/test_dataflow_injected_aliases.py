"""A FastAPI route parameter annotated with an ``Annotated[..., Depends(...)]`` alias is
what the dependency returned, not request input, wherever the alias is defined.

``db: DbSession`` (``DbSession = Annotated[Session, Depends(get_db)]`` in another module)
is a database session: a query built from it and run on it carries nothing the caller
sent. A parameter annotated in place, or with a model, keeps its meaning: a body model's
field formatted into SQL is still a flow.
"""

from __future__ import annotations

import textwrap

from threatmodel import dataflow
from threatmodel.code.source import SourceFile

DEPS = """
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session


def get_db():
    yield Session()


DbSession = Annotated[Session, Depends(get_db)]
"""

VIEWS = """
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from shop.deps import DbSession, get_db

router = APIRouter()


class Filter(BaseModel):
    name: str


@router.get("/stats")
def stats(db_session: DbSession):
    query = db_session.query("count").filter("active")
    return db_session.execute(query).fetchone()


@router.get("/inline")
def inline(db: Annotated[object, Depends(get_db)]):
    return db.execute(db.query("x")).fetchone()


@router.post("/search")
def search(db_session: DbSession, body: Filter):
    return db_session.execute(text(f"SELECT * FROM items WHERE name = '{body.name}'"))
"""


def _sql_sources(root: str = "") -> set[tuple[int, str]]:
    files = {f"{root}shop/deps.py": DEPS, f"{root}shop/views.py": VIEWS}
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got:
            extracts[path] = got
    return {
        (f.sink_location.line, f.source)
        for f in dataflow.flows(extracts, files=files)
        if f.claim == "sql_injection" and f.source_kind == "request"
    }


def test_an_injected_alias_parameter_is_no_request_input() -> None:
    got = _sql_sources()
    lines = VIEWS.splitlines()
    search = next(i + 1 for i, x in enumerate(lines) if "SELECT * FROM items" in x)
    assert got == {(search, "parameter body")}


def test_an_alias_in_a_package_below_the_repositorys_root_is_found_too() -> None:
    # ``server/shop/deps.py`` imported as ``shop.deps``: the name as the file names it
    lines = VIEWS.splitlines()
    search = next(i + 1 for i, x in enumerate(lines) if "SELECT * FROM items" in x)
    assert _sql_sources("server/") == {(search, "parameter body")}
