"""Shapes of safe code the engine misread (round 14), each shown safe and unsafe.

- A piece cut at a separator holds none (``url.split('/')[-1]`` is a base name), but the
  list of pieces spread back into a path keeps every separator (``pieces.py``).
- A true ``a or b`` proves what every part proves alone (``conds.either``): a helper
  returning a path only when it is ``'/static'`` or starts with ``'/static/'`` returns a
  local path.
- A URL's start is fixed per kind (``urlhead``): the request's own origin is this site for
  a redirect (so a query after it cannot move the browser) but the Host header for a
  server-side fetch.
- A method called on a module-level instance of a repository class (``Users =
  UsersTable()``, imported elsewhere) is that class's method (``link._instance_method``):
  its database read returns rows, not the key it was given.
"""

from __future__ import annotations

import pytest

from tests.test_dataflow import handler, proven, run

PATH = "path_traversal"


@pytest.mark.parametrize(
    ("code", "unsafe"),
    [
        ("open('/d/' + request.args['u'].split('/')[-1])\n", False),
        ("open('/d/' + request.args['u'].rsplit('/', 1)[-1])\n", False),
        ("open('/d/' + request.args['u'].rpartition('/')[2])\n", False),
        ("open('/d/' + request.args['u'].split('/', maxsplit=2)[1])\n", False),
        (
            "from urllib.parse import urlparse\n"
            "name = urlparse(request.args['u']).path.split('/')[-1]\n"
            "open(os.path.join('/d', name))\n",
            False,
        ),
        # the rest after a limited cut keeps its separators
        ("open('/d/' + request.args['u'].rsplit('/', 1)[0])\n", True),
        ("open('/d/' + request.args['u'].split('/', 1)[-1])\n", True),
        ("open('/d/' + request.args['u'].partition('/')[2])\n", True),
        # every piece joined back is the path again
        ("open(os.path.join('/d', *request.args['u'].split('/')))\n", True),
        # a cut at another character leaves the slashes
        ("open('/d/' + request.args['u'].split('?')[0])\n", True),
    ],
)
def test_a_piece_cut_at_a_slash_cannot_leave_the_folder(code: str, unsafe: bool) -> None:
    assert (PATH in proven(run(handler(code)))) is unsafe


STATIC_HELPER = """
def local_static(url):
    path = url.split('?', 1)[0].strip()
    normalized = posixpath.normpath(path)
    if not ({test}):
        return None
    return normalized

@app.route('/img')
def img():
    safe = local_static(request.args['u'])
    if safe:
        return redirect(safe)
    return redirect('/')
"""


@pytest.mark.parametrize(
    ("test", "unsafe"),
    [
        ("normalized == '/static' or normalized.startswith('/static/')", False),
        ("normalized.startswith('/static/') or normalized in ('/', '/home')", False),
        # one part proves nothing: the other way through lets anything pass
        ("normalized.startswith('/static/') or len(normalized) > 3", True),
        ("normalized == '/static' or path", True),
    ],
)
def test_every_way_through_an_or_must_prove_the_value_safe(test: str, unsafe: bool) -> None:
    code = "import posixpath\n" + STATIC_HELPER.format(test=test)
    assert ("open_redirect" in proven(run(code))) is unsafe


def test_a_false_and_proves_what_each_negated_part_proves() -> None:
    safe = handler(
        "n = request.args['n']\n"
        "if n != 'a' and not n.startswith('/static/'):\n"
        "    return redirect('/')\n"
        "return redirect(n)\n"
    )
    assert "open_redirect" not in proven(run(safe))
    unsafe = safe.replace("not n.startswith('/static/')", "len(n) > 99")
    assert "open_redirect" in proven(run(unsafe))


def test_a_query_after_the_requests_own_origin_is_safe_for_a_redirect_only() -> None:
    redirect = handler(
        "base = request.host_url.rstrip('/')\n"
        "return redirect(f\"{base}/?error={request.args['e']}\")\n"
    )
    assert "open_redirect" not in proven(run(redirect))
    fetch = handler(
        "import requests\nrequests.get(f\"{request.host_url}api?x={request.args['e']}\")\n"
    )
    assert "ssrf" in proven(run(fetch))  # the Host header chose that origin
    assert "open_redirect" in proven(run(handler("return redirect(request.args['e'] + '?a=1')\n")))


STORE = """
from sqlalchemy import select


class FileRow:
    pass


class FilesTable:
    def by_ids(self, db, ids):
        rows = db.execute(select(FileRow).filter(FileRow.id.in_(ids))).scalars()
        return [r.path for r in rows]

    def echo(self, db, ids):
        return ids


Files = FilesTable()
"""


@pytest.mark.parametrize(("method", "unsafe"), [("by_ids", False), ("echo", True)])
def test_a_method_of_a_module_instance_is_its_class_method(method: str, unsafe: bool) -> None:
    code = "from store import Files\n" + handler(
        f"for p in Files.{method}(None, request.args.getlist('id')):\n    open(p)\n"
    )
    flows = run(code, {"store.py": STORE})
    assert (PATH in proven(flows)) is unsafe
    if not unsafe:  # the rows are the database's: a stored value, not the request's ids
        found = [f for f in flows if f.claim == PATH]
        assert found and all(f.source_kind == "database" for f in found)


@pytest.mark.parametrize(
    ("test", "unsafe"),
    [
        # one metacharacter gone leaves `;`, `|`, `$()`, backticks and newlines
        ("'&' in cmd", True),
        ("';' in cmd or '|' in cmd", True),
        # every one the shell reads, in one test or one after another
        ("any(c in cmd for c in ';&|$`\\n')", False),
        (
            "';' in cmd or '&' in cmd or '|' in cmd or '$' in cmd or '`' in cmd or '\\n' in cmd",
            False,
        ),
    ],
)
def test_a_shell_command_is_safe_only_without_every_metacharacter(test: str, unsafe: bool) -> None:
    code = handler(
        f"import os\ncmd = request.args['c']\nif {test}:\n    return 'no'\nos.system('ls ' + cmd)\n"
    )
    assert ("command_injection" in proven(run(code))) is unsafe


def test_metacharacter_tests_one_after_another_add_up() -> None:
    checks = [f"if {c!r} in cmd:\n    return 'no'\n" for c in ";&|$`\n"]

    def code(tests: list[str]) -> str:
        return handler(f"import os\ncmd = request.args['c']\n{''.join(tests)}os.system(cmd)\n")

    assert "command_injection" not in proven(run(code(checks)))
    assert "command_injection" in proven(run(code(checks[:-1])))  # newlines still pass


def test_one_quote_absent_still_guards_sql() -> None:
    code = handler(
        "cur = db.cursor()\nq = request.args['q']\nif \"'\" in q:\n    return 'no'\n"
        'cur.execute("SELECT * FROM t WHERE a = \'" + q + "\'")\n'
    )
    assert "sql_injection" not in proven(run(code))
