"""Tokens the LLM pass would send for a repository, against the tokens of its source.

    .venv/bin/python -m benchmarks.llm_tokens PATH [PATH ...] [--context 128000]

Collects the facts (no LLM), builds the chunks for a model with the given context window
(default: gpt-4o-mini's 128k, i.e. 6,000-token chunks), renders every first-turn prompt
exactly as the pass sends it (system prompt included, per call), and counts tokens with
cl100k_base. "source" is every file the walker scans (the same files the collectors read).
Re-asks add to the sent figure when a model answers badly; a cached re-run sends nothing.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from threatmodel.analyze import _Pass
from threatmodel.code.reader import RepoReader
from threatmodel.code.walk import walk
from threatmodel.config import ProviderConfig, Settings
from threatmodel.llm.openai import OpenAIProvider
from threatmodel.scan import ScanOptions, run_scan
from threatmodel.summarize import count_tokens, summarize


def measure(root: Path, context: int) -> tuple[int, int, int, int]:
    """(source tokens, sent tokens, chunks, files) for the repository at ``root``."""
    with tempfile.TemporaryDirectory() as cache:
        facts = run_scan(root, Settings(provider=None, cache_dir=Path(cache)), ScanOptions()).facts
    config = ProviderConfig("openai", "gpt-4o-mini", None, "unused", context_tokens=context)
    state = _Pass(OpenAIProvider(config), Settings(provider=config), None)
    chunks = summarize(facts, RepoReader(root), state.chunk_budget())
    sent = sum(state.system_tokens + count_tokens(state.prompt(c)) for c in chunks)
    files = walk(root).files
    source = 0
    for f in files:
        try:
            source += count_tokens((root / f).read_text("utf-8", "replace"))
        except OSError:
            continue
    return source, sent, len(chunks), len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--context", type=int, default=128_000)
    args = parser.parse_args()
    print(f"{'repository':<24} {'files':>6} {'source tok':>11} {'sent tok':>9} {'chunks':>7} ratio")
    for path in args.paths:
        source, sent, chunks, files = measure(path.resolve(), args.context)
        ratio = sent / source if source else 0.0
        print(f"{path.name:<24} {files:>6} {source:>11} {sent:>9} {chunks:>7} {ratio:.3f}")


if __name__ == "__main__":
    main()
