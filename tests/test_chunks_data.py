"""The data chunk (issue 19): data files the code reads reach the LLM, secrets withheld.

A data file is one the application's code names (its path, or its folder with its
extension); a file nothing names, a translation or an API spec is not sent. Values are
redacted as configuration is, with prose (a security question) shown.
"""

from __future__ import annotations

from pathlib import Path

from test_chunks_program import write

from threatmodel.chunk_data import data_files, data_text, redact_data_line
from threatmodel.code.reader import RepoReader
from threatmodel.models import Facts
from threatmodel.summarize import summarize

SEEDED = {
    "lib/seed.ts": (
        "import { readFile } from 'node:fs/promises'\n"
        "export async function load (name: string) {\n"
        "  return await readFile('./seed/static/' + name + '.yml', 'utf8')\n"
        "}\n"
    ),
    "app.py": "import json\nUSERS = json.load(open('fixtures/accounts.json'))\n",
    "seed/static/questions.yml": (
        "-\n  question: 'Your favourite colour?'\n-\n  question: 'Name of your first pet?'\n"
    ),
    "seed/static/users.yml": (
        "-\n  email: admin\n  password: 'admin123'\n  role: 'admin'\n  cardNum: 4716190207394368\n"
    ),
    "fixtures/accounts.json": '{"user": "root", "token": "tok_4f9a8b7c6d5e"}\n',
    "seed/other/notes.yml": "note: 'nothing reads this'\n",
    "seed/static/i18n/en.yml": "greeting: 'Hello there'\n",
    "docs/api/openapi.yml": "openapi: 3.0.0\ninfo:\n  title: x\n",
    "lib/api.ts": "export const spec = 'docs/api/openapi.yml'\n",
    "package.json": '{"name": "x"}\n',
}


def test_data_files_are_the_ones_the_code_names(tmp_path: Path) -> None:
    files = write(tmp_path, SEEDED)
    got = data_files(RepoReader(tmp_path), files)
    # by folder and extension (seed.ts), and by path (app.py)
    assert got == ["fixtures/accounts.json", "seed/static/questions.yml", "seed/static/users.yml"]


def test_secret_values_are_withheld_and_prose_is_shown() -> None:
    assert redact_data_line("  question: 'Your favourite colour?'") == (
        "  question: 'Your favourite colour?'"
    )
    assert "admin123" not in redact_data_line("  password: 'admin123'")
    assert "4716190207394368" not in redact_data_line("  cardNum: 4716190207394368")
    assert redact_data_line("  role: 'admin'") == "  role: 'admin'"


def test_the_data_chunk_holds_the_seed_files(tmp_path: Path) -> None:
    files = write(tmp_path, SEEDED)
    chunks = summarize(Facts(), RepoReader(tmp_path), 6000, files=files)
    data = "\n".join(c.data for c in chunks if c.kind == "data")
    assert "--- data the code reads, secret values withheld: seed/static/questions.yml" in data
    assert "4|  question: 'Name of your first pet?'" in data
    assert "2|  email: admin" in data
    assert "admin123" not in data and "tok_4f9a8b7c6d5e" not in data
    assert "nothing reads this" not in data and "Hello there" not in data


def test_a_folder_of_many_data_files_is_one_line(tmp_path: Path) -> None:
    many = {f"hints/h{i}.info.yml": f"hint: 'Look closer at page {i}'\n" for i in range(8)}
    many["routes/hint.ts"] = "const f = 'hints/' + key + '.info.yml'\n"
    files = write(tmp_path, many)
    ((path, text),) = data_text(RepoReader(tmp_path), files)
    assert path == "hints" and text.startswith("data folder hints: 8 files the code reads")
