"""A graphene operation's arguments are request input in the function that answers it.

graphene hands a field's declared arguments to its resolver (``resolve_<field>``, a
``resolver=``, a mutation's ``mutate``) as keywords; the client writes each in the query.
Until the ninth round the operation's route named the field line, not the resolver, and
nothing made the resolver's parameters input, so a resolver formatting an argument into
SQL or a shell command (through a helper module) was never followed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.config import Settings
from threatmodel.models import Facts
from threatmodel.scan import ScanOptions, collect_repo_facts

OPS = """\
import graphene
from sqlalchemy import text

from notes import tools
from notes.db import session
from notes.mixins import ShelfQueries


class Query(ShelfQueries, graphene.ObjectType):
    notes = graphene.List(graphene.String, tag=graphene.String(), limit=graphene.Int())
    note = graphene.Field(graphene.String, args={"key": graphene.Argument(graphene.String)})
    count = graphene.Int(since=graphene.NonNull(graphene.Int))
    shelf = graphene.String(word=graphene.String())

    def resolve_notes(self, info, tag=None, limit=10):
        sql = "SELECT body FROM notes WHERE tag = '%s' LIMIT %d" % (tag, limit)
        return session.execute(text(sql))

    def resolve_note(root, info, key):
        return tools.shell(f"cat /srv/notes/{key}")

    def resolve_count(root, info, since):
        return session.execute(text("SELECT count(*) FROM notes WHERE t > %d" % since))


class Archive(graphene.Mutation):
    class Arguments:
        label = graphene.String(required=True)
        days = graphene.Int()

    ok = graphene.Boolean()

    def mutate(root, info, **kwargs):
        tools.shell("tar czf /backups/" + kwargs["label"] + ".tgz /srv/notes")
        return Archive(ok=True)


class Mutations(graphene.ObjectType):
    archive = Archive.Field()


schema = graphene.Schema(query=Query, mutation=Mutations)
"""

MIXINS = """\
from notes import tools


class ShelfQueries:
    def resolve_shelf(self, info, word=None):
        return tools.shell("grep -r " + word + " /srv/shelf")
"""

TOOLS = """\
import os


def shell(cmd):
    return os.popen(cmd).read()
"""

DB = """\
from sqlalchemy.orm import Session

session = Session()
"""


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    root = tmp_path_factory.mktemp("gql")
    files = {
        "notes/__init__.py": "",
        "notes/ops.py": OPS,
        "notes/mixins.py": MIXINS,
        "notes/tools.py": TOOLS,
        "notes/db.py": DB,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    options = ScanOptions(jobs=1, use_cache=False)
    return collect_repo_facts(root, Settings(provider=None, cache_dir=root / ".c"), options).facts


def test_an_operation_names_its_resolver_and_the_arguments_the_client_writes(
    facts: Facts,
) -> None:
    ops = {r.id: (r.handler, r.params) for r in facts.routes}
    assert ops["QUERY /graphql/Query.notes"] == (
        "notes.ops.Query.resolve_notes",
        {"tag": "text", "limit": "scalar"},
    )
    # ``args={...}`` and a wrapped type; a NonNull(Int) holds no text
    assert ops["QUERY /graphql/Query.note"] == ("notes.ops.Query.resolve_note", {"key": "text"})
    assert ops["QUERY /graphql/Query.count"][1] == {"since": "scalar"}
    # a resolver inherited from a mixin of another module
    assert ops["QUERY /graphql/Query.shelf"][0] == "notes.mixins.ShelfQueries.resolve_shelf"
    # a mutation: its mutate, with its class Arguments
    assert ops["MUTATION /graphql/Mutations.archive"] == (
        "notes.ops.Archive.mutate",
        {"label": "text", "days": "scalar"},
    )


def _unbroken(facts: Facts, claim: str) -> set[str]:
    return {
        f.source
        for f in facts.flows
        if f.claim == claim and f.source_kind == "request" and f.broken_by is None
    }


def test_string_arguments_reach_sql_and_a_helper_modules_shell(facts: Facts) -> None:
    # tag reaches text(); limit and since are parsed as integers before the resolver runs
    assert _unbroken(facts, "sql_injection") == {"parameter tag"}
    # key through tools.shell, label through mutate's **kwargs, word in an inherited resolver
    assert _unbroken(facts, "command_injection") == {
        "parameter key",
        "parameter label",
        "parameter word",
    }


APP = """\
from flask import Flask
from flask_graphql import GraphQLView

