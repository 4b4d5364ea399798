"""Validation inside a callee and allow-lists the server holds (issue 18).

``check(n)`` where ``check`` raises unless ``n`` is allowed makes ``n`` safe after the call,
for every kind the check proves; a value compared with a pool that holds no caller input
(a folder listing, rows read) is one of the server's own values. A callee that checks
nothing, reassigns its parameter, or a pool the caller controls proves nothing.
"""

from __future__ import annotations

import pytest

from tests.test_dataflow import handler, proven, run

ALLOW = "ALLOWED = ('a.txt', 'b.txt')\n"
RAISES = ALLOW + "def check(x):\n    if x not in ALLOWED:\n        raise ValueError(x)\n"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (RAISES + handler("n = request.args['n']\ncheck(n)\nopen('/d/' + n)\n"), "path_traversal"),
        (
            RAISES + handler("n = request.args['n']\ncheck(x=n)\ncur.execute('SELECT ' + n)\n"),
            "sql_injection",
        ),
        (
            "def check(x):\n    if '..' in x:\n        raise ValueError(x)\n    return x\n"
            + handler("n = request.args['n']\nok = check(n)\nopen('/d/' + n)\n"),
            "path_traversal",
        ),
        (
            handler(
                "n = request.args['n']\nif n not in os.listdir('/d'):\n    return 'no'\n"
                "open('/d/' + n)\n"
            ),
            "path_traversal",
        ),
    ],
)
def test_a_check_in_the_callee_or_a_held_allow_list_sanitizes(code: str, kind: str) -> None:
    assert kind not in proven(run(code))


@pytest.mark.parametrize(
    "code",
    [
        # checks something else
        "def check(x):\n    if not x:\n        raise ValueError(x)\n"
        + handler("n = request.args['n']\ncheck(n)\nopen('/d/' + n)\n"),
        # returns False without raising: a caller that ignores the answer is not protected
        "def check(x):\n    if '..' in x:\n        return False\n    return True\n"
        + handler("n = request.args['n']\ncheck(n)\nopen('/d/' + n)\n"),
        # one way out leaves the argument unchecked
        ALLOW + "def check(x, strict):\n    if strict and x not in ALLOWED:\n"
        "        raise ValueError(x)\n"
        + handler("n = request.args['n']\ncheck(n, True)\nopen('/d/' + n)\n"),
        # the callee cleans its own copy: the caller's value is unchanged
        "from werkzeug.utils import secure_filename\ndef clean(x):\n"
        "    x = secure_filename(x)\n    return x\n"
        + handler("n = request.args['n']\nclean(n)\nopen('/d/' + n)\n"),
        # a pool the caller sends
        handler(
            "n = request.args['n']\nif n not in request.args.getlist('ok'):\n"
            "    return 'no'\nopen('/d/' + n)\n"
        ),
    ],
)
def test_what_proves_nothing(code: str) -> None:
    assert "path_traversal" in proven(run(code))


def test_the_checks_reach_across_files() -> None:
    helper = RAISES.replace("def check", "def check")
    code = "from helpers import check\n" + handler(
        "n = request.args['n']\ncheck(n)\nopen('/d/' + n)\n"
    )
    assert "path_traversal" not in proven(run(code, {"helpers.py": helper}))
    unchecked = "def check(x):\n    return None\n"
    assert "path_traversal" in proven(run(code, {"helpers.py": unchecked}))


def test_a_parameter_passed_to_a_callee_first_still_reaches_the_sink() -> None:
    code = (
        "def log(x):\n    print(x)\n\n"
        "def run_it(cmd):\n    log(cmd)\n    os.system(cmd)\n"
        + handler("run_it(request.args['c'])\n")
    )
    assert "command_injection" in proven(run(code))
    checked = RAISES + "def run_it(cmd):\n    check(cmd)\n    os.system(cmd)\n"
    assert "command_injection" not in proven(run(checked + handler("run_it(request.args['c'])\n")))


def test_what_a_checking_callee_returns_is_its_own_value() -> None:
    code = RAISES + (
        "def pick(x):\n    if x not in ALLOWED:\n        raise ValueError(x)\n"
        "    return request.args['other']\n"
        + handler("n = request.args['n']\nn = pick(n)\nopen('/d/' + n)\n")
    )
    assert "path_traversal" in proven(run(code))


def test_a_validator_that_calls_a_validator_checks_too() -> None:
    wrapper = RAISES + "def validate(x):\n    check(x)\n"
    code = wrapper + handler("n = request.args['n']\nvalidate(n)\nopen('/d/' + n)\n")
    assert "path_traversal" not in proven(run(code))
    lax = RAISES + "def validate(x, strict):\n    if strict:\n        check(x)\n"
    code = lax + handler("n = request.args['n']\nvalidate(n, False)\nopen('/d/' + n)\n")
    assert "path_traversal" in proven(run(code))


def test_a_variable_handed_twice_is_checked_by_the_argument_that_checks_it() -> None:
    two = ALLOW + "def check(x, y):\n    if x not in ALLOWED:\n        raise ValueError(x)\n"
    code = two + handler("n = request.args['n']\ncheck(n, n)\nopen('/d/' + n)\n")
    assert "path_traversal" not in proven(run(code))
    # an expression handed over is not the variable: the variable is not checked
    code = RAISES + handler("n = request.args['n']\ncheck(n.strip())\nopen('/d/' + n)\n")
    assert "path_traversal" in proven(run(code))
