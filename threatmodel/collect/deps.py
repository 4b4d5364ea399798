"""Dependencies from Python and npm manifests, with versions resolved from lockfiles.

Manifests give the direct dependencies and where each is declared: ``requirements*.txt``
(and ``.in``), ``pyproject.toml`` (``[project]``, optional dependencies, Poetry and its
groups), ``Pipfile`` and ``package.json``. Lockfiles next to them (``poetry.lock``,
``uv.lock``, ``Pipfile.lock``, ``package-lock.json``, ``yarn.lock``, ``pnpm-lock.yaml``)
give the resolved version of each direct dependency; transitive packages are left out to
keep the facts small (a lockfile with no manifest beside it reports all its packages).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.source import SourceFile
from threatmodel.models import Dependency, Location

_MANIFESTS = frozenset({"pyproject.toml", "Pipfile", "package.json"})
_LOCKS = frozenset(
    {"poetry.lock", "uv.lock", "Pipfile.lock", "package-lock.json", "yarn.lock", "pnpm-lock.yaml"}
)
_NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_PIN = re.compile(r"^==\s*([^,;\s*]+)$")

Dep = list[Any]  # [ecosystem, name, version-or-spec, line]


def _line_finder(text: str) -> Any:
    lines = text.splitlines()

    def find(name: str) -> int:
        pattern = re.compile(rf"(^|[\s\"'\[]){re.escape(name)}($|[\s\"'=<>~!^@\[;:,])", re.I)
        return next((i for i, ln in enumerate(lines, 1) if pattern.search(ln)), 1)

    return find


def _pep508(spec: str, line: int) -> Dep | None:
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    specifier = str(req.specifier)
    pin = _PIN.match(specifier)
    return ["pypi", canonicalize_name(req.name), pin.group(1) if pin else (specifier or None), line]


def requirements(text: str) -> Iterator[Dep]:
    for i, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "./", "/")):
            continue
        dep = _pep508(line, i)
        if dep:
            yield dep


def pyproject(text: str) -> Iterator[Dep]:
    data = tomllib.loads(text)
    find = _line_finder(text)
    project = data.get("project", {})
    specs = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        specs.extend(group)
    for group in data.get("dependency-groups", {}).values():
        specs.extend(s for s in group if isinstance(s, str))
    for spec in specs:
        name = re.split(r"[\s\[<>=!~;@(]", spec, maxsplit=1)[0]
        dep = _pep508(spec, find(name))
        if dep:
            yield dep
    poetry = data.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for table in tables:
        yield from _toml_table(table, find)


def _toml_table(table: Mapping[str, Any], find: Any) -> Iterator[Dep]:
    for name, spec in table.items():
        if name.lower() == "python":
            continue
        version = spec.get("version") if isinstance(spec, dict) else spec
        version = None if version in (None, "*") else str(version)
        yield ["pypi", canonicalize_name(name), version, find(name)]


def package_json(text: str) -> Iterator[Dep]:
    data = json.loads(text)
    find = _line_finder(text)
    if not isinstance(data, dict):
        return
    for section in _NPM_SECTIONS:
        table = data.get(section)
        if isinstance(table, dict):
            for name, spec in table.items():
                yield ["npm", name, str(spec) if spec else None, find(f'"{name}"')]


# --------------------------------------------------------------------------- lockfiles


def _lock_versions(name: str, text: str) -> dict[str, str]:
    if name in ("poetry.lock", "uv.lock"):
        return {
            canonicalize_name(p["name"]): str(p["version"])
            for p in tomllib.loads(text).get("package", [])
            if "name" in p and "version" in p
        }
    if name == "Pipfile.lock":
        data = json.loads(text)
        return {
            canonicalize_name(k): str(v.get("version", "")).lstrip("=")
            for section in ("default", "develop")
            for k, v in data.get(section, {}).items()
            if isinstance(v, dict) and v.get("version")
        }
    if name == "package-lock.json":
        data = json.loads(text)
        packages = data.get("packages") or {}
        if packages:  # lockfile v2/v3: keys are install paths
            return {
                path.rsplit("node_modules/", 1)[-1]: str(p["version"])
                for path, p in packages.items()
                if path.startswith("node_modules/")
                and "node_modules/" not in path[len("node_modules/") :]
                and "version" in p
            }
        return {k: str(v["version"]) for k, v in (data.get("dependencies") or {}).items()}
    if name == "yarn.lock":
        return _yarn(text)
    if name == "pnpm-lock.yaml":
        return _pnpm(text)
    return {}


def _yarn(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    names: list[str] = []
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            names = []
            for entry in line.rstrip()[:-1].split(","):
                entry = entry.strip().strip('"')
                at = entry.rfind("@")
                if at > 0:
                    names.append(entry[:at])
        elif names and line.strip().startswith("version"):
            version = line.strip()[len("version") :].strip(' :"')
            for n in names:
                out.setdefault(n, version)
            names = []
    return out


def _pnpm(text: str) -> dict[str, str]:
    # Only the head (importers / top-level dependencies) is needed; the package list is huge.
    head = re.split(r"^packages:\s*$", text, maxsplit=1, flags=re.M)[0]
    data = yaml.load(head, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    sections = [data, *list((data.get("importers") or {}).values())]
    out: dict[str, str] = {}
    for sec in sections:
        for key in _NPM_SECTIONS:
            for name, v in ((sec or {}).get(key) or {}).items():
                version = v.get("version") if isinstance(v, dict) else v
                out.setdefault(name, str(version).split("(")[0])
    return out


def _is_requirements(path: str, language: str) -> bool:
    # requirements.txt, requirements-dev.in, requirements/base.txt. String operations, not
    # a PurePosixPath: asked of every walked file, twice (a tenth of a second on saleor).
    folder, _, name = path.rpartition("/")
    dot = name.rfind(".")  # PurePosixPath.suffix: a leading dot starts no suffix
    return language == "requirements" or (
        folder.rpartition("/")[2] == "requirements" and dot > 0 and name[dot:] in (".txt", ".in")
    )


@register
class DependencyCollector(Collector):
    id = "deps"
    reads_test_code = True  # manifests, no code parse: a test suite's pins still install
    version = 1

    def wants(self, path: str, language: str) -> bool:
        name = path.rpartition("/")[2]
        return _is_requirements(path, language) or name in _MANIFESTS or name in _LOCKS

    def extract(self, src: SourceFile) -> Extract:
        name = PurePosixPath(src.path).name
        try:
            if name in _LOCKS:
                versions = _lock_versions(name, src.text)
                return {"lock": versions} if versions else None
            if _is_requirements(src.path, src.language):
                deps = list(requirements(src.text))
            elif name == "pyproject.toml":
                deps = list(pyproject(src.text))
            elif name == "Pipfile":
                data, find = tomllib.loads(src.text), _line_finder(src.text)
                deps = [
                    d
                    for section in ("packages", "dev-packages")
                    for d in _toml_table(data.get(section, {}), find)
                ]
            else:
                deps = list(package_json(src.text))
        except (ValueError, yaml.YAMLError, AttributeError, RecursionError) as exc:
            src.parse_errors.append(f"{name} not parsed: {type(exc).__name__}")
            return None
        return {"deps": deps} if deps else None

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        locks: dict[tuple[str, str], dict[str, str]] = {}
        manifest_dirs: set[tuple[str, str]] = set()
        for path, data in extracts.items():
            folder = str(PurePosixPath(path).parent)
            name = PurePosixPath(path).name
            eco = "npm" if name in ("package-lock.json", "yarn.lock", "pnpm-lock.yaml") else "pypi"
            if "lock" in data:
                locks.setdefault((folder, eco), {}).update(data["lock"])
            else:
                manifest_dirs.update((folder, d[0]) for d in data["deps"])
        for path, data in sorted(extracts.items()):
            folder = str(PurePosixPath(path).parent)
            for eco, name, version, line in data.get("deps", []):
                resolved = locks.get((folder, eco), {}).get(name)
                out.dependencies.append(
                    Dependency(
                        ecosystem=eco,
                        name=name,
                        version=resolved or version,
                        location=Location(path=path, line=line),
                    )
                )
        for path, data in sorted(extracts.items()):
            folder, name = str(PurePosixPath(path).parent), PurePosixPath(path).name
            eco = "npm" if name in ("package-lock.json", "yarn.lock", "pnpm-lock.yaml") else "pypi"
            if "lock" in data and (folder, eco) not in manifest_dirs:
                for dep, version in sorted(data["lock"].items()):
                    out.dependencies.append(
                        Dependency(
                            ecosystem=eco,
                            name=dep,
                            version=version,
                            location=Location(path=path, line=1),
                        )
                    )
