"""A handler in a file written for a newer Python than the one running the tool is read.

Python 3.12 f-strings (PEP 701) nest quotes of the same kind; the interpreter running the
tool may be older. Locating a handler, reading its effects, the dev-runner scope and the
JWT payload reader all go through the kernel's parse, so such a file is not "could not be
located" (DefectDojo's Jira webhook view was).
"""

from __future__ import annotations

from pathlib import Path

from threatmodel.code.reader import RepoReader
from threatmodel.collect.effects import handler_code
from threatmodel.models import AuthStatus, Location, Route, RouteAuth

VIEWS = """from app.models import Note


def label(form):
    return f"Note {form.get("title")} saved"


def add(request):
    Note.objects.create(body=request.POST["body"], title=label(request.POST))
"""


def test_handler_in_a_pep701_file_is_located_and_writes(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(VIEWS)
    route = Route(
        id="POST /notes",
        method="POST",
        path="/notes",
        framework="django",
        handler="app.views.add",
        location=Location(path="app/urls.py", line=3),
        auth=RouteAuth(status=AuthStatus.PUBLIC),
    )
    code = handler_code(RepoReader(tmp_path), route)
    assert code is not None
    assert (code.name, code.location.line) == ("add", 8)
    assert code.writes
