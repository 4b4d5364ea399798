"""Generated cases: request source x propagator x sink form (``benchmarks/combos.py``), each
with the answer its parts give, and the idioms found wrong by generating them: guard
spellings (``x[0] == "'"``, ``re.search`` of a character class, ``any(c in x ...)``,
``u.netloc == 'h'``, a local-path check, ``is_relative_to``), path sinks, and a chain of
string methods on what a repository method returned."""

from __future__ import annotations

import pytest

from benchmarks import combo_sources, combos
from tests.test_dataflow_general import flagged


def test_every_generated_combination_gets_its_answer() -> None:
    todo = list(combos.cases())
    assert len(todo) > 1500
    bad = combos.wrong(todo)
    assert not bad, [f"{'false alarm' if hit else 'missed'}: {c.label}" for c, hit in bad[:20]]


def test_the_answers_are_not_all_alike() -> None:
    # the generator's answers depend on every part: a wrong oracle would pass silently
    todo = list(combos.cases())
    assert {c.expected for c in todo} == {True, False}
    assert any(not c.source.keeps and c.dangerous for c in todo)
    assert any(not p.keeps for c in todo for p in c.props)
    # werkzeug's request surface is in it, with reads the caller does not control
    api = [c for c in todo if c.source in combo_sources.REQUEST_API]
    assert len({c.source.name for c in api}) == len(combo_sources.REQUEST_API)
    assert any(not c.source.keeps and c.dangerous for c in api)


HELPER = """\
import flask


class Wrapped:
    request: flask.Request

    def __init__(self, request: flask.Request):
        self.request = request

    def cookie(self, name):
        return self.request.cookies.get(name)
"""


@pytest.mark.parametrize(
    "chain",
    [
        "bar = param.encode('utf-8').decode('utf-8')",
        "import base64\ntmp = base64.b64encode(param.encode('utf-8'))\n"
        "bar = base64.b64decode(tmp).decode('utf-8')",
        "bar = param.strip().lower().upper().title()",
    ],
)
def test_string_methods_on_a_repository_methods_result_keep_its_source(chain: str) -> None:
    code = (
        "import io, helpers\nw = helpers.Wrapped(request)\nparam = w.cookie('k')\n"
        + chain
        + "\nbuf = io.StringIO()\nbuf.write('x')\nbuf.write(bar)\nos.system(buf.getvalue())\n"
    )
    assert flagged(code, extra={"helpers.py": HELPER})


@pytest.mark.parametrize(
    ("guard", "kind", "sink"),
    [
        (
            'if bar[0] != "\'" or bar[-1] != "\'" or "\'" in bar[1:-1]:\n    return \'no\'\n',
            "code_injection",
            "eval(bar)",
        ),
        (
            "if re.search(r'[;&|`$\\n]', bar):\n    return 'no'\n",
            "command_injection",
            "os.system('x ' + bar)",
        ),
        (
            "if any(c in bar for c in '()*&|\\\\'):\n    return 'no'\n",
            "ldap_injection",
            "ldap3.Connection('h').search('dc=x', f'(uid={bar})')",
        ),
        (
            "if not all(c not in bar for c in ('..', '/')):\n    return 'no'\n",
            "path_traversal",
            "open('/srv/' + bar)",
        ),
        (
            "u = urllib.parse.urlparse(bar)\nif u.netloc != 'example.com':\n    return 'no'\n",
            "open_redirect",
            "return redirect(bar)",
        ),
        (
            "if not bar.startswith('/') or bar.startswith('//'):\n    return 'no'\n",
            "open_redirect",
            "return redirect(bar)",
        ),
        (
            "base = pathlib.Path('/srv')\np = (base / bar).resolve()\n"
            "if not p.is_relative_to(base):\n    return 'no'\n",
            "path_traversal",
            "p.read_text()",
        ),
    ],
)
def test_guard_spellings_make_the_value_safe(guard: str, kind: str, sink: str) -> None:
    head = "import re, ldap3, urllib.parse\nbar = request.args.get('q', '')\n"
    assert not flagged(head + guard + sink + "\n", kind), guard
    setup = "".join(x for x in guard.splitlines(keepends=True) if not x.startswith(("if", " ")))
    assert flagged(head + setup + sink + "\n", kind), sink


