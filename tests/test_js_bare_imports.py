"""Bare JS imports that name the repository's own files: tsconfig ``paths`` (through
``extends``, the first target that exists) and workspace packages (``package.json``
``name``, its declared entry or the sources a build entry stands for).

The engine cannot tell those from a library's import in one file; link resolves them
(``dataflow.jsimports``), so a call through one is followed into the function it names: a
stored record looked up by a request value is the record, not the request value (no open
redirect), while a function that returns its argument still carries it. The effects of a
handler follow a static call on a repository class to the method its chain declares
(``effects_js_classes``): a command base's factory writes nothing, an ORM model's does.
"""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect, js_flows

from threatmodel.code.jsast import resolve_module
from threatmodel.code.jsworkspace import RepoFiles, package_entries, repo_files
from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import walk
from threatmodel.collect import collect_facts
from threatmodel.collect.effects import handler_code
from threatmodel.collect.flows_js import JsFlowsCollector
from threatmodel.frameworks.express.routes import ExpressCollector

FIXTURES = Path(__file__).parent / "fixtures" / "js"
PATHS_APP = FIXTURES / "ts-paths-app"
WORKSPACE = FIXTURES / "workspace-app"


def _redirects(root: Path) -> dict[int, set[str]]:
    """Sink line -> the kinds of source an unbroken open-redirect flow brings there."""
    facts = collect(root, JsFlowsCollector())
    out: dict[int, set[str]] = {}
    for f in facts.flows:
        if f.claim == "open_redirect":
            got = out.setdefault(f.sink_location.line, set())
            if f.broken_by is None:
                got.add(f.source_kind)
    return out


def test_tsconfig_paths_follow_extends_and_take_the_first_target_that_exists() -> None:
    files = repo_files(
        PATHS_APP,
        [p.relative_to(PATHS_APP).as_posix() for p in PATHS_APP.rglob("*") if p.is_file()],
    )
    got = resolve_module("server/routes/links.ts", "@server/commands/links", files)
    assert got == "server/commands/links.ts"
    assert resolve_module("server/routes/links.ts", "@server/nothing/here", files) is None


def test_a_call_through_a_paths_alias_is_the_repository_function() -> None:
    found = _redirects(PATHS_APP)
    assert found[11] == {"database"}  # the stored link's destination, not the slug
    assert found[15] == {"request"}  # tidy() returns what it is given
    assert found[23] == set()  # isOwnHost() pins the host: the guard is read through the alias


def test_workspace_package_entry_is_its_sources() -> None:
    rel = [p.relative_to(WORKSPACE).as_posix() for p in WORKSPACE.rglob("*") if p.is_file()]
    files = repo_files(WORKSPACE, rel)
    assert resolve_module("apps/api/src/main.ts", "@acme/store", files) == (
        "packages/store/src/index.ts"
    )
    assert resolve_module("apps/api/src/main.ts", "express", files) is None


def test_a_call_into_a_workspace_package_is_followed() -> None:
    found = _redirects(WORKSPACE)
    assert found[10] == {"database"}
    assert found[14] == {"request"}


def test_a_static_factory_of_a_repository_class_is_read_not_named() -> None:
    routes = by_route(collect(WORKSPACE, ExpressCollector()))
    code = handler_code(RepoReader(WORKSPACE), routes[("POST", "/notes")])
    assert code is not None
    # SaveNoteCommand.create is BaseCommand's (a workspace package): builds an object;
    # Note.create is the ORM package's Model's: a write
    assert [(e.kind, e.call) for e in code.effects] == [("db_write", "Note.create")]


HELPER = """
import archive from 'archive-kit'
import fs from 'fs'

function unpack(buffer) {
  const folder = archive.open(buffer)
  for (const item of folder.entries) {
    fs.writeFileSync('/srv/uploads/' + item.name, item.body)
  }
}

export function upload(req, res) {
  unpack(req.body.data)
  res.end()
}
"""


def test_a_library_call_in_a_helper_still_carries_its_parameter() -> None:
    """A call through a bare import that no repository file answers is a library's: link
    passes its arguments through, also from a helper's parameter to its sink."""
    flows = [f for f in js_flows({"routes/upload.js": HELPER}) if f.claim == "path_traversal"]
    assert [(f.source_kind, f.sink_location.line) for f in flows] == [("request", 8)]


def test_package_entries_map_build_outputs_to_sources() -> None:
    data = {
        "main": "./dist/cjs/index.js",
        "exports": {
            ".": {"types": "./dist/index.d.ts", "import": "./dist/esm/index.js"},
            "./nest": "./dist/nest/module.js",
        },
    }
    got = package_entries(data, "libs/kit")
    assert got["./nest"] == ["libs/kit/dist/nest/module.js", "libs/kit/src/nest/module"]
    assert "libs/kit/src/index" in got["."]
    files = RepoFiles(
        ["libs/kit/src/nest/module.ts", "libs/kit/src/index.ts"],
        {"@acme/kit": "libs/kit"},
        entries={"@acme/kit": got},
    )
    assert resolve_module("apps/x/main.ts", "@acme/kit/nest", files) == (
        "libs/kit/src/nest/module.ts"
    )
    assert resolve_module("apps/x/main.ts", "@acme/kit", files) == "libs/kit/src/index.ts"


def test_a_pass_through_helper_the_gate_skips_still_shows_its_step() -> None:
    """``text.ts`` names nothing the flows gate looks for (``tidy(v)`` returns ``v.trim()``):
    the workers never extract it, but link does once a route calls into it, so the flow
    through it has its step there, as without the gate."""
    assert JsFlowsCollector.gate is not None
    assert not JsFlowsCollector.gate.search((PATHS_APP / "server/utils/text.ts").read_text())
    facts = collect_facts(PATHS_APP, walk(PATHS_APP).files, cache=None, jobs=1).facts
    (flow,) = [f for f in facts.flows if f.claim == "open_redirect" and f.sink_location.line == 15]
    assert "server/utils/text.ts" in {s.path for s in flow.steps}
