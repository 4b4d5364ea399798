"""A handler's effects are read through the code kernel's parse: a file in a newer Python
grammar (PEP 701 f-strings, valid from 3.12) still shows what its handlers write, whatever
Python runs the tool. A write into an in-memory buffer (``img.save(io.BytesIO())``) stores
nothing, whatever the method's name says."""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import route

from threatmodel.code.reader import RepoReader
from threatmodel.collect.effects import handler_code
from threatmodel.config import Settings
from threatmodel.models import AuthStatus, Verdict
from threatmodel.scan import ScanOptions, run_scan

APP = """from flask import Flask, request, jsonify
import sqlite3

app = Flask(__name__)


@app.route("/notes", methods=["POST"])
def create_note():
    label = f"{request.json["who"]}: note"
    conn = sqlite3.connect("notes.db")
    conn.execute("INSERT INTO notes (body) VALUES (?)", (label,))
    return jsonify({"ok": True})
"""


def test_effects_of_a_pep701_file_are_found(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    settings = Settings(provider=None, cache_dir=tmp_path / ".cache")
    report = run_scan(tmp_path, settings, ScanOptions(use_cache=False, jobs=1))
    found = [f for f in [*report.findings, *report.suppressed] if f.rule_id == "TM101"]
    assert len(found) == 1 and found[0].verdict is Verdict.CONFIRMED
    effect = next(s for s in found[0].proof if s.kind == "effect")
    assert effect.location is not None and effect.location.line == 11


BADGE = """import io

import qrcode
from flask import Flask, send_file

app = Flask(__name__)


@app.route("/badge.png")
def badge():
    img = qrcode.make("https://example.org")
    buffered = io.BytesIO()
    img.save(buffered, format="PNG")
    img.save(io.BytesIO())
    img.save("/srv/badges/last.png")
    return send_file(buffered, mimetype="image/png")
"""


def test_a_save_into_an_in_memory_buffer_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BADGE)
    r = route("/badge.png", "app.badge", "app.py", 9, AuthStatus.PUBLIC, "flask")
    code = handler_code(RepoReader(tmp_path), r)
    assert code is not None
    assert [(e.call, e.location.line) for e in code.writes] == [("img.save", 15)]
