"""A JS flow through a call into the repository's own code that link could not resolve.

``routes/dl.js`` passes the request's file name through ``clean`` of ``./lib/names``: when
that file defines ``clean`` as a function, link reads it; when the file exists but ``clean``
is something the engine has no summary for (built by another call), the value is assumed
to pass through and the flow names the call (``Flow.unresolved``): not proof, and the
verifier keeps it for review. A package's function, or a method of an object a repository
file exports (maybe a package's), passes its input through as before, unmarked.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from threatmodel import dataflow
from threatmodel.code.reader import RepoReader
from threatmodel.code.source import SourceFile
from threatmodel.collect.flows_js import root_aliases
from threatmodel.dataflow.proof import proves, unbroken
from threatmodel.models import Claim, Facts, Finding, Flow, Location, Severity, Verdict
from threatmodel.verify.flows import judge
from threatmodel.verify.interface import VerifyContext

ROUTE = """
const fs = require('fs')
const { clean } = require('../lib/names')

module.exports = (req, res) => {
  const name = clean(req.query.file)
  res.send(fs.readFileSync('/srv/files/' + name))
}
"""

DEFINED = """
function clean(name) {
  return name.trim()
}
module.exports = { clean }
"""

BUILT = """
const { makeCleaner } = require('./factory')
const clean = makeCleaner()
module.exports = { clean }
"""


def _flows(files: dict[str, str]) -> list[Flow]:
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract_js(SourceFile.from_bytes(path, textwrap.dedent(text).encode()))
        if got is not None:
            extracts[path] = got
    flows = dataflow.flows(extracts, root_aliases(extracts))
    return [f for f in flows if f.claim == "path_traversal" and f.source_kind == "request"]


def test_a_function_the_repository_defines_is_resolved_and_proves() -> None:
    flows = _flows({"routes/dl.js": ROUTE, "lib/names.js": DEFINED})
    assert flows and all(not f.unresolved for f in flows)
    assert [f for f in flows if proves(f)]


def test_a_name_of_a_repository_file_with_no_function_is_kept_for_review() -> None:
    flows = _flows({"routes/dl.js": ROUTE, "lib/names.js": BUILT})
    assert flows and all(unbroken(f) and not proves(f) for f in flows)
    assert any(c.endswith("lib/names.clean") for f in flows for c in f.unresolved)


def test_a_package_function_and_an_unread_file_pass_through_unmarked() -> None:
    package = ROUTE.replace("require('../lib/names')", "require('sanitize-names')")
    flows = _flows({"routes/dl.js": package, "lib/names.js": BUILT})
    assert [f for f in flows if proves(f)] and not any(f.unresolved for f in flows)
    # the file is not part of the repository read: nothing says it is the repository's
    flows = _flows({"routes/dl.js": ROUTE})
    assert [f for f in flows if proves(f)] and not any(f.unresolved for f in flows)


def test_a_method_of_an_object_a_repository_file_exports_is_not_marked() -> None:
    route = ROUTE.replace(
        "const { clean } = require('../lib/names')", "const names = require('../lib/names')"
    )
    route = route.replace("clean(req.query.file)", "names.store.clean(req.query.file)")
    flows = _flows({"routes/dl.js": route, "lib/names.js": BUILT})
    assert [f for f in flows if proves(f)] and not any(f.unresolved for f in flows)


def test_the_verifier_keeps_the_js_flow_for_review_naming_the_call(tmp_path: Path) -> None:
    files = {"routes/dl.js": ROUTE, "lib/names.js": BUILT}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(text))
    ctx = VerifyContext(facts=Facts(flows=_flows(files)), reader=RepoReader(tmp_path))
    claim = Claim(kind="path_traversal", location=Location(path="routes/dl.js", line=7))  # type: ignore[arg-type]
    finding = Finding(title="t", severity=Severity.HIGH, stride=[], source="rule", claims=[claim])
    got = judge("path_traversal", claim, finding, ctx)
    assert got.verdict is Verdict.UNVERIFIABLE
    assert "names.clean()" in got.reason and "could not resolve" in got.reason
