"""A route handler whose file names no source or sink still reaches the dataflow engine.

Its parameters are request input (a URL part; every parameter of a FastAPI handler), and it
may hand them to a sink in another file. The flows gate once let such a file through only
when some other word happened to be in it, so a thin handler over a service module had no
flow at all (found while measuring the gate's cost, sixth round).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threatmodel.collect.flows_python import GATE
from threatmodel.config import Settings
from threatmodel.scan import ScanOptions, collect_repo_facts

HELPER = "import os\n\n\ndef do_it(value):\n    return os.system('ls ' + value)\n"
FLASK = (
    "from flask import Flask\n"
    "from app.helpers import do_it\n"
    "app = Flask(__name__)\n"
    "@app.route('/show/<name>')\n"
    "def show(name):\n"
    "    out = do_it(name)\n"
    "    return out\n"
)
FASTAPI = (
    "from fastapi import APIRouter\n"
    "from app.helpers import do_it\n"
    "router = APIRouter()\n"
    "@router.get('/show')\n"
    "def show(name: str):\n"
    "    do_it(name)\n"
    "    return {}\n"
)


def _flows(root: Path, files: dict[str, str]) -> set[tuple[str, str]]:
    for rel, text in {"app/__init__.py": "", "app/helpers.py": HELPER, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    options = ScanOptions(jobs=1, use_cache=False)
    facts = collect_repo_facts(root, Settings(provider=None, cache_dir=root), options).facts
    return {(f.sink_location.path, f.claim) for f in facts.flows if f.broken_by is None}


@pytest.mark.parametrize(
    "files",
    [
        {"app/views.py": FLASK},
        {"app/views.py": FASTAPI},
    ],
    ids=["flask-url-part", "fastapi-query"],
)
def test_a_thin_handler_hands_its_parameter_to_a_sink_elsewhere(
    tmp_path: Path, files: dict[str, str]
) -> None:
    assert GATE.search(files["app/views.py"]) is not None
    assert ("app/helpers.py", "command_injection") in _flows(tmp_path, files)


def test_a_plain_module_of_helpers_still_skips_the_engine() -> None:
    # the gate stays a gate: a file with no handler, source, sink or constant return
    assert GATE.search("def total(items):\n    return sum(i.price for i in items)\n") is None
    cart = "class Cart:\n    def total(self):\n        return sum(self.items)\n"
    assert GATE.search(cart) is None
