"""Idioms real code uses, each shown safe and tainted on the same shape: ``zip`` and
``enumerate``, record classes (dataclass, NamedTuple, namedtuple), a JSON round trip,
``getattr`` / ``setattr``, ``match`` captures and literal cases, and ``*args`` / ``**kw``
of the repository's own functions."""

from __future__ import annotations

import pytest

from tests.test_dataflow_general import flagged

REC = "import dataclasses, typing, collections, json\n"


@pytest.mark.parametrize(
    ("setup", "safe", "tainted"),
    [
        ("pairs = list(zip(['safe', p], ['a', 'b']))", "pairs[0][0]", "pairs[1][0]"),
        ("d = dict(zip(['a', 'b'], ['safe', p]))", "d['a']", "d['b']"),
        ("pairs = list(enumerate([p]))", "str(pairs[0][0])", "pairs[0][1]"),
        ("d = json.loads(json.dumps({'a': 'safe', 'b': p}))", "d['a']", "d['b']"),
        ("T = collections.namedtuple('T', 'a b')\nt = T('safe', p)", "t.a", "t.b"),
        ("T = collections.namedtuple('T', ['a', 'b'])\nt = T(b=p, a='x')", "t.a", "t.b"),
        ("class O:\n    pass\no = O()\nsetattr(o, 'a', 'safe')\no.b = p", "o.a", "getattr(o, 'b')"),
        ("s = 'safe'", "getattr(s, 'upper')()", "getattr(p, 'strip')()"),
        ("lst = [x + '!' for x in ['safe', p]]", "lst[0]", "lst[1]"),
        ("d = {k: v for k, v in [('a', 'safe'), ('b', p)]}", "d['a']", "d['b']"),
        ("m = {'a': 'safe', 'b': p}", "'{a}'.format_map(m)", "'{b}'.format_map(m)"),
    ],
)
def test_idioms_keep_parts_apart(setup: str, safe: str, tainted: str) -> None:
    code = "p = request.args['p']\n" + REC + setup + "\nos.system(ARG)\n"
    assert not flagged(code.replace("ARG", safe)), safe
    assert flagged(code.replace("ARG", tainted)), tainted


@pytest.mark.parametrize(
    ("loop", "safe", "tainted"),
    [
        ("for a, b in zip(['x', 'y'], [p, p]):\n", "a", "b"),
        ("for i, v in enumerate([p, p], 1):\n", "str(i)", "v"),
        ("for k, v in {'a': 'safe', 'b': 'x'}.items():\n", "k + v", "p + v"),
    ],
)
def test_loops_over_pairs_unpack_each_part(loop: str, safe: str, tainted: str) -> None:
    code = "p = request.args['p']\n" + loop + "    os.system(ARG)\n"
    assert not flagged(code.replace("ARG", safe)), safe
    assert flagged(code.replace("ARG", tainted)), tainted


RECORDS = {
    "dataclass": "@dataclasses.dataclass\nclass R:\n    a: str\n    b: str = 'd'\n",
    "NamedTuple": "class R(typing.NamedTuple):\n    a: str\n    b: str = 'd'\n",
}


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_record_classes_store_each_field(kind: str) -> None:
    code = (
        REC
        + RECORDS[kind]
        + (
            "@app.route('/x', methods=['POST'])\ndef view():\n"
            "    p = request.args['p']\n    r = R('safe', p)\n    os.system(r.FIELD)\n"
        )
    )
    from tests.test_dataflow import proven, run

    assert "command_injection" not in proven(run(code.replace("FIELD", "a")))
    assert "command_injection" in proven(run(code.replace("FIELD", "b")))
    by_name = code.replace("R('safe', p)", "R(b=p, a='safe')")
    assert "command_injection" not in proven(run(by_name.replace("FIELD", "a")))
    assert "command_injection" in proven(run(by_name.replace("FIELD", "b")))


def test_a_record_with_parents_is_not_given_a_constructor_it_may_not_have() -> None:
    from tests.test_dataflow import proven, run

    code = REC + (
        "@dataclasses.dataclass\nclass A:\n    a: str\n"
        "@dataclasses.dataclass\nclass B(A):\n    b: str\n"
        "@app.route('/x', methods=['POST'])\ndef view():\n"
        "    os.system(B('safe', request.args['p']).b)\n"
    )
    assert "command_injection" in proven(run(code))  # B(a, b): b is the input


