"""The production entry points a repository declares: what its deployment runs.

Read from Dockerfiles (``CMD`` / ``ENTRYPOINT``), Procfiles, compose ``command:`` lines and
entrypoint shell scripts: the Python files run directly (``python app.py``) and whether a
WSGI / ASGI server (gunicorn, uwsgi, uvicorn, ...) serves the app instead. The debug verifier
asks whether the file that turns debug on is what production runs.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field

from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.models import Location

_DEPLOY_FILE = re.compile(
    r"^(dockerfile[\w.-]*|[\w.-]*\.dockerfile|procfile|(docker-)?compose[\w.-]*\.ya?ml|"
    r"[\w-]*entrypoint[\w-]*\.sh|start[\w-]*\.sh|run[\w-]*\.sh|app\.ya?ml|fly\.toml)$",
    re.I,
)
_COMMAND = re.compile(r"^\s*(CMD|ENTRYPOINT|command:|web:|exec|python|gunicorn|uwsgi)", re.I)
_PY_FILE = re.compile(r"[\w./-]+\.py\b")
_SERVER = re.compile(r"\b(gunicorn|uwsgi|uvicorn|daphne|hypercorn|waitress-serve|granian)\b")
_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__"})


@dataclass
class EntryPoints:
    runs: list[tuple[str, Location]] = field(default_factory=list)  # (file run, where)
    servers: list[Location] = field(default_factory=list)  # a WSGI/ASGI server is started

    def running(self, path: str) -> Location | None:
        """Where a deployment file runs ``path`` directly, or None."""
        for target, where in self.runs:
            base = posixpath.dirname(where.path)
            if posixpath.basename(path) == posixpath.basename(target) and (
                not base or path.startswith(base + "/") or path == target
            ):
                return where
        return None


_CACHE: dict[str, EntryPoints] = {}


def entry_points(reader: RepoReader) -> EntryPoints:
    key = str(reader.root)
    if key not in _CACHE:
        _CACHE[key] = _scan(reader)
    return _CACHE[key]


def _scan(reader: RepoReader) -> EntryPoints:
    out = EntryPoints()
    for dirpath, dirs, files in os.walk(reader.root):
        dirs[:] = [d for d in dirs if d not in _SKIP]
        rel = os.path.relpath(dirpath, reader.root).replace(os.sep, "/")
        for name in files:
            if not _DEPLOY_FILE.match(name):
                continue
            path = name if rel == "." else f"{rel}/{name}"
            if _not_deployment(path):
                continue
            try:
                lines = reader.lines(path)
            except PathRefused:
                continue
            python = any("python" in ln.lower() for ln in lines if _COMMAND.match(ln))
            for i, line in enumerate(lines, start=1):
                if not _COMMAND.match(line) and "python" not in line:
                    continue
                where = Location(path=path, line=i)
                if _SERVER.search(line):
                    out.servers.append(where)
                if python or "python" in line:
                    out.runs.extend((m, where) for m in _PY_FILE.findall(line))
    return out


def _not_deployment(path: str) -> bool:
    """Test, CI, fixture and docs folders hold no production deployment file."""
    from threatmodel.collect.scope import classify_path  # scope asks entry points back

    return classify_path(path) in ("test", "ci", "fixture", "docs")
