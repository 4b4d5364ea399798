"""Lines one request already quotes are not quoted again by a later excerpt of that request.

Two excerpts of one file often overlap: a flow's window into a template and the template's
unescaped-output lines, two flows into one script, a handler and a flow step inside it.
Each excerpt is built alone (``ChunkBuilder.excerpt``), so a request showed the shared
lines twice. The packer (``chunk_pack.Packer``) remembers the numbered lines a request
holds, by path, and a later excerpt there says ``(lines 49-56 shown above)`` in their
place; an excerpt all of whose lines are above is one line naming it. Only within one
request: the model of another request has not read them.
"""

from __future__ import annotations

import re

_HEAD = re.compile(r"^--- .*?: (\S+) lines \d+-\d+")
_LINE = re.compile(r"^(\d+)\|")


def quoted_lines(text: str) -> tuple[str, set[int]] | None:
    """(path, numbers of the lines it quotes) of a rendered excerpt, else None."""
    head = _HEAD.match(text)
    if head is None:
        return None
    return head.group(1), {int(m.group(1)) for t in text.split("\n")[1:] if (m := _LINE.match(t))}


def _said(run: list[int]) -> str:
    return (
        f"(line {run[0]} shown above)"
        if len(run) == 1
        else f"(lines {run[0]}-{run[-1]} shown above)"
    )


def without_shown(text: str, shown: set[int]) -> str:
    """The excerpt ``text`` with the numbered lines in ``shown`` replaced, each run of them
    by one marker; its head line alone, marked, when every line it quotes is shown."""
    lines = text.split("\n")
    out = [lines[0]]
    run: list[int] = []
    kept = 0
    for t in lines[1:]:
        m = _LINE.match(t)
        if m and int(m.group(1)) in shown:
            run.append(int(m.group(1)))
            continue
        if run:
            out.append(_said(run))
            run = []
        out.append(t)
        kept += bool(m)
    if kept == 0:
        return f"({lines[0]}, shown above)"
    if run:
        out.append(_said(run))
    return "\n".join(out)