def test_a_written_constructor_is_read_not_generated() -> None:
    from tests.test_dataflow import proven, run

    code = REC + (
        "@dataclasses.dataclass(init=False)\nclass R:\n    a: str\n"
        "    def __init__(self, a):\n        self.a = 'fixed'\n"
        "@app.route('/x', methods=['POST'])\ndef view():\n"
        "    os.system(R(request.args['p']).a)\n"
    )
    assert "command_injection" not in proven(run(code))


@pytest.mark.parametrize(
    ("cases", "tainted"),
    [
        ("    case 'a' | 'b':\n        bar = p", False),
        ("    case None:\n        bar = p or ''", False),
        ("    case str(v):\n        bar = v", True),
        ("    case [first, *rest]:\n        bar = first", True),
        ("    case {'k': v}:\n        bar = v", True),
        ("    case ('a' as v) | ('b' as v):\n        bar = v", False),
        ("    case v if v == 'ok':\n        bar = v", False),
        ("    case v if len(v) > 2:\n        bar = v", True),
    ],
)
def test_match_binds_captures_and_narrows_literal_cases(cases: str, tainted: bool) -> None:
    code = "p = request.args['p']\nmatch p:\n" + cases + "\n    case _:\n        bar = 'x'\n"
    code += "os.system(bar)\n"
    assert flagged(code) is tainted, cases


def test_match_binds_the_item_of_a_known_sequence() -> None:
    code = "p = request.args['p']\nmatch ['safe', p]:\n    case [a, b]:\n        os.system(WHICH)\n"
    assert not flagged(code.replace("WHICH", "a"))
    assert flagged(code.replace("WHICH", "b"))


@pytest.mark.parametrize(
    ("helper", "call"),
    [
        ("def f(*parts):\n    return parts[1]\n", "f('safe', p)"),
        ("def f(first, *rest):\n    return ' '.join(rest)\n", "f('safe', 'x', p)"),
        ("def f(**kw):\n    return kw['b']\n", "f(a='safe', b=p)"),
        ("def f(a, *, b):\n    return b\n", "f('safe', b=p)"),
        ("def f(*, b, c='x'):\n    return b + c\n", "f(b=p)"),
    ],
)
def test_extra_arguments_reach_star_parameters(helper: str, call: str) -> None:
    from tests.test_dataflow import proven, run

    code = helper + (
        "@app.route('/x', methods=['POST'])\ndef view():\n"
        "    p = request.args['p']\n    os.system(" + call + ")\n"
    )
    assert "command_injection" in proven(run(code)), helper
    safe = helper.replace("return", "return 'const' or")
    assert "command_injection" not in proven(run(code.replace(helper, safe))), helper


@pytest.mark.parametrize(
    ("build", "safe", "tainted"),
    [
        ("s = 'help'\ns += p\ns += 'snapes on a plane'", "s[:4]", "s[4:-17]"),
        ("s = 'help'\ns += p\ns += 'snapes on a plane'", "s[-17:]", "s[3:]"),
        ("s = f'12345{p}abcd'", "s[:5]", "s[:6]"),
        ("s = f'12345{p}abcd'", "s[-4:-1]", "s[1:-1]"),
        ("s = 'ab' + p", "s[1]", "s[2]"),
        ("s = p + 'ab'", "s[-2]", "s[-3]"),
        ("s = 'x' + p + 'tail'", "s[0] + s[-4:]", "s[0:2]"),
    ],
)
def test_slices_inside_a_strings_known_ends_are_constant(
    build: str, safe: str, tainted: str
) -> None:
    code = "p = request.args['p']\n" + build + "\nos.system(ARG)\n"
    assert not flagged(code.replace("ARG", safe)), safe
    assert flagged(code.replace("ARG", tainted)), tainted


