"""Conditions: what a test being true or false proves about the values it reads.

``refine(test, f, truth)`` is called for the body of ``if test`` (true), its ``else``
(false), the code after an ``if`` whose body always leaves (false), the arms of ``a if test
else b``, ``while`` bodies, ``assert`` and comprehension filters. Every spelling of one fact
gives the same fact: ``not``, ``and`` / ``or`` (De Morgan), ``in`` / ``not in`` either way
round, ``x.find(c) == -1`` / ``x.count(c) == 0`` / ``x.__contains__(c)``, ``==`` / ``!=``
with the constant on either side, chained comparisons. The facts:

- ``c not in x`` (any spelling): ``x`` is safe for the kinds a catalog guard character
  ``c`` protects (``'..' not in name`` for path traversal, ``"'" not in q`` for SQL); a
  kind that needs all its characters gone (a shell command) only once each was tested;
- ``x in (constants)`` / ``x == constant``: ``x`` is one of known constants (``==``: it
  *is* that constant, so later tests on it fold); ``x in pool`` where the pool holds no
  caller input (a folder listing, rows read, a lookup called with no argument) is an
  allow-list too;
- ``x.isdigit()`` and the other character classes, ``isinstance(x, int)``: safe for every
  injection kind; ``x.startswith('/base/')``: safe for the prefix-guarded kinds;
- a catalog sanitizer used as a predicate (``url_has_allowed_host_and_scheme(u)``) makes
  its argument safe for its kinds when true;
- ``x.startswith(q)``, ``x.endswith(q)`` and ``q not in x[1:-1]`` for a quote ``q``
  together: ``x`` is a plain string literal, which ``eval`` reads as data;
- ``re.fullmatch`` (or an anchored ``re.match`` / ``re.search``) of one character class:
  ``x`` holds only those characters (``regex.py``).
"""

from __future__ import annotations

import ast

from threatmodel.dataflow import browserless, regex
from threatmodel.dataflow.assign import join_env
from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, dotted, qualify, reread_key
from threatmodel.dataflow.values import Label, Value, const, distinct, request_object

HOST_PARTS = frozenset({"netloc", "hostname"})  # of a parsed URL (``urllib.parse``)
CHAR_CLASS = frozenset({"isdigit", "isnumeric", "isdecimal", "isalnum", "isalpha", "isidentifier"})
NUMBER_TYPES = frozenset({"int", "float", "bool", "complex", "decimal.Decimal", "uuid.UUID"})
_FLIP = {ast.NotIn: ast.In, ast.NotEq: ast.Eq, ast.IsNot: ast.Is}
# ``x.find(c)`` is -1 exactly when c is absent; ``x.count(c)`` is 0 exactly then.
_ABSENT = {"find": -1, "rfind": -1, "count": 0}


