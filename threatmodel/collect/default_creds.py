"""Weak default credentials: guessable passwords shipped in config, compose files and settings.

The secrets collector rightly ignores ``POSTGRES_PASSWORD=password`` in a compose file as a
local-development default; it is not a leaked secret. It is a different threat when the
service that uses it is reachable: anyone who reaches the port logs in with it. Reported as
``Secret`` facts of kind ``default_credential`` (the value never leaves ``extract``):

- compose files: a secret-named environment entry of a service that publishes ``ports:``
  beyond the host's loopback (``127.0.0.1:5432:5432`` reaches no one else), with a weak
  value (a word such as ``postgres``, ``password``, ``admin``, ``changeme``, or a short
  lower-case word);
- Python: a weak literal default of a secret-named setting read from the environment
  (``os.getenv("ADMIN_PASSWORD", "admin")``), a module constant naming a default / admin
  / initial password (``DEFAULT_ADMIN_PASSWORD = "admin"``), or a password field's default
  in a settings class (pydantic ``BaseSettings``: ``ADMIN_PASSWORD: str = "admin"``).

A password set beside the host it is sent to (``POSTGRES_PASSWORD`` with ``POSTGRES_SERVER``
in one service's environment or one settings class) is a client's connection setting, not
a credential the service accepts: a fact of kind ``client_default_credential``, which no
rule reports (the server's own default is found where the server is configured).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import NamedTuple

import yaml

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.names import is_secret_name, words
from threatmodel.code.pyast import tree_nodes
from threatmodel.code.secret_values import DEV_DEFAULTS, fingerprint, is_placeholder
from threatmodel.code.source import SourceFile
from threatmodel.collect._pygates import gate
from threatmodel.models import Location, Secret

KIND = "default_credential"
# A guessable default of a password the app sends to another host: kept as a fact so TM105
# does not call it a leaked secret, reported by no rule.
CLIENT_KIND = "client_default_credential"
_COMPOSE = re.compile(r"^(docker-)?compose[\w.-]*\.ya?ml$", re.I)
_WEAK_EXTRA = frozenset({"admin123", "password123", "123456", "12345678", "qwerty", "letmein"})
_DEFAULT_WORDS = frozenset({"default", "admin", "initial", "superuser", "root", "bootstrap"})
# Calls that read a setting from the environment with a default: os.getenv, environ.get,
# environs' env / env.str, python-decouple's config.
_ENV_CALLS = frozenset({"getenv", "os.getenv", "environ.get", "os.environ.get", "env", "env.str"})
_ENV_CALLS |= {"config", "environ.setdefault", "os.environ.setdefault"}


def weak(value: str) -> bool:
    v = value.strip()
    if not v or "$" in v or "{" in v:
        return False  # interpolated from the environment at run time
    lowered = v.lower()
    if lowered in DEV_DEFAULTS or lowered in _WEAK_EXTRA:
        return True
    return v.isalpha() and v.islower() and 4 <= len(v) < 8 and not is_placeholder(v)


def _password_name(name: str) -> bool:
    ws = set(words(name))
    return is_secret_name(name) and bool(ws & {"password", "passwd", "pwd", "pass", "secret"})


class Default(NamedTuple):
    name: str
    line: int
    value: str
    client: bool = False  # sent to a server elsewhere (``_client_side``): not reported


def compose_defaults(text: str) -> Iterator[Default]:
    """Weak secret-named env entries of services with ports others can reach."""
    try:
        root = yaml.compose(text)
    except (yaml.YAMLError, RecursionError):  # hostile nesting must not crash the collector
        return
    if not isinstance(root, yaml.MappingNode):
        return
    services = _get(root, "services")
    if not isinstance(services, yaml.MappingNode):
        return
    for _key, svc in services.value:
        if not isinstance(svc, yaml.MappingNode) or not _published(_get(svc, "ports")):
            continue
        entries = list(_env_entries(_get(svc, "environment")))
        remote = _remote_prefixes(n for n, _, _ in entries)
        for name, line, value in entries:
            if _password_name(name) and weak(value):
                yield Default(name, line, value, _client_side(name, remote))


_LOOPBACK = ("127.", "[::1]", "::1", "localhost")


def _published(ports: yaml.Node | None) -> bool:
    """Does the service publish a port beyond this machine? ``"127.0.0.1:5432:5432"`` (or
    the long form's ``host_ip: 127.0.0.1``) binds the host's loopback only: nobody else
    reaches it. A port with no host address binds every interface."""
    if not isinstance(ports, yaml.SequenceNode):
        return ports is not None
    for entry in ports.value:
        if isinstance(entry, yaml.MappingNode):
            ip = _get(entry, "host_ip")
            host = ip.value if isinstance(ip, yaml.ScalarNode) else ""
        elif isinstance(entry, yaml.ScalarNode):
            host = str(entry.value) if str(entry.value).count(":") >= 2 else ""
        else:
            return True
        if not host.startswith(_LOOPBACK):
            return True
    return False


# The last word of a setting that names the server a client connects to.
_HOST_WORDS = frozenset({"host", "hostname", "server", "addr", "address", "endpoint"})


def _remote_prefixes(names: Iterable[str]) -> set[str]:
    """First words of settings naming another host (``POSTGRES_SERVER`` -> ``postgres``)."""
    return {ws[0] for n in names if len(ws := words(n)) > 1 and ws[-1] in _HOST_WORDS}


def _client_side(name: str, remote: set[str]) -> bool:
    """``POSTGRES_PASSWORD`` beside ``POSTGRES_SERVER``: the password this service sends to
    a server elsewhere, not one it accepts. Nobody logs in to this service with it; the
    server's own setting (its compose service, its config) is where a weak one is found."""
    ws = words(name)
    return len(ws) > 1 and ws[0] in remote


def _get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _env_entries(env: yaml.Node | None) -> Iterator[tuple[str, int, str]]:
    if isinstance(env, yaml.MappingNode):
        for k, v in env.value:
            if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode):
                yield str(k.value), v.start_mark.line + 1, str(v.value)
    elif isinstance(env, yaml.SequenceNode):
        for item in env.value:
            if isinstance(item, yaml.ScalarNode) and "=" in str(item.value):
                name, _, value = str(item.value).partition("=")
                yield name.strip(), item.start_mark.line + 1, value.strip()


