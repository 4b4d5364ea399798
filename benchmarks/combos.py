"""Request source x propagator x sink: generated Flask handlers with a known answer.

A generated test suite (OWASP BenchmarkPython is one) composes each case from three
building blocks: how the request is read, what happens to the value on the way (a
container round trip, a folded condition, a helper call ...), and the call it reaches, in
its dangerous or its safe form. A tool tuned on some combinations must answer every other
one the same way, so this module writes the blocks down (our own spellings of common
idioms, nothing copied from any suite) and composes them: every propagator with every
sink, every source with every propagator, and propagators two by two. Each handler's
answer follows from its parts: the value is tainted when the source reads the request
and every propagator keeps the taint, and it is a finding when the sink is in its
dangerous form.

``python benchmarks/combos.py [--full]`` runs the engine on them and lists every wrong
answer (``--full``: the whole product source x propagator x propagator x sink);
``tests/test_dataflow_combos.py`` runs the compact set.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from threatmodel import dataflow
from threatmodel.code.source import SourceFile
from threatmodel.dataflow.proof import proves

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.combo_sources import REQUEST_API, SOURCES, Block

HEAD = """\
import ast, base64, configparser, collections, html, io, os, pickle, shlex, subprocess
import pathlib, urllib.parse, yaml
import xml.dom.minidom, xml.sax, xml.sax.handler
import lxml.etree, ldap3
from ldap3.utils.conv import escape_filter_chars
from flask import Flask, request, redirect, session, url_for, make_response
import helpers
app = Flask(__name__)
"""

# A repository helper module: a request wrapper (one tainted getter, one constant), a
# class whose method passes its argument through, a function given the request object.
HELPERS = """\
import flask


class Wrapped:
    request: flask.Request

    def __init__(self, request: flask.Request):
        self.request = request

    def query(self, name: str):
        return self.request.args.get(name)

    def fixed(self, name: str):
        return "constant"


class Relay:
    def hand(self, value):
        out = value
        return out


def make_relay():
    return Relay()


def read_param(request, name):
    got = request.args.get(name)
    if not got:
        got = request.form.get(name)
    return got