@pytest.mark.parametrize(
    ("safe", "tainted"),
    [
        ("bar = re.sub(r'[^a-zA-Z0-9]', '', p)", "bar = re.sub(r'[;&|]', '', p)"),
        ("bar = re.sub(r'\\W+', '_', p)", "bar = re.sub(r'\\W+', ';', p)"),
        ("bar = re.sub(r'[^\\w.-]', '', p)", "bar = re.sub(r'(a|[^\\w])', '', p)"),
        (
            "if not re.fullmatch(r'[a-z0-9_-]+', p):\n    return 'no'\nbar = p",
            "if not re.fullmatch(r'[a-z0-9_;-]+', p):\n    return 'no'\nbar = p",
        ),
        (
            "if not re.match(r'^[\\w]+$', p):\n    return 'no'\nbar = p",
            "if not re.match(r'[\\w]+', p):\n    return 'no'\nbar = p",
        ),
        (
            "bar = p if re.search(r'\\A[a-z]*\\Z', p) else 'x'",
            "bar = p if re.search(r'[a-z]*\\Z', p) else 'x'",
        ),
    ],
)
def test_regex_allow_lists(safe: str, tainted: str) -> None:
    head = "import re\np = request.args['p']\n"
    assert not flagged(head + safe + "\nos.system('ls ' + bar)\n"), safe
    assert flagged(head + tainted + "\nos.system('ls ' + bar)\n"), tainted


@pytest.mark.parametrize(
    ("safe", "tainted", "kind"),
    [
        (
            "yaml.load(p, Loader=yaml.BaseLoader)",
            "yaml.load(p, Loader=yaml.FullLoader)",
            "insecure_deserialization",
        ),
        (
            "lxml.etree.fromstring(p, lxml.etree.XMLParser(resolve_entities=False))",
            "lxml.etree.fromstring(p, lxml.etree.XMLParser(resolve_entities=True))",
            "xxe",
        ),
        (
            "lxml.etree.fromstring(p, parser=lxml.etree.XMLParser())",
            "lxml.etree.fromstring(p, parser=lxml.etree.XMLParser(no_network=False))",
            "xxe",
        ),
    ],
)
def test_parsers_as_configured_in_place(safe: str, tainted: str, kind: str) -> None:
    head = "import lxml.etree\np = request.args['p']\n"
    assert not flagged(head + safe + "\n", kind), safe
    assert flagged(head + tainted + "\n", kind), tainted


def test_while_true_is_left_by_its_breaks_only() -> None:
    loop = "bar = p\nwhile True:\n    bar = FIRST\n    if len(bar) > 3:\n        break\n"
    code = "p = request.args['p']\n" + loop + "os.system(bar)\n"
    assert not flagged(code.replace("FIRST", "'safe'"))
    assert flagged(code.replace("FIRST", "bar + ''"))
    endless = "p = request.args['p']\nwhile True:\n    pass\nos.system(p)\n"
    assert not flagged(endless)  # never reached
    assert flagged(endless.replace("while True", "while len(p) > 3"))
    changing = "p = request.args['p']\nt = True\nwhile t is not None:\n    t = db.first()\n"
    assert flagged(changing + "os.system(p)\n")  # true on entry only: the loop ends


@pytest.mark.parametrize(
    "digest",
    [
        "hashlib.sha256(p.encode()).hexdigest()",
        "hashlib.sha256(request.get_data()).hexdigest()",
        "hashlib.md5(p.encode() + b'salt').hexdigest()",
        "hmac.new(b'k', p.encode(), 'sha256').hexdigest()",
        "base64.b64encode(hashlib.sha1(p.encode()).digest()).decode()",
    ],
)
def test_a_digest_of_input_names_a_file_the_input_cannot_choose(digest: str) -> None:
    # a cache file named by the hash of the request body: hex digits, no ``../``
    code = "import hashlib, hmac, base64\np = request.args['p']\nname = DIGEST\n"
    code += "open('/var/cache/' + ARG + '.mp3')\n"
    code = code.replace("DIGEST", digest)
    assert not flagged(code.replace("ARG", "name"), "path_traversal"), digest
    assert flagged(code.replace("ARG", "p"), "path_traversal"), digest


def test_a_digest_of_a_predictable_value_is_as_predictable() -> None:
    # the digest hides the request's text, not how guessable the hashed random value was
    code = "import hashlib, random\nkey = str(random.getrandbits(64)).encode()\n"
    code += "session['token'] = hashlib.sha1(key).hexdigest()\n"
    assert flagged(code, "weak_random")
