"""The dataflow engine's general mechanisms, each shown safe and tainted on the same shape:
the constant evaluator, conditions in every spelling and on both branches, element-level
containers, attributes of repository objects, lambdas and non-HTML responses."""

from __future__ import annotations

import textwrap

import pytest

from tests.test_dataflow import handler, proven, run

CMD = "command_injection"


def flagged(lines: str, kind: str = CMD, extra: dict[str, str] | None = None) -> bool:
    return kind in proven(run(handler(lines), extra))


@pytest.mark.parametrize(
    "cond",
    [
        "2 ** 3 > 5",
        "len('abc') == 3",
        "'ABC'.lower()[1] == 'b'",
        "~0 & 1 == 1",
        "max(3, 7) - min(1, 2) == 6",
        "'a,b'.split(',')[1] == 'b'",
        "'abc'.find('c') == 2",
        "(1 << 4) | 1 == 17",
        "len(['x', 'y']) == 2",
        "'abc'.startswith('a') and not 'abc'.isdigit()",
    ],
)
def test_conditions_fold_whatever_their_spelling(cond: str) -> None:
    code = (
        f"p = request.args['p']\nif {cond}:\n    bar = 'safe'\nelse:\n    bar = p\nos.system(bar)\n"
    )
    assert not flagged(code), cond
    assert flagged(code.replace(f"if {cond}:", f"if not ({cond}):")), cond


def test_folding_never_builds_huge_values() -> None:
    code = "p = request.args['p']\nbar = 'x' * 10 ** 9 + '%999999999d' % 1\nos.system(p + bar)\n"
    assert flagged(code)


@pytest.mark.parametrize(
    "guard",
    [
        "if '..' in p:\n    return 'no'\n",
        "if p.find('..') != -1:\n    return 'no'\n",
        "if p.count('..') > 0:\n    return 'no'\n",
        "if not ('..' not in p):\n    return 'no'\n",
        "if p.__contains__('..'):\n    return 'no'\n",
        "assert '..' not in p\n",
        "if not (p.isalnum() and p.isdigit()):\n    return 'no'\n",
    ],
)
def test_guards_in_every_spelling(guard: str) -> None:
    # a catalog guard needle: '..' absent makes the value safe for path traversal
    code = "p = request.args['p']\n" + guard + "open('/d/' + p)\n"
    assert flagged("p = request.args['p']\nopen('/d/' + p)\n", "path_traversal")
    assert not flagged(code, "path_traversal"), guard


def test_conditions_refine_both_branches_without_leaving() -> None:
    body = (
        "p = request.args['p']\nif '..' not in p:\n    open('/d/' + p)\nelse:\n    open('/d/x')\n"
    )
    assert not flagged(body, "path_traversal")
    other = "p = request.args['p']\nif '..' in p:\n    open('/d/' + p)\n"
    assert flagged(other, "path_traversal")
    equal = "p = request.args['p']\nif p == 'list':\n    os.system(p)\n"
    assert not flagged(equal)
    inexp = "p = request.args['p']\nos.system(p if p in ('a', 'b') else 'c')\n"
    assert not flagged(inexp)


def test_de_morgan_literal_guard_for_eval() -> None:
    code = (
        "b = request.args['p']\n"
        'if not (b.startswith("\'") and b.endswith("\'") and "\'" not in b[1:-1]):\n'
        "    return 'no'\n"
        "eval(b)\n"
    )
    assert not flagged(code, "code_injection")
    partial = code.replace(' and "\'" not in b[1:-1]', "")
    assert flagged(partial, "code_injection")


