"""The shape of one claim kind's registry entry: its spec and its catalog rows, as data.

A kind lives in ``threatmodel/claims/<kind>/__init__.py`` as one ``SPEC``. Catalog rows say
which calls are sinks for the kind (callee, dangerous argument, condition), which calls
sanitize a value for it, and which membership tests in an exiting ``if`` guard it; the
dataflow engine reads them, nothing else decides what a sink is. Adding a sink is one row,
adding a kind is one folder.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SinkRow:
    """``callee`` is a dotted name as imports resolve it (``subprocess.run``), or
    ``.method`` for a method of any receiver (``.execute``). ``arg`` / ``kw`` name the
    dangerous argument by position and by keyword: the position when the call passes it,
    else the keyword (``arg=None``: by keyword only; ``arg=-1``: every argument). ``when``
    names a condition the engine evaluates at the call (``dataflow.conditions``): the call
    is a sink only when it holds.
    ``whole``: only a value tainted as a whole counts (a dict whose values are tainted is a
    normal query document, a tainted document is an injection).
    ``at``: what the row names. ``call`` (a call or ``new``), ``key`` (JS: the key of an
    object literal, whose value is the dangerous one: ``{$where: code}``) or ``assign`` (JS:
    a property assigned, ``.innerHTML = html``).
    ``fact``: the ``Sink`` fact kind (``facts.sinks``) a match is listed as, when not its
    kind's ``sink_fact`` (an HTML writer of the DOM is a "template" sink of an xss kind).
    ``shown``: the name a match is reported by, when not ``callee`` (a key's JSX attribute).
    ``modules``: a ``.method`` row matches a call on a receiver imported from a package only
    when the package is one of these (``z.literal`` of ``zod`` is no Sequelize literal).
    ``stored``: a stored value (read back from the database or the app's own API) reaching
    the sink is worth a review too: it may hold what another user saved (a second-order
    attack), and the sink runs or trusts it whole (code, HTML with escaping switched off).
    ``below``: the call is a sink only in the package's versions before this one, where a
    published flaw was fixed (``mathjs.eval`` ran code until 3.17.0): the app's manifest must
    pin an older version (``collect/flows_js.py``)."""

    callee: str
    arg: int | None = 0
    kw: str | None = None
    when: str = ""
    whole: bool = False
    language: str = "python"
    at: str = "call"
    fact: str = ""
    shown: str = ""
    modules: tuple[str, ...] = ()
    stored: bool = False
    below: str = ""


def js(
    callee: str,
    arg: int | None = 0,
    when: str = "",
    whole: bool = False,
    *,
    at: str = "call",
    fact: str = "",
    shown: str = "",
    modules: tuple[str, ...] = (),
    stored: bool = False,
    below: str = "",
) -> SinkRow:
    """A JavaScript / TypeScript row (``callee`` as ``require`` / ESM imports resolve it,
    ``node:`` dropped; ``.method`` for any receiver)."""
    return SinkRow(
        callee,
        arg=arg,
        when=when,
        whole=whole,
        language="javascript",
        at=at,
        fact=fact,
        shown=shown,
        modules=modules,
        stored=stored,
        below=below,
    )


@dataclass(frozen=True)
class KindSpec:
    """What a claim kind means, how it is reported, and its catalog."""

    kind: str
    title: str  # short noun phrase for reports
    meaning: str  # what the claim asserts, for the LLM's vocabulary
    params: str  # which claim parameters matter
    cwe: tuple[str, ...]
    stride: tuple[str, ...]  # Stride values
    severity: str  # Severity value of a confirmed finding
    help: str  # report / SARIF help text: why it matters and the fix
    taint: bool = True  # checked by request -> sink flows (else by a pattern predicate)
    sinks: tuple[SinkRow, ...] = ()
    sanitizers: tuple[str, ...] = ()  # callees (dotted or ``.method``) whose result is safe
    guard_needles: tuple[str, ...] = ()  # ``if "<needle>" in x: return`` makes x safe
    # ... only once every needle is known absent (a shell: with ``;`` gone, ``|``, ``$()``,
    # backticks and newlines still start a command), not any one of them
    guard_needs_all: bool = False
    prefix_guard: bool = False  # ``if not x.startswith(...): return`` makes x safe
    # the ``Sink`` fact kind (``facts.sinks``: sql, command, eval, deserialize, http_request,
    # redirect, template, file) a call its rows match is listed as ("" not listed; a row's
    # ``fact`` overrides it)
    sink_fact: str = ""

    def fact_of(self, row: SinkRow) -> str:
        """The ``Sink`` fact kind a match of ``row`` is listed as ("" none)."""
        return row.fact or self.sink_fact
