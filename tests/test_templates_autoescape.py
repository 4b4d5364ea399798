"""Templates set up not to escape: the setting is a fact, and every printed value of the
app's Jinja / Django templates reaches the LLM's output chunk (stored XSS needs no |safe)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from threatmodel.code.reader import RepoReader
from threatmodel.collect.templates_python import autoescape_off
from threatmodel.models import TEMPLATES_AUTOESCAPE, Facts, Location, Setting
from threatmodel.summarize import summarize


def found(code: str) -> list[tuple[str, int]]:
    return list(autoescape_off(ast.parse(textwrap.dedent(code))))


@pytest.mark.parametrize(
    ("code", "engine", "line"),
    [
        (
            "from aiohttp_jinja2 import setup as setup_jinja\n"
            "setup_jinja(app, loader=loader,\n    autoescape=False)\n",
            "aiohttp",
            2,
        ),
        ("import jinja2\nenv = jinja2.Environment(loader=l, autoescape=False)\n", "jinja2", 2),
        ("from jinja2 import Environment\nEnvironment(autoescape=False)\n", "jinja2", 2),
        (
            "from fastapi.templating import Jinja2Templates\n"
            "t = Jinja2Templates(directory='t', autoescape=False)\n",
            "fastapi",
            2,
        ),
        ("app.jinja_env.autoescape = False\n", "flask", 1),
        ("app.jinja_options = {\n    'autoescape': False}\n", "flask", 2),
        (
            "TEMPLATES = [{'BACKEND': 'django.template.backends.django.DjangoTemplates',\n"
            "    'OPTIONS': {'autoescape': False}}]\n",
            "django",
            2,
        ),
    ],
)
def test_each_way_to_turn_autoescaping_off(code: str, engine: str, line: int) -> None:
    assert found(code) == [(engine, line)]


@pytest.mark.parametrize(
    "code",
    [
        "import jinja2\njinja2.Environment(loader=l, autoescape=True)\n",
        "import jinja2\njinja2.Environment(autoescape=jinja2.select_autoescape())\n",
        "import jinja2\njinja2.Environment(loader=l)\n",  # e-mails and text as often as HTML
        "from mylib import setup\nsetup(app, autoescape=False)\n",  # not a template engine
        "CONFIG = {'autoescape': False}\n",  # a dict that is no Django TEMPLATES entry
        "app.jinja_env.autoescape = True\n",
    ],
)
def test_what_does_not_turn_it_off(code: str) -> None:
    assert found(code) == []


TEMPLATE = (
    "<h1>{{ course.title }}</h1>\n"
    "<a href=\"{{ url_for('home') }}\">home</a>\n"
    "<p>{{ course.body | e }}</p>\n"
    "<div>\n"
    "  {{ review.text }}\n"
    "</div>\n"
)


def _output(tmp_path: Path, settings: list[Setting]) -> str:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/course.jinja2").write_text(TEMPLATE)
    (tmp_path / "app.py").write_text("import jinja2\n")
    chunks = summarize(
        Facts(settings=settings),
        RepoReader(tmp_path),
        6000,
        files=["app.py", "templates/course.jinja2"],
    )
    return "\n".join(c.data for c in chunks if c.kind != "cross")


def test_printed_values_are_shown_where_autoescaping_is_off(tmp_path: Path) -> None:
    off = Setting(
        key=TEMPLATES_AUTOESCAPE,
        value="false",
        framework="aiohttp",
        location=Location(path="app.py", line=1),
    )
    data = _output(tmp_path, [off])
    assert "--- unescaped output: templates/course.jinja2 lines 1-5" in data
    assert "5|  {{ review.text }}" in data


def test_escaping_templates_are_not_output(tmp_path: Path) -> None:
    assert "unescaped output" not in _output(tmp_path, [])
