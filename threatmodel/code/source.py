"""One source file as the collectors see it: text, language, and a parse tree made once.

Every collector interested in a file receives the same ``SourceFile``, so a Python file is
parsed once (``code.pyparse``: whatever Python runs the tool) and a TypeScript file goes
through tree-sitter once, however many collectors read it. A file that cannot be parsed
records why in ``parse_errors`` and the collectors get ``None``: the pipeline reports it as
not parsed. Invalid UTF-8 is decoded with replacement characters and noted in
``parse_errors`` as ``INVALID_UTF8`` + the byte offset, which the pipeline reports as a
warning, not as not parsed: the file's facts are still collected.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from threatmodel.code.letters import LetterRuns
from threatmodel.code.pyparse import NotPython, parse_python

if TYPE_CHECKING:
    import tree_sitter

LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "jsx",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".sql": "sql",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".prisma": "prisma",
    ".ipynb": "notebook",
    ".html": "html",
    ".txt": "text",
    ".cfg": "ini",
    ".ini": "ini",
    ".md": "markdown",
}

# How a decoding note begins in ``parse_errors``: the pipeline reports it as a warning,
# not as a file not parsed (its facts are still collected).
INVALID_UTF8 = "invalid UTF-8 at byte "

JS_LANGUAGES = frozenset({"javascript", "jsx", "typescript", "tsx"})


def detect_language(path: str) -> str:
    """Language of a file by name; ``env`` for dotenv files, ``other`` when unknown."""
    # String operations, not PurePosixPath: called for every file on every scan.
    name = path.rpartition("/")[2].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    if name in {"dockerfile"} or name.startswith("dockerfile."):
        return "dockerfile"
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return "requirements"
    dot = name.rfind(".")  # PurePosixPath.suffix: none for ".bashrc" nor a trailing dot
    return LANGUAGE_BY_SUFFIX.get(name[dot:] if 0 < dot < len(name) - 1 else "", "other")


_LINE_COMMENT = {"python": "#", **{js: "//" for js in JS_LANGUAGES}}


def is_line_comment(text: str, language: str) -> bool:
    """Whether a line of a code file holds only a line comment (``#``, ``//``)."""
    mark = _LINE_COMMENT.get(language)
    return mark is not None and text.lstrip().startswith(mark)


@dataclass
class SourceFile:
    """A repository file: ``path`` is repo-relative POSIX; ``text`` is decoded UTF-8."""

    path: str
    text: str
    language: str
    parse_errors: list[str] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> SourceFile:
        language = detect_language(path)
        errors: list[str] = []
        if b"\0" in data[:8192]:
            errors.append("binary content (NUL bytes)")
            return cls(path, "", language, errors)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Keep going with replacement characters so the rest of the file still counts.
            errors.append(f"{INVALID_UTF8}{exc.start}")
            text = data.decode("utf-8", "replace")
        if text.startswith("\ufeff"):
            text = text[1:]
        return cls(path, text, language, errors)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def lowered(self) -> str:
        """``text.lower()``, once for every collector that searches it case-blind."""
        return self.text.lower()

    @cached_property
    def letter_runs(self) -> LetterRuns:
        """The distinct a-z runs of ``lowered``: a one-pass prefilter for words (letters.py)."""
        return LetterRuns(self.lowered)

    @cached_property
    def python_ast(self) -> ast.Module | None:
        """The module's AST, or None (with the reason in parse_errors)."""
        if self.language != "python" or not self.text:
            return None
        try:
            return parse_python(self.text, filename=self.path)
        except NotPython as exc:
            # Never "syntax error": valid code of a newer Python must not be called broken.
            self.parse_errors.append(str(exc))
        except (RecursionError, MemoryError):
            self.parse_errors.append("Python source nested too deeply to parse")
        return None

    @cached_property
    def ts_tree(self) -> tree_sitter.Tree | None:
        """The tree-sitter tree for JavaScript/TypeScript files (error-tolerant)."""
        if self.language not in JS_LANGUAGES:
            return None
        from threatmodel.code.treesitter import parse_js

        tree = parse_js(self.text, self.language)
        if tree.root_node.has_error:
            # tree-sitter recovers: facts outside the broken region are still usable.
            self.parse_errors.append("JavaScript/TypeScript syntax errors (partially parsed)")
        return tree

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""
