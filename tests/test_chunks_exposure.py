"""A handler that answers with whole rows of a table holding a sensitive column keeps the
read in its folded excerpt (issue 19: a user listing that sends every password hash)."""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import route, write

from threatmodel.code.reader import RepoReader
from threatmodel.models import AuthStatus, Column, Facts, Location, Table
from threatmodel.summarize import summarize

QUIET = "\n".join(f"  const pad{i} = {i}" for i in range(8))
HANDLERS = {
    "routes.js": (
        "const router = require('express').Router()\nconst c = require('./users')\n"
        "router.get('/users', c.all)\nrouter.get('/notes', c.notes)\nmodule.exports = router\n"
    ),
    "users.js": (
        "const User = require('./user')\nconst Note = require('./note')\nmodule.exports = {\n"
        f"all: async (req, res) => {{\n{QUIET}\n  const users = await User.find({{}})\n"
        f"{QUIET}\n  const body = {{ users }}\n{QUIET}\n  res.send(body)\n}},\n"
        f"notes: async (req, res) => {{\n{QUIET}\n  const notes = await Note.find({{}})\n"
        f"{QUIET}\n  res.send(notes)\n}},\n}}\n"
    ),
}


def _facts() -> Facts:
    user = Table(
        name="User",
        source="mongoose",
        columns=[Column(name="username"), Column(name="password", sensitive=True)],
        location=Location(path="user.js", line=1),
    )
    note = Table(
        name="Note",
        source="mongoose",
        columns=[Column(name="body")],
        location=Location(path="note.js", line=1),
    )
    ok = AuthStatus.AUTHENTICATED
    return Facts(
        routes=[
            route("/users", "c.all", "routes.js", 3, ok, "express"),
            route("/notes", "c.notes", "routes.js", 4, ok, "express"),
        ],
        tables=[user, note],
    )


def _shown(text: str, path: str) -> set[int]:
    """Line numbers an excerpt of ``path`` quotes in ``text``."""
    out: set[int] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith("--- "):
            inside = f": {path} lines " in line
        elif inside and line.split("|", 1)[0].isdigit():
            out.add(int(line.split("|", 1)[0]))
    return out


def test_a_read_of_sensitive_rows_and_its_answer_are_quoted(tmp_path: Path) -> None:
    files = write(tmp_path, HANDLERS)
    chunks = summarize(_facts(), RepoReader(tmp_path), 6000, files=files)
    text = "\n".join(c.data for c in chunks)
    lines = (tmp_path / "users.js").read_text().splitlines()
    at = {t.strip(): n for n, t in enumerate(lines, 1)}
    shown = _shown(text, "users.js")
    # the read, what it is put into and the answer that sends it
    assert {at["const users = await User.find({})"], at["const body = { users }"]} <= shown
    assert at["res.send(body)"] in shown
    # a table without a sensitive column: its read stays folded with the quiet lines
    assert at["const notes = await Note.find({})"] not in shown
