"""Across files: resolve ``call`` labels with the callees' summaries (``flowfacts`` makes the
``Flow`` facts of what this resolves).

A label ``call helpers.utils.get_param(0: request.args)`` becomes what that function returns
given its arguments: the request labels when it returns its parameter, nothing when it
returns a constant, the arguments' labels when the callee is not the repository's (an
unknown function is assumed to pass its input through). Methods of objects a repository
class built read ``self.<attr>`` from that class's ``__init__``; a field read of a JS
function's result or parameter resolves that field only (``returned_field``,
``param_field``). A Python method reached through ``self`` (or a typed parameter) is
found through the class's bases (``pyhier``); a call into the repository's own code that
cannot be resolved passes its input through marked ``unknown``: its flows are not proof.
Calls are also checked for parameter -> sink: a request value passed to a function that
runs it reaches that sink.
Resolution depth is bounded (``MAX_DEPTH``) and recursion is cut; a repository function
past the bound passes its input through marked ``unknown`` too (not followed, not proof).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from threatmodel.dataflow.checks import CHECKS, param_named
from threatmodel.dataflow.encode import read_table
from threatmodel.dataflow.pyclass import SELF
from threatmodel.dataflow.pyhier import Hierarchy
from threatmodel.dataflow.pyroots import Roots, localized
from threatmodel.dataflow.sandbox import WHY, sandboxed
from threatmodel.dataflow.signature import signature
from threatmodel.dataflow.values import ATTR, LOOKUP, Label, attr_read, distinct, paths_hash

MAX_DEPTH = 5
# Calls followed with their caller's arguments bound, per link. Following every call path is
# exponential in the depth bound on a dense call graph: open-webui scanned from its
# ``backend/`` folder, where every import resolves, held over 8 GB before link ended (the
# largest app otherwise, open-webui from its root, needs 125k; saleor 1.4k, polar 12k).
# Past the bound a call of the repository's code passes its input on unread, as past
# MAX_DEPTH: a flow through it is no proof, and ``flows`` says the bound was met.
MAX_EXPANSIONS = 150_000
CONCRETE = frozenset({"request", "database", "config", "random", "pattern"})
Bind = Mapping[str, frozenset[Label]]
NONE: list[Any] = []  # a part a summary leaves out when empty (never written to)
HitRow = tuple[str, int, str, str, frozenset[Label], tuple[int, ...]]


class Bound(dict[str, frozenset[Label]]):
    """A callee's parameters bound to what the caller passed (resolved), with the
    arguments as the caller wrote them (``raw``) and where they resolve (``outer``,
    ``depth``): a field of a parameter resolves only that field of the argument."""

    def __init__(self, outer: Bind | None, depth: int) -> None:
        super().__init__()
        self.raw: dict[str, frozenset[Label]] = {}
        # (parameter, field) -> that field of an object literal passed; field "": its spreads
        self.fields: dict[tuple[str, str], frozenset[Label]] = {}
        self.outer = outer
        self.depth = depth


def module_name(path: str) -> str:
    mod = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    return mod.removeprefix("src.")


class Linker:
    def __init__(
        self,
        extracts: Mapping[str, Any],
        aliases: Mapping[str, str] | None = None,
        files: Iterable[str] | None = None,
    ) -> None:
        self.modules = frozenset(module_name(p) for p in extracts if p.endswith(".py"))
        # ``utilities.x`` of ``netbox/utilities/x.py``; a package's ``from .x import *``
        stars = {module_name(p): d["stars"] for p, d in extracts.items() if d.get("stars")}
        every = {module_name(p) for p in files or () if p.endswith(".py")}
        packages = {module_name(p) for p in files or () if p.endswith("/__init__.py")}
        self.roots = Roots(self.modules | every, stars, packages)
        if self.roots.shared:  # two apps side by side: each file's imports of its own
            extracts = {
                p: localized(d, module_name(p), self.roots) if p.endswith(".py") else d
                for p, d in extracts.items()
            }
        self.summaries: dict[str, tuple[str, dict[str, Any]]] = {}
        self._rows: dict[str, list[list[Any]]] = {}
        for path, data in extracts.items():
            self._rows[path] = data["labels"]
            for qual, summ in data["summaries"].items():
                self.summaries[qual] = (path, summ)
        # other names a function is called by (JS ``@/`` imports, Python re-exports)
        self.aliases = dict(aliases or {})
        for data in extracts.values():
            for name, target in (data.get("imports") or {}).items():
                self.aliases.setdefault(name, target)
        # Python methods through ``self``
        self.classes = Hierarchy(extracts, self.summaries, self.roots.candidates)
        self.instances = {
            k: v for d in extracts.values() for k, v in d.get("instances", {}).items()
        }
        self.js_modules = frozenset(
            str(d["module"]) for p, d in extracts.items() if not p.endswith(".py") and "module" in d
        )
        self._js_tails: dict[str, str | None] | None = None  # ``js_tails``, made once asked
        self._tables: dict[str, list[Label]] = {}
        self._decoded: dict[int, frozenset[Label]] = {}
        self._results: dict[tuple[Label, int, int], frozenset[Label]] = {}
        # resolve() of (a label set's id, its binding's id, depth): a set of labels is the
        # argument of many calls of one value's history, and walked again each time the
        # work grew exponentially with a function's length (minutes on a 6,500-line module)
        self._resolved: dict[tuple[object, ...], tuple[object, frozenset[Label]]]
        self._resolved = {}
        self._canon: dict[str, str] = {}  # canonical(): saleor asks 52k times, of 7k names
        self._reaching = self._reaching_sinks()
        self.expansions = 0  # calls followed with a bound caller
        self.max_expansions = MAX_EXPANSIONS

    def cut_short(self) -> bool:
        """Did this link meet its bound on calls followed (``MAX_EXPANSIONS``)?"""
        return self.expansions > self.max_expansions

    def _reaching_sinks(self) -> set[str]:
        """Functions through which an argument can reach a sink: a hit of theirs reads a
        parameter (or ``self``), or they call such a function. A call to any other
        function is never followed for parameter -> sink (it would find nothing), which
        spares most of link's work: most calls lead nowhere near a sink."""
        callers: dict[str, list[str]] = {}
        todo: list[str] = []
        for qual, (path, summ) in self.summaries.items():
            rows = self._rows[path]
            for call in summ.get("calls", NONE):
                callers.setdefault(self.canonical(call[0]), []).append(qual)
            hits = summ.get("hits", NONE)
            if any(rows[i][0] in ("param", "self") for h in hits for i in h[3]) or any(
                self.param_like(x)
                for h in hits
                for x in self.labels(h[3], path)
                if x.kind == "call"
            ):
                todo.append(qual)
        found = set(todo)
        while todo:
            for caller in callers.get(todo.pop(), ()):
                if caller not in found:
                    found.add(caller)
                    todo.append(caller)
        return found

    def canonical(self, qual: str) -> str:
        """The name of the function ``qual`` calls, as its summary is keyed (imported from
        below the repository's root: as the file names it, ``pyroots``)."""
        known = self._canon.get(qual)
        if known is not None:
            return known
        got = self._canonical(qual)
        if got not in self.summaries:
            for other in self.roots.candidates(got):
                there = self._canonical(other)
                if there in self.summaries:
                    got = there
                    break
        self._canon[qual] = got
        return got

    def _canonical(self, qual: str) -> str:
        for _ in range(4):  # a name re-exported by a package's ``__init__``, and again
            if qual in self.summaries or qual not in self.aliases:
                break
            qual = self.aliases[qual]
        if qual in self.summaries:
            return qual
        return self.classes.resolve(qual) or self._instance_method(qual) or qual

    def _instance_method(self, qual: str) -> str | None:
        """``obj.m`` where ``obj`` is a module variable a repository class built (``Users =
        UsersTable()``, imported and called elsewhere): the method that class finds
        through its bases. The object's class is known exactly, so a subclass's override
        does not matter; a method the class inherits from a library is not found (its
        call passes its input through, as any library call)."""
        receiver, _, name = qual.rpartition(".")
        for _ in range(4):  # the variable re-exported by a package's ``__init__``
            if receiver in self.instances or receiver not in self.aliases:
                break
            receiver = self.aliases[receiver]
        cls = self.instances.get(receiver)
        return self.classes.defined(cls, name) if cls in self.classes.classes else None

    def find(self, qual: str) -> tuple[str, dict[str, Any]] | None:
        return self.summaries.get(self.canonical(qual))

    def labels(self, ids: list[int], path: str) -> frozenset[Label]:
        """The labels a summary names by row (``encode``); each file's table is read
        once, and each list of rows once: summaries are read again for every call."""
        got = self._decoded.get(id(ids))
        if got is None:
            table = self._tables.get(path)
            if table is None:
                table = self._tables[path] = read_table(self._rows[path], path)
            got = self._decoded[id(ids)] = frozenset(table[i] for i in ids)
        return got

    def resolve(self, labels: frozenset[Label], bind: Bind | None, depth: int) -> frozenset[Label]:
        # By the set and its paths (equal sets may hold labels that came along different
        # paths: ``Label`` equality leaves the path out, and the answer keeps each label's)
        # and by the binding's id, the binding kept so that its id is not reused.
        key = (labels, paths_hash(labels), id(bind), depth)
        known = self._resolved.get(key)
        if known is not None and known[0] is bind:
            return known[1]
        got = self._resolve(labels, bind, depth)
        self._resolved[key] = (bind, got)
        return got

    def _resolve(self, labels: frozenset[Label], bind: Bind | None, depth: int) -> frozenset[Label]:
        out: list[Label] = []
        for lab in labels:
            if lab.kind in CONCRETE:
                out.append(lab)
            elif lab.kind == "param" and ATTR in lab.origin:
                for got in self.param_field(lab, bind):
                    out.append(_through(got, lab))
            elif lab.kind in ("param", "self"):
                key = lab.origin if lab.kind == "param" else f"self.{lab.origin}"
                for got in (bind or {}).get(key, ()):
                    out.append(_through(got, lab))
            elif lab.kind == "call":
                for got in self.call_result(lab, bind, depth + 1):
                    out.append(_through(got, lab))
        return distinct(out)

    def param_field(self, lab: Label, bind: Bind | None) -> frozenset[Label]:
        """A field of a parameter (JS ``opts.cmd``, ``{ cmd } = opts``): that field of
        the argument as the caller wrote it, when the caller's call is known; else the
        whole argument."""
        base, _, name = lab.origin.partition(ATTR)
        if isinstance(bind, Bound) and (base, "") in bind.fields:  # an object literal
            picked = bind.fields.get((base, name))
            if picked is None:  # a field it does not name: its spreads' field
                picked = frozenset(attr_read(x, name, x.line) for x in bind.fields[(base, "")])
            return self.resolve(picked, bind.outer, bind.depth)
        if isinstance(bind, Bound) and base in bind.raw:
            picked = frozenset(attr_read(x, name, x.line) for x in bind.raw[base])
            return self.resolve(picked, bind.outer, bind.depth)
        return (bind or {}).get(base, frozenset())

    def bindings(self, lab: Label, summ: dict[str, Any], bind: Bind | None, depth: int) -> Bound:
        sig = signature(summ.get("params", NONE))
        out = Bound(bind, depth)
        for key, raw in lab.args:
            if key == "self":
                continue
            if ATTR in key:  # one field of an object literal passed (JS: ``repo_call``)
                index, _, field = key.partition(ATTR)
                if index.isdigit():
                    out.fields[(sig.bind(index), field)] = raw
                continue
            name = sig.bind(key)  # ``*args`` / ``**kw`` gather what no parameter names
            out[name] = out.get(name, frozenset()) | self.resolve(raw, bind, depth)
            out.raw[name] = out.raw.get(name, frozenset()) | raw
        selfs = dict(lab.args).get("self", frozenset())
        rest = lab.origin.partition(SELF)[2]
        if rest and "." not in rest and bind:  # ``self.m()``: the caller's ``self`` is m's
            out.update({k: v for k, v in bind.items() if k.startswith("self.")})
        for ctor in selfs:
            init = self.find(f"{ctor.origin}.__init__") if ctor.kind == "call" else None
            if init is None:
                continue
            ipath, isumm = init
            ibind = self.bindings(ctor, isumm, bind, depth)
            for attr, raw_attr in isumm.get("attrs", {}).items():
                out[f"self.{attr}"] = self.resolve(self.labels(raw_attr, ipath), ibind, depth + 1)
        return out

    def call_result(self, lab: Label, bind: Bind | None, depth: int) -> frozenset[Label]:
        if bind is None:  # the same call label is met from many places: resolve it once
            # with its paths: an equal label may have come along another path, and its
            # arguments' labels too
            key = (lab, lab.path_hash(), depth)
            got = self._results.get(key)
            if got is None:
                got = self._results[key] = self._call_result(lab, None, depth)
            return got
        return self._call_result(lab, bind, depth)

    def _call_result(self, lab: Label, bind: Bind | None, depth: int) -> frozenset[Label]:
        if ATTR in lab.origin:
            return self.attribute(lab, bind, depth)
        qual, checks, key = lab.origin.rpartition(CHECKS)
        if checks and "." not in key:
            return self.checked(qual, key, lab, bind, depth)
        if bind is not None:
            self.expansions += 1
        deep = depth > MAX_DEPTH or self.expansions > self.max_expansions
        found = self.find(lab.origin)
        if found is None and not deep:
            each = self.classes.implementations(self.canonical(lab.origin))
            if each:
                return self.any_of(each, lab, bind, depth)
            each = self.classes.made_by(lab.origin)
            if each:
                return self.any_of(each, lab, bind, depth, registry=True)
        if found is None and self.stored_lookup(self.canonical(lab.origin)):
            return frozenset()
        if found is None or deep:
            # not the repository's function (or too deep): its result carries its inputs
            out: list[Label] = []
            for _, raw in lab.args:
                out += self.resolve(raw, bind, depth)
            callee = self.canonical(lab.origin)
            if out and (found is not None or self.unresolved(callee)):
                # the repository's own code, unread (or past the depth bound): what it does
                # with them is unknown, so a flow through it is no proof
                short = lab.origin.replace(SELF, ".")
                out = [x.through_unknown(short) for x in out]
            return distinct(out)
        path, summ = found
        inner = self.bindings(lab, summ, bind, depth)
        return self.resolve(self.labels(summ.get("ret", NONE), path), inner, depth)

    def any_of(
        self,
        quals: list[str],
        lab: Label,
        bind: Bind | None,
        depth: int,
        registry: bool = False,
    ) -> frozenset[Label]:
        """A method subclasses override (``pyhier.implementations``), or the methods of
        that name a registry's classes define (``registry``, ``made_by``): what any of
        them returns, each through its own checks, marked as resting on a call whose
        function the object's class decides (not proof). Of a registry's classes, a value
        every one returns alike comes out whichever is picked, and stays proof; an
        override may come from a class the repository does not define, so there none is."""
        short = lab.origin.replace(SELF, ".")
        each: list[frozenset[Label]] = []
        for qual in quals:
            path, summ = self.summaries[qual]
            inner = self.bindings(lab, summ, bind, depth)
            each.append(self.resolve(self.labels(summ.get("ret", NONE), path), inner, depth))
        alike = frozenset.intersection(*each) if registry and each else frozenset()
        return distinct(x if x in alike else x.through_unknown(short) for got in each for x in got)

    def unresolved(self, callee: str) -> bool:
        """Is ``callee``, which no summary answers, the repository's own code (its flows are
        not proof)? Python: ``pyhier``'s rule. JavaScript: a function a file of the repository
        exports by that name (``./lib/x.f``, the file read), not a method of something it
        exports (``./lib/x.db.query``: maybe a package's object)."""
        if self.classes.unresolved(callee, self.modules):
            return True
        rest = self.js_export(callee)
        return rest is not None and "." not in rest

    def stored_lookup(self, callee: str) -> bool:
        """Is ``callee``, which no summary answers, a lookup (``LOOKUP``: ``get``,
        ``find*``, ``fetch`` ...) on an object a JS file of the repository exports
        (``export const redis = new Redis()``, ``export default { client }``)? It returns
        what is stored under its key, not the key, as a package's lookup the engine reads
        in place does (``jsexpr``)."""
        rest = self.js_export(callee, rooted=True)
        return rest is not None and "." in rest and bool(LOOKUP.match(rest.rpartition(".")[2]))

    def js_export(self, callee: str, rooted: bool = False) -> str | None:
        """What ``callee`` names in the JS file of the repository it starts with (``f`` of
        ``./lib/x.f``, ``db.query`` of ``./lib/x.db.query``), or None. ``rooted``: a
        tsconfig root alias (``@/lib/x.db.query``) names the one file whose path ends so."""
        if callee.startswith("./"):
            start, owner = 2, (lambda head: head in self.js_modules)
        elif rooted and callee.startswith(("@/", "~/")):
            start, owner = 3, (lambda head: self.js_tails().get(head[2:]) is not None)
        else:
            return None
        end = len(callee)
        while (end := callee.rfind(".", 0, end)) >= start:  # a file name may hold dots
            if owner(callee[:end]):
                return callee[end + 1 :]
        return None

    def js_tails(self) -> dict[str, str | None]:
        """Each JS module's path tails (``lib/x`` of ``./apps/web/lib/x``) -> the module, or
        None where two modules share the tail (a monorepo's apps: no guess)."""
        if self._js_tails is None:
            tails: dict[str, str | None] = {}
            for mod in self.js_modules:
                parts = mod.removeprefix("./").split("/")
                for i in range(len(parts)):
                    tail = "/".join(parts[i:])
                    tails[tail] = mod if tails.get(tail, mod) == mod else None
            self._js_tails = tails
        return self._js_tails

    def checked(
        self, qual: str, key: str, lab: Label, bind: Bind | None, depth: int
    ) -> frozenset[Label]:
        """An argument after ``qual`` checked it (``dataflow.checks``): safe for the kinds
        the callee's guards prove on every way out, else as it was."""
        out: list[Label] = []
        for _, raw in lab.args:
            out += self.resolve(raw, bind, depth)
        kinds = self.check_kinds(qual, key, depth)
        if not kinds:
            return distinct(out)
        short = qual.rsplit(".", 1)[-1]
        return distinct(x.sanitized(kinds, f"{short}()") for x in out)

    def check_kinds(self, qual: str, key: str, depth: int) -> frozenset[str]:
        """The kinds ``qual``'s checks prove of its argument ``key``, through the validators
        it hands the argument to (bounded like every resolution)."""
        found = self.find(qual)
        if found is None or depth > MAX_DEPTH:
            return frozenset()
        summ = found[1]
        name = param_named(summ, key)
        kinds = frozenset(summ.get("checks", {}).get(name, ()))
        via = summ.get("checked_by", {}).get(name)
        if via:
            inner, _, inner_key = via.rpartition(CHECKS)
            kinds |= self.check_kinds(inner, inner_key, depth + 1)
        return kinds

    def attribute(self, lab: Label, bind: Bind | None, depth: int) -> frozenset[Label]:
        """``obj.name`` of an object built by ``Class(...)``: what ``__init__`` stored as
        ``self.name``, given the constructor's arguments; anything else (a class attribute,
        a property, an unknown class) carries whatever the object was built from."""
        name = lab.origin.rpartition(ATTR)[2]
        out: list[Label] = []
        for ctor in dict(lab.args).get("self", frozenset()):
            init = self.find(f"{ctor.origin}.__init__") if ctor.kind == "call" else None
            attrs = init[1].get("attrs", {}) if init is not None else {}
            field = self.returned_field(ctor, name, bind, depth) if init is None else None
            if field is not None:
                out += field
                continue
            if init is None or name not in attrs or depth > MAX_DEPTH:
                out += self.resolve(frozenset({ctor}), bind, depth)
                continue
            ipath, isumm = init
            ibind = self.bindings(ctor, isumm, bind, depth)
            out += self.resolve(self.labels(attrs[name], ipath), ibind, depth + 1)
        return distinct(out)

    def returned_field(
        self, ctor: Label, name: str, bind: Bind | None, depth: int
    ) -> frozenset[Label] | None:
        """``f(x).name`` for a JS function ``f``: the returned objects' ``name`` (``assign.
        fields``), and that field of what they spread or of what ``f`` returns as it is
        (another call's result, a parameter). None when ``f`` is not a JS function known
        here (Python keeps reading ``__init__``'s attributes, else the whole object)."""
        found = self.find(ctor.origin) if ctor.kind == "call" else None
        if found is None or found[0].endswith(".py") or depth > MAX_DEPTH:
            return None
        path, summ = found
        if "fields" in summ:
            named = self.labels(summ["fields"].get(name, NONE), path)
            pushed = self.labels(summ.get("spread", NONE), path)
            kept = self.labels(summ.get("whole", NONE), path)
        else:
            named, pushed, kept = frozenset(), self.labels(summ.get("ret", NONE), path), frozenset()
        picked = named | kept | frozenset(attr_read(x, name, x.line) for x in pushed)
        inner = self.bindings(ctor, summ, bind, depth)
        # one level, as for the call itself (``attribute`` is already a level down)
        return frozenset(_through(x, ctor) for x in self.resolve(picked, inner, depth))

    def hits(self) -> list[HitRow]:
        """(kind, line, callee, path, concrete labels) for every sink met, through calls."""
        out: list[HitRow] = []
        for _qual, (path, summ) in self.summaries.items():
            for kind, line, callee, raw, note, lines in map(_hit, summ.get("hits", NONE)):
                raw_labels = self.labels(raw, path)
                if self.sandboxed(kind, callee, path):
                    out.append(
                        (kind, line, callee + note_sep(WHY), path, frozenset(), tuple(lines))
                    )
                    continue
                got = self.resolve(raw_labels, None, 0)
                if got or not raw_labels:
                    out.append((kind, line, callee + note_sep(note), path, got, tuple(lines)))
                elif all(self.returns_constant(x) for x in raw_labels):
                    # the value is what repository functions return, and they return only
                    # constants: a constant sink (refutes a claim there), not no sink at all
                    names = ", ".join(sorted({x.origin.rsplit(".", 1)[-1] for x in raw_labels}))
                    why = note_sep(note or f"{names}() returns a constant")
                    out.append((kind, line, callee + why, path, frozenset(), tuple(lines)))
            for qual, _line, raw_args in summ.get("calls", NONE):
                if qual not in self._reaching:
                    continue
                args = tuple((k, self.labels(v, path)) for k, v in raw_args)
                out += self.param_sinks(qual, args, None, 0, set())
        return out

    def sandboxed(self, kind: str, callee: str, path: str) -> bool:
        """A template compiled by a sandboxed Jinja environment (``sandbox.py``)."""
        return kind == "template_injection" and sandboxed(
            callee, module_name(path), self.instances, self.classes.classes, self.roots.candidates
        )

    def returns_constant(self, lab: Label) -> bool:
        """``lab`` is a call of a repository function whose every return is a constant
        (its summary returns no label), whatever its arguments; not a generator, whose
        result is what it yields (the engine reads returns only)."""
        if lab.kind != "call" or ATTR in lab.origin or CHECKS in lab.origin:
            return False
        found = self.find(lab.origin)
        return found is not None and not found[1].get("ret") and not found[1].get("gen")

    def param_sinks(
        self,
        qual: str,
        args: tuple[tuple[str, frozenset[Label]], ...],
        bind: Bind | None,
        depth: int,
        seen: set[str],
    ) -> list[HitRow]:
        found = self.find(qual)
        if found is None or depth > MAX_DEPTH or qual in seen:
            return []
        path, summ = found
        inner = self.bindings(Label("call", qual, 0, args=args), summ, bind, depth)
        if not any(inner.values()):
            return []
        out = []
        for kind, line, callee, raw, _note, lines in map(_hit, summ.get("hits", NONE)):
            labels = frozenset(x for x in self.labels(raw, path) if self.param_like(x))
            if not labels or self.sandboxed(kind, callee, path):
                continue  # a sandboxed render is reported safe where it is (``hits``)
            via_params = self.resolve(labels, inner, depth)
            if via_params:
                out.append((kind, line, callee, path, via_params, tuple(lines)))
        for cqual, _line, raw_args in summ.get("calls", NONE):
            if cqual not in self._reaching:
                continue
            cargs = tuple((k, self.labels(v, path)) for k, v in raw_args)
            out += self.param_sinks(cqual, cargs, inner, depth + 1, seen | {qual})
        return out

    def param_like(self, lab: Label, depth: int = 0) -> bool:
        """A parameter (or ``self``), or one as a callee's checks left it (``#checks:``),
        or (JS) one passed to a function no summary answers: the JS engine leaves a call
        through a bare import to link (``jsimports``), and a library's function passes its
        arguments through (``_call_result``), as the engine's own fallback did."""
        if lab.kind in ("param", "self"):
            return True
        if lab.kind != "call" or depth > MAX_DEPTH:
            return False
        if CHECKS not in lab.origin and (lab.path.endswith(".py") or self.find(lab.origin)):
            return False
        return any(self.param_like(x, depth + 1) for _, raw in lab.args for x in raw)


NOTE = " | "


def _hit(row: list[Any]) -> tuple[str, int, str, list[int], str, list[int]]:
    """A hit row (``frame.Hit.to_json``) with its left-out note and lines put back."""
    kind, line, callee, ids, *rest = row
    return kind, line, callee, ids, rest[0] if rest else "", rest[1] if len(rest) > 1 else []


def note_sep(note: str) -> str:
    return f"{NOTE}{note}" if note else ""


def _through(got: Label, via: Label) -> Label:
    """``got`` as it comes out of ``via`` (a parameter / call): sanitizers on the way apply."""
    if not via.safe and not via.steps:
        return got
    out = got
    for name in via.via:
        out = out.sanitized(via.safe, name)
    if via.safe and not via.via:
        out = out.sanitized(via.safe, "sanitizer")
    for line in via.steps:  # lines of via's file, which may not be got's
        out = out.step_in(via.path, line)
    return out
