"""Can this text hold a secret-looking name? A cheap, sound test run before walking a tree.

The secrets collector scans every file for token formats (cheap regular expressions), then
walks the Python AST or the tree-sitter tree for literals assigned to secret-looking names,
which costs far more and finds nothing in most files (issue 11). ``may_name_secret`` is a
NECESSARY condition for that walk to report a named secret, so skipping the walk when it is
false changes no fact.

Why it is necessary. A finding from the walk needs ``is_secret_name(name)`` and a kind other
than ``connection_string`` (those are dropped; see secrets.py), or a name given by a key
call (``jwt.sign``, ``hmac.new``, ``createHmac``, ``cookieParser``, ``createCipheriv``).
``words(name)`` yields ASCII runs of the name, lowercased, so the name, lowercased, contains:

- a secret word (``password``, ``passwd``, ``pwd``, ``passphrase``, ``secret``, ``token``,
  ``credential(s)``), or ``jwt`` (a ``jwt``+``url`` name), or the callee (``jwt``, ``hmac``,
  ``cookieparser``, ``cipher``): all in ``_STEMS``;
- or a final ``key`` after a qualifier (``KEY_QUALIFIERS``, or ``role``/``app`` and friends
  of the key pairs), with only name characters between them: ``_QUALIFIED_KEY``;
- ``apikey`` is ``api`` then ``key``; ``dsn``, ``database_url``, ``connection_string``
  alone make a connection-string kind, which is dropped.

The name must also be in the text. It is, literally, for identifiers and JavaScript strings
(tree-sitter's text is raw), dotenv and JSON/YAML plain keys, with three exceptions handled
here: Python folds identifiers with NFKC (a fullwidth ``password`` is ``password``), so
non-ASCII Python is normalised first; a decoded string key may be spelt with escapes
(``"pass\\x77ord"``, YAML's escaped line break) or, in Python, by implicit concatenation
(``"pass" "word"``): text that could do either (``_PY_SPLIT``, ``_DATA_SPLIT``) is walked.

The same test, applied to one statement's text, lets the walk skip statements of a file that
does hold a secret-looking name somewhere (``python_nodes``, ``js_keep``): a pair the walk
yields names something inside the node that pairs them, so inside every statement holding it.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections import deque
from collections.abc import Iterator

import tree_sitter

from threatmodel.code.letters import LetterRuns, letters_only
from threatmodel.code.names import KEY_QUALIFIERS

_STEMS = letters_only(("passw", "pwd", "passphrase", "secret", "token", "credential", "jwt",
                       "hmac", "cookieparser", "cipher"))  # fmt: skip
# First words of the (x, "key") pairs of _names._SECRET_PAIRS, and the key qualifiers.
_QUALIFIERS = tuple(
    sorted(
        KEY_QUALIFIERS
        | {"api", "private", "secret", "access", "signing", "encryption", "auth", "master"}
        | {"service", "role", "app"}
    )
)
_NAME_CHARS = re.compile(r"[\w$.\-]*")  # what _KEY_NAME lets a name hold
# A letter spelt as an escape in a decoded string: Python \x41 \u0041 \N{...} \101, a
# line continuation inside a string ("pass\<newline>word").
# Every branch starts with a literal (a backslash, a double or a single quote), so ``re``
# skips, in C, every position that starts none; one branch opening with the class ["'] made
# it try the whole pattern at every character (0.9 s on saleor's Python files, not 0.1 s).
_CONCAT = r"""(?<=[\w$.\-]["'])["']{0,2}(?:\s|\\|#[^\n]*+)*+[rRuU]?["']{1,3}(?=[\w$.\-])"""
_PY_SPLIT = re.compile(
    r"\\[xuUN0-7]|\\\n(?<=[\w$.\-]\\\n)[\w$.\-]|\\\r\n(?<=[\w$.\-]\\\r\n)[\w$.\-]"
    # implicit concatenation: "pass" "word", 'pass' \<newline> r'word', "pass"  # c <newline> "word"
    + '|"'
    + _CONCAT
    + "|'"
    + _CONCAT
)
# YAML \x41 \u0041 \U00000041, JSON \u0041, YAML's escaped line break in a quoted scalar.
_DATA_SPLIT = re.compile(r"\\(?:[xuU]|\r?\n)")


def _qualified_key(lowered: str) -> bool:
    """Does some ``key`` follow a qualifier within one run of name characters?"""
    start = 0
    while (at := lowered.find("key", start)) >= 0:
        window = lowered[max(0, at - 64) : at][::-1]
        run = window[: _NAME_CHARS.match(window).end()]  # type: ignore[union-attr]
        if any(q[::-1] in run for q in _QUALIFIERS):
            return True
        start = at + 3
    return False


def may_name_secret(text: str, language: str, runs: LetterRuns | None = None) -> bool:
    """False only when no literal in ``text`` can be assigned to a secret-looking name.

    ``language`` is the SourceFile's: ``python`` (also each notebook cell), a JavaScript
    dialect, ``yaml`` or ``json``; for any other it answers True (those are not walked).
    ``runs``: the letter runs of ``text.lower()`` if known (SourceFile.letter_runs): every
    stem and "key" is letters only, so the runs answer whether the text holds one without
    scanning it once per stem.
    """
    if language == "python" and not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        runs = None  # NFKC folds letters in that the raw text's runs do not hold
    if runs is not None:
        if any(map(runs.may_hold, _STEMS)):
            return True
        if runs.may_hold("key") and _qualified_key(text.lower()):
            return True
    else:
        lowered = text.lower()
        if any(stem in lowered for stem in _STEMS) or _qualified_key(lowered):
            return True
    if language == "python":
        return _PY_SPLIT.search(text) is not None
    if language in ("yaml", "json"):
        return _DATA_SPLIT.search(text) is not None
    return language not in ("javascript", "jsx", "typescript", "tsx")


# Where the walk may skip a subtree: a statement (or a JavaScript statement-like node) whose
# text cannot name a secret. Every (name, literal) pair the walk yields names something
# inside the node that pairs them, so inside any statement holding that node.
_JS_PRUNABLE = frozenset(
    {"arrow_function", "function_expression", "function", "jsx_element", "object",
     "class_body", "statement_block"}
)  # fmt: skip
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ast counts as a line break


def python_nodes(module: ast.Module, text: str) -> Iterator[ast.AST]:
    """``ast.walk(module)``, in its order, without statements that cannot name a secret."""
    lines = _LINE_BREAK.split(text)
    todo: deque[ast.AST] = deque([module])
    while todo:
        node = todo.popleft()
        if isinstance(node, ast.stmt):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            last = node.end_lineno or node.lineno
            if not may_name_secret("\n".join(lines[first - 1 : last]), "python"):
                continue
        todo.extend(ast.iter_child_nodes(node))
        yield node


def js_keep(node: tree_sitter.Node) -> bool:
    """Should scan_js enter ``node``? False only when its text cannot name a secret."""
    kind = node.type
    if kind in _JS_PRUNABLE or kind.endswith(("statement", "declaration", "definition")):
        raw = node.text
        return raw is None or may_name_secret(raw.decode("utf-8", "replace"), "javascript")
    return True