from notes import guards
from notes.ops import schema

app = Flask(__name__)

layers = [guards.DepthLimit(), guards.NoIntrospection()]

app.add_url_rule("/graphql", view_func=GraphQLView.as_view(
    "graphql", schema=schema, middleware=layers, batch=True,
    format_error=guards.loud_error,
))
"""

GUARDS = """\
class DepthLimit:
    def resolve(self, next, root, info, **kwargs):
        return next(root, info, **kwargs)


class NoIntrospection:
    def resolve(self, next, root, info, **kwargs):
        if info.field_name == "__schema":
            raise Exception("introspection is off")
        return next(root, info, **kwargs)


def loud_error(error):
    import traceback

    return {"message": str(error), "trace": traceback.format_exc()}
"""


def test_the_views_graphql_middleware_is_scoped_to_its_route_and_shown_with_each_operation(
    tmp_path: Path,
) -> None:
    from threatmodel.code.reader import RepoReader
    from threatmodel.summarize import summarize

    files = {
        "notes/__init__.py": "",
        "notes/ops.py": OPS,
        "notes/mixins.py": MIXINS,
        "notes/tools.py": TOOLS,
        "notes/db.py": DB,
        "notes/guards.py": GUARDS,
        "notes/app.py": APP,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    options = ScanOptions(jobs=1, use_cache=False)
    settings = Settings(provider=None, cache_dir=tmp_path / ".c")
    facts = collect_repo_facts(tmp_path, settings, options).facts
    assert sorted((m.name, m.scope, m.location.line, m.options) for m in facts.middleware) == [
        ("guards.DepthLimit", "/graphql", 11, {"role": "middleware"}),
        ("guards.NoIntrospection", "/graphql", 11, {"role": "middleware"}),
        ("guards.loud_error", "/graphql", 11, {"role": "format_error"}),
    ]
    chunks = summarize(facts, RepoReader(tmp_path), 8000, files=sorted(files))
    data = "\n".join(c.data for c in chunks)
    # the middleware's code, with the operations it runs before
    assert "--- middleware guards.NoIntrospection: notes/guards.py lines 6-10" in data
    # and the error formatter: what every error tells the caller
    assert "--- format_error guards.loud_error: notes/guards.py lines 13-16" in data
    # and the statement that gives the view its middleware (batching on) is setup
    assert '12|    "graphql", schema=schema, middleware=layers, batch=True,' in data


STRAWBERRY = """\
import strawberry
from strawberry.types import Info

from notes.db import session


@strawberry.type
class Query:
    @strawberry.field
    def find(self, info: Info, phrase: str, page: int | None = None) -> list[str]:
        rows = session.execute(f"SELECT body FROM notes WHERE body LIKE '%{phrase}%'")
        return [r[0] for r in rows][(page or 0) :]

    @strawberry.field
    def since(self, day: int) -> list[str]:
        return session.execute(f"SELECT body FROM notes WHERE day > {day}")


schema = strawberry.Schema(query=Query)
"""


def test_a_strawberry_resolvers_parameters_are_its_arguments(tmp_path: Path) -> None:
    files = {"notes/__init__.py": "", "notes/api.py": STRAWBERRY, "notes/db.py": DB}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    options = ScanOptions(jobs=1, use_cache=False)
    settings = Settings(provider=None, cache_dir=tmp_path / ".c")
    facts = collect_repo_facts(tmp_path, settings, options).facts
    ops = {r.id: (r.handler, r.params) for r in facts.routes}
    # info (by name or its Info annotation) and self are not arguments
    assert ops["QUERY /graphql/Query.find"] == (
        "notes.api.Query.find",
        {"phrase": "text", "page": "scalar"},
    )
    assert _unbroken(facts, "sql_injection") == {"parameter phrase"}
