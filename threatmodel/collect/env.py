"""Environment variable names: where each is declared or read (never a value).

Sources (JavaScript/TypeScript ``process.env`` / ``import.meta.env`` reads live in the JS
collectors):

- dotenv files (``.env``, ``.env.example``, ``.env.production`` ...): every name assigned;
- Python (``ast``): ``os.environ["X"]``, ``os.environ.get("X")``, ``os.getenv("X")``,
  ``environ.get`` after ``from os import environ``, ``os.environ.setdefault``, ``"X" in
  os.environ``, django-environ (``env("X")``, ``env.bool("X")`` on an ``environ.Env()``),
  python-decouple ``config("X")``, and pydantic ``BaseSettings`` fields (upper-cased, with
  ``env_prefix`` and ``alias``/``validation_alias``/``env`` honoured);
- docker-compose ``environment:`` (list or mapping) and Dockerfile ``ENV``/``ARG``.

A name is client-exposed when its prefix makes a bundler ship it to browsers
(``NEXT_PUBLIC_``, ``VITE_``, ``REACT_APP_``, ...).
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.pyast import tree_nodes, walk
from threatmodel.code.source import SourceFile
from threatmodel.collect._pygates import gate
from threatmodel.models import Location

CLIENT_PREFIXES = ("NEXT_PUBLIC_", "VITE_", "REACT_APP_", "PUBLIC_", "EXPO_PUBLIC_",
                   "NUXT_PUBLIC_", "GATSBY_", "VUE_APP_", "STORYBOOK_")  # fmt: skip
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_FUNCS = frozenset({"getenv", "os.getenv", "environ.get", "os.environ.get",
                        "environ.setdefault", "os.environ.setdefault", "os.environ.pop",
                        "environ.pop", "os.getenvb"})  # fmt: skip
_ENVIRON = frozenset({"os.environ", "environ"})
# What python_reads() needs spelled to find a read: environ / getenv (os.environ[...], the
# getters), BaseSettings, decouple (``config`` is only followed once imported from it),
# Env (django-environ's ``Env()`` objects). Most Django files say "Settings" and are not
# walked for nothing any more (netbox: 75 -> 27 files, saleor: 190 -> 39).
_READ_NAMES = gate(substrings=["environ", "getenv", "BaseSettings", "decouple", "Env"])


def client_exposed(name: str) -> bool:
    return name.startswith(CLIENT_PREFIXES)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _env_objects(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to django-environ ``Env()`` objects, and to decouple's ``config``."""
    env_objs: set[str] = set()
    config_funcs: set[str] = set()
    for node in tree_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if _dotted(node.value.func).split(".")[-1] == "Env":
                env_objs.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and node.module == "decouple":
            config_funcs.update(a.asname or a.name for a in node.names if a.name == "config")
    return env_objs, config_funcs


def python_reads(tree: ast.Module) -> Iterator[tuple[str, int]]:
    env_objs, config_funcs = _env_objects(tree)
    for node in tree_nodes(tree):
        if isinstance(node, ast.Subscript) and _dotted(node.value) in _ENVIRON:
            name = _str(node.slice)
            if name:
                yield name, node.lineno
        elif isinstance(node, ast.Call) and node.args:
            func = _dotted(node.func)
            owner = func.split(".")[0]
            if (
                func in _ENV_FUNCS
                or func in config_funcs
                or (owner in env_objs and func.count(".") <= 1)
            ):
                name = _str(node.args[0])
                if name:
                    yield name, node.lineno
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            if isinstance(node.ops[0], ast.In | ast.NotIn) and (
                _dotted(node.comparators[0]) in _ENVIRON
            ):
                name = _str(node.left)
                if name:
                    yield name, node.lineno
        elif isinstance(node, ast.ClassDef) and any(
            _dotted(b).split(".")[-1] == "BaseSettings" for b in node.bases
        ):
            yield from _settings_fields(node)


