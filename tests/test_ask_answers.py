"""`ask`'s deterministic half: questions about the facts answered with no LLM, with citations."""

from __future__ import annotations

import pytest
from ask_support import shop_context

from threatmodel.chat.answers import ChatContext, answer_deterministic
from threatmodel.chat.engine import Engine


@pytest.fixture(scope="module")
def ctx() -> ChatContext:
    return shop_context()


def labels(answer: object) -> set[str]:
    return {c.label for c in answer.citations}  # type: ignore[attr-defined]


def test_public_routes(ctx: ChatContext) -> None:
    a = answer_deterministic("which routes are public?", ctx)
    assert a is not None and a.intent == "routes_by_status"
    assert "POST    /orders" in a.text and "/api/orders/{id}" in a.text and "/pay" in a.text
    assert "/users/{user_id}" not in a.text and "GET     /orders" not in a.text
    assert {"app.py:19", "app.py:40", "web/api.js:7"} == labels(a)
    assert "1 more routes have auth the collectors could not decide" in a.text


@pytest.mark.parametrize(
    "question",
    ["who can write to `orders`?", "Who can modify orders", "which routes insert into orders?"],
)
def test_who_can_write_orders(ctx: ChatContext, question: str) -> None:
    a = answer_deterministic(question, ctx)
    assert a is not None and a.intent == "table_writers", a
    # the routes whose handlers write the table, found by parsing them
    assert "POST /orders [public]  SQL INSERT at app.py:21" in a.text
    assert "PUT /api/orders/{id} [public]  update() at web/api.js:8" in a.text
    assert "GET /orders" not in a.text  # only reads it
    # the RLS policies for write commands, with roles, and the grants
    assert '"anyone can insert orders": INSERT to PUBLIC (every role)' in a.text
    assert '"staff update orders": UPDATE to staff' in a.text
    assert "no policy for DELETE" in a.text
    assert "GRANT INSERT, UPDATE to anon" in a.text
    assert {
        "app.py:21",
        "web/api.js:8",
        "migrations/0001_orders.sql:10",
        "migrations/0001_orders.sql:13",
        "migrations/0001_orders.sql:16",
    } <= labels(a)


def test_who_can_write_unknown_table_says_so(ctx: ChatContext) -> None:
    a = answer_deterministic("who can write to `users`?", ctx)
    assert a is not None
    assert "DELETE /users/{user_id} [restricted]  SQL DELETE at app.py:35" in a.text
    assert "No table named `users` is in the facts" in a.text


def test_where_is_env_var_read(ctx: ChatContext) -> None:
    a = answer_deterministic("where is `STRIPE_SECRET_KEY` read?", ctx)
    assert a is not None and a.intent == "name_reads"
    assert "read from the environment" in a.text
    assert {"app.py:11", "web/api.js:13", "app.py:43"} <= labels(a)  # 43: parsed reference


def test_where_is_secret_never_shows_value(ctx: ChatContext) -> None:
    a = answer_deterministic("where is API_TOKEN defined?", ctx)
    assert a is not None
    assert "hardcoded token at settings.py:3" in a.text
    assert "tok_9f8e" not in a.text and "sha256:0123456789abcdef" in a.text


def test_where_is_unknown_name(ctx: ChatContext) -> None:
    a = answer_deterministic("where is NOPE_NOT_HERE read?", ctx)
    assert a is not None and a.citations == []
    assert "not an environment variable or secret" in a.text


@pytest.mark.parametrize(
    "question",
    ["what guards DELETE /users/{id}?", "is delete /users/:id protected", "auth on /users/<id>"],
)
def test_what_guards_route(ctx: ChatContext, question: str) -> None:
    a = answer_deterministic(question, ctx)
    assert a is not None and a.intent == "route_guard"
    assert a.text.startswith("DELETE /users/{user_id} -> app.delete_user (app.py:34, flask)")
    assert "auth: restricted via decorator @login_required, @require_admin" in a.text
    assert "    app.py:32  @login_required\n    app.py:33  @require_admin" in a.text
    assert {"app.py:34", "app.py:32-33", "app.py:32", "app.py:33"} <= labels(a)


def test_guard_shows_express_middleware(ctx: ChatContext) -> None:
    a = answer_deterministic("what guards GET /api/health?", ctx)
    assert a is not None and "auth: unknown" in a.text
    assert "wrapped by" not in a.text  # no middleware argument before the handler


def test_guard_lists_findings_on_the_route(ctx: ChatContext) -> None:
    a = answer_deterministic("what protects POST /orders?", ctx)
    assert a is not None
    assert "no authentication guard was found" in a.text
    assert "finding 1: [high] POST /orders changes data without authentication" in a.text


def test_show_finding_by_index_and_id(ctx: ChatContext) -> None:
    a = answer_deterministic("show finding 2", ctx)
    assert a is not None and a.text.startswith("Finding 2: SQL built from user input")
    assert labels(a) == {"app.py:35"}
    b = answer_deterministic("show finding TM-aaaa1111", ctx)
    assert b is not None and b.text.startswith("Finding 1: POST /orders")
    c = answer_deterministic("show finding 7", ctx)
    assert c is not None and "There is no finding 7: the report has 2." in c.text


@pytest.mark.parametrize(
    ("command", "expect"),
    [
        ("/routes", "6 of 6 routes"),
        ("/tables", "orders  (sql, RLS on, 2 policies)"),
        ("/findings", "2 findings"),
        ("/secrets", "API_TOKEN  settings.py:3  sha256:0123456789abcdef"),
        ("/env", "STRIPE_SECRET_KEY  app.py:11, web/api.js:13"),
        ("/help", "/routes"),
        ("/bogus", "Unknown command"),
    ],
)
def test_slash_commands(ctx: ChatContext, command: str, expect: str) -> None:
    a = answer_deterministic(command, ctx)
    assert a is not None and expect in a.text


def test_open_question_is_not_deterministic(ctx: ChatContext) -> None:
    q = "how would an attacker take over another user's account?"
    assert answer_deterministic(q, ctx) is None


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "x" * 100_000,
        "/" * 100_000,
        "who can write to " + "a" * 100_000,
        "où est `CLÉ_SECRÈTE` lue ? 🔑 \u202e\u0000",
        "what does src/does_not_exist.py do?",
        "show finding 99999999999999999999",
        "what guards DELETE /../../etc/passwd",
        "where is ../../etc/passwd read",
    ],
)
def test_engine_never_raises_without_llm(ctx: ChatContext, question: str) -> None:
    engine = Engine(ctx, None, "LLM pass skipped: no provider configured.")
    answer = engine.ask(question)
    assert answer.text  # always something to show


def test_no_llm_note_names_missing_file(ctx: ChatContext) -> None:
    engine = Engine(ctx, None, "LLM pass skipped: no provider configured.")
    answer = engine.ask("what does src/does_not_exist.py do?")
    assert answer.intent == "needs_llm" and answer.source == "none"
    assert "needs an LLM" in answer.text and "LLM pass skipped" in answer.text
    assert "src/does_not_exist.py does not exist in the repository" in answer.text
    assert "which routes are public?" in answer.text
