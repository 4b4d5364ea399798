"""The fact cache's signature covers every line of code an extract can run.

Cached extracts are reused while the signature is unchanged, so a module that extract() runs
but the signature does not hash would serve stale facts after an upgrade.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import threatmodel
from threatmodel.collect import _run

PACKAGE = Path(threatmodel.__file__).parent


def _modules_collect_imports() -> list[Path]:
    # A fresh interpreter, so modules other tests imported do not count.
    code = (
        "import sys\n"
        "from threatmodel.collect.registry import all_collectors\n"
        "all_collectors()\n"
        "for name, m in sorted(sys.modules.items()):\n"
        "    if name.startswith('threatmodel') and getattr(m, '__file__', None):\n"
        "        print(m.__file__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return [Path(line) for line in out.stdout.splitlines()]


def test_signature_hashes_every_module_collectors_import() -> None:
    covered = [PACKAGE / name for name in _run._EXTRACT_CODE]
    missing = [
        str(path.relative_to(PACKAGE))
        for path in _modules_collect_imports()
        if path != PACKAGE / "__init__.py"
        and not any(path == c or c in path.parents for c in covered)
    ]
    assert missing == []


def test_signature_changes_with_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from threatmodel.collect.registry import all_collectors

    collectors = all_collectors()
    before = _run.signature(collectors)
    fake = tmp_path / "threatmodel"
    for name in _run._EXTRACT_CODE:
        src = PACKAGE / name
        if src.is_dir():
            for path in src.rglob("*.py"):
                dest = fake / path.relative_to(PACKAGE)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(path.read_bytes())
        else:
            (fake / name).parent.mkdir(parents=True, exist_ok=True)
            (fake / name).write_bytes(src.read_bytes())
    monkeypatch.setattr(_run, "__file__", str(fake / "collect" / "_run.py"))
    assert _run.signature(collectors) == before
    engine = next((fake / "dataflow").glob("*.py"))
    engine.write_text(engine.read_text() + "\n# changed\n")
    assert _run.signature(collectors) != before
