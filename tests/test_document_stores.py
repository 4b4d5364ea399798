"""A JS ``findOne`` is a NoSQL query only in a project that depends on a document store:
where the npm manifests are read and name none, its flow is broken with that reason (a
TypeORM service); a MongoDB client, or no manifest at all, keeps it, and Python flows are
another engine's."""

from __future__ import annotations

import textwrap
from pathlib import Path

from threatmodel.collect import collect_facts
from threatmodel.dataflow.proof import proves

CONTROLLER = """\
    import { Controller, Post, Body } from '@nestjs/common';
    import { UsersService } from './users.service';

    @Controller('users')
    export class UsersController {
      constructor(private readonly users: UsersService) {}

      @Post('login')
      async login(@Body('user') dto: any) {
        return this.users.findOne(dto);
      }
    }
    """


def nosql(tmp_path: Path, deps: dict[str, str] | None) -> list[bool]:
    """For each NoSQL flow of the little app: does it prove an injection?"""
    (tmp_path / "src").mkdir()
    (tmp_path / "src/users.controller.ts").write_text(textwrap.dedent(CONTROLLER))
    files = ["src/users.controller.ts"]
    if deps is not None:
        manifest = {"name": "app", "dependencies": {"@nestjs/common": "^10.0.0", **deps}}
        (tmp_path / "package.json").write_text(repr(manifest).replace("'", '"'))
        files.append("package.json")
    facts = collect_facts(tmp_path, files, cache=None, jobs=1).facts
    return [proves(f) for f in facts.flows if f.claim == "nosql_injection"]


def test_no_document_store_among_the_dependencies_breaks_the_flow(tmp_path: Path) -> None:
    assert nosql(tmp_path, {"typeorm": "^0.3.0"}) == [False]


def test_a_mongodb_client_keeps_it(tmp_path: Path) -> None:
    assert nosql(tmp_path, {"mongoose": "^8.0.0"}) == [True]


def test_no_manifest_read_keeps_it(tmp_path: Path) -> None:
    assert nosql(tmp_path, None) == [True]
