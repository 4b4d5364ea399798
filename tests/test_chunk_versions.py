"""Another version of a function already shown is quoted by the lines that differ."""

from __future__ import annotations

from threatmodel.chunk_versions import Versions, function_name

LOGIN = [
    "9|@mod_user.route('/login', methods=['GET', 'POST'])",
    "10|def do_login():",
    "12|    session.pop('username', None)",
    "14|    if request.method == 'POST':",
    "16|        username = request.form.get('username')",
    "17|        password = request.form.get('password')",
    "20|        username = libuser.login(username, password)",
    "22|        if not username:",
    "23|            return render_template('user.login.html')",
    "24|        conn.set_trace_callback(print)",
    "25|        response = libsession.create(response=response, username=username)",
    "26|        return response",
]


def _excerpt(place: str, lines: list[str]) -> str:
    return "\n".join([f"--- handler: {place}", *lines])


def _renumbered(lines: list[str], by: int) -> list[str]:
    out = []
    for line in lines:
        n, code = line.split("|", 1)
        out.append(f"{int(n) + by}|{code}")
    return out


def test_a_version_is_its_changed_and_missing_lines() -> None:
    v = Versions()
    v.add(_excerpt("bad/mod_user.py lines 9-26", LOGIN))
    fixed = _renumbered(LOGIN, 1)
    fixed[10] = "26|        response = libsession.create(request=request, response=response)"
    del fixed[9]  # the fixed copy drops `conn.set_trace_callback(print)`, changes the next
    text = v.changes(_excerpt("good/mod_user.py lines 10-27", fixed))
    assert text == (
        "--- handler (bad/mod_user.py lines 9-26 above, except these lines): "
        "good/mod_user.py lines 10-27\n"
        "26|        response = libsession.create(request=request, response=response)\n"
        "(for its lines 24-25)"
    )
    dropped = v.changes(_excerpt("good/mod_user.py lines 9-25", [*LOGIN[:9], *LOGIN[10:]]))
    assert dropped is not None and dropped.endswith("\n(not here: its line 24)")
    # a version quoted by its changes is no version another is read against
    signed = [LOGIN[0], "10|def do_login(next=None):", *LOGIN[2:]]
    short = v.changes(_excerpt("v2/mod_user.py lines 9-26", signed))
    assert short is not None and short.endswith("\n10|def do_login(next=None):")
    v.add(short)
    assert len(v.here["do_login"]) == 1


def test_an_earlier_requests_version_is_named_so() -> None:
    v = Versions()
    v.add(_excerpt("bad/mod_user.py lines 9-26", LOGIN))
    v.flush()
    fixed = [*LOGIN[:-1], "26|        return response or redirect('/')"]
    text = v.changes(_excerpt("good/mod_user.py lines 9-26", fixed))
    assert text is not None
    assert text.startswith("--- handler (bad/mod_user.py lines 9-26 in another request, except")


def test_other_functions_and_rewrites_are_quoted_whole() -> None:
    v = Versions()
    v.add(_excerpt("bad/mod_user.py lines 9-26", LOGIN))
    # another function with the same body: no version of this one
    other = [LOGIN[0], "10|def do_create():", *LOGIN[2:]]
    assert v.changes(_excerpt("bad/mod_user.py lines 30-47", other)) is None
    # the same function rewritten: most of its lines differ
    rewritten = [*LOGIN[:2], *(f"{n}|    step{n}()" for n in range(12, 22))]
    assert v.changes(_excerpt("good/mod_user.py lines 9-21", rewritten)) is None
    # the place already shown is itself, not a version
    assert v.changes(_excerpt("bad/mod_user.py lines 9-26", LOGIN)) is None


def test_a_function_is_named_by_its_head() -> None:
    assert function_name(LOGIN) == "do_login"
    assert function_name(["58|module.exports.productSearch = function (req, res) {"]) == (
        "module.exports.productSearch"
    )
    assert function_name(["3|const load = async (req) => {"]) == "load"
    # a route table's entry or an inline callback names no function
    assert function_name(["54|router.post('/products', auth, function (req, res) {"]) is None
