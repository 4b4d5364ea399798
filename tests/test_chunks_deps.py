"""The configuration chunk shows the dependencies the facts rest on, with their versions
(issue 19: a framework release years out of date is seen only in its manifest)."""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import write

from threatmodel.code.reader import RepoReader
from threatmodel.models import Dependency, Facts, Flow, Location, Middleware, Table
from threatmodel.summarize import summarize

FILES = {
    "requirements.txt": "Django==1.8.3\nblack==23.1\nrequests==2.5.0\n",
    "package.json": (
        '{\n  "dependencies": {\n    "needle": "^3.3.1",\n    "left-pad": "1.0.0",\n'
        '    "helmet": "^4.0.0",\n    "mongoose": "^7.0.0"\n  }\n}\n'
    ),
    "app.js": "const needle = require('needle')\n",
}


def _dep(eco: str, name: str, version: str, path: str, line: int) -> Dependency:
    return Dependency(
        ecosystem=eco, name=name, version=version, location=Location(path=path, line=line)
    )


def _facts() -> Facts:
    here = Location(path="app.js", line=1)
    flow = Flow(
        claim="ssrf",
        cwe=["CWE-918"],
        source_kind="request",
        source="req.query",
        source_location=here,
        sink="needle.get",
        sink_location=here,
        steps=[here],
    )
    return Facts(
        dependencies=[
            _dep("pypi", "django", "1.8.3", "requirements.txt", 1),
            _dep("pypi", "black", "23.1", "requirements.txt", 2),
            _dep("pypi", "requests", "2.5.0", "requirements.txt", 3),
            _dep("npm", "needle", "3.3.1", "package.json", 3),
            _dep("npm", "left-pad", "1.0.0", "package.json", 4),
            _dep("npm", "helmet", "4.6.1", "package.json", 5),
            _dep("npm", "mongoose", "7.0.0", "package.json", 6),
        ],
        flows=[flow],
        middleware=[
            Middleware(kind="security_headers", name="helmet", scope="global", location=here)
        ],
        tables=[Table(name="User", source="mongoose", location=here)],
    )


def test_framework_and_fact_named_dependencies_are_shown(tmp_path: Path) -> None:
    files = write(tmp_path, FILES)
    chunks = summarize(_facts(), RepoReader(tmp_path), 6000, files=files)
    conf = "\n".join(c.data for c in chunks)  # setup sections ride in the route request
    assert "requirements.txt:1 | Django==1.8.3\n" in conf  # a web framework
    assert 'package.json:3 | "needle": "^3.3.1",\n' in conf  # a flow's sink
    assert 'package.json:5 | "helmet": "^4.0.0", -> 4.6.1' in conf  # a middleware
    assert 'package.json:6 | "mongoose": "^7.0.0"\n' in conf  # a table's ORM; locked as declared
    # nothing in the facts rests on them: a formatter, a utility, an unused client
    assert "black" not in conf and "left-pad" not in conf and "requests==2.5.0" not in conf


def test_no_dependency_line_without_dependencies(tmp_path: Path) -> None:
    files = write(tmp_path, FILES)
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=files)
    assert not any("dependencies the facts rest on" in c.data for c in chunks)
