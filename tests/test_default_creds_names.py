"""A default credential is a value of a password setting, not of a setting about passwords.

saleor-style constants name the e-mail a password reset sends (``..._PASSWORD_RESET_DEFAULT_
TEMPLATE = "password_reset.html"``, ``..._DEFAULT_SUBJECT = "Password reset e-mail"``): the
last word says what the value is, as for ``TOKEN_URL``. A default password stays reported.
"""

from __future__ import annotations

import ast

import pytest

from threatmodel.code.names import is_secret_name
from threatmodel.collect.default_creds import compose_defaults, python_defaults


@pytest.mark.parametrize(
    "line",
    [
        'ACCOUNT_PASSWORD_RESET_DEFAULT_TEMPLATE = "password_reset.html"',
        'SET_STAFF_PASSWORD_DEFAULT_SUBJECT = "You are invited"',
        'ADMIN_PASSWORD_DEFAULT_TITLE = "Set your password"',
    ],
)
def test_a_template_or_subject_about_passwords_is_no_credential(line: str) -> None:
    assert not list(python_defaults(ast.parse(line)))
    assert not is_secret_name(line.split(" = ")[0])


def test_a_default_password_is_still_one() -> None:
    got = list(python_defaults(ast.parse('_DEFAULT_PASSWORD = "MyPassword"\n')))
    assert [d.name for d in got] == ["_DEFAULT_PASSWORD"]


CLIENT_SETTINGS = """
class PostgresProvider(BaseSettings):
    POSTGRES_USER: str = "app"
    POSTGRES_PASSWORD: str = "appdb"
    POSTGRES_SERVER: str = "postgres"


class AdminSettings(BaseSettings):
    ADMIN_PASSWORD: str = "admin"
    SMTP_HOST: str = "mail"
"""

APP_COMPOSE = """services:
  app:
    image: app
    ports: ["8080:8080"]
    environment:
      POSTGRES_PASSWORD: postgres
      POSTGRES_HOST: db
  db:
    image: postgres
    ports: ["5432:5432"]
    environment:
      POSTGRES_PASSWORD: postgres
"""


def test_a_password_sent_to_another_host_is_a_client_setting() -> None:
    # POSTGRES_PASSWORD beside POSTGRES_SERVER is what the app sends to a database
    # elsewhere; ADMIN_PASSWORD beside an unrelated SMTP_HOST is one the app accepts.
    got = [(d.name, d.client) for d in python_defaults(ast.parse(CLIENT_SETTINGS))]
    assert got == [("POSTGRES_PASSWORD", True), ("ADMIN_PASSWORD", False)]
    # In compose, the app's copy is the client's; the database service's own is reported.
    lines = [(d.line, d.client) for d in compose_defaults(APP_COMPOSE)]
    assert lines == [(6, True), (12, False)]


LOOPBACK_COMPOSE = """services:
  cache:
    image: postgres
    ports:
      - "127.0.0.1:5433:5432"
      - host_ip: "::1"
        target: 5432
    environment:
      POSTGRES_PASSWORD: postgres
  db:
    image: postgres
    ports: ["127.0.0.1:5432:5432", "6543:5432"]
    environment:
      POSTGRES_PASSWORD: postgres
"""


def test_a_service_published_on_loopback_only_is_reached_by_no_one_else() -> None:
    # cache binds the host's loopback alone; db also publishes 6543 on every interface
    assert [d.line for d in compose_defaults(LOOPBACK_COMPOSE)] == [14]