class CondMixin(EngineBase):
    def refine(self, test: ast.expr, f: Frame, truth: bool) -> None:
        """Record what ``test`` evaluating to ``truth`` proves."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self.refine(test.operand, f, not truth)
        elif isinstance(test, ast.BoolOp):
            # true ``a and b``: every part is true; false ``a or b``: every part is false
            if isinstance(test.op, ast.And) == truth:
                for v in test.values:
                    self.refine(v, f, truth)
            else:
                self.either(test.values, f, truth)
        elif isinstance(test, ast.NamedExpr):
            self.refine(test.value, f, truth)
        elif isinstance(test, ast.Name) and truth:
            self.apply_split(test.id, f)  # a search loop's result is set (``splits``)
        elif isinstance(test, ast.Attribute) and truth:
            asked = browserless.is_json_test(test)
            if asked is not None and request_object(self.expr(asked, f)):
                browserless.hold(f)
        elif isinstance(test, ast.Compare):
            if len(test.ops) == 1:
                self.compare_fact(test.left, test.ops[0], test.comparators[0], f, truth)
            elif truth:  # a < b < c: every link holds
                left = test.left
                for op, right in zip(test.ops, test.comparators, strict=False):
                    self.compare_fact(left, op, right, f, True)
                    left = right
        elif isinstance(test, ast.Call):
            self.call_fact(test, f, truth)
        self.literal_check(f)

    def content_type_fact(self, left: ast.expr, right: ast.expr, f: Frame) -> None:
        """``request.content_type == "application/json"`` (either way round) is true: the
        request is none a cross-site page can send (``browserless``)."""
        for probe, other in ((left, right), (right, left)):
            asked = browserless.content_type_of(probe)
            if asked is None or not browserless.not_simple(_literal(other)):
                continue
            if request_object(self.expr(asked, f)):
                browserless.hold(f)
                return

    def either(self, parts: list[ast.expr], f: Frame, truth: bool) -> None:
        """True ``a or b`` (false ``a and b``): some part has ``truth``, so what every part
        proves alone holds. Each part refines its own copy of the names, and the copies
        meet as two branches do (``join_env``: a value safe in one and not in the other is
        not safe), so ``x == '/static' or x.startswith('/static/')`` leaves ``x`` a local
        path, while ``x == 'a' or y == 'b'`` proves nothing of either."""
        env, facts = f.env, f.facts
        envs: list[dict[str, Value]] = []
        held: set[tuple[str, str, str]] | None = None
        for part in parts:
            f.env, f.facts = dict(env), set(facts)
            self.refine(part, f, truth)
            envs.append(f.env)
            held = f.facts if held is None else held & f.facts
        joined = envs[0]
        for other in envs[1:]:
            joined = join_env(joined, other)
        f.env, f.facts = joined, held if held is not None else facts

    def compare_fact(
        self, left: ast.expr, op: ast.cmpop, right: ast.expr, f: Frame, truth: bool
    ) -> None:
        flipped = _FLIP.get(type(op))
        if flipped is not None:
            op, truth = flipped(), not truth
        lv, rv = _literal(left), _literal(right)
        if isinstance(op, ast.In):
            if isinstance(lv, str) and not isinstance(rv, str):
                self.contains_fact(right, lv, f, present=truth)
            elif truth:
                self.member_fact(left, right, f)
            return
        if isinstance(op, ast.Eq | ast.Is):
            for probe, other in ((left, right), (right, left)):
                none = isinstance(other, ast.Constant) and other.value is None
                if not truth and none and isinstance(probe, ast.Name):
                    self.apply_split(probe.id, f)  # ``found is not None``
                absent = _absent_probe(probe)
                if absent is None:  # nearly every test: no need to evaluate the other side
                    continue
                value = self.expr(other, f)
                if value.known and isinstance(value.const, int):
                    method, subject, needle = absent
                    # find(c) == -1 / count(c) == 0: c absent exactly when equal to the marker
                    is_marker = value.const == _ABSENT[method]
                    self.contains_fact(subject, needle, f, present=(truth != is_marker))
                    return
            if truth:
                self.content_type_fact(left, right, f)
                for name_node, other in ((left, right), (right, left)):
                    value = self.expr(other, f)
                    key = dotted(name_node)
                    if key and value.known and not value.labels and key in f.env:
                        f.env[key] = const(value.const)
                    end = _end_probe(name_node)
                    if end is not None and isinstance(_literal(other), str):
                        # ``x[0] == "'"`` is ``x.startswith("'")``, ``x[-1]`` its end
                        f.facts.add((end[1], end[0], str(_literal(other))))
                    elif (
                        isinstance(name_node, ast.Attribute)
                        and dotted(name_node.value) in f.views
                        and _literal(other) is not None
                    ):
                        # ``u.netloc == 'example.com'`` of a parsed URL ``u`` is
                        # ``u.netloc in ('example.com',)`` (not ``request.method == 'POST'``:
                        # the request object is no view of one value)
                        self.member_fact(name_node, ast.Tuple(elts=[other], ctx=ast.Load()), f)
                    elif self.same_host(name_node, other, f):
                        # ``urlparse(urljoin(base, x)).netloc == urlparse(request.host_url)
                        # .netloc`` (Flask-Login's ``is_safe_url``): ``x`` names this host
                        self.sanitize_names(name_node, self.catalog.host_kinds, f)
            return
        if isinstance(op, ast.Gt | ast.GtE | ast.Lt | ast.LtE):
            for probe, other, flip in ((left, right, False), (right, left, True)):
                absent = _absent_probe(probe)
                if absent is None:
                    continue
                value = self.expr(other, f)
                if not value.known or not isinstance(value.const, int):
                    continue
                method, subject, needle = absent
                marker = _ABSENT[method]
                holds = _cmp(op, marker, value.const, flip)
                # the test's truth at the marker vs at every larger value (present)
                present_vals = [marker + 1, marker + 2, 10**6]
                if all(_cmp(op, v, value.const, flip) != holds for v in present_vals):
                    self.contains_fact(subject, needle, f, present=(holds != truth))
                return

    def same_host(self, node: ast.expr, other: ast.expr, f: Frame) -> bool:
        """Is ``node`` the host of a parsed URL (``u.netloc``, ``u = urlparse(x)``) and
        ``other`` the same part of another parse, one not of ``x``?"""
        if not (isinstance(node, ast.Attribute) and isinstance(other, ast.Attribute)):
            return False
        if node.attr not in HOST_PARTS or other.attr != node.attr:
            return False
        mine, theirs = dotted(node.value), dotted(other.value)
        source = f.views.get(mine)
        return bool(source) and mine != theirs and f.views.get(theirs, theirs) != source

    def contains_fact(self, subject: ast.expr, needle: str, f: Frame, present: bool) -> None:
        if present:
            return
        inner = isinstance(subject, ast.Subscript) and isinstance(subject.slice, ast.Slice)
        if inner and ast.unparse(subject) == f"{dotted(subject.value)}[1:-1]":  # type: ignore[attr-defined]
            f.facts.add((ast.unparse(subject)[:-6], "inner_free", needle))
        # what earlier tests already proved absent (``';' not in x and '|' not in x``)
        key = ast.unparse(subject)
        absent = frozenset(x[2] for x in f.facts if x[0] == key and x[1] == "absent")
        f.facts.add((key, "absent", needle))
        kinds = self.catalog.guarded_by(needle, absent)
        if kinds:
            self.sanitize_names(subject, kinds, f)

    def member_fact(self, subject: ast.expr, pool: ast.expr, f: Frame) -> None:
        """``x in ('a', 'b')`` (a literal, or a name holding known constants) is true."""
        if _literal(pool) is not None:
            self.sanitize_names(subject, self.catalog.taint_kinds, f)
            return
        value = self.expr(pool, f)
        if value.all_labels() and all(_held(x) for x in value.all_labels()):
            # one of the server's own values (a folder listing, rows read, a lookup's
            # result): equal to something no caller chose
            self.sanitize_names(subject, self.catalog.taint_kinds, f)
            return
        if value.labels:
            return
        if not value.all_labels() and not value.known and value.items is None:
            self.sanitize_names(subject, self.catalog.taint_kinds, f)
            return
        consts_known = value.known and isinstance(value.const, tuple | str | frozenset)
        items = value.items is not None and all(
            (v.known and not v.labels) if value.seq else True for _, v in value.items
        )
        if not (consts_known or items):
            return
        self.sanitize_names(subject, self.catalog.taint_kinds, f)

    def call_fact(self, test: ast.Call, f: Frame, truth: bool) -> None:
        func = test.func
        arg = test.args[0] if test.args else None
        if truth:
            self.repo_predicate(test, f)  # ``if ok(x):`` for the repository's ``ok``
        if qualify(func, f) in ("re.fullmatch", "re.match", "re.search"):
            pattern = _literal(arg)  # ``re.fullmatch(r'[a-z0-9]+', x)``: an allow-list
            how = qualify(func, f)[3:]
            if len(test.args) == 2 and not test.keywords and isinstance(pattern, str):
                if truth:
                    kinds = regex.allow_list_kinds(pattern, how, self.catalog)
                    if kinds:
                        self.sanitize_names(test.args[1], kinds, f)
                elif how == "search":  # ``re.search(r'[;&|]', x)`` found nothing: none is in x
                    for needle in regex.class_chars(pattern):
                        self.contains_fact(test.args[1], needle, f, present=False)
            return
        if qualify(func, f) in ("any", "all") and len(test.args) == 1:
            self.each_needle(test.args[0], qualify(func, f) == "any", f, truth)
            return
        if isinstance(func, ast.Attribute):
            subject = func.value
            if func.attr == "__contains__" and isinstance(_literal(arg), str):
                self.contains_fact(subject, str(_literal(arg)), f, present=truth)
            name = dotted(subject)
            quote = _literal(arg)
            if not truth:
                if name and isinstance(quote, str) and func.attr == "startswith":
                    f.facts.add((name, "not_startswith", quote))
                    self.local_path_check(name, f)
                return
            if name and isinstance(quote, str) and func.attr in ("startswith", "endswith"):
                f.facts.add((name, func.attr, quote))
                self.local_path_check(name, f)
            if func.attr == "is_relative_to" and arg is not None:
                # ``p.is_relative_to(base)``: the prefix check of a path object
                self.sanitize_names(subject, self.catalog.prefix_kinds, f)
            elif (
                func.attr == "samefile"
                and arg is not None
                and isinstance(subject, ast.Attribute)
                and subject.attr == "parent"
            ):
                # ``p.parent.samefile(base)``: the file system found p's folder to be base
                # (``..`` and links resolved), so p names a file directly in it
                self.sanitize_names(subject.value, self.catalog.prefix_kinds, f)
            elif func.attr == "startswith" and _real_prefix(test):
                self.sanitize_names(subject, self.catalog.prefix_kinds, f)
            elif func.attr in CHAR_CLASS:
                self.sanitize_names(subject, self.catalog.taint_kinds, f)
            return
        if not truth or arg is None:
            return
        qual = qualify(func, f)
        if qual == "isinstance" and len(test.args) == 2:
            types = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
            if all(qualify(t, f) in NUMBER_TYPES for t in types):
                self.sanitize_names(arg, self.catalog.taint_kinds, f)
            return
        kinds = self.catalog.sanitizes(qual, None)
        if kinds:  # a validator the catalog knows, used as a predicate
            self.sanitize_names(arg, kinds, f)

    def each_needle(self, gen: ast.expr, is_any: bool, f: Frame, truth: bool) -> None:
        """``any(c in x for c in ';&|')`` false, or ``all(c not in x for c in ...)`` true:
        no character of the constant is in ``x``."""
        if not isinstance(gen, ast.GeneratorExp | ast.ListComp) or len(gen.generators) != 1:
            return
        loop = gen.generators[0]
        chars, test = _literal(loop.iter), gen.elt
        if loop.ifs or not isinstance(loop.target, ast.Name) or not isinstance(test, ast.Compare):
            return
        if len(test.ops) != 1 or not isinstance(test.left, ast.Name):
            return
        absent = isinstance(test.ops[0], ast.NotIn)
        if test.left.id != loop.target.id or not isinstance(test.ops[0], ast.In | ast.NotIn):
            return
        # any(c in x) false / all(c not in x) true: every needle absent
        if (is_any and not absent and not truth) or (not is_any and absent and truth):
            needles = chars if isinstance(chars, tuple | str) else ()
            for needle in needles:
                if isinstance(needle, str):
                    self.contains_fact(test.comparators[0], needle, f, present=False)

    def local_path_check(self, name: str, f: Frame) -> None:
        """``x.startswith('/')`` and not ``x.startswith('//')``: a path on this site, which
        a redirect cannot take anywhere else."""
        if {(name, "startswith", "/"), (name, "not_startswith", "//")} <= f.facts:
            self.sanitize_names(ast.Name(id=name), frozenset({"open_redirect"}), f)

    def literal_check(self, f: Frame) -> None:
        """A name that starts and ends with a quote with none in between is a string
        literal: eval / exec read it as a constant string (no code)."""
        for name, _, quote in list(f.facts):
            if (
                quote in ("'", '"')
                and {(name, t, quote) for t in ("startswith", "endswith", "inner_free")} <= f.facts
            ):
                self.sanitize_names(ast.Name(id=name), frozenset({"code_injection"}), f)

    def sanitize_names(
        self, node: ast.AST, kinds: frozenset[str], f: Frame, name: str = "guard"
    ) -> None:
        again = reread_key(node)
        if again and again[1:] not in f.env:
            # ``ok(request.args.get("next"))``: the same read of the request later is what
            # was tested (a read of anything else may change between the two)
            got = f.env.get(again) or self.expr(node, f)
            labels = got.all_labels()
            if labels and all(x.kind == "request" for x in labels):
                f.env[again], f.rereads = sanitize_keep(got, kinds, name), True
        for sub in ast.walk(node):
            key = dotted(sub)
            if not key:
                continue
            for held in {key, key.split(".")[0], f.views.get(key.split(".")[0], "")}:
                if held and held in f.env:
                    f.env[held] = sanitize_keep(f.env[held], kinds, name)


def sanitize_keep(v: Value, kinds: frozenset[str], name: str) -> Value:
    """``v`` safe for ``kinds``, keeping its constant and its items."""
    if v.items is None:
        return Value(distinct(x.sanitized(kinds, name) for x in v.labels), v.const)
    items = tuple((k, sanitize_keep(x, kinds, name)) for k, x in v.items)
    return Value(distinct(x.sanitized(kinds, name) for x in v.labels), v.const, items, v.seq)


# Label kinds of values the server holds, not the caller: a pool of these is an allow-list.
HELD = frozenset({"database", "config"})


def _held(label: Label) -> bool:
    """Server-held: read from the database or configuration, or what a function of the
    repository returns when given no argument at all (a listing, a registry), or a method
    called with no argument on such a value (``listing().items()``)."""
    if label.kind in HELD:
        return True
    return label.kind == "call" and all(
        k == "self" and v and all(_held(x) for x in v) for k, v in label.args
    )


def _literal(node: ast.AST | None) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List | ast.Set) and all(
        isinstance(e, ast.Constant) for e in node.elts
    ):
        return tuple(e.value for e in node.elts if isinstance(e, ast.Constant))
    return None


def _end_probe(node: ast.AST) -> tuple[str, str] | None:
    """``x[0]`` / ``x[-1]``: ("startswith" / "endswith", "x")."""
    if not isinstance(node, ast.Subscript) or not dotted(node.value):
        return None
    at = _literal(node.slice)
    if at == 0:
        return "startswith", dotted(node.value)
    if isinstance(node.slice, ast.UnaryOp) and ast.unparse(node.slice) == "-1":
        return "endswith", dotted(node.value)
    return None


def _absent_probe(node: ast.AST) -> tuple[str, ast.expr, str] | None:
    """``x.find('c')`` / ``x.count('c')``: (method, x, 'c')."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _ABSENT
        and len(node.args) == 1
        and isinstance(_literal(node.args[0]), str)
    ):
        return node.func.attr, node.func.value, str(_literal(node.args[0]))
    return None


def _cmp(op: ast.cmpop, a: int, b: int, flip: bool) -> bool:
    if flip:
        a, b = b, a
    if isinstance(op, ast.Gt):
        return a > b
    if isinstance(op, ast.GtE):
        return a >= b
    if isinstance(op, ast.Lt):
        return a < b
    return a <= b


def _real_prefix(test: ast.Call) -> bool:
    """A prefix check that pins a location (a folder, a URL origin), not one character."""
    arg = test.args[0] if test.args else None
    if isinstance(arg, ast.Constant):
        return (
            isinstance(arg.value, str)
            and len(arg.value) > 1
            and ("/" in arg.value or ":" in arg.value)
        )
    return arg is not None