@pytest.mark.parametrize(
    ("guard", "kind", "sink"),
    [
        # the weaker spellings prove nothing
        ("if bar[1] != \"'\":\n    return 'no'\n", "code_injection", "eval(bar)"),
        ("if re.search(r'[^a-z]', bar):\n    return 'no'\n", "command_injection", "os.system(bar)"),
        ("if any(c in bar for c in ';&'):\n    pass\n", "command_injection", "os.system(bar)"),
        ("if not bar.startswith('/'):\n    return 'no'\n", "open_redirect", "return redirect(bar)"),
        (
            "u = urllib.parse.urlparse(bar)\nif u.netloc == 'example.com':\n    pass\n",
            "open_redirect",
            "return redirect(bar)",
        ),
    ],
)
def test_weaker_guards_leave_the_value_tainted(guard: str, kind: str, sink: str) -> None:
    head = "import re, urllib.parse\nbar = request.args.get('q', '')\n"
    assert flagged(head + guard + sink + "\n", kind), guard


@pytest.mark.parametrize(
    "sink",
    [
        "os.stat('/srv/' + bar)",
        "os.makedirs('/srv/' + bar)",
        "os.path.isdir('/srv/' + bar)",
        "pathlib.Path('/srv/' + bar).is_dir()",
        "list(pathlib.Path('/srv', bar).iterdir())",
    ],
)
def test_filesystem_calls_are_path_sinks(sink: str) -> None:
    head = "bar = request.args.get('q', '')\n"
    assert flagged(head + sink + "\n", "path_traversal")
    assert not flagged(head + sink.replace("bar", "os.path.basename(bar)") + "\n", "path_traversal")


@pytest.mark.parametrize(
    "loop",
    [
        "while False:\n    pass\nelse:\n    os.system(bar)\n",
        "n = 0\nwhile n < 3:\n    n += 1\nelse:\n    os.system(bar)\n",
        "for x in []:\n    pass\nelse:\n    os.system(bar)\n",
    ],
)
def test_a_loops_else_body_runs(loop: str) -> None:
    assert flagged("bar = request.args.get('q', '')\n" + loop)
    assert not flagged("bar = 'fixed'\n" + loop)


@pytest.mark.parametrize(
    "code",
    [
        "r = eval(bar) if 2 < 1 else 'x'\n",
        "r = False and eval(bar)\n",
        "r = 'set' or eval(bar)\n",
        "g = 'A'\nmatch g:\n    case 'B':\n        eval(bar)\n",
        "g = 'A'\nmatch g:\n    case 'A':\n        pass\n    case _:\n        eval(bar)\n",
    ],
)
def test_a_sink_in_an_arm_that_never_runs_is_kept_as_safe(code: str) -> None:
    # kept (a claim there is refuted with the reason), never a finding
    from tests.test_dataflow import handler, run

    flows = run(handler("bar = request.args.get('q', '')\n" + code))
    mine = [f for f in flows if f.claim == "code_injection"]
    assert mine and all(f.broken_by and "never runs" in f.broken_by for f in mine)


def test_a_dead_case_does_not_change_what_the_taken_case_assigned() -> None:
    code = (
        "pick = 'X'\nmatch pick:\n    case 'X':\n        v = bar\n    case _:\n        v = 'ok'\n"
    )
    assert flagged("bar = request.args.get('q', '')\n" + code + "os.system(v)\n")


SAFE_WRAPPER = """\
class Wrapped:
    def __init__(self, request):
        self.request = request

    def fixed(self, name):
        return "constant"

    def query(self, name):
        return self.request.args.get(name)
"""


def test_a_value_only_a_constant_returning_function_gives_is_a_constant_sink() -> None:
    # kept as a constant flow (a claim there is refuted), not dropped as no sink at all
    from tests.test_dataflow import handler, run

    code = "import helpers\nw = helpers.Wrapped(request)\nbar = w.fixed('k').strip()\n"
    flows = run(handler(code + "os.system(bar)\n"), {"helpers.py": SAFE_WRAPPER})
    mine = [f for f in flows if f.claim == "command_injection"]
    assert [f.source_kind for f in mine] == ["constant"]
    assert "fixed() returns a constant" in (mine[0].broken_by or "")
    tainted = run(
        handler(code.replace("fixed", "query") + "os.system(bar)\n"), {"helpers.py": SAFE_WRAPPER}
    )
    assert [f.source_kind for f in tainted if f.claim == "command_injection"] == ["request"]


def test_a_generator_is_never_taken_for_a_constant_returning_function() -> None:
    # its result is what it yields, which the engine does not read: no refutation there
    from tests.test_dataflow import handler, run

    code = (
        "def gen(v):\n    yield 'a'\n    yield v\n"
        "bar = request.args.get('q', '')\nos.system(''.join(gen(bar)))\n"
    )
    flows = run(handler(code))
    assert not [f for f in flows if f.claim == "command_injection" and f.source_kind == "constant"]