def python_defaults(tree: ast.Module) -> Iterator[Default]:
    for node in tree_nodes(tree):  # the module's walk, listed once for every collector
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            if _dotted(node.func) not in _ENV_CALLS:
                continue
            key, default = node.args[0], node.args[1]
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and isinstance(default, ast.Constant)
                and isinstance(default.value, str)
                and _password_name(key.value)
                and weak(default.value)
            ):
                yield Default(key.value, node.lineno, default.value)
    bodies: list[tuple[list[ast.stmt], bool]] = [(tree.body, False)]
    bodies += [
        (n.body, any(_dotted(b).endswith("Settings") for b in n.bases))
        for n in tree.body
        if isinstance(n, ast.ClassDef)
    ]
    for body, settings_class in bodies:
        constants = [c for stmt in body if (c := _constant(stmt)) is not None]
        remote = _remote_prefixes(n for n, _ in constants)
        for stmt in body:
            found = _constant(stmt)
            if found is None:
                continue
            name, value = found
            if not _password_name(name) or is_placeholder(value):
                continue
            if _client_side(name, remote):
                if weak(value):  # a guessable connection default: neither TM122 nor a leak
                    yield Default(name, stmt.lineno, value, client=True)
                continue
            # A settings class field (pydantic BaseSettings) is a default the environment
            # overrides: a password there is a default credential, whatever it looks like.
            password = bool(set(words(name)) & {"password", "passwd", "pwd"})
            named_default = bool(set(words(name)) & _DEFAULT_WORDS)
            if (settings_class and password) or (named_default and (weak(value) or password)):
                yield Default(name, stmt.lineno, value)


def _constant(stmt: ast.stmt) -> tuple[str, str] | None:
    """``NAME = "value"`` / ``NAME: str = "value"`` -> (name, value)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return None
    if (
        isinstance(target, ast.Name)
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
        and value.value.strip()
    ):
        return target.id, value.value
    return None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


@register
class DefaultCredentialsCollector(Collector):
    id = "default_credentials"
    version = 2
    # Only files that name a password are parsed (a file without one holds no default).
    gate = gate(substrings=["password", "PASSWORD", "Password", "passwd", "PASSWD", "pwd", "PWD"])

    def wants(self, path: str, language: str) -> bool:
        return language == "python" or bool(_COMPOSE.match(PurePosixPath(path).name))

    def extract(self, src: SourceFile) -> Extract:
        text = src.text
        if not text:
            return None
        if src.language == "python":
            tree = src.python_ast
            found = list(python_defaults(tree)) if tree is not None else []
        else:
            found = list(compose_defaults(text))
        items = [[d.name, d.line, fingerprint(d.value), d.client] for d in found]
        return items or None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        for path, items in extracts.items():
            for name, line, fp, client in items:
                out.secrets.append(
                    Secret(
                        kind=CLIENT_KIND if client else KIND,
                        name=name,
                        location=Location(path=path, line=line),
                        fingerprint=fp,
                    )
                )
