"""The Python dataflow engine on small fixtures: one test per propagation feature and kind."""

from __future__ import annotations

import textwrap

import pytest

from threatmodel import dataflow
from threatmodel.claims import REGISTRY
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves
from threatmodel.models import CLAIM_KINDS, Flow

HEAD = (
    "from flask import Flask, request, redirect, make_response, session\n"
    "import os, pathlib, subprocess, pickle, yaml, hashlib, random\n"
    "app = Flask(__name__)\n"
)


def run(body: str, extra: dict[str, str] | None = None) -> list[Flow]:
    files = {"app.py": HEAD + textwrap.dedent(body), **(extra or {})}
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, text.encode()))
        if got:
            extracts[path] = got
    return dataflow.flows(extracts)


def proven(flows: list[Flow]) -> set[str]:
    return {f.claim for f in flows if proves(f)}


def handler(lines: str) -> str:
    body = textwrap.indent(textwrap.dedent(lines), "    ")
    return "@app.route('/x', methods=['POST'])\ndef view():\n" + body


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("os.system('ls ' + request.args['d'])\n", "command_injection"),
        ("subprocess.run(['sh', '-c', f\"echo {request.form['x']}\"])\n", "command_injection"),
        ("eval(request.args.get('e'))\n", "code_injection"),
        ("open(request.args['f'])\n", "path_traversal"),
        (
            "import pathlib\npathlib.Path('/data', request.args['f']).read_text()\n",
            "path_traversal",
        ),
        (
            "import pathlib\np = pathlib.Path('/data', request.args['f'])\np.read_text()\n",
            "path_traversal",
        ),
        ("os.remove(os.path.join('/data', request.args['f']))\n", "path_traversal"),
        ("pickle.loads(request.get_data())\n", "insecure_deserialization"),
        ("yaml.load(request.data, Loader=yaml.Loader)\n", "insecure_deserialization"),
        ("cur.execute('SELECT %s' % request.args['q'])\n", "sql_injection"),
        ("return redirect(request.args['next'])\n", "open_redirect"),
        ("return '<p>' + request.args['n']\n", "xss"),
        ("session['who'] = request.args['n']\n", "trust_boundary"),
        ("h = hashlib.md5(request.form['password'].encode())\n", "weak_hash"),
        # the app's secret key as the key of a digest that signs: a weak MAC
        ("signature = hashlib.md5((settings.SECRET_KEY + m).encode())\n", "weak_hash"),
        ("session['token'] = str(random.random())\n", "weak_random"),
        ("r = make_response('x'); r.set_cookie('a', 'b', secure=False)\n", "insecure_cookie"),
    ],
)
def test_each_kind_is_found(code: str, kind: str) -> None:
    assert kind in proven(run(handler(code)))


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("subprocess.run(['ls', request.args['d']])\n", "command_injection"),  # argv, no shell
        ("yaml.load(request.data, Loader=yaml.SafeLoader)\n", "insecure_deserialization"),
        ("cur.execute('SELECT ?', (request.args['q'],))\n", "sql_injection"),
        ("h = hashlib.md5(b'etag', usedforsecurity=False)\n", "weak_hash"),
        # the app's secret key only keys a rate limit's bucket name: no security value
        ("h = hashlib.sha1((email + settings.SECRET_KEY).encode())\n", "weak_hash"),
        ("r = make_response('x'); r.set_cookie('a', 'b', secure=True)\n", "insecure_cookie"),
        ("n = random.SystemRandom().random(); session['token'] = n\n", "weak_random"),
        ("import html\nreturn '<p>' + html.escape(request.args['n'])\n", "xss"),
        ("open(int(request.args['f']))\n", "path_traversal"),
        # building a path touches no file: only what is done with it is the sink
        (
            "import pathlib\np = pathlib.Path('/data', request.args['f']); return p.name\n",
            "path_traversal",
        ),
        ("return os.path.join('/data', request.args['f'])\n", "path_traversal"),
        # a file name cleaned of separators, under a folder the server made
        (
            "import tempfile, pathlib\nfrom pathvalidate import sanitize_filename\n"
            "d = pathlib.Path(tempfile.mkdtemp())\n"
            "p = d / pathlib.Path(sanitize_filename(request.form['name']))\n"
            "p.write_bytes(request.data)\n",
            "path_traversal",
        ),
        (
            "from django.utils.text import get_valid_filename\n"
            "open('/up/' + get_valid_filename(request.form['name']), 'wb')\n",
            "path_traversal",
        ),
    ],
)
def test_safe_variants_are_not_found(code: str, kind: str) -> None:
    assert kind not in proven(run(handler(code)))


def test_constant_folding_kills_dead_branch() -> None:
    code = """
    param = request.args['p']
    num = 106
    bar = "safe" if 7 * 18 + num > 200 else param
    os.system(bar)
    """
    assert "command_injection" not in proven(run(handler(code)))
    live = code.replace("> 200", "< 200")
    assert "command_injection" in proven(run(handler(live)))


