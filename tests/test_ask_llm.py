"""Open questions answered by a model through the real provider client, replayed from cassettes.

``test_open_question_recorded_llama_server_smollm2`` replays traffic recorded from llama.cpp's
``llama-server`` running SmolLM2-135M-Instruct on loopback (see
/work/shared/tools/local-llm.md; re-record with the server on port 8089 and
``THREATMODEL_RECORD=rewrite pytest tests/test_ask_llm.py -k recorded``). That model is tiny:
asked for ``path:line`` citations it writes none, and ``ask`` must say the answer is
unverified rather than present it as grounded.

``test_open_question_authored_hallucinated_citations`` replays an *authored* cassette (its
file name and header say so; no model wrote it): the same streamed wire format, with one true
citation and made-up ones, to show each made-up citation comes back marked.
"""

from __future__ import annotations

import os
import re

import pytest
from ask_support import shop_context

from threatmodel.chat.engine import Engine
from threatmodel.config import ProviderConfig
from threatmodel.llm import build_provider


@pytest.fixture(scope="module")
def vcr_config(vcr_config: dict[str, object]) -> dict[str, object]:
    # Replay only, unless re-recording on purpose against the local server.
    return {**vcr_config, "record_mode": os.environ.get("THREATMODEL_RECORD", "none")}


def engine() -> Engine:
    config = ProviderConfig(
        name="openai-compatible",
        model="SmolLM2-135M-Instruct",
        base_url="http://127.0.0.1:8089/v1",
        api_key="not-needed",
        max_retries=0,
        context_tokens=8192,
    )
    # Small budgets keep a recording short on a 2-core machine; the code path is the same.
    return Engine(shop_context(), build_provider(config), answer_tokens=160, context_budget=1200)


@pytest.mark.vcr
def test_open_question_recorded_llama_server_smollm2() -> None:
    question = "How would an attacker abuse this code? Give each step with its path:line."
    e = engine()
    deltas: list[str] = []
    answer = e.ask(question, deltas.append)

    assert len(deltas) > 5  # it streamed
    raw = "".join(deltas)
    assert answer.source == "llm" and answer.intent == "llm" and raw.strip()
    assert answer.citations == []  # SmolLM2 cited nothing...
    assert "the answer cites no path:line: treat it as unverified" in answer.notes
    uncited = [n for n in answer.notes if n.endswith("statements carry no path:line citation")]
    assert uncited and int(uncited[0].split()[0]) >= 3  # ...and each claim is flagged
    assert e.memory.turns[-1] == (question, raw)
    assert e.usage.output_tokens > 0


@pytest.mark.vcr
def test_open_question_authored_hallucinated_citations() -> None:
    question = "How would an attacker create orders without an account?"
    e = engine()
    deltas: list[str] = []
    answer = e.ask(question, deltas.append)

    assert len(deltas) > 3
    by_label = {c.label: c for c in answer.citations}
    assert by_label["app.py:21"].status == "ok"  # the real INSERT line
    assert by_label["routes/orders.py:12"].status == "failed"
    assert "does not exist in the repository" in by_label["routes/orders.py:12"].reason
    assert by_label["app.py:400"].status == "failed"
    assert "app.py has 44 lines" in by_label["app.py:400"].reason
    assert by_label["app.py:27"].status == "failed"  # a quote that is not on that line
    for label in ("routes/orders.py:12", "app.py:400", "app.py:27"):
        # the marker follows the citation (and the quote it carried)
        marker = re.escape(f"[unverified: {by_label[label].reason}]")
        assert re.search(rf"{re.escape(label)}( `[^`]*`)? {marker}", answer.text), label
    assert "app.py:21 [unverified" not in answer.text
    assert "3 of 4 citations do not check out" in answer.notes
