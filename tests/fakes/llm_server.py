"""A fault-injecting fake LLM server on loopback that speaks the OpenAI and Anthropic APIs.

The robustness tests point the real provider modules (the official SDKs, ``llm/openai.py``
and ``llm/anthropic.py``) at this server instead of replaying cassettes, because what they
test is what a cassette cannot hold: a server that rate-limits, errors, hangs past the
client's timeout, drops the connection, cuts its JSON off, answers off-schema, refuses, or
answers in plain text instead of calling the forced tool.

Endpoints (the shapes the SDKs send and parse):

- ``POST /v1/chat/completions``: OpenAI Chat Completions. Structured answers come back as
  ``choices[0].message.content`` (the JSON text the ``response_format`` json_schema asked
  for); ``"stream": true`` gets server-sent ``chat.completion.chunk`` events.
- ``POST /v1/messages``: Anthropic Messages. Structured answers come back as one
  ``tool_use`` block for the forced tool; ``"stream": true`` gets the Messages event stream.

Every request is recorded (``FakeLLM.requests``: path, headers, raw body, chunk title, turn)
so tests can count calls per chunk and grep request bodies for secrets. A *plan* decides
the action for each request: ``"ok"`` or a fault name from ``FAULTS``. ``per_chunk`` and
``after`` build common plans. Responses set a cookie (``COOKIE``) so tests can check cookies
never reach the tool's output.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = (
    "429",  # rate limited, with retry-after
    "500",  # server error, with a short retry-after-ms
    "500-no-retry-after",  # server error, the client backs off on its own
    "hang",  # accept the request and never answer (past the client timeout)
    "drop",  # close the connection without a response
    "truncated",  # JSON cut off at the output limit
    "bad_schema",  # well-formed JSON that fails the findings schema
    "refusal",  # the model declines
    "plain_text",  # prose instead of JSON / instead of the forced tool call
    "401",  # the key is rejected (fatal)
    "garbage_body",  # 200 with a body that is not JSON at all
    "wrong_shape",  # 200 with JSON that is not a completion / message object
    "deep_json",  # an answer nested 100,000 levels deep
    "huge_numbers",  # a schema-valid finding citing line 10**30, a 12-digit CWE
)
# Faults that replace the whole HTTP reply, so they apply to streaming requests too.
_STATUS_FAULTS = frozenset({"429", "500", "500-no-retry-after", "401", "garbage_body"})
COOKIE = "fake_llm_session=cookie-c00k1e-5e55i0n-value-91f3"

_TITLE = re.compile(r"^(?:Component: (.*)|(Overview of the whole application).*)$", re.M)


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    api: str  # "openai" | "anthropic"
    path: str
    headers: dict[str, str]
    body: bytes
    data: dict[str, Any]
    chunk: str  # the chunk title of the first user message ("" when none)
    turn: int  # messages in the conversation: 1 first ask, 3 after one re-ask, ...

    @property
    def schema_name(self) -> str:
        """The forced tool / json_schema name the request asks for ("" for free text)."""
        fmt = self.data.get("response_format") or {}
        if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
            return str(fmt["json_schema"].get("name", ""))
        choice = self.data.get("tool_choice") or {}
        return str(choice.get("name", "")) if isinstance(choice, dict) else ""


Plan = Callable[[Recorded, int], str]  # (request, 0-based call index) -> action
Answer = Callable[[Recorded], dict[str, Any]]  # request -> the findings object to return


def no_findings(_req: Recorded) -> dict[str, Any]:
    return {"findings": []}


def always_ok(_req: Recorded, _index: int) -> str:
    return "ok"


def per_chunk(script: dict[str, list[str]], default: str = "ok") -> Plan:
    """Actions per chunk (matched by a substring of its title), consumed one per call.

    When a chunk's list runs out its last action repeats, so ``["500"]`` means "always 500"
    and ``["429", "ok"]`` means "rate limited once, then answer".
    """
    used: Counter[str] = Counter()
    lock = threading.Lock()

    def plan(req: Recorded, _index: int) -> str:
        for key, actions in script.items():
            if key in req.chunk:
                with lock:
                    n = used[key]
                    used[key] += 1
                return actions[min(n, len(actions) - 1)]
        return default

    return plan


def after(n: int, action: str) -> Plan:
    """Answer the first ``n`` calls, then ``action`` for every call after them."""
    return lambda _req, index: "ok" if index < n else action


class FakeLLM:
    """The server. Use as a context manager; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(
        self, plan: Plan = always_ok, answer: Answer = no_findings, hang_s: float = 30.0
    ) -> None:
        self.plan = plan
        self.answer = answer
        self.hang_s = hang_s
        self.requests: list[Recorded] = []
        self.actions: list[str] = []
        self.stream_text = "The answer from the fake model."
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()  # wakes hanging handlers
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ bookkeeping

    def record(self, req: Recorded) -> str:
        with self._lock:
            index = len(self.requests)
            self.requests.append(req)
        action = self.plan(req, index)
        with self._lock:
            self.actions.append(action)
        return action

    def reset(self, plan: Plan = always_ok) -> None:
        """Forget the recorded requests and follow ``plan`` from now on (same URL: a
        self-hosted server's base URL is part of the answer-cache key)."""
        with self._lock:
            self.requests, self.actions, self.plan = [], [], plan

    def calls_per_chunk(self) -> Counter[str]:
        return Counter(r.chunk for r in self.requests)

    def bodies(self) -> list[str]:
        return [r.body.decode("utf-8", "replace") for r in self.requests]

    def hang(self) -> None:
        self._stop.wait(self.hang_s)