@pytest.mark.parametrize(
    ("setup", "safe", "tainted"),
    [
        ("lst = ['safe', p, 'more']", "lst[-1]", "lst[-2]"),
        ("lst = ['safe', p, 'more']\nlst.pop(-1)", "lst[0]", "lst[1]"),
        ("lst = ['safe', p, 'more']", "lst[::-1][0]", "lst[::-1][1]"),
        ("lst = ['safe', p, 'more']", "lst[:1][0]", "lst[1:][0]"),
        ("d = dict(a='safe', b=p)", "d['a']", "d['b']"),
        ("d = dict([('a', 'safe'), ('b', p)])", "d['a']", "d['b']"),
        ("d = {}\nd.setdefault('a', 'safe')\nd['b'] = p", "d['a']", "d['b']"),
        ("d = {'a': 'safe'}\nd.update(b=p)", "d['a']", "d['b']"),
        ("d = {'a': 'safe', 'b': p}\ne = d.copy()", "e['a']", "e['b']"),
        ("d = {'a': 'safe'}\ne = {**d, 'b': p}", "e['a']", "e['b']"),
        ("d = {'a': 'safe'}\ne = d | {'b': p}", "e['a']", "e['b']"),
        ("lst = [*['safe'], p]", "lst[0]", "lst[1]"),
        ("lst = [p, 'safe']", "list(reversed(lst))[0]", "list(reversed(lst))[1]"),
        ("lst = ['safe', p]", "next(iter(lst))", "lst[-1]"),
        ("d = {'a': 'safe', 'b': p}", "list(d.values())[0]", "list(d.values())[1]"),
        ("d = {'a': 'safe', 'b': p}\nd.pop('b')", "d['a']", "d.get('b', p)"),
        ("import collections\nq = collections.deque(['safe'])\nq.appendleft(p)", "q[1]", "q[0]"),
        ("t = ('safe', p)", "'{0}'.format(*t[:1])", "'{1}'.format('x', p)"),
        ("m = {'a': 'safe', 'b': p}", "'%(a)s' % m", "'%(b)s' % m"),
        ("m = {'a': 'safe', 'b': p}", "'{0[a]}'.format(m)", "'{0[b]}'.format(m)"),
    ],
)
def test_containers_keep_elements(setup: str, safe: str, tainted: str) -> None:
    code = "p = request.args['p']\n" + setup + "\nos.system(ARG)\n"
    assert not flagged(code.replace("ARG", safe)), safe
    assert flagged(code.replace("ARG", tainted)), tainted


def test_dict_keys_from_input_are_input() -> None:
    assert flagged("p = request.args['p']\nd = {p: 'x'}\nos.system(list(d)[0])\n")


def test_helpers_defined_below_and_object_attributes() -> None:
    code = textwrap.dedent(
        """
        p = request.args['p']
        os.system(later(p))
        os.system(Box(p).safe)
        """
    )
    defs = (
        "def later(x):\n    return 'fixed'\n"
        "class Box:\n    def __init__(self, v):\n        self.safe = 'x'\n        self.v = v\n"
    )
    flows = run(handler(code) + defs)
    assert CMD not in {f.claim for f in flows if f.source_kind == "request" and not f.broken_by}
    leaky = handler("p = request.args['p']\nos.system(Box(p).v)\n") + defs
    assert CMD in proven(run(leaky))


def test_flask_request_through_the_module_is_the_request() -> None:
    assert flagged("import flask\nos.system(flask.request.args['p'])\n")


def test_and_or_lambda_and_empty_loops() -> None:
    base = "p = request.args['p']\n"
    assert not flagged(base + "os.system(p and 'safe')\n")
    assert flagged(base + "os.system('safe' and p)\n")
    assert flagged(base + "os.system(p or 'safe')\n")
    assert not flagged(base + "f = lambda x: 'safe'\nos.system(f(p))\n")
    assert flagged(base + "f = lambda x: x\nos.system(f(p))\n")
    assert not flagged(base + "bar = 'safe'\nfor _ in range(0):\n    bar = p\nos.system(bar)\n")
    assert flagged(base + "bar = 'safe'\nfor _ in range(2):\n    bar = p\nos.system(bar)\n")