def _settings_fields(cls: ast.ClassDef) -> Iterator[tuple[str, int]]:
    """pydantic-settings: each annotated field is read from the env var of its name."""
    prefix = ""
    for node in walk(cls):
        if isinstance(node, ast.Call) and _dotted(node.func).endswith("SettingsConfigDict"):
            prefix = next((_str(k.value) or "" for k in node.keywords if k.arg == "env_prefix"), "")
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "env_prefix" for t in node.targets
        ):
            prefix = _str(node.value) or prefix  # class Config: env_prefix = "APP_"
    for stmt in cls.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        if stmt.target.id.startswith("_") or stmt.target.id == "model_config":
            continue
        name = (prefix + stmt.target.id).upper()
        if isinstance(stmt.value, ast.Call) and _dotted(stmt.value.func).endswith("Field"):
            for kw in stmt.value.keywords:
                alias = _str(kw.value) if kw.arg in ("alias", "validation_alias", "env") else None
                if alias:
                    name = alias
        yield name, stmt.lineno


def dotenv_names(text: str) -> Iterator[tuple[str, int]]:
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().removeprefix("export ").strip()
        if line and not line.startswith("#") and "=" in line:
            name = line.split("=", 1)[0].strip()
            if _NAME.fullmatch(name):
                yield name, i


def dockerfile_env(text: str) -> Iterator[tuple[str, int, str | None]]:
    """(name, line, value or None) of each ``ENV``/``ARG`` in a Dockerfile."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start, logical = i + 1, lines[i]
        while logical.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            logical = logical.rstrip()[:-1] + " " + lines[i]
        i += 1
        parts = logical.strip().split(None, 1)
        if len(parts) != 2 or parts[0].upper() not in ("ENV", "ARG"):
            continue
        try:
            tokens = shlex.split(parts[1], comments=True)
        except ValueError:
            continue
        if parts[0].upper() == "ENV" and len(tokens) >= 2 and "=" not in tokens[0]:
            tokens = [f"{tokens[0]}={' '.join(tokens[1:])}"]  # legacy "ENV NAME value"
        for token in tokens:
            name, eq, value = token.partition("=")
            if _NAME.fullmatch(name):
                yield name, start, value if eq else None


def compose_names(text: str) -> Iterator[tuple[str, int]]:
    """Names under ``services.*.environment`` of a compose file."""
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):  # hostile nesting must not stop the scan
        return
    if not isinstance(root, yaml.MappingNode):
        return
    for key, services in root.value:
        if key.value != "services" or not isinstance(services, yaml.MappingNode):
            continue
        for _, service in services.value:
            if not isinstance(service, yaml.MappingNode):
                continue
            for skey, env in service.value:
                if skey.value != "environment":
                    continue
                items: list[tuple[Any, Any]] = (
                    [(k, k) for k, _ in env.value]
                    if isinstance(env, yaml.MappingNode)
                    else [(n, n) for n in env.value]
                    if isinstance(env, yaml.SequenceNode)
                    else []
                )
                for node, _ in items:
                    name = str(node.value).split("=", 1)[0].strip()
                    if _NAME.fullmatch(name):
                        yield name, node.start_mark.line + 1


def _is_compose(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return name.startswith(("docker-compose", "compose")) and name.endswith((".yml", ".yaml"))


@register
class EnvCollector(Collector):
    id = "env"
    version = 1

    def wants(self, path: str, language: str) -> bool:
        return language in ("env", "python", "dockerfile") or (
            language == "yaml" and _is_compose(path)
        )

    def extract(self, src: SourceFile) -> Extract:
        found: list[tuple[str, int]] = []
        if src.language == "env":
            found = list(dotenv_names(src.text))
        elif src.language == "python":
            if (
                "environ" not in src.text
                and "getenv" not in src.text
                and ("Settings" not in src.text and "config(" not in src.text)
            ) or _READ_NAMES.search(src.text) is None:
                return None
            tree = src.python_ast
            found = list(python_reads(tree)) if tree is not None else []
        elif src.language == "dockerfile":
            found = [(n, line) for n, line, _ in dockerfile_env(src.text)]
        elif src.language == "yaml":
            found = list(compose_names(src.text))
        reads = sorted({(n, line) for n, line in found if _NAME.fullmatch(n)})
        return [[n, line] for n, line in reads] or None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path in sorted(extracts):
            for name, line in extracts[path]:
                exposed = client_exposed(name) and not path.endswith(".py")
                out.add_env_read(name, Location(path=path, line=line), exposed)
