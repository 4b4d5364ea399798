"""Character-stripping and callee sanitizers for the Python engine (issue 18).

A value with every ``.`` removed cannot hold ``..``: the absence of a character a kind's
guard text is made of proves the guard text absent (``replace``, ``re.sub`` with a
character class, or a ``'.' not in x`` test). A stripping that leaves the character in,
or removes another one, proves nothing.
"""

from __future__ import annotations

import pytest

from tests.test_dataflow import handler, proven, run


@pytest.mark.parametrize(
    "code",
    [
        "ext = request.args['e'].replace('.', '')\nopen(f'/data/original.{ext}')\n",
        "import re\nname = re.sub(r'[^a-z0-9_-]', '', request.args['n'])\nopen('/d/' + name)\n",
        "import re\nname = re.sub(r'\\.', '', request.args['n'])\nopen('/d/' + name)\n",
        "n = request.args['n']\nif '.' in n:\n    return 'no'\nopen('/d/' + n)\n",
    ],
)
def test_a_dot_free_value_cannot_climb(code: str) -> None:
    assert "path_traversal" not in proven(run(handler(code)))


@pytest.mark.parametrize(
    "code",
    [
        "ext = request.args['e'].replace('.', '_.')\nopen(f'/data/original.{ext}')\n",
        "ext = request.args['e'].replace('-', '')\nopen(f'/data/original.{ext}')\n",
        "import re\nname = re.sub(r'[^a-z./]', '', request.args['n'])\nopen('/d/' + name)\n",
        "import re\nname = re.sub(r'\\.', '.', request.args['n'])\nopen('/d/' + name)\n",
    ],
)
def test_a_stripping_that_keeps_the_dot_proves_nothing(code: str) -> None:
    assert "path_traversal" in proven(run(handler(code)))
