"""``shallow``: call labels nested deeper than ``NESTING`` pass their inputs through; a set
with nothing to cut is returned as it is (no new set is built for most values)."""

from __future__ import annotations

from threatmodel.dataflow.pycall import NESTING, shallow
from threatmodel.dataflow.values import Label


def _nest(depth: int) -> Label:
    lab = Label("request", "request.args", 1)
    for i in range(depth):
        lab = Label("call", f"m.f{i}", 2 + i, args=(("0", frozenset({lab})),))
    return lab


def test_a_set_without_deep_calls_is_kept_as_it_is() -> None:
    plain = frozenset({Label("param", "x", 1), Label("request", "request.args", 2)})
    assert shallow(plain) is plain
    within = frozenset({_nest(NESTING)})
    assert shallow(within) is within


def test_calls_deeper_than_nesting_pass_their_inputs() -> None:
    deep = _nest(NESTING + 2)
    out = shallow(frozenset({deep}))
    assert out != frozenset({deep})
    chain, lab = [], next(iter(out))
    while lab.kind == "call":
        chain.append(lab.origin)
        ((_, inner),) = lab.args
        (lab,) = inner
    assert lab.origin == "request.args"
    assert chain == [f"m.f{i}" for i in range(NESTING + 1, 1, -1)]  # the outer NESTING kept


def _arg(lab: Label) -> frozenset[Label]:
    return dict(lab.args)["0"]


def test_equal_sets_that_came_along_different_paths_keep_their_own() -> None:
    """Two arguments equal but for the lines their value went through (``Label`` equality
    leaves the path out): the memo that cuts each set once must not hand one the other's
    path, or the steps a report shows depend on which was met first (set order)."""
    deep = _nest(NESTING + 1)  # deep enough that each argument is cut, not kept as it is
    via5 = frozenset({Label("call", "m.h", 4, args=(("0", frozenset({deep})),), steps=(5,))})
    via7 = frozenset({Label("call", "m.h", 4, args=(("0", frozenset({deep})),), steps=(7,))})
    assert via5 == via7
    top = frozenset(
        {
            Label("call", "m.f", 10, args=(("0", via5),)),
            Label("call", "m.g", 11, args=(("0", via7),)),
        }
    )
    out = {lab.origin: lab for lab in shallow(top)}
    assert [x.steps for x in _arg(out["m.f"])] == [(5,)]
    assert [x.steps for x in _arg(out["m.g"])] == [(7,)]
