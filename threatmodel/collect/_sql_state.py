"""The database as the migrations leave it: operations from sql.py applied in order.

Kept apart from the parser so the state rules (what a later DROP, RENAME or ALTER undoes)
read in one place. A table referenced before (or without) its ``CREATE TABLE`` - a policy on
``storage.objects``, a table created in a dashboard - is created implicitly at its first
reference; its RLS state is unknown (None) until a statement sets it, except
``storage.objects``, on which Supabase always enables RLS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.names import is_sensitive_column
from threatmodel.models import (
    Bucket,
    Column,
    DbFunction,
    Grant,
    Location,
    Policy,
    Table,
    View,
)

_RLS_ALWAYS_ON = frozenset({"storage.objects", "storage.buckets"})
# Roles PostgREST serves requests as. Supabase grants them EXECUTE on every function of the
# public schema by default privileges, so revoking from PUBLIC alone leaves them able to call.
API_ROLES = ("anon", "authenticated")
_CRUD = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})


def _schema(name: str) -> str:
    return name.split(".", 1)[0] if "." in name else "public"


@dataclass
class _Function:
    definer: bool
    trigger: bool
    location: Location
    callers: set[str] = field(default_factory=lambda: set(API_ROLES))


def _permissive(p: dict[str, Any]) -> bool:
    command = p["command"]
    if command == "INSERT":
        return bool(p["check_open"])
    if command in ("UPDATE", "ALL") and p["using"] is None:
        return bool(p["check_open"])
    return bool(p["using_open"])


@dataclass
class _Table:
    name: str
    location: Location
    rls: bool | None
    columns: dict[str, str | None] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, set[str]] = field(default_factory=dict)


class SchemaState:
    def __init__(self) -> None:
        self.tables: dict[str, _Table] = {}
        self.buckets: dict[str, tuple[bool, Location]] = {}
        self.functions: dict[str, _Function] = {}
        self.views: dict[str, tuple[bool, list[str], Location]] = {}

    def _table(self, name: str, loc: Location) -> _Table:
        if name not in self.tables:
            self.tables[name] = _Table(name, loc, True if name in _RLS_ALWAYS_ON else None)
        return self.tables[name]

    def apply(self, path: str, op: dict[str, Any]) -> None:
        loc = Location(path=path, line=op["line"])
        kind = op["op"]
        handler = getattr(self, f"_op_{kind}", None)
        if handler is not None:
            handler(op, loc)

    # ------------------------------------------------------------------ tables

    def _op_create_table(self, op: dict[str, Any], loc: Location) -> None:
        old = self.tables.get(op["table"])
        if old is not None and old.columns:
            return  # CREATE TABLE IF NOT EXISTS over an existing table changes nothing
        # A table implicitly created by an earlier reference keeps what was set on it.
        table = _Table(op["table"], loc, old.rls if old else False)
        if old is not None:
            table.policies, table.grants = old.policies, old.grants
        table.columns = {name: typ for name, typ in op["columns"]}
        self.tables[op["table"]] = table

    def _op_add_columns(self, op: dict[str, Any], loc: Location) -> None:
        self._table(op["table"], loc).columns.update({n: t for n, t in op["columns"]})

    def _op_drop_column(self, op: dict[str, Any], loc: Location) -> None:
        if op["table"] in self.tables:
            self.tables[op["table"]].columns.pop(op["column"], None)

    def _op_rename_column(self, op: dict[str, Any], loc: Location) -> None:
        table = self.tables.get(op["table"])
        if table is not None and op["old"] in table.columns:
            table.columns = {
                (op["new"] if k == op["old"] else k): v for k, v in table.columns.items()
            }

    def _op_drop_table(self, op: dict[str, Any], loc: Location) -> None:
        self.tables.pop(op["table"], None)

    def _op_rename_table(self, op: dict[str, Any], loc: Location) -> None:
        table = self.tables.pop(op["table"], None)
        if table is not None:
            table.name = op["new"]
            self.tables[op["new"]] = table

    def _op_rls(self, op: dict[str, Any], loc: Location) -> None:
        self._table(op["table"], loc).rls = bool(op["enabled"])

    # ------------------------------------------------------------------ policies

    def _op_create_policy(self, op: dict[str, Any], loc: Location) -> None:
        policy = {k: op[k] for k in ("name", "command", "roles", "using", "check", "restrictive")}
        policy.update(using_open=op["using_open"], check_open=op["check_open"], location=loc)
        self._table(op["table"], loc).policies[op["name"]] = policy

    def _op_alter_policy(self, op: dict[str, Any], loc: Location) -> None:
        table = self.tables.get(op["table"])
        policy = table.policies.get(op["name"]) if table else None
        if policy is None:
            return
        if op["roles"] is not None:
            policy["roles"] = op["roles"]
        if op["using"] is not None:
            policy.update(using=op["using"], using_open=op["using_open"])
        if op["check"] is not None:
            policy.update(check=op["check"], check_open=op["check_open"])

    def _op_rename_policy(self, op: dict[str, Any], loc: Location) -> None:
        table = self.tables.get(op["table"])
        if table is not None and op["old"] in table.policies:
            policy = table.policies.pop(op["old"])
            policy["name"] = op["new"]
            table.policies[op["new"]] = policy

    def _op_drop_policy(self, op: dict[str, Any], loc: Location) -> None:
        table = self.tables.get(op["table"])
        if table is not None:
            table.policies.pop(op["name"], None)

    # ------------------------------------------------------------------ grants

    def _grant_targets(self, op: dict[str, Any], loc: Location) -> list[_Table]:
        if "schemas" in op:
            schemas = set(op["schemas"])
            return [
                t
                for t in self.tables.values()
                if (t.name.split(".")[0] if "." in t.name else "public") in schemas
            ]
        return [self._table(name, loc) for name in op["tables"]]

    def _op_grant(self, op: dict[str, Any], loc: Location) -> None:
        for table in self._grant_targets(op, loc):
            for role in op["roles"]:
                table.grants.setdefault(role, set()).update(op["privileges"])

    def _op_revoke(self, op: dict[str, Any], loc: Location) -> None:
        everything = "ALL" in op["privileges"] or set(op["privileges"]) >= _CRUD
        for table in self._grant_targets(op, loc):
            for role in op["roles"]:
                held = table.grants.get(role, set())
                if everything:
                    held.clear()
                else:
                    held.difference_update(op["privileges"])
                    held.discard("ALL")  # a partial revoke leaves an unknown remainder
                if held:
                    table.grants[role] = held
                elif everything and role in API_ROLES:
                    # Explicitly nothing: the default privileges Supabase gives are gone.
                    table.grants[role] = set()
                else:
                    table.grants.pop(role, None)

    # ------------------------------------------------------------------ storage, functions

    def _op_bucket(self, op: dict[str, Any], loc: Location) -> None:
        if op["name"] not in self.buckets:  # ON CONFLICT DO NOTHING is the common form
            self.buckets[op["name"]] = (bool(op["public"]), loc)

    def _op_bucket_public(self, op: dict[str, Any], loc: Location) -> None:
        if op["name"] in self.buckets:
            self.buckets[op["name"]] = (bool(op["public"]), loc)

    def _op_drop_bucket(self, op: dict[str, Any], loc: Location) -> None:
        self.buckets.pop(op["name"], None)

    def _op_function(self, op: dict[str, Any], loc: Location) -> None:
        old = self.functions.get(op["name"])
        fn = _Function(bool(op["definer"]), bool(op.get("trigger")), loc)
        if old is not None:  # CREATE OR REPLACE and ALTER FUNCTION keep the privileges
            fn.callers = old.callers
            if "trigger" not in op:
                fn.trigger = old.trigger
        self.functions[op["name"]] = fn

    def _op_function_grant(self, op: dict[str, Any], loc: Location) -> None:
        fn = self.functions.get(op["name"])
        if fn is None:
            return
        roles = set(op["roles"]) & set(API_ROLES)
        if op["grant"]:
            fn.callers |= roles | (set(API_ROLES) if "public" in op["roles"] else set())
        else:
            fn.callers -= roles

    def _op_view(self, op: dict[str, Any], loc: Location) -> None:
        self.views[op["name"]] = (bool(op["invoker"]), list(op["tables"]), loc)

    def _op_view_invoker(self, op: dict[str, Any], loc: Location) -> None:
        if op["name"] in self.views:
            _, tables, where = self.views[op["name"]]
            self.views[op["name"]] = (bool(op["invoker"]), tables, where)

    def _op_drop_view(self, op: dict[str, Any], loc: Location) -> None:
        self.views.pop(op["name"], None)

    def _op_drop_function(self, op: dict[str, Any], loc: Location) -> None:
        self.functions.pop(op["name"], None)

    # ------------------------------------------------------------------ output

    def emit(self, out: FactsBuilder, project: str | None = None) -> None:
        for t in self.tables.values():
            out.tables.append(
                Table(
                    name=t.name,
                    source="sql",
                    rls_enabled=t.rls,
                    policies=[
                        Policy(
                            name=p["name"],
                            command=p["command"],
                            roles=p["roles"],
                            using=p["using"],
                            check=p["check"],
                            permissive=_permissive(p),
                            restrictive=p["restrictive"],
                            location=p["location"],
                        )
                        for _, p in sorted(t.policies.items())
                    ],
                    columns=[
                        Column(name=n, type=typ, sensitive=is_sensitive_column(n))
                        for n, typ in t.columns.items()
                    ],
                    grants=[
                        Grant(role=role, privileges=sorted(privs))
                        for role, privs in sorted(t.grants.items())
                    ],
                    location=t.location,
                    project=project,
                )
            )
        for name, (public, loc) in self.buckets.items():
            out.buckets.append(Bucket(name=name, public=public, location=loc))
        for name, fn in self.functions.items():
            exposed = _schema(name) == "public" and not fn.trigger
            out.functions.append(
                DbFunction(
                    name=name,
                    security_definer=fn.definer,
                    location=fn.location,
                    callable_by=sorted(fn.callers) if exposed else [],
                )
            )
        for name, (invoker, tables, loc) in self.views.items():
            out.views.append(
                View(
                    name=name,
                    security_invoker=invoker,
                    tables=tables,
                    location=loc,
                    project=project,
                )
            )
