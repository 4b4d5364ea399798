"""Shared helpers of the robustness tests: provider settings aimed at the fake LLM server,
answers a capable model would give for the shop fixture, and a scan runner.

The answers are authored (what a model that read the chunk correctly would claim), not
recorded from any model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import FIXTURES, git_repo_copy
from fakes.llm_server import Recorded

from threatmodel.config import ProviderConfig, Settings
from threatmodel.models import Report, Verdict
from threatmodel.scan import ScanOptions, run_scan

SHOP = FIXTURES / "robust" / "shop"
API_KEY = "sk-test-APIKEY-7f3a9c1e5b2d4f6a8c0e"  # a distinct value to grep outputs for
MODELS = {
    "openai": "gpt-4o-mini",
    "openai-compatible": "fake-local-model",
    "anthropic": "claude-haiku-4-5",
}
PROVIDERS = tuple(MODELS)
# Faults are injected per chunk: a small request budget gives the orders component (the
# one they hit) a request of its own, so a fault there is seen to spare the other chunks
# (the shop's small components would all share one request otherwise: a component that
# fits whole in what a request leaves joins it).
SHOP_CHUNK_TOKENS = 350


def provider_config(
    provider: str,
    url: str,
    *,
    timeout: float = 0.5,
    retries: int = 2,
    concurrency: int = 2,
    chunk_tokens: int | None = SHOP_CHUNK_TOKENS,
) -> ProviderConfig:
    return ProviderConfig(
        name=provider,
        model=MODELS[provider],
        base_url=url if provider == "anthropic" else f"{url}/v1",
        api_key=API_KEY,
        timeout_s=timeout,
        max_retries=retries,
        concurrency=concurrency,
        context_tokens=16_384,
        max_output_tokens=1_000,
        chunk_tokens=chunk_tokens,
    )


def settings_for(provider: str, url: str, cache_dir: Path, **kw: Any) -> Settings:
    return Settings(provider=provider_config(provider, url, **kw), cache_dir=cache_dir)


def scan(repo: Path, settings: Settings) -> Report:
    return run_scan(repo, settings, ScanOptions(use_cache=False, jobs=1))


def shop_repo(tmp_path: Path, name: str = "shop") -> Path:
    return git_repo_copy(SHOP, tmp_path / name)


def llm_finding(
    kind: str,
    path: str,
    line: int,
    snippet: str,
    title: str,
    route: tuple[str, str] | None = None,
    severity: str = "high",
) -> dict[str, Any]:
    """One finding in the wire shape (``llm/schema.LlmFinding``); ``snippet`` ends at ``line``."""
    return {
        "title": title,
        "severity": severity,
        "stride": ["tampering"],
        "cwe": [],
        "claims": [
            {
                "kind": kind,
                "route": {"method": route[0], "path": route[1]} if route else None,
                "table": None,
                "location": {"path": path, "line": line},
                "name": None,
            }
        ],
        "evidence": [
            {
                "path": path,
                "start_line": line - snippet.count("\n"),
                "end_line": line,
                "snippet": snippet,
            }
        ],
        "attack": "Send crafted input to the parameter.",
        "mitigation": "Use parameters, not string building.",
    }


SQLI = llm_finding(
    "sql_injection",
    "app/orders.py",
    15,
    'q = request.args.get("q", "")\n'
    """rows = db().execute(f"SELECT id, note FROM orders WHERE note LIKE '%{q}%'").fetchall()""",
    "Order search builds SQL from the q parameter",
)
CMDI = llm_finding(
    "command_injection",
    "app/reports.py",
    11,
    'name = request.args.get("name", "daily")\n'
    'out = subprocess.check_output(f"tar czf /tmp/{name}.tgz reports/", shell=True)',
    "Report export runs a shell command built from the name parameter",
)


SQLI_TITLE, CMDI_TITLE = SQLI["title"], CMDI["title"]


def shop_answer(req: Recorded) -> dict[str, Any]:
    """What a capable model answers per chunk of the shop fixture: the flaw of each file the
    chunk shows (small components share a request, so one chunk may show both)."""
    shown = {"app/orders.py": SQLI, "app/reports.py": CMDI}
    return {"findings": [finding for path, finding in shown.items() if path in req.chunk]}


def confirmed_titles(report: Report) -> set[str]:
    return {f.title for f in report.findings if f.verdict == Verdict.CONFIRMED}


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``threatmodel`` in a subprocess (the real entry point, exit codes and streams)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("CI", "THREATMODEL_CI")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "threatmodel", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def popen(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("CI", "THREATMODEL_CI")}
    full_env.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "threatmodel", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )


def write_tuning(repo: Path, **table: int | float) -> None:
    """A ``[tool.threatmodel]`` table in the repository's pyproject (call tuning only)."""
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in sorted(table.items()))
    (repo / "pyproject.toml").write_text(f"[tool.threatmodel]\n{body}\n", encoding="utf-8")
