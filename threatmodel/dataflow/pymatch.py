"""``match`` statements (``MatchMixin.match``): whether a case surely matches, the names a
pattern binds, and what the subject is known to be inside a case of literal patterns.

A capture binds the part of the subject it stands for (an item of a sequence or mapping
with known positions or keys, else any part of it); ``case 'a' | 'b':`` leaves the subject
one of those constants inside the case, so it carries no input there.
"""

from __future__ import annotations

import ast

from threatmodel.dataflow.assign import join_env
from threatmodel.dataflow.base import EngineBase
from threatmodel.dataflow.frame import Frame, dotted
from threatmodel.dataflow.values import Value, const, join


def case_matches(pattern: ast.pattern, subject: Value) -> bool | None:
    """True / False when the case surely matches / surely does not; None when unknown."""
    if isinstance(pattern, ast.MatchAs) and pattern.pattern is None:
        return True
    if isinstance(pattern, ast.MatchValue) and isinstance(pattern.value, ast.Constant):
        if subject.known and not subject.labels:
            return bool(subject.const == pattern.value.value)
        return None
    if isinstance(pattern, ast.MatchOr):
        got = [case_matches(p, subject) for p in pattern.patterns]
        if any(g is True for g in got):
            return True
        return False if all(g is False for g in got) else None
    return None


def literal(pattern: ast.pattern) -> Value | None:
    """The subject inside a case made only of constants (``'a'``, ``'a' | 'b'``, ``None``)."""
    if isinstance(pattern, ast.MatchValue) and isinstance(pattern.value, ast.Constant):
        return const(pattern.value.value)
    if isinstance(pattern, ast.MatchSingleton):
        return const(pattern.value)
    if isinstance(pattern, ast.MatchOr):
        out: Value | None = None
        for p in pattern.patterns:
            got = literal(p)
            if got is None:
                return None
            out = got if out is None else join(out, got)
        return out
    return None


def bindings(pattern: ast.pattern, subject: Value) -> dict[str, Value]:
    """The names ``pattern`` binds, each to the part of ``subject`` it captures."""
    out: dict[str, Value] = {}
    if isinstance(pattern, ast.MatchAs):
        if pattern.pattern is not None:
            out.update(bindings(pattern.pattern, subject))
        if pattern.name:
            out[pattern.name] = _narrowed(pattern.pattern, subject)
    elif isinstance(pattern, ast.MatchStar):
        if pattern.name:
            out[pattern.name] = subject.flat()
    elif isinstance(pattern, ast.MatchOr):
        for p in pattern.patterns:  # every arm binds the same names: any arm's part
            for name, v in bindings(p, subject).items():
                out[name] = join(out[name], v) if name in out else v
    elif isinstance(pattern, ast.MatchSequence):
        exact = subject.seq and subject.items is not None and not subject.labels
        starred = any(isinstance(p, ast.MatchStar) for p in pattern.patterns)
        for i, p in enumerate(pattern.patterns):
            part = subject.items[i][1] if exact and not starred and subject.items else None
            out.update(bindings(p, part if part is not None else subject.flat()))
    elif isinstance(pattern, ast.MatchMapping):
        for key, p in zip(pattern.keys, pattern.patterns, strict=False):
            got = subject.item(key.value) if isinstance(key, ast.Constant) else None
            out.update(bindings(p, got if got is not None else subject.flat()))
        if pattern.rest:
            out[pattern.rest] = subject.flat()
    elif isinstance(pattern, ast.MatchClass):
        for p in [*pattern.patterns, *pattern.kwd_patterns]:  # attributes: any part
            out.update(bindings(p, subject.flat()))
    return out


def _narrowed(pattern: ast.pattern | None, subject: Value) -> Value:
    got = literal(pattern) if pattern is not None else None
    return got if got is not None else subject


class MatchMixin(EngineBase):
    def match(self, s: ast.Match, f: Frame) -> bool:
        subject = self.expr(s.subject, f)
        before = dict(f.env)
        outs: list[dict[str, Value]] = []
        why = f"no value of the subject at line {s.lineno} matches"
        for n, case in enumerate(s.cases):
            hit = case_matches(case.pattern, subject)
            if hit is False:
                self.dead(case.body, f, why)
                continue
            f.env = dict(before)
            f.env.update(bindings(case.pattern, subject))
            known = literal(case.pattern)
            if known is not None and dotted(s.subject):  # ``case 'a' | 'b':``
                f.env[dotted(s.subject)] = known
            if case.guard is not None:
                self.refine(case.guard, f, True)
            if not self.block(case.body, f):
                outs.append(f.env)
            if hit is True and case.guard is None:
                for later in s.cases[n + 1 :]:
                    self.dead(later.body, f, f"line {case.pattern.lineno} always matches first")
                break
        else:
            outs.append(before)
        if not outs:
            return True
        f.env = outs[0]
        for other in outs[1:]:
            f.env = join_env(f.env, other)
        return False
