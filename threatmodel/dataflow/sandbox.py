"""Template engines built to run untrusted templates: a Jinja ``SandboxedEnvironment``.

Jinja's sandbox is the library's documented way to render templates users write (a
storage-path or notification template an app lets its users edit): attribute access to
internals and unsafe calls are refused at render time. ``env.from_string(user_text)`` on
such an environment is the design, not server-side template injection; the same call on a
plain ``Environment`` is.

Extract: ``instances``, the module variables built by a class call (``env =
AppEnvironment(...)`` -> the class's qualified name). Link: ``sandboxed`` follows a sink's
receiver to that class and its bases (the repository's, by ``Hierarchy``) and says whether
one of them is Jinja's sandbox.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from threatmodel.code.pyast import subscript_head
from threatmodel.dataflow.frame import Frame, qualify

SANDBOXES = frozenset(
    {
        "jinja2.sandbox.SandboxedEnvironment",
        "jinja2.sandbox.ImmutableSandboxedEnvironment",
    }
)
WHY = "safe: a sandboxed Jinja environment renders it (jinja2.sandbox)"


def module_instances(body: list[ast.stmt], top: Frame) -> dict[str, str]:
    """``name = Cls(...)`` at module level: ``module.name`` -> the class's qualified name."""
    out: dict[str, str] = {}
    for s in body:
        if (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and isinstance(s.value, ast.Call)
            and (cls := qualify(subscript_head(s.value.func), top))
        ):
            out[f"{top.qual}.{s.targets[0].id}"] = cls
    return out


def sandboxed(
    callee: str,
    module: str,
    instances: Mapping[str, str],
    classes: Mapping[str, dict[str, Any]],
    names: Callable[[str], list[str]],
) -> bool:
    """``callee`` (``pkg.env.from_string``, or ``env.from_string`` in ``module``, the
    module the call is written in) is a method of a module variable holding a sandboxed
    environment. ``names``: the other names a qualified name is defined under."""
    receiver = callee.rpartition(".")[0]
    local = f"{module}.{receiver}"
    held = (receiver, *names(receiver), local, *names(local))
    cls = next((instances[n] for n in held if n in instances), "")
    todo, seen = [cls] if cls else [], set()
    while todo:
        c = todo.pop()
        if c in SANDBOXES:
            return True
        if c in seen:
            continue
        seen.add(c)
        info = next((classes[n] for n in (c, *names(c)) if n in classes), None)
        todo += list((info or {}).get("bases", ()))
    return False
