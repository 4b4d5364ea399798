"""The Mermaid data-flow diagram: parsed by the real `mermaid` package, labels kept inert.

The grammar check runs tests/tools/mermaid_check.mjs under Node with mermaid and jsdom
installed by tests/tools/install-mermaid.sh (``.ci/run`` runs it) into a cache folder,
never into the repository. Without Node the check is skipped with the reason; in CI
(``CI`` set) a missing install fails instead, so the check cannot silently disappear.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from render_sample import HOSTILE_PATH, sample_facts, sample_report

from threatmodel.models import AuthStatus, Facts, Location, Route, RouteAuth
from threatmodel.render.mermaid import label, render_mermaid, route_prefix
from threatmodel.render.system import build_system
from threatmodel.render.view import build_view

TOOLS = Path(__file__).parent / "tools"
MODULES = Path(
    os.environ.get("THREATMODEL_MERMAID_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "threatmodel-mermaid"
)


def mermaid_parse(text: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Mermaid grammar check needs Node.js")
    if not (MODULES / "node_modules" / "mermaid").is_dir():
        message = f"mermaid is not installed in {MODULES}: run tests/tools/install-mermaid.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run(
        [node, str(TOOLS / "mermaid_check.mjs")],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MERMAID_CHECK_MODULES": str(MODULES)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def diagram(facts: Facts) -> str:
    return render_mermaid(facts, build_system(facts))


def test_the_checker_rejects_a_broken_diagram() -> None:
    result = mermaid_parse('flowchart LR\n  n1["a"] --> (\n')
    assert result["ok"] is False and "Parse error" in result["error"]


def test_sample_diagram_parses_with_hostile_labels() -> None:
    result = mermaid_parse(diagram(sample_facts()))
    assert result["ok"], result.get("error")
    assert result["type"] == "flowchart-v2"
    assert result["edges"] >= 10 and result["subgraphs"] == 7
    assert "GET /api/notes" in result["labels"]


def test_example_report_diagram_parses(example_repo: Path) -> None:
    from threatmodel.config import resolve_settings
    from threatmodel.scan import run_scan

    report = run_scan(example_repo, resolve_settings(example_repo))
    result = mermaid_parse(build_view(report).mermaid)
    assert result["ok"], result.get("error")


def test_labels_are_quoted_and_escaped() -> None:
    text = label(HOSTILE_PATH)
    assert text.startswith('"') and text.endswith('"')
    inner = text[1:-1]
    for ch in '"<>|`':
        assert ch not in inner
    assert "#quot;" in inner and "#lt;" in inner and "#124;" in inner
    assert len(label("x" * 500)) < 70  # truncated


def test_node_ids_are_generated_not_taken_from_the_repository() -> None:
    text = diagram(sample_facts())
    for line in text.splitlines()[1:]:
        token = line.strip().split("[")[0].split("(")[0].split("{")[0].split(" ")[0]
        assert token in {"subgraph", "end"} or (token[0] in "ns" and token[1:].isdigit()), line


def test_groups_routes_by_prefix_and_caps_large_systems() -> None:
    assert route_prefix("/api/notes/{id}/share") == "/api/notes"
    assert route_prefix("/admin/users/{id}") == "/admin"
    assert route_prefix("/v1/api/items") == "/v1/api/items"
    assert route_prefix("/{slug}") == "/"
    routes = [
        Route(
            id=f"GET /s{i}/x",
            method="GET",
            path=f"/s{i}/x",
            framework="express",
            handler=f"h{i}",
            location=Location(path="app.js", line=i + 1),
            auth=RouteAuth(status=AuthStatus.PUBLIC),
        )
        for i in range(30)
    ]
    text = diagram(Facts(routes=routes))
    assert "22 more routes" in text
    # 8 nodes of one route each, named by the route alone (a count of 1 says nothing)
    assert len(re.findall(r'"GET /s\d+/x"\]', text)) == 8 and "(1 route)" not in text


def test_view_diagram_is_in_the_markdown() -> None:
    view = build_view(sample_report())
    assert view.mermaid.startswith("flowchart LR\n")