"""


PROPAGATORS = (
    Block("same", "{o} = {i}", True),
    Block(
        "fold_if_safe",
        "n{n} = 120\nif 7 * 3 + n{n} > 100:\n    {o} = 'ok'\nelse:\n    {o} = {i}",
        False,
    ),
    Block(
        "fold_if_kept",
        "n{n} = 10\nif 7 * 3 + n{n} > 100:\n    {o} = 'ok'\nelse:\n    {o} = {i}",
        True,
    ),
    Block("ternary_safe", "n{n} = 5\n{o} = 'ok' if (6 * 6) - n{n} > 30 else {i}", False),
    Block("ternary_kept", "n{n} = 9\n{o} = 'ok' if (6 * 6) - n{n} > 30 else {i}", True),
    Block(
        "match_safe",
        "pick{n} = 'XYZ'[2]\nmatch pick{n}:\n    case 'X' | 'Y':\n        {o} = {i}\n"
        "    case 'Z':\n        {o} = 'ok'\n    case _:\n        {o} = {i}",
        False,
    ),
    Block(
        "match_kept",
        "pick{n} = 'XYZ'[0]\nmatch pick{n}:\n    case 'X' | 'Y':\n        {o} = {i}\n"
        "    case 'Z':\n        {o} = 'ok'\n    case _:\n        {o} = 'no'",
        True,
    ),
    Block(
        "dict_safe",
        "d{n} = {{'a': 'ok'}}\nd{n}['b'] = {i}\n{o} = d{n}['b']\n{o} = d{n}['a']",
        False,
    ),
    Block("dict_kept", "d{n} = {{}}\nd{n}['a'] = 'ok'\nd{n}['b'] = {i}\n{o} = d{n}['b']", True),
    Block(
        "list_safe",
        "l{n} = ['x', {i}, 'y']\nl{n}.pop(0)\n{o} = l{n}[1]",
        False,
    ),
    Block(
        "list_kept",
        "l{n} = []\nl{n}.append('x')\nl{n}.append({i})\nl{n}.pop(0)\n{o} = l{n}[0]",
        True,
    ),
    Block(
        "config_safe",
        "c{n} = configparser.ConfigParser()\nc{n}.add_section('s')\nc{n}.set('s', 'a', 'ok')\n"
        "c{n}.set('s', 'b', {i})\n{o} = c{n}.get('s', 'a')",
        False,
    ),
    Block(
        "config_kept",
        "c{n} = configparser.ConfigParser()\nc{n}.add_section('s')\nc{n}.set('s', 'b', {i})\n"
        "{o} = c{n}.get('s', 'b')",
        True,
    ),
    Block("deque_kept", "q{n} = collections.deque()\nq{n}.append({i})\n{o} = q{n}.popleft()", True),
    Block(
        "deque_safe",
        "q{n} = collections.deque(['ok'])\nq{n}.append({i})\n{o} = q{n}.popleft()",
        False,
    ),
    Block("affix_kept", "s{n} = 'ab' + {i} + 'cdef'\n{o} = s{n}[2:-4]", True),
    Block("affix_safe", "s{n} = 'ab' + {i} + 'cdef'\n{o} = s{n}[-4:]", False),
    Block(
        "b64",
        "t{n} = base64.b64encode({i}.encode('utf-8'))\n"
        "{o} = base64.b64decode(t{n}).decode('utf-8')",
        True,
    ),
    Block("relay", "r{n} = helpers.Relay()\n{o} = r{n}.hand({i})", True),
    Block("guard_const", "{o} = 'fixed'\nif 'z' in {o}:\n    {o} = {i}", False),
    Block("copy_first", "s{n} = ''\nc{n} = s{n}\ns{n} += {i}\nc{n} += 'ok'\n{o} = c{n}", False),
    Block("split_first", "{o} = ''\nif {i}:\n    {o} = {i}.split(' ')[0]", True),
    Block(
        "stringio",
        "b{n} = io.StringIO()\nb{n}.write('<')\nb{n}.write({i})\n{o} = b{n}.getvalue()",
        True,
    ),
    Block("join", "{o} = ''.join(['x', {i}, 'y'])", True),
    Block("fstring", "{o} = f'pre{{{i}}}post'", True),
)

# (kind, code, dangerous): each kind's call in its dangerous form and in safe forms (a
# safe API, a sanitizer, a guard that leaves); ``{v}`` is the value reaching it.
SINKS = (
    ("command_injection", "os.system('echo ' + {v})", True),
    ("command_injection", "subprocess.run(['echo', {v}])", False),
    ("command_injection", "subprocess.run('echo ' + shlex.quote({v}), shell=True)", False),
    (
        "command_injection",
        "if not {v}.isalnum():\n    return 'no'\nos.system('echo ' + {v})",
        False,
    ),
    ("code_injection", "eval({v})", True),
    ("code_injection", "ast.literal_eval({v})", False),
    (
        "code_injection",
        'if not ({v}.startswith("\'") and {v}.endswith("\'")) or "\'" in {v}[1:-1]:\n'
        "    return 'no'\neval({v})",
        False,
    ),
    ("path_traversal", "open('/srv/' + {v})", True),
    ("path_traversal", "pathlib.Path('/srv', {v}).read_text()", True),
    ("path_traversal", "open('/srv/' + os.path.basename({v}))", False),
    ("path_traversal", "if '..' in {v}:\n    return 'no'\nopen('/srv/' + {v})", False),
    (
        "sql_injection",
        "cur = db.cursor()\ncur.execute(f\"SELECT a FROM t WHERE b = '{{{v}}}'\")",
        True,
    ),
    (
        "sql_injection",
        "cur = db.cursor()\ncur.execute('SELECT a FROM t WHERE b = ?', ({v},))",
        False,
    ),
    ("xss", "return f'<p>{{{v}}}</p>'", True),
    ("xss", "return '<p>%s</p>' % {v}", True),
    ("xss", "return f'<p>{{html.escape({v})}}</p>'", False),
    ("xss", "return make_response(('ok', {{'X-Value': {v}}}))", False),
    ("insecure_deserialization", "yaml.load({v}, Loader=yaml.Loader)", True),
    ("insecure_deserialization", "pickle.loads(base64.b64decode({v}))", True),
    ("insecure_deserialization", "yaml.safe_load({v})", False),
    ("insecure_deserialization", "yaml.load({v}, Loader=yaml.SafeLoader)", False),
    (
        "xpath_injection",
        "tree = lxml.etree.parse('/srv/a.xml')\ntree.xpath(f\"//e[@id='{{{v}}}']\")",
        True,
    ),
    (
        "xpath_injection",
        "tree = lxml.etree.parse('/srv/a.xml')\ntree.xpath('//e[@id=$x]', x={v})",
        False,
    ),
    (
        "xpath_injection",
        "tree = lxml.etree.parse('/srv/a.xml')\nif \"'\" in {v}:\n    return 'no'\n"
        "tree.xpath(f\"//e[@id='{{{v}}}']\")",
        False,
    ),
    (
        "ldap_injection",
        "conn = ldap3.Connection('ldap://h')\nconn.search('dc=x', f'(uid={{{v}}})')",
        True,
    ),
    (
        "ldap_injection",
        "conn = ldap3.Connection('ldap://h')\n"
        "conn.search('dc=x', f'(uid={{escape_filter_chars({v})}})')",
        False,
    ),
    ("open_redirect", "return redirect({v})", True),
    ("open_redirect", "return redirect(url_for('index', q={v}))", False),
    (
        "open_redirect",
        "u = urllib.parse.urlparse({v})\nif u.netloc not in ('example.com',):\n    return 'no'\n"
        "return redirect({v})",
        False,
    ),
    ("trust_boundary", "session['user'] = {v}", True),
    ("trust_boundary", "session[{v}] = 'x'", True),
    ("trust_boundary", "session['user'] = 'guest'", False),
    (
        "xxe",
        "p = xml.sax.make_parser()\np.setFeature(xml.sax.handler.feature_external_ges, True)\n"
        "xml.dom.minidom.parseString({v}, p)",
        True,
    ),
    ("xxe", "p = xml.sax.make_parser()\nxml.dom.minidom.parseString({v}, p)", False),
    (
        "xxe",
        "lxml.etree.fromstring({v}.encode(), lxml.etree.XMLParser(resolve_entities=False))",
        False,
    ),
)


@dataclass(frozen=True)
class Case:
    source: Block
    props: tuple[Block, ...]
    sink: int  # a row of SINKS

    @property
    def kind(self) -> str:
        return SINKS[self.sink][0]

    @property
    def dangerous(self) -> bool:
        return SINKS[self.sink][2]

    @property
    def expected(self) -> bool:
        if self.kind in self.source.safe_for:
            return False
        return self.dangerous and self.source.keeps and all(p.keeps for p in self.props)

    @property
    def label(self) -> str:
        props = " > ".join(p.name for p in self.props)
        return f"{self.source.name} > {props} > {SINKS[self.sink][1]!r}"

    def body(self, n: int) -> tuple[str, int]:
        """The handler's code and the line (from 1) of its sink's first statement."""
        lines = [self.source.code.format(o="v0", n=f"{n}s")]
        for k, p in enumerate(self.props):
            lines.append(p.code.format(i=f"v{k}", o=f"v{k + 1}", n=f"{n}p{k}"))
        pre = "\n".join(lines) + "\n"
        sink = SINKS[self.sink][1].format(v=f"v{len(self.props)}")
        return pre + sink + "\nreturn 'done'\n", pre.count("\n") + 1


def cases(full: bool = False) -> Iterator[Case]:
    """Every propagator with every sink form, every source with every propagator, every
    request API read with every sink form, propagators two by two; ``full``: the whole
    product, and every request API read with every propagator and sink form."""
    sinks = range(len(SINKS))
    if full:
        for src, a, b, sink in itertools.product(SOURCES, PROPAGATORS, PROPAGATORS, sinks):
            yield Case(src, (a, b), sink)
        for src, a, sink in itertools.product(REQUEST_API, PROPAGATORS, sinks):
            yield Case(src, (a,), sink)
        return
    turn = itertools.count()
    dangerous = [i for i in sinks if SINKS[i][2]]
    for prop, sink in itertools.product(PROPAGATORS, sinks):
        yield Case(SOURCES[next(turn) % len(SOURCES)], (prop,), sink)
    for src, prop in itertools.product(SOURCES, PROPAGATORS):
        yield Case(src, (prop,), dangerous[next(turn) % len(dangerous)])
    for src, sink in itertools.product(REQUEST_API, sinks):
        yield Case(src, (PROPAGATORS[next(turn) % len(PROPAGATORS)],), sink)
    for a, b in itertools.product(PROPAGATORS, PROPAGATORS):
        src = SOURCES[next(turn) % len(SOURCES)]
        yield Case(src, (a, b), dangerous[next(turn) % len(dangerous)])


def judge(batch: Iterable[Case]) -> list[tuple[Case, bool]]:
    """(case, what the engine answers): one module of handlers per batch, one extract."""
    out: list[tuple[Case, bool]] = []
    module = [HEAD, "db = None\n"]
    where: list[tuple[Case, int, int]] = []
    line = HEAD.count("\n") + 2
    for n, case in enumerate(batch):
        body, sink_at = case.body(n)
        handler = f"@app.route('/c{n}', methods=['POST'])\ndef view{n}():\n"
        handler += textwrap.indent(body, "    ") + "\n\n"
        start = line + 2  # the body's first line
        where.append((case, start + sink_at - 1, start + body.count("\n") - 1))
        module.append(handler)
        line += handler.count("\n")
    files = {"app.py": "".join(module), "helpers.py": HELPERS}
    extracts = {}
    for path, text in files.items():
        got = dataflow.extract(SourceFile.from_bytes(path, text.encode()))
        if got:
            extracts[path] = got
    flows = [f for f in dataflow.flows(extracts) if proves(f) and f.sink_location.path == "app.py"]
    for case, first, last in where:
        hit = any(f.claim == case.kind and first <= f.sink_location.line <= last for f in flows)
        out.append((case, hit))
    return out


def wrong(batch: Iterable[Case], size: int = 200) -> list[tuple[Case, bool]]:
    """The cases the engine answers wrongly (with its answer)."""
    todo = list(batch)
    got: list[tuple[Case, bool]] = []
    for i in range(0, len(todo), size):
        got += judge(todo[i : i + size])
    return [(c, hit) for c, hit in got if hit != c.expected]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="the whole product (slow)")
    args = ap.parse_args()
    todo = list(cases(args.full))
    bad = wrong(todo)
    for case, hit in bad:
        print(f"{'false alarm' if hit else 'missed'}: {case.label}")
    print(f"{len(todo) - len(bad)}/{len(todo)} right")


if __name__ == "__main__":
    main()
