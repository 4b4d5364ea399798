"""The per-file pause of the cyclic garbage collector (collect/_run.py) and the release of
the last module walk (code/pyast.py): the GC state is restored, the tree is let go."""

from __future__ import annotations

import ast
import gc
import weakref

from threatmodel.code import pyast
from threatmodel.collect._run import _extract_one, gc_paused
from threatmodel.collect.registry import all_collectors


def test_pause_restores_an_enabled_collector_even_on_error() -> None:
    assert gc.isenabled()
    try:
        with gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("a collector's bug")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_file_tree_is_released_when_the_file_is_done() -> None:
    tree = ast.parse("def f(request):\n    return request.args['x']\n")
    pyast.tree_nodes(tree)
    assert pyast.has_tree_nodes(tree)
    ref = weakref.ref(tree)
    pyast.forget_tree()
    assert not pyast.has_tree_nodes(tree)
    del tree
    assert ref() is None  # nothing else held it: it died by reference counting


def test_extract_one_releases_the_walk_and_keeps_gc_on() -> None:
    text = b"from flask import Flask, request\napp = Flask(__name__)\n\n"
    text += b"@app.route('/x')\ndef x():\n    return request.args['q']\n"
    collectors = [c for c in all_collectors() if c.wants("app.py", "python")]
    payload = _extract_one("app.py", text, collectors)
    assert "pyweb\t" in payload  # the route's file was read
    assert gc.isenabled()
    assert pyast._last_tree == [None, None]
