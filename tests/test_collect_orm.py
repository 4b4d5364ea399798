"""ORM schemas: SQLAlchemy, Django, Prisma, Sequelize, Mongoose, with sensitive columns."""

from __future__ import annotations

from pathlib import Path

from data_support import collect

from threatmodel.collect.orm_js import JsOrmCollector, prisma_models
from threatmodel.collect.orm_python import PythonOrmCollector
from threatmodel.models import Facts

FIXTURE = Path(__file__).parent / "fixtures" / "data" / "orm"


def _summary(facts: Facts) -> dict[tuple[str, str], list[str]]:
    return {
        (t.source, t.name): [c.name + ("*" if c.sensitive else "") for c in t.columns]
        for t in facts.tables
    }


def test_python_models() -> None:
    facts, errors = collect(PythonOrmCollector(), FIXTURE)
    assert errors == []
    assert _summary(facts) == {
        ("sqlalchemy", "accounts"): ["id", "email", "pw_hash*", "owner_id"],
        ("sqlalchemy", "api_client"): ["id", "client_secret*"],  # Flask-SQLAlchemy default
        ("sqlalchemy", "audit"): ["id", "actor_token*"],
        ("django", "blog_author"): ["api_token*"],
        ("django", "posts"): ["title", "author"],  # Meta.db_table
    }  # the abstract model and the mixin are not tables
    assert all(t.rls_enabled is None for t in facts.tables)


def test_js_models() -> None:
    facts, errors = collect(JsOrmCollector(), FIXTURE)
    assert errors == []
    assert _summary(facts) == {
        ("prisma", "users"): ["id", "email", "password_digest*"],
        ("prisma", "Post"): ["id", "authorId"],
        ("prisma", "Profile"): ["id", "userId", "ssn*"],
        ("mongoose", "User"): ["email", "password*", "resetToken*"],
        ("sequelize", "cards"): ["number", "cvv*"],
        ("sequelize", "wallets"): ["balance", "seedPhrase"],
    }
    users = next(t for t in facts.tables if t.name == "users")
    assert (users.location.path, users.location.line) == ("schema.prisma", 7)


def test_prisma_comment_inside_string_is_kept() -> None:
    models = prisma_models('model A {\n  id Int @id\n  url String @default("http://x") // c\n}\n')
    assert models == [
        {"name": "A", "source": "prisma", "line": 1, "columns": [["id", "Int"], ["url", "String"]]}
    ]
