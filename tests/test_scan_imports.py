"""A scan imports only what it runs: no LLM pass without a provider, no Markdown renderer for
JSON, no GitPython to list a checkout's files (start-up is most of a warm scan's time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_PROBE = (
    "import sys\n"
    "from threatmodel.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
)


def _loaded(*args: str, cache: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["THREATMODEL_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return set(proc.stderr.strip().splitlines()[-1].split())


def test_a_json_scan_without_provider_skips_llm_and_markdown(
    example_repo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    common = ["scan", str(example_repo), "--provider", "none", "-q"]
    loaded = _loaded(*common, "-f", "json", "--out", str(out), cache=tmp_path / "c")
    assert out.is_file() and '"findings"' in out.read_text()
    assert "threatmodel.collect.effects" in loaded  # the scan did run its rules
    for module in ("threatmodel.analyze", "threatmodel.plan", "jinja2", "git"):
        assert module not in loaded, module
    assert "threatmodel.render.markdown" not in loaded
    md = tmp_path / "r.md"
    loaded = _loaded(*common, "--out", str(md), cache=tmp_path / "c")
    assert "threatmodel.render.markdown" in loaded and md.read_text().startswith("#")
    assert "threatmodel.analyze" not in loaded