def test_if_statement_folding_and_overwrite() -> None:
    dead = """
    p = request.args['p']
    if 7 * 42 - 86 > 200:
        bar = 'x'
    else:
        bar = p
    os.system(bar)
    """
    assert "command_injection" not in proven(run(handler(dead)))
    overwritten = "p = request.args['p']\nbar = p\nbar = 'fixed'\nos.system(bar)\n"
    assert "command_injection" not in proven(run(handler(overwritten)))


def test_dict_elements_are_tracked() -> None:
    code = "m = {}\nm['a'] = 'safe'\nm['b'] = request.args['p']\nos.system(m['a'])\n"
    assert "command_injection" not in proven(run(handler(code)))
    assert "command_injection" in proven(run(handler(code.replace("m['a'])", "m['b'])"))))
    got = "m = {'a': request.args['p']}\nos.system(m.get('a'))\n"
    assert "command_injection" in proven(run(handler(got)))


def test_list_elements_follow_append_and_pop() -> None:
    code = """
    lst = []
    lst.append('safe')
    lst.append(request.args['p'])
    lst.append('moresafe')
    lst.pop(0)
    os.system(lst[1])
    """
    assert "command_injection" not in proven(run(handler(code)))
    assert "command_injection" in proven(run(handler(code.replace("lst[1]", "lst[0]"))))


def test_format_join_and_comprehension_propagate() -> None:
    for expr in (
        "'{0}'.format(p)",
        "' '.join([p, 'x'])",
        "'%s' % (p,)",
        "''.join([c for c in p])",
        "f'{p:>4}'",
    ):
        code = f"p = request.args['p']\nos.system({expr})\n"
        assert "command_injection" in proven(run(handler(code))), expr


def test_loop_and_augmented_assignment() -> None:
    code = "out = ''\nfor v in request.args.getlist('p'):\n    out += v\nos.system(out)\n"
    assert "command_injection" in proven(run(handler(code)))


def test_guard_that_returns_sanitizes() -> None:
    code = "bar = request.args['p']\nif '../' in bar:\n    return 'no'\nopen('/d/' + bar)\n"
    assert "path_traversal" not in proven(run(handler(code)))
    allow = (
        "u = request.args['u']\nif u not in ['/a', '/b']:\n    return 'no'\nreturn redirect(u)\n"
    )
    assert "open_redirect" not in proven(run(handler(allow)))


def test_match_on_constant_takes_one_case() -> None:
    code = """
    p = request.args['p']
    guess = "ABC"[1]
    match guess:
        case 'A':
            bar = p
        case 'B':
            bar = 'safe'
        case _:
            bar = p
    os.system(bar)
    """
    assert "command_injection" not in proven(run(handler(code)))


def test_interprocedural_summaries_through_imports() -> None:
    helpers = {
        "util/wrap.py": textwrap.dedent(
            """
            class Wrapper:
                def __init__(self, request):
                    self.request = request
                def param(self, name):
                    return self.request.args.get(name)
                def safe(self, name):
                    return "bar"
            def passthrough(x):
                return x
            def constant(x):
                return "fixed"
            def runs(cmd):
                os.system(cmd)
            import os
            """
        )
    }
    top = "from util.wrap import Wrapper, passthrough, constant, runs\n"
    tainted = top + handler("w = Wrapper(request)\nos.system(w.param('p'))\n")
    assert "command_injection" in proven(run(tainted, helpers))
    safe = top + handler("w = Wrapper(request)\nos.system(w.safe('p'))\n")
    assert "command_injection" not in proven(run(safe, helpers))
    through = top + handler("os.system(passthrough(request.args['p']))\n")
    assert "command_injection" in proven(run(through, helpers))
    const = top + handler("os.system(constant(request.args['p']))\n")
    assert "command_injection" not in proven(run(const, helpers))
    param_sink = top + handler("runs(request.args['p'])\n")
    flows = run(param_sink, helpers)
    assert any(f.sink_location.path == "util/wrap.py" and proves(f) for f in flows)


def test_database_and_config_are_not_request_input() -> None:
    code = "v = os.getenv('CMD')\nos.system(v)\nrow = cur.fetchone()\ncur.execute('x' + row[0])\n"
    flows = run(handler(code))
    assert not proven(flows)
    assert {f.source_kind for f in flows} >= {"config", "database"}


def test_registry_kinds_are_claim_kinds_with_specs() -> None:
    for kind, spec in REGISTRY.items():
        assert kind in CLAIM_KINDS
        assert spec.cwe and spec.help and spec.meaning


def test_list_remove_del_and_reverse_move_elements() -> None:
    base = "lst = ['safe', request.args['p'], 'moresafe']\n"
    assert "command_injection" not in proven(
        run(handler(base + "lst.remove('safe')\nos.system(lst[1])\n"))
    )
    assert "command_injection" in proven(
        run(handler(base + "lst.remove('safe')\nos.system(lst[0])\n"))
    )
    assert "command_injection" not in proven(run(handler(base + "del lst[1]\nos.system(lst[1])\n")))
    assert "command_injection" in proven(run(handler(base + "lst.reverse()\nos.system(lst[1])\n")))