# ---------------------------------------------------------------------- HTTP handling


def _handler_for(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            try:
                data = json.loads(body)
            except ValueError:
                data = {}
            if self.path.endswith("/chat/completions"):
                api = "openai"
            elif self.path.endswith("/messages"):
                api = "anthropic"
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            req = Recorded(
                api, self.path, dict(self.headers.items()), body, data, *_chunk_and_turn(data)
            )
            action = fake.record(req)
            if action == "hang":
                fake.hang()
                self.close_connection = True
                return
            if action == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if data.get("stream") and action not in _STATUS_FAULTS:
                self._stream(api, data)
                return
            if action == "garbage_body":
                self._send_raw(200, b"<html>502 Bad Gateway</html>\x00\xff", "application/json")
                return
            if action == "deep_json":
                self._send_raw(200, _deep_reply(api, req), "application/json")
                return
            status, payload, headers = _reply(api, action, req, fake)
            self._send(status, payload, headers)

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.send_header("set-cookie", COOKIE)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _send_raw(self, status: int, raw: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, api: str, data: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("set-cookie", COOKIE)
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            events = (
                _openai_events(fake.stream_text, data)
                if api == "openai"
                else (_anthropic_events(fake.stream_text, data))
            )
            for name, payload in events:
                head = f"event: {name}\n" if name else ""
                self.wfile.write(f"{head}data: {payload}\n\n".encode())
            self.wfile.flush()

    return Handler


def _chunk_and_turn(data: dict[str, Any]) -> tuple[str, int]:
    messages = data.get("messages")
    if not isinstance(messages, list):
        return "", 0
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = users[0].get("content", "") if users else ""
    if isinstance(content, list):
        content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    m = _TITLE.search(str(content))
    title = (m.group(1) or m.group(2) or "") if m else ""
    turns = sum(1 for x in messages if isinstance(x, dict) and x.get("role") != "system")
    return title, turns


def _usage(api: str, req: Recorded) -> dict[str, int]:
    tin, tout = max(1, len(req.body) // 4), 50
    if api == "openai":
        return {"prompt_tokens": tin, "completion_tokens": tout, "total_tokens": tin + tout}
    return {"input_tokens": tin, "output_tokens": tout}


def _reply(api: str, action: str, req: Recorded, fake: FakeLLM) -> tuple[int, Any, dict[str, str]]:
    """(status, JSON payload, extra headers) for a non-streaming request."""
    if action == "429":
        error = {"type": "rate_limit_error", "message": "slow down"}
        return 429, {"type": "error", "error": error}, {"retry-after": "0.05"}
    if action in ("500", "500-no-retry-after"):
        error = {"type": "api_error", "message": "internal error"}
        headers = {"retry-after-ms": "20"} if action == "500" else {}
        return 500, {"type": "error", "error": error}, headers
    if action == "401":
        error = {"type": "authentication_error", "message": "invalid x-api-key"}
        return 401, {"type": "error", "error": error}, {}
    if action == "wrong_shape":
        return 200, {"object": "surprise", "content": None, "choices": None, "usage": "x"}, {}
    if action == "huge_numbers":
        finding = {
            "title": "Huge numbers " + "T" * 150,
            "severity": "high",
            "stride": [],
            "cwe": ["CWE-" + "9" * 12],  # as long as the schema's bound (16) lets it be
            "claims": [{"kind": "sql_injection", "route": None, "table": None,
                        "location": {"path": "app/orders.py", "line": 10**30}, "name": None}],
            "evidence": [{"path": "app/orders.py", "start_line": 10**30, "end_line": 10**30 + 5,
                          "snippet": "x" * 1200}],
            "attack": "", "mitigation": "",
        }  # fmt: skip
        return _reply(api, "ok", req, _Fixed(fake, {"findings": [finding]}))
    answer = json.dumps(fake.answer(req)) if action in ("ok", "truncated") else ""
    if action == "truncated":
        text, finish = answer[: max(1, len(answer) // 2)], "length"
    elif action == "bad_schema":
        text = json.dumps({"findings": [{"title": 7, "severity": "apocalyptic"}], "extra": 1})
        finish = "stop"
    elif action == "plain_text":
        text, finish = "I reviewed the code and it looks fine to me.", "stop"
    elif action == "refusal":
        text, finish = "I can't help with attacking applications.", "refusal"
    else:
        text, finish = answer, "stop"
    if api == "openai":
        return 200, _openai_completion(req, text, finish), {}
    return 200, _anthropic_message(req, text, finish), {}


class _Fixed:
    """A stand-in for FakeLLM whose answer is fixed (for the faults that forge one)."""

    def __init__(self, fake: FakeLLM, answer: dict[str, Any]) -> None:
        self.fake = fake
        self.fixed = answer

    def answer(self, _req: Recorded) -> dict[str, Any]:
        return self.fixed


def _deep_reply(api: str, req: Recorded) -> bytes:
    """A well-formed reply whose answer nests 100,000 levels deep (built as text)."""
    depth = 100_000
    deep = '{"findings": ' + "[" * depth + "]" * depth + "}"
    if api == "openai":
        shell = _openai_completion(req, "@@", "stop")
        return json.dumps(shell).replace('"@@"', json.dumps(deep)).encode()
    shell = _anthropic_message(req, "{}", "stop")
    return json.dumps(shell).replace("{}", deep, 1).encode()


def _openai_completion(req: Recorded, text: str, finish: str) -> dict[str, Any]:
    refusal = text if finish == "refusal" else None
    message = {"role": "assistant", "content": None if refusal else text, "refusal": refusal}
    return {
        "id": f"chatcmpl-fake-{len(req.body)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(req.data.get("model", "fake")),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "stop" if finish == "refusal" else finish,
            }
        ],
        "usage": _usage("openai", req),
    }


def _anthropic_message(req: Recorded, text: str, finish: str) -> dict[str, Any]:
    content: list[dict[str, Any]]
    if finish == "stop" and req.schema_name and _is_object(text):
        content = [
            {
                "type": "tool_use",
                "id": "toolu_fake",
                "name": req.schema_name,
                "input": json.loads(text),
            }
        ]
        stop = "tool_use"
    else:
        content = [{"type": "text", "text": text}]
        stop = {"length": "max_tokens", "refusal": "refusal"}.get(finish, "end_turn")
    return {
        "id": f"msg_fake_{len(req.body)}",
        "type": "message",
        "role": "assistant",
        "model": str(req.data.get("model", "fake")),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage("anthropic", req),
    }


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def _openai_events(text: str, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": str(data.get("model", "fake")),
    }
    for word in text.split(" "):
        delta = {"index": 0, "delta": {"content": word + " "}, "finish_reason": None}
        yield "", json.dumps({**base, "choices": [delta]})
    yield "", json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    yield "", json.dumps({**base, "choices": [], "usage": usage})
    yield "", "[DONE]"


def _anthropic_events(text: str, data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    msg = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": str(data.get("model", "fake")),
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    }
    yield "message_start", json.dumps({"type": "message_start", "message": msg})
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    yield "content_block_start", json.dumps(block)
    for word in text.split(" "):
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": word + " "},
        }
        yield "content_block_delta", json.dumps(delta)
    yield "content_block_stop", json.dumps({"type": "content_block_stop", "index": 0})
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 5},
    }
    yield "message_delta", json.dumps(end)
    yield "message_stop", json.dumps({"type": "message_stop"})


@contextmanager
def running(plan: Plan = always_ok, answer: Answer = no_findings) -> Iterator[FakeLLM]:
    with FakeLLM(plan, answer) as fake:
        yield fake
