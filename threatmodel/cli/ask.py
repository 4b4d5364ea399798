"""`threatmodel ask PATH ["question"] [--json]`: a threat-model session in the terminal.

Opens over the last scan of the repository (cached by report_cache.py; scanned first, with
progress, when there is none or the repository changed). Interactive mode is a
prompt_toolkit session: line editing, history kept across sessions in the repository's
cache folder, multi-line input (end a line with ``\\`` or press Esc then Enter), Ctrl-C
cancels the current input or the answer being streamed without leaving, Ctrl-D (or /quit)
leaves. With a question argument it answers once and exits (``--json`` for scripts); with
stdin not a terminal it answers one question per input line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output
from rich.console import Console

from threatmodel.chat.answers import ChatContext
from threatmodel.chat.engine import Engine
from threatmodel.chat.types import Answer
from threatmodel.cli import _options as opt
from threatmodel.cli._console import RichProgress, err, summary_line
from threatmodel.cli._options import settings_from_options
from threatmodel.code.walk import resolve_root
from threatmodel.config import Settings
from threatmodel.errors import ProviderError
from threatmodel.report_cache import cached_or_scan
from threatmodel.scan import ScanOptions

HISTORY_FILE = "ask_history"
out = Console(highlight=False, soft_wrap=True)


def ask(
    path: Annotated[Path, typer.Argument(help="Repository to ask about.")] = Path("."),
    question: Annotated[
        str | None, typer.Argument(help="Answer this one question and exit.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One-shot answer as JSON.")] = False,
    provider: opt.Provider = None,
    model: opt.Model = None,
    base_url: opt.BaseUrl = None,
    cache_dir: opt.CacheDir = None,
    rescan: Annotated[
        bool, typer.Option("--rescan", help="Scan again even if a cached scan matches.")
    ] = False,
    quiet: opt.Quiet = False,
) -> None:
    """Ask questions about a repository's threat model (facts first, then the LLM)."""
    root = resolve_root(path)
    settings = settings_from_options(root, provider, model, base_url, cache_dir)
    engine = build_engine(root, settings, rescan=rescan, quiet=quiet or as_json)
    if question is not None:
        raise typer.Exit(one_shot(engine, question, as_json))
    if not sys.stdin.isatty():
        for line in sys.stdin:  # scripted: one question per line
            if line.strip():
                one_shot(engine, line.rstrip("\n"), as_json)
        return
    run_interactive(engine, settings.cache_dir / HISTORY_FILE)


def build_engine(root: Path, settings: Settings, rescan: bool, quiet: bool) -> Engine:
    progress = RichProgress(quiet=quiet)
    if not quiet:
        err.print(f"loading the threat model of {root} ...", markup=False)
    options = ScanOptions(use_cache=True)
    report, reused = cached_or_scan(root, settings, options, progress, reuse=not rescan)
    if not quiet:
        how = "cached scan (repository unchanged)" if reused else "fresh scan"
        err.print(f"{how}: {summary_line(report)}", markup=False)
    llm = None
    if settings.provider is not None:
        from threatmodel.llm import build_provider

        llm = build_provider(settings.provider)
    elif not quiet:
        err.print("no LLM configured: answering from the facts only (/help)", markup=False)
    return Engine(ChatContext(report, root), llm, settings.skip_reason)


def one_shot(engine: Engine, question: str, as_json: bool) -> int:
    """Answer once; returns the exit code (2 when the provider failed)."""
    streamed = False

    def on_delta(delta: str) -> None:
        nonlocal streamed
        streamed = True
        sys.stdout.write(delta)
        sys.stdout.flush()

    try:
        answer = engine.ask(question, None if as_json else on_delta)
    except ProviderError as exc:
        if as_json:
            print(json.dumps({"question": question, "error": str(exc)}, indent=2))
        else:
            err.print(f"error: {exc}", markup=False)
        return 2
    if as_json:
        payload: dict[str, Any] = answer.to_json()
        payload["repo"] = {"root": engine.ctx.report.repo.root}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        show(answer, out, streamed)
    return 0


def show(answer: Answer, console: Console, streamed: bool) -> None:
    """Print an answer; after a streamed LLM answer, the checked citations and notes."""
    if not streamed:
        console.print(answer.text, markup=False)
    else:
        console.print()
    if answer.source == "llm":
        if answer.citations:
            console.print("citations:", style="bold")
        for c in answer.citations:
            if c.status == "failed":
                console.print(f"  ✗ {c.label}  does not check out: {c.reason}", style="red")
            else:
                console.print(f"  ✓ {c.label}", style="green")
    for note in answer.notes:
        console.print(f"note: {note}", style="yellow", markup=False)


def key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        if buf.document.text_before_cursor.endswith("\\"):  # continue on the next line
            buf.delete_before_cursor(1)
            buf.insert_text("\n")
        else:
            buf.validate_and_handle()

    @kb.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return kb


def make_session(
    history: Path | None, input: Input | None = None, output: Output | None = None
) -> PromptSession[str]:
    hist: FileHistory | InMemoryHistory = InMemoryHistory()
    if history is not None:
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            hist = FileHistory(str(history))
        except OSError:
            pass  # an unwritable cache folder costs the history, not the session
    return PromptSession(
        history=hist,
        multiline=True,
        key_bindings=key_bindings(),
        prompt_continuation="... ",
        input=input,
        output=output,
    )


def run_interactive(
    engine: Engine,
    history: Path | None,
    input: Input | None = None,
    output: Output | None = None,
    console: Console | None = None,
) -> None:
    console = console or out
    session = make_session(history, input, output)
    console.print("threatmodel ask: /help for commands, Ctrl-D to leave.", style="dim")
    while True:
        try:
            text = session.prompt("ask> ")
        except KeyboardInterrupt:  # Ctrl-C at the prompt: drop the input, stay
            continue
        except EOFError:  # Ctrl-D
            break
        if not text.strip():
            continue
        streamed = False

        def on_delta(delta: str) -> None:
            nonlocal streamed
            streamed = True
            console.file.write(delta)
            console.file.flush()

        try:
            answer = engine.ask(text, on_delta)
        except KeyboardInterrupt:
            console.print("\n(answer cancelled)", style="yellow")
            continue
        except ProviderError as exc:
            console.print(f"\nerror: {exc}", style="red", markup=False)
            continue
        if answer.intent == "quit":
            break
        show(answer, console, streamed)
    if engine.usage.total_tokens:
        u = engine.usage
        console.print(
            f"LLM: {u.input_tokens} tokens in, {u.output_tokens} out, ${u.cost_usd:.4f}",
            style="dim",
        )


def register(app: typer.Typer) -> None:
    app.command()(ask)
