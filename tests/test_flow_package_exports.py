"""A function named through its package (``from ..crud import get_short_link``) whose
``__init__.py`` only re-exports it (``from .links import get_short_link``).

The dataflow gate skips an ``__init__`` that only imports; link extracts it after all when
an extracted file calls into it (``collect/_called_files``), so the name resolves to the
module the ``__init__`` imports it from, not to another module of the package that defines
the same name (``legacy.py``). A row looked up by the caller's code is the database's
value, not the code: no open redirect from the parameter. A helper that passes its
argument through still does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from threatmodel.collect import collect_facts

FIXTURE = Path(__file__).parent / "fixtures" / "python" / "flow_reexport"


def _redirects(tmp_path: Path) -> dict[int, str]:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py"))
    facts = collect_facts(root, files, cache=None, jobs=1).facts
    return {
        f.sink_location.line: f.source
        for f in facts.flows
        if f.claim == "open_redirect" and f.sink_location.path.endswith("views/links.py")
    }


def test_a_row_looked_up_through_a_package_is_stored_data(tmp_path: Path) -> None:
    assert "parameter code" not in _redirects(tmp_path).get(12, "")


def test_a_helper_through_a_package_still_passes_its_argument(tmp_path: Path) -> None:
    assert _redirects(tmp_path)[17] == "parameter next_url"
