"""The interactive session, driven through prompt_toolkit's pipe input: editing keys,
multi-line input, Ctrl-C and Ctrl-D, history across sessions, streamed answers; and the
one-shot command form with --json."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from ask_support import SHOP, shop_context
from conftest import EXAMPLE
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console
from typer.testing import CliRunner

from threatmodel.chat.engine import Engine
from threatmodel.cli import build_app
from threatmodel.cli.ask import run_interactive
from threatmodel.llm.interface import Message, Provider, StructuredResponse, TextStream, Usage

CTRL_C, CTRL_D, ENTER, ESC_ENTER = "\x03", "\x04", "\r", "\x1b\r"


class _Stream(TextStream):
    def __init__(self, parts: list[str], interrupt_after: int | None) -> None:
        self.parts, self.interrupt_after = parts, interrupt_after

    def __iter__(self) -> Iterator[str]:
        for i, part in enumerate(self.parts):
            if self.interrupt_after is not None and i == self.interrupt_after:
                raise KeyboardInterrupt  # what Ctrl-C does to the main thread mid-stream
            yield part
        self.usage = Usage(100, 20, 0.0)


class FakeProvider(Provider):
    """A scripted provider (an authored stand-in, not a model): records what it was sent."""

    name = "openai-compatible"

    def __init__(self, parts: list[str], interrupt_after: int | None = None) -> None:
        super().__init__("scripted", 8192)
        self.parts, self.interrupt_after = parts, interrupt_after
        self.calls: list[tuple[str, list[Message]]] = []

    def complete_structured(self, *args: Any, **kwargs: Any) -> StructuredResponse:
        raise AssertionError("ask never makes structured calls")

    def stream_text(
        self, system: str, messages: Sequence[Message], max_output_tokens: int | None = None
    ) -> TextStream:
        self.calls.append((system, list(messages)))
        return _Stream(self.parts, self.interrupt_after)


def drive(keys: str, engine: Engine, history: Path | None = None) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None, highlight=False)
    with create_pipe_input() as inp:
        inp.send_text(keys)
        run_interactive(engine, history, input=inp, output=DummyOutput(), console=console)
    return buf.getvalue()


def test_commands_questions_and_ctrl_d(tmp_path: Path) -> None:
    engine = Engine(shop_context(), None, "LLM pass skipped: no provider configured.")
    screen = drive(
        "/routes" + ENTER + ENTER + "which routes are public?" + ENTER + CTRL_D,
        engine,
        tmp_path / "history",
    )
    assert "6 of 6 routes" in screen
    assert "Routes that are public: 3 of 6 routes" in screen
    history = (tmp_path / "history").read_text()
    assert "+/routes" in history and "+which routes are public?" in history


def test_ctrl_c_at_prompt_discards_input_and_stays() -> None:
    engine = Engine(shop_context(), None)
    screen = drive("show finding 1" + CTRL_C + "/findings" + ENTER + "/quit" + ENTER, engine)
    assert "Finding 1:" not in screen  # the cancelled input was not answered
    assert "2 findings" in screen


def test_multiline_input_by_backslash_and_esc_enter() -> None:
    engine = Engine(shop_context(), None)
    screen = drive(
        "who can write\\" + ENTER + "to `orders`?" + ENTER + "show" + ESC_ENTER + "finding 2"
        + ENTER + CTRL_D,
        engine,
    )  # fmt: skip
    assert "Who can write to `orders`:" in screen
    assert "Finding 2: SQL built from user input" in screen


def test_needs_llm_note_without_provider() -> None:
    engine = Engine(shop_context(), None, "LLM pass skipped: no provider configured.")
    screen = drive("how would an attacker take over an account?" + ENTER + CTRL_D, engine)
    assert "This question needs an LLM" in screen and "LLM pass skipped" in screen


def test_streamed_answer_with_checked_citations() -> None:
    provider = FakeProvider(
        ["Anyone can create orders: ", "app.py:21 has no guard. ", "See also lib/ghost.py:3."]
    )
    engine = Engine(shop_context(), provider)
    screen = drive("how would an attacker abuse orders?" + ENTER + CTRL_D, engine)
    assert "Anyone can create orders: app.py:21 has no guard. See also lib/ghost.py:3." in screen
    assert "✓ app.py:21" in screen
    assert "✗ lib/ghost.py:3  does not check out: lib/ghost.py does not exist" in screen
    assert "LLM: 100 tokens in, 20 out" in screen
    system, messages = provider.calls[0]
    assert "untrusted" in system and "<repository_data>" in messages[-1].content


def test_ctrl_c_cancels_streamed_answer_and_session_goes_on() -> None:
    provider = FakeProvider(["partial ", "never shown"], interrupt_after=1)
    engine = Engine(shop_context(), provider)
    screen = drive("explain the attack surface" + ENTER + "/findings" + ENTER + CTRL_D, engine)
    assert "partial" in screen and "never shown" not in screen
    assert "(answer cancelled)" in screen
    assert "2 findings" in screen  # the session continued
    assert engine.memory.turns == [("/findings", engine.memory.turns[0][1])]


def test_memory_carries_previous_turns() -> None:
    provider = FakeProvider(["It is app.py:21."])
    engine = Engine(shop_context(), provider)
    drive("show finding 1" + ENTER + "how do I fix it?" + ENTER + CTRL_D, engine)
    _, messages = provider.calls[0]
    assert messages[0].content == "show finding 1" and "Finding 1:" in messages[1].content


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_one_shot_json(runner: CliRunner, tmp_path: Path) -> None:
    args = ["ask", str(EXAMPLE), "which routes are public?", "--json"]
    result = runner.invoke(build_app(), [*args, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["intent"] == "routes_by_status" and data["source"] == "facts"
    assert {"path": "app.py", "line": 29, "status": "fact"} in data["citations"]
    assert "POST    /login" in data["answer"]


def test_one_shot_plain_and_open_question_without_llm(runner: CliRunner, tmp_path: Path) -> None:
    args = ["ask", str(SHOP), "--cache-dir", str(tmp_path)]
    result = runner.invoke(build_app(), [*args, "what guards DELETE /users/{id}?"])
    assert result.exit_code == 0, result.output
    assert "DELETE /users/{user_id}" in result.stdout
    result = runner.invoke(build_app(), [*args, "how do I take over accounts?", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["intent"] == "needs_llm"


def test_stdin_not_a_terminal_answers_each_line(runner: CliRunner, tmp_path: Path) -> None:
    args = ["ask", str(SHOP), "--cache-dir", str(tmp_path), "-q"]
    result = runner.invoke(build_app(), args, input="/env\n\nshow finding 99\n")
    assert result.exit_code == 0, result.output
    assert "STRIPE_SECRET_KEY" in result.stdout or "environment variables" in result.stdout
    assert "There is no finding 99" in result.stdout
