"""The non-route chunks: how the application is set up, what it prints unescaped, its config.

Route chunks show handlers; these three show what no handler holds (summarize.py packs them):

- **application**: settings facts, global middleware, and the lines of code that configure
  the application (Django ``MIDDLEWARE`` / ``DEBUG`` / ``TEMPLATES`` / session, cookie,
  CSRF, CORS and ``SECURE_*`` settings; Flask ``app.config`` / ``secret_key`` /
  ``CSRFProtect``; Express ``app.use`` of sessions, CORS, helmet, csurf; REST resources
  generated from ORM models (finale / epilogue) and their hooks; template ``autoescape``),
  each shown as its whole statement; and the hooks the framework runs before every
  request (Flask ``before_request``), whole, with the functions they call: where the
  session or the user every guard reads comes from (``hook_refs``);
- **output**: template and component lines that render data without escaping (``|safe``,
  ``{% autoescape false %}``, ``<%- %>``, ``{{{ }}}``, ``dangerouslySetInnerHTML``,
  ``v-html``, ``mark_safe``, ``innerHTML =``), with a few lines around each; where the app
  turns autoescaping off (a ``templates.autoescape`` setting, collect/templates_python.py),
  every ``{{ value }}`` of its Jinja / Django templates is such a line too;
- **client routing and contracts** (in the application chunk): a single-page app's browser
  routes with their guards and matchers (a hidden admin page, a guard that runs only in the
  browser), and Solidity contracts (code that holds value, which no collector parses);
- **configuration**: ``.env`` files, compose files, Dockerfiles and config files, values
  withheld: an env file shows only which names are set (and which are empty), other config
  files keep booleans, numbers, ``${VAR}`` references and plain words of names that are
  not secret-like; everything else is replaced (``redact.py`` masks what remains).

Lines are found with line regexes over files the walk kept; the statement around a match
comes from the parser (``CodeIndex``). Test code, minified bundles and long lines are skipped.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial

from threatmodel.code.jsast import is_test_path
from threatmodel.code.names import is_secret_name
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.excerpts import CodeIndex, CodeRef, _js_toplevel_def
from threatmodel.redact import MASK, mask_line, mask_lines

MAX_FILE_BYTES = 200_000  # bigger files are data or bundles, not configuration
MAX_LINE_CHARS = 400  # a longer line is minified: not readable, not sent
MAX_STATEMENT_LINES = 20
OUTPUT_CONTEXT = 3  # lines shown before and after an unescaped output
MAX_TEMPLATE_GAP = 10  # markup lines between two outputs of one template shown, not a new head
MAX_CONFIG_LINES = 60
# A comment line of a Dockerfile, compose / YAML, .env, ini or TOML file configures nothing
# (a commented-out setting is off): left out like a blank line, a gap in the numbering.
_CONFIG_COMMENT = ("#", ";")

_APP_KEYS = re.compile(
    r"""^\s*(?:DEBUG|SECRET_KEY|MIDDLEWARE(?:_CLASSES)?|ALLOWED_HOSTS|CSRF_\w+|CORS_\w+
    |SESSION_\w+|\w*COOKIE_\w+|SECURE_\w+|X_FRAME_OPTIONS|TEMPLATES|PASSWORD_HASHERS
    |AUTH_PASSWORD_VALIDATORS|REST_FRAMEWORK|JWT_\w+)\s*[:=]
    |\bapp\.(?:config\[[^\]]*\]\s*=(?!=)|secret_key\s*=|debug\s*=|run\()
    |\.config\.(?:update|from_\w+)\(
    |\b(?:CSRFProtect|CORS|Talisman|Session|SessionMiddleware|JWTManager)\(
    |\bautoescape\b|\bjinja_env\b
    |\b(?:app|server|router)\.(?:use|set|disable|enable)\(
    |\b(?:helmet|csurf|cors|session|cookieSession|cookieParser|expressSession)\s*\(
    |=\s*(?:express|fastify)\(\s*[){]  # the app made: where helmet / x-powered-by belong
    |\bweb\.Application\(|\bmiddlewares\s*=|\bsetup\(\s*app\b
    |\b(?:finale|epilogue)\.(?:initialize|resource)\(
    |\.(?:create|list|read|update|delete)\.(?:start|auth|fetch|data|write|send|complete)
    \.(?:before|after)\(""",
    re.X,
)
# (the last line: jQuery parsing markup built in place, a template literal or an HTML
# string, possibly on the next line: ``$(el).append(`<pre>${text}</pre>`)`` is DOM XSS)
_UNESCAPED = re.compile(
    r"""\|\s*safe\b|\{%-?\s*autoescape\s+(?:false|off)|<%-|\{\{\{|\{@html\b|\|\s*raw\b
    |dangerouslySetInnerHTML|\bv-html\b|\bmark_safe\(|\bMarkup\(|\bSafeString\(
    |\brender_template_string\(|\.(?:inner|outer)HTML\s*=|\bdocument\.write\(
    |\bbypassSecurityTrust\w*\(|\binsertAdjacentHTML\(
    |\.(?:append|prepend|html|after|before|replaceWith)\(\s*(?:`|['"]\s*<|$)""",
    re.X,
)
# Markup assigned as a lone string literal (``out.innerHTML = "";``, ``= 'error'``): the
# page's own text, nothing from a request or the database is printed there.
_LITERAL_HTML = re.compile(
    r"""\.(?:inner|outer)HTML\s*=\s*(?:"[^"\\]*"|'[^'\\]*'|`[^`$\\]*`)\s*(?=[;})\s]*$)"""
)
# A Jinja / Django output a filter does not make harmless (escaped, JSON, a number), in the
# templates of an app that turned autoescaping off.
_PRINTED = re.compile(
    r"""\{\{(?!\s*(?:url_for|static|csrf_token)\b)(?![^}]*\|\s*
    (?:e|escape|forceescape|tojson|urlencode|int|float|length|count|filesizeformat)\b)""",
    re.X,
)
_JINJA_EXT = (".html", ".htm", ".jinja", ".jinja2", ".j2")
_TEMPLATE_EXT = (
    ".html", ".htm", ".jinja", ".jinja2", ".j2", ".ejs", ".hbs", ".handlebars", ".mustache",
    ".njk", ".vue", ".svelte", ".erb", ".twig", ".pug", ".jade", ".liquid",
)  # fmt: skip
_CONFIG_NAMES = re.compile(
    r"""^(?:\.env(?:\.[\w.-]+)?|[\w.-]+\.env|(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml
    |Dockerfile(?:[.-][\w.-]+)?|[\w.-]+\.(?:ini|cfg|conf)
    |(?:config|settings|app|application|appsettings|default|production|development)
    (?:[.-][\w-]+)?\.(?:ya?ml|json|toml))$""",
    re.X,
)
_NOT_CONFIG = frozenset({"setup.cfg", "tox.ini", "pytest.ini", "mypy.ini", ".flake8"})
_KEY_VALUE = re.compile(
    r"""^(\s*(?:export\s+|ENV\s+|ARG\s+|-\s+)?["']?([\w.\-]+)["']?\s*(?:=|:\s|:$)\s*)(.*?)\s*,?$"""
)
_BLOB = re.compile(r"\s*[-\s]*[A-Za-z0-9+/=_.\-]{20,}\s*")
_BENIGN = re.compile(
    r"""^["']?(?:true|false|yes|no|on|off|null|none|~|\d{1,6}(?:\.\d+)?
    |\$\{?[A-Za-z_]\w*(?::?-[^}]*)?\}?|[a-z][a-z_-]{0,23})["']?$""",
    re.X | re.I,
)


def _code_files(files: Iterable[str]) -> list[str]:
    return [
        f
        for f in files
        if not is_test_path(f) and ".min." not in f and detect_language(f) in _APP_LANGUAGES
    ]


_APP_LANGUAGES = JS_LANGUAGES | {"python"}


def _lines(reader: RepoReader, path: str) -> list[str] | None:
    try:
        if reader.check(path).stat().st_size > MAX_FILE_BYTES:
            return None
        return reader.lines(path)
    except (PathRefused, OSError):
        return None


def _merge(path: str, spans: list[tuple[int, int]], label: str, gap: int = 1) -> list[CodeRef]:
    """Spans as excerpts, joined when at most ``gap`` lines apart (one header, not two)."""
    out: list[CodeRef] = []
    for start, end in sorted(spans):
        if out and start <= out[-1].end + gap:
            last = out[-1]
            out[-1] = CodeRef(path, last.start, max(last.end, end), label)
        else:
            out.append(CodeRef(path, start, end, label))
    return out


def _py_statement(index: CodeIndex, path: str, line: int) -> tuple[int, int]:
    """The innermost simple statement holding ``line`` (an assignment, a call)."""
    tree = index.python(path)
    best = (line, line)
    if tree is None:
        return best
    size = 1 << 30
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.stmt)
            and not isinstance(
                node,
                ast.FunctionDef
                | ast.AsyncFunctionDef
                | ast.ClassDef
                | ast.If
                | ast.For
                | ast.While
                | ast.With
                | ast.Try
                | ast.AsyncWith
                | ast.AsyncFor,
            )
            and node.lineno <= line <= (node.end_lineno or node.lineno)
            and (node.end_lineno or node.lineno) - node.lineno < size
        ):
            best = (node.lineno, node.end_lineno or node.lineno)
            size = best[1] - best[0]
    return best


def application_refs(
    index: CodeIndex, files: Sequence[str], anchors: Mapping[str, set[int]]
) -> list[CodeRef]:
    """Statements that configure the application: lines of ``files`` that look like setup,
    and the ``anchors`` (path -> lines of settings and middleware facts)."""
    out: list[CodeRef] = []
    for path in sorted(set(_code_files(files)) | set(anchors)):
        lines = _lines(index.reader, path)
        if not lines:
            continue
        spans: list[tuple[int, int]] = []
        wanted = anchors.get(path, set())
        for no, text in enumerate(lines, 1):
            if len(text) > MAX_LINE_CHARS or not (no in wanted or _APP_KEYS.search(text)):
                continue
            if detect_language(path) == "python":
                start, end = _py_statement(index, path, no)
            else:
                start, end = index.unit_extent(path, no)
                if start != no:  # the match is inside a bigger unit: show the line alone
                    start, end = no, no
            spans.append((start, min(end, start + MAX_STATEMENT_LINES - 1)))
        out += _merge(path, spans, "application setup")
    return out


# Functions a Python framework runs before every request's handler (Flask's app and
# blueprint hooks): they load the session or user that each guard then reads.
_REQUEST_HOOKS = frozenset({"before_request", "before_app_request"})
MAX_HOOK_LINES = 30


def hook_refs(index: CodeIndex, files: Sequence[str]) -> list[CodeRef]:
    """Each request hook, from its decorator to its end (at most ``MAX_HOOK_LINES``)."""
    out: list[CodeRef] = []
    for path in _code_files(files):
        if detect_language(path) != "python" or "before_" not in "".join(
            _lines(index.reader, path) or []
        ):
            continue
        tree = index.python(path)
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            marks = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
            hooks = [d for d in marks if isinstance(d, ast.Attribute) and d.attr in _REQUEST_HOOKS]
            if hooks:
                start = hooks[0].lineno
                end = min(node.end_lineno or node.lineno, start + MAX_HOOK_LINES - 1)
                out.append(CodeRef(path, start, end, "request hook"))
    return out


def output_refs(
    index: CodeIndex, files: Sequence[str], autoescape_off: bool = False
) -> list[CodeRef]:
    """Lines that render data without escaping, each with ``OUTPUT_CONTEXT`` lines around;
    with ``autoescape_off``, also each ``{{ value }}`` line of the Jinja / Django templates
    (alone: the template's every output is the finding, not its surroundings)."""
    out: list[CodeRef] = []
    for path in sorted(files):
        if is_test_path(path) or ".min." in path:
            continue
        if not (path.endswith(_TEMPLATE_EXT) or detect_language(path) in _APP_LANGUAGES):
            continue
        lines = _lines(index.reader, path)
        if not lines:
            continue
        spans = [
            (max(1, no - OUTPUT_CONTEXT), min(len(lines), no + OUTPUT_CONTEXT))
            for no, text in enumerate(lines, 1)
            if len(text) <= MAX_LINE_CHARS and _UNESCAPED.search(_LITERAL_HTML.sub("", text))
        ]
        gap = 1
        if autoescape_off and path.endswith(_JINJA_EXT) and "/static/" not in f"/{path}":
            printed = [
                (no, no)
                for no, text in enumerate(lines, 1)
                if len(text) <= MAX_LINE_CHARS and _PRINTED.search(text)
            ]
            spans, gap = spans + printed, (MAX_TEMPLATE_GAP if printed else gap)
        out += _merge(path, spans, "unescaped output", gap)
    return out


def is_config_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name not in _NOT_CONFIG and bool(_CONFIG_NAMES.match(name)) and not is_test_path(path)


def _is_env_file(name: str) -> bool:
    return name.startswith(".env") or name.endswith(".env")


def redact_config_line(line: str, env_file: bool) -> str:
    """A config line with its value withheld unless it is plainly not a secret."""
    m = _KEY_VALUE.match(line)
    if m is None:
        if _BLOB.fullmatch(line):
            return MASK  # a line of a multi-line value (a key block, a certificate)
        return mask_line(line, force=env_file)
    head, name, value = m.group(1), m.group(2), m.group(3)
    if env_file:
        return f"{head}{'<set>' if value.strip(chr(34) + chr(39)) else '<empty>'}"
    if not value or value in ("|", ">", "{", "["):
        return mask_line(line)
    if is_secret_name(name) or not _BENIGN.match(value):
        return f"{head}{MASK}"
    return mask_line(line)


def configuration_text(reader: RepoReader, files: Sequence[str]) -> list[tuple[str, str]]:
    """(path, redacted text) of each configuration file, at most ``MAX_CONFIG_LINES`` each."""
    out: list[tuple[str, str]] = []
    for path in sorted(files):
        if not is_config_file(path):
            continue
        lines = _lines(reader, path)
        if not lines:
            continue
        redact = partial(redact_config_line, env_file=_is_env_file(posixpath.basename(path)))
        shown = redacted_block(lines, MAX_CONFIG_LINES, redact, _CONFIG_COMMENT)
        if shown:
            last = min(len(lines), MAX_CONFIG_LINES)
            title = f"--- configuration, values withheld: {path} lines 1-{last}"
            out.append((path, title + "\n" + "\n".join(shown)))
    return out


def redacted_block(
    lines: Sequence[str], limit: int, redact: Callable[[str], str], comment: tuple[str, ...] = ()
) -> list[str]:
    """The first ``limit`` of ``lines``, numbered, blank ones and those starting with a
    ``comment`` mark left out, each redacted.

    Token formats are masked first, over the whole block (a private key spans lines), then
    ``redact`` withholds each line's value unless it is plainly not a secret.
    """
    shown = [
        f"{no}|{redact(text)[:MAX_LINE_CHARS]}"
        for no, text in enumerate(mask_lines(list(lines[:limit]), 1), 1)
        if text.strip() and not (comment and text.lstrip().startswith(comment))
    ]
    if len(lines) > limit:
        shown.append(f"... ({len(lines) - limit} more lines)")
    return shown


# Client-side routing of a single-page app: which pages exist, which guard each, and the
# matcher functions that decide what a URL opens. A hidden admin page or a guard that only
# runs in the browser is found here, not in any server route.
_CLIENT_ROUTER = re.compile(
    r""":\s*Routes\s*=|RouterModule\.for(?:Root|Child)\(|\bcreate(?:Browser|Hash|Memory)Router\(
    |<Route\b|\bcreateRouter\(|\bnew\s+VueRouter\(""",
    re.X,
)
_CLIENT_ROUTE_LINE = re.compile(
    r"""^\s*(?:path|matcher|canActivate|canActivateChild|canLoad|canMatch|redirectTo
    |loadChildren|beforeEnter|meta)\s*:|<Route\b""",
    re.X,
)
_MATCHER = re.compile(r"^\s*matcher\s*:\s*([A-Za-z_$][\w$]*)")
MAX_CONTRACT_LINES = 120
_CONTRACT = re.compile(r"^\s*(?:abstract\s+)?contract\s+(\w+)")
_ROUTER_IMPORT = re.compile(
    r"""['"](?:@angular/router|react-router(?:-dom)?|vue-router|@tanstack/\w+-router)['"]"""
)


def client_route_refs(index: CodeIndex, files: Sequence[str]) -> list[CodeRef]:
    """Route entries of a browser router (Angular, React Router, Vue Router): each entry's
    path, guard and matcher lines, and the matcher functions defined beside them."""
    out: list[CodeRef] = []
    for path in _code_files(files):
        if detect_language(path) not in JS_LANGUAGES:
            continue
        lines = _lines(index.reader, path)
        # The router library imported, and a route table declared: a snippet of routes
        # kept as data (an example, a code-fix exercise) imports nothing and runs nowhere.
        if not lines or not any(_ROUTER_IMPORT.search(t) for t in lines):
            continue
        if not any(_CLIENT_ROUTER.search(t) for t in lines):
            continue
        spans = [
            (no, no)
            for no, text in enumerate(lines, 1)
            if len(text) <= MAX_LINE_CHARS and _CLIENT_ROUTE_LINE.search(text)
        ]
        tree = index.js(path)
        for text in lines:
            m = _MATCHER.match(text)
            found = _js_toplevel_def(path, tree.root_node, m.group(1)) if m and tree else None
            if found is not None:
                spans.append((found.start, min(found.end, found.start + MAX_STATEMENT_LINES)))
        # A route entry's lines are a few apart (path, component, guard): one excerpt for
        # neighbours, split before the excerpt cut (MAX_EXCERPT_LINES) would hide the rest.
        for ref in _merge(path, spans, "client-side route", gap=4):
            out += [
                CodeRef(path, a, min(ref.end, a + MAX_STATEMENT_LINES * 2 - 1), ref.label)
                for a in range(ref.start, ref.end + 1, MAX_STATEMENT_LINES * 2)
            ]
    return out


def contract_refs(index: CodeIndex, files: Sequence[str]) -> list[CodeRef]:
    """Smart contracts (Solidity): programs that hold and move value, shown whole (their
    head when long); no collector parses them, so the model reads them as they are. A
    contract declared in several files (copies, variants) is shown once, from the file
    named after it when there is one (Solidity's convention: ``Foo.sol`` holds ``Foo``)."""
    owner: dict[str, str] = {}
    lines_of: dict[str, list[str]] = {}
    for path in sorted(files):
        if not path.endswith(".sol") or is_test_path(path):
            continue
        lines = _lines(index.reader, path)
        if not lines:
            continue
        lines_of[path] = lines
        stem = posixpath.basename(path)[: -len(".sol")]
        for m in (_CONTRACT.match(t) for t in lines):
            if m and (m.group(1) not in owner or m.group(1) == stem):
                owner[m.group(1)] = path
    shown = sorted(set(owner.values()))
    return [CodeRef(p, 1, min(len(lines_of[p]), MAX_CONTRACT_LINES), "contract") for p in shown]
