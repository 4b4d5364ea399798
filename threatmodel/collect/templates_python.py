"""Whether a Python app's templates escape what they print, as a Setting fact.

A template engine set up with autoescaping off prints every ``{{ value }}`` as HTML: data a
user stored (a review, a name) runs as script in every reader's browser, with no ``|safe``
in sight. The statement that turns it off is the fact; which templates it covers is read by
the output chunk (``chunk_sections.output_refs``).

Extract (per file): ``templates.autoescape`` = ``false`` at each place that turns it off
explicitly, for the engines that escape by default or are told to:

- ``jinja2.Environment(..., autoescape=False)`` (and ``SandboxedEnvironment``);
- ``aiohttp_jinja2.setup(app, ..., autoescape=False)``;
- Starlette / FastAPI ``Jinja2Templates(..., autoescape=False)``;
- ``<anything>.jinja_env.autoescape = False`` (Flask, Quart) and
  ``jinja_options = {"autoescape": False}``;
- Django's ``TEMPLATES`` entry with ``"OPTIONS": {"autoescape": False}``.

A bare ``jinja2.Environment()`` also does not escape, but it renders e-mails and text as
often as HTML, so only the explicit ``False`` is a fact. Link: adds the facts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from threatmodel.code.collector import register
from threatmodel.code.pyast import absolute_name, bool_const, dotted, imports_of, kw, str_const
from threatmodel.collect._pygates import gate
from threatmodel.collect._pysettings import PythonSettingsCollector
from threatmodel.models import TEMPLATES_AUTOESCAPE

# Callables that take ``autoescape=`` and build the engine a web app renders with, by the
# module they are imported from.
_ENGINES = {
    "jinja2.Environment": "jinja2",
    "jinja2.environment.Environment": "jinja2",
    "jinja2.sandbox.SandboxedEnvironment": "jinja2",
    "aiohttp_jinja2.setup": "aiohttp",
    "starlette.templating.Jinja2Templates": "starlette",
    "fastapi.templating.Jinja2Templates": "fastapi",
}


def autoescape_off(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(engine, line) of each statement that turns template autoescaping off."""
    imports = imports_of(tree)
    django = any(
        isinstance(t, ast.Name) and t.id == "TEMPLATES"
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            engine = _ENGINES.get(absolute_name(dotted(node.func), imports))
            if engine and bool_const(kw(node, "autoescape")) is False:
                yield engine, node.lineno
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                off_attr = (
                    isinstance(t, ast.Attribute)
                    and t.attr == "autoescape"
                    and dotted(t.value).endswith("jinja_env")
                    and bool_const(node.value) is False
                )
                if off_attr:
                    yield "flask", node.lineno
                elif dotted(t).endswith("jinja_options") and (line := _off_in(node.value)):
                    yield "flask", line
        elif django and isinstance(node, ast.Dict) and (line := _off_in(node)):
            yield "django", line


def _off_in(node: ast.AST) -> int | None:
    """The line of ``"autoescape": False`` in a dict literal."""
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values, strict=False):
            if str_const(k) == "autoescape" and bool_const(v) is False:
                return v.lineno
    return None


GATE = gate(substrings=["autoescape"])


@register
class PythonTemplatesCollector(PythonSettingsCollector):
    id = "templates_python"
    version = 2  # 2: imports inside a top-level function (code/pyast.imports_of)
    gate = GATE

    def rows(self, tree: ast.Module) -> list[tuple[str, str, str, int]]:
        found = sorted(set(autoescape_off(tree)), key=lambda e: e[1])
        return [(TEMPLATES_AUTOESCAPE, "false", engine, line) for engine, line in found]
