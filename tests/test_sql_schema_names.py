"""SQLAlchemy's schema DDL takes a name, not SQL: ``CreateSchema(name)`` is compiled with the
name written as a quoted identifier (``IdentifierPreparer.format_schema``), so a tenant's
name from the request reaching ``conn.execute(CreateSchema(...))`` injects nothing. The
same name formatted into raw SQL still does."""

from __future__ import annotations

from threatmodel import dataflow
from threatmodel.code.source import SourceFile

APP = """
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import create_engine
from sqlalchemy.schema import CreateSchema

app = FastAPI()
engine = create_engine("sqlite://")


class Tenant(BaseModel):
    name: str


@app.post("/tenants")
def add_tenant(tenant: Tenant):
    with engine.begin() as conn:
        conn.execute(CreateSchema(f"tenant_{tenant.name}", if_not_exists=True))


@app.post("/raw")
def raw(tenant: Tenant):
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA tenant_{tenant.name}")
"""


def test_a_schema_name_given_to_sqlalchemy_ddl_is_no_injection() -> None:
    got = dataflow.extract(SourceFile.from_bytes("app.py", APP.encode()))
    flows = [f for f in dataflow.flows({"app.py": got}) if f.claim == "sql_injection"]
    live = {f.sink: f.sink_location.line for f in flows if not f.broken_by}
    assert live == {"conn.exec_driver_sql": 24}
    ddl = [f for f in flows if f.sink == "conn.execute"]
    assert [f.broken_by for f in ddl] == ["sqlalchemy.schema.CreateSchema"]