def test_text_responses_are_not_html() -> None:
    base = "from flask import Response\np = request.args['p']\n"
    assert flagged(base + "return '<p>' + p\n", "xss")
    assert flagged(base + "return Response('<p>' + p)\n", "xss")
    assert not flagged(base + "return Response('<p>' + p, mimetype='text/plain')\n", "xss")
    tupled = base + "return p, 200, {'Content-Type': 'application/json'}\n"
    assert not flagged(tupled, "xss")
    assert flagged(tupled.replace("application/json", "text/html"), "xss")


def test_catalog_rows_for_exec_spawn_and_elementtree() -> None:
    assert flagged("os.execv(request.args['p'], ['x'])\n")
    assert flagged("os.spawnv(os.P_WAIT, request.args['p'], ['x'])\n")
    assert flagged("import asyncio\nasyncio.create_subprocess_exec(request.args['p'])\n")
    code = "import xml.etree.ElementTree as ET\nET.fromstring(request.data)\n"
    flows = [f for f in run(handler(code)) if f.claim == "xxe"]
    assert flows and all(f.source_kind == "safe_call" and f.broken_by for f in flows)


def test_query_builders_bind_their_arguments() -> None:
    q = "q = request.args['q']\n"
    built = q + (
        "stmt = select(User).where(User.name.ilike(f'%{q}%'))\n"
        "stmt = stmt.filter_by(active=q).limit(10)\n"
        "session.execute(stmt)\n"
    )
    assert not flagged(built, "sql_injection")
    text = q + "stmt = text(f\"SELECT * FROM u WHERE n = '{q}'\")\nsession.execute(stmt)\n"
    assert flagged(text, "sql_injection")
    # a statement built from SQL text keeps it through a builder method
    raw = q + "stmt = f\"SELECT * FROM u WHERE n = '{q}'\"\nsession.execute(stmt.where(ok))\n"
    assert flagged(raw, "sql_injection")
    assert flagged(q + "cursor.execute('SELECT * FROM u WHERE n = ' + q)\n", "sql_injection")


def test_a_url_whose_host_is_fixed_before_the_call() -> None:
    q = "q = request.args['q']\n"
    built = q + "url = f'https://api.example.com/search?q={q}'\nrequests.get(url)\n"
    assert not flagged(built, "ssrf")
    branches = q + (
        "url = f'https://api.example.com/s?q={q}' if q else 'https://api.example.com/all'\n"
        "requests.get(url=url)\n"
    )
    assert not flagged(branches, "ssrf")
    host = q + "url = f'https://{q}/search'\nrequests.get(url)\n"
    assert flagged(host, "ssrf")
    either = q + "url = 'https://api.example.com/' if q else q\nrequests.get(url)\n"
    assert flagged(either, "ssrf")


def test_libraries_that_eval_their_argument() -> None:
    image = "from PIL import ImageMath\nImageMath.eval(request.form['e'], a=1)\n"
    assert flagged(image, "code_injection")
    assert not flagged(image.replace("request.form['e']", "'a + 1'"), "code_injection")
    assert flagged("import sympy\nsympy.sympify(request.args['x'])\n", "code_injection")


def test_facts_of_one_branch_do_not_leak_into_the_other() -> None:
    code = (
        "b = request.args['p']\n"
        'if b.startswith("\'") and b.endswith("\'") and "\'" not in b[1:-1]:\n'
        "    x = 1\n"
        "else:\n"
        "    eval(b)\n"
    )
    assert flagged(code, "code_injection")
    inside = code.replace("    x = 1\nelse:\n", "")  # eval(b) now runs only when the test held
    assert not flagged(inside, "code_injection")


def test_sinks_in_code_that_never_runs_are_safe_with_the_reason() -> None:
    code = "bar = 'x'\nif not bar.startswith(\"'\"):\n    return 'no'\neval(bar)\n"
    flows = [f for f in run(handler(code)) if f.claim == "code_injection"]
    assert flows and all(f.broken_by and "never runs" in f.broken_by for f in flows)
    live = "bar = request.args['p']\nif not bar.startswith(\"'\"):\n    return 'no'\neval(bar)\n"
    assert flagged(live, "code_injection")
