"""Keys compiled into browser bundles: built output on disk (``dist/``, ``build/``,
``out/``, ``.next/static/``), which the walker skips as generated and git usually ignores.

What ships to the browser is public. A Supabase JWT's ``role`` claim says what it is: the
``anon`` key is meant to be there (not a finding), the ``service_role`` key bypasses every
RLS policy (critical), and so does a new-style secret key (``sb_secret_...``). The claim
is decoded in-process; the key itself never leaves this module (the fact holds a
fingerprint). Bounded: folders at most three levels below the root, never inside
``node_modules``, JavaScript and HTML files only, at most 2,000 files of at most 20 MB.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from threatmodel.code.secret_values import fingerprint
from threatmodel.models import Location, Secret

BUILT_DIRS = (("dist",), ("build",), ("out",), (".next", "static"))
_SUFFIXES = (".js", ".mjs", ".cjs", ".html", ".htm")
_MAX_FILES, _MAX_BYTES, _MAX_DEPTH = 2000, 20_000_000, 3
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_SB_SECRET = re.compile(r"\bsb_secret_[A-Za-z0-9_-]{16,}")
KIND = "bundled_supabase_service_role_key"


def jwt_role(token: str) -> str | None:
    """The ``role`` claim of a JWT's payload (no signature check: it is only a label)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    role = data.get("role") if isinstance(data, dict) else None
    return role if isinstance(role, str) else None


def built_files(root: Path) -> Iterator[Path]:
    """JavaScript and HTML files of the repository's own built output."""
    count = 0
    for base, dirs, _ in os.walk(root):
        rel = Path(base).relative_to(root)
        depth = len(rel.parts)
        dirs[:] = (
            [d for d in dirs if d not in ("node_modules", ".git")] if depth < _MAX_DEPTH else []
        )
        for parts in BUILT_DIRS:
            top = Path(base, *parts)
            if parts[0] not in dirs or not top.is_dir():
                continue
            for sub, subdirs, files in os.walk(top):
                subdirs[:] = [d for d in subdirs if d != "node_modules"]
                for name in sorted(files):
                    path = Path(sub, name)
                    if name.endswith(_SUFFIXES) and not path.is_symlink():
                        count += 1
                        if count > _MAX_FILES:
                            return
                        yield path
        dirs[:] = [d for d in dirs if d not in {p[0] for p in BUILT_DIRS}]


def scan_bundles(root: Path) -> list[Secret]:
    """A secret fact for every service-role key in built output (anon keys are skipped)."""
    found: list[Secret] = []
    for path in built_files(root):
        try:
            if path.stat().st_size > _MAX_BYTES:
                continue
            text = path.read_text("utf-8", "replace")
        except OSError:
            continue
        rel = path.relative_to(root).as_posix()
        for m in _JWT.finditer(text):
            if jwt_role(m.group(0)) == "service_role":
                found.append(_secret(rel, text, m.start(), m.group(0), "service_role JWT"))
        for m in _SB_SECRET.finditer(text):
            found.append(_secret(rel, text, m.start(), m.group(0), "sb_secret key"))
    return found


def _secret(path: str, text: str, offset: int, value: str, what: str) -> Secret:
    return Secret(
        kind=KIND,
        name=f"{what} in browser bundle",
        location=Location(path=path, line=text.count("\n", 0, offset) + 1),
        fingerprint=fingerprint(value),
    )
