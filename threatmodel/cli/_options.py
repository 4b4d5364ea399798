"""Command-line options several commands share, declared once so their flags and help agree.

``scan``, ``diff``, ``ask`` and ``verify`` take the same provider / model / budget / cache
options; each is an ``Annotated`` alias a command uses as its parameter type (the default
value stays in the command's signature). ``settings_from_options`` turns the LLM options
into ``Settings`` the way every command does (flag, then environment, then the repository's
config; see config.resolve_settings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from threatmodel.config import Settings, resolve_settings


def _more_than_zero(value: float | None) -> float | None:
    # A budget of zero or less would stop the pass before its first call: a typo, not a plan.
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value:g} is not a budget; give a number above 0.")
    return value


def at_least_one(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise typer.BadParameter(f"{value} is not a count; give a whole number of 1 or more.")
    return value


Provider = Annotated[
    str | None,
    typer.Option(
        help="openai, anthropic, openai-compatible or none (default: the provider whose API key "
        "is set, else none: facts and rules only)."
    ),
]
Model = Annotated[str | None, typer.Option(help="Model name (default: the provider's default).")]
BaseUrl = Annotated[str | None, typer.Option(help="Base URL of an OpenAI-compatible server.")]
MaxCost = Annotated[
    float | None,
    typer.Option(help="Stop the LLM pass before it costs more (USD).", callback=_more_than_zero),
]
MaxTokens = Annotated[
    int | None,
    typer.Option(help="Stop the LLM pass before it uses more tokens.", callback=at_least_one),
]
CacheDir = Annotated[Path | None, typer.Option(help="Cache folder (default: user cache).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Parse every file again.")]
Jobs = Annotated[
    int | None,
    typer.Option(
        help="Parallel parser processes (default: CPUs, at most 4).", callback=at_least_one
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")]
Ci = Annotated[
    bool, typer.Option("--ci", help="Exit 2 when a stage could not run (default when CI=true).")
]


def settings_from_options(
    root: Path,
    provider: str | None,
    model: str | None,
    base_url: str | None,
    cache_dir: Path | None,
    max_cost: float | None = None,
    max_tokens: int | None = None,
    need_key: bool = True,
) -> Settings:
    """Settings for ``root`` from the shared options (None: not given on the command line)."""
    return resolve_settings(
        root,
        provider=provider,
        model=model,
        base_url=base_url,
        max_cost_usd=max_cost,
        max_tokens=max_tokens,
        cache_dir=cache_dir,
        need_key=need_key,
    )
