"""flag_default: the value a boolean setting takes when the deployment leaves it unset."""

from __future__ import annotations

import ast

import pytest

from threatmodel.frameworks._python.settings import flag_default


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ("True", True),
        ("False", False),
        ('getattr(configuration, "LOGIN_REQUIRED", True)', True),
        ('getattr(configuration, "LOGIN_REQUIRED", False)', False),
        ('env.bool("LOGIN_REQUIRED", default=True)', True),
        ('env("PUBLIC", default=False)', False),
        ('config("LOGIN_REQUIRED", default=True, cast=bool)', True),
        ('os.environ.get("LOGIN_REQUIRED", "true").lower() == "true"', True),
        ('os.getenv("LOGIN_REQUIRED", "0") == "1"', False),
        ('os.getenv("OPEN", "no") != "yes"', True),
        ('os.environ.get("X", "On").lower() in ("1", "true", "on")', True),
        # No default written here: the deployment decides.
        ('os.environ["LOGIN_REQUIRED"] == "1"', None),
        ('getattr(configuration, "LOGIN_REQUIRED")', None),
        ('env.bool("LOGIN_REQUIRED")', None),
        ("compute_flag()", None),
        ('getattr(configuration, "X", compute())', None),
    ],
)
def test_flag_default(expr: str, want: bool | None) -> None:
    assert flag_default(ast.parse(expr, mode="eval").body) is want
