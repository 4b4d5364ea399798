"""NestJS controllers and guards (fixtures/js/nest-app)."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect

from threatmodel.code.reader import RepoReader
from threatmodel.collect.effects import handler_code
from threatmodel.frameworks.nestjs.routes import NestJsCollector

APP = Path(__file__).parent / "fixtures" / "js" / "nest-app"


def test_routes_prefixes_and_guards() -> None:
    routes = by_route(collect(APP, NestJsCollector()))
    got = {
        key: r.auth.status.value
        for key, r in routes.items()
        if key[1].startswith(("/api/cats", "/api/owners"))
    }
    assert got == {
        ("GET", "/api/cats"): "public",
        ("GET", "/api/cats/{id}"): "public",  # LoggingGuard's canActivate returns true
        ("POST", "/api/cats"): "authenticated",  # AuthGuard('jwt') at method level
        ("DELETE", "/api/cats/{id}"): "restricted",  # RolesGuard reads roles
        ("GET", "/api/owners"): "authenticated",  # class-level @UseGuards
    }
    owners = routes[("GET", "/api/owners")]
    assert owners.handler == "OwnersController.list"
    assert owners.auth.evidence[0].snippet == '@UseGuards(AuthGuard("jwt"))'


def test_module_middleware_binds_by_path_method_and_controller() -> None:
    routes = by_route(collect(APP, NestJsCollector()))
    got = {
        key: r.auth.status.value
        for key, r in routes.items()
        if key[1].startswith(("/api/shelters", "/api/adoptions"))
    }
    assert got == {
        ("GET", "/api/shelters"): "public",  # excluded, and "shelters/*" needs a segment
        ("POST", "/api/shelters"): "public",  # "shelters/*" does not match "shelters"
        ("GET", "/api/shelters/{id}"): "public",  # excluded for every method
        ("DELETE", "/api/shelters/{id}"): "public",
        ("POST", "/api/shelters/{id}/visits"): "authenticated",  # shelters/*
        ("GET", "/api/adoptions"): "authenticated",  # forRoutes(AdoptionsController)
        ("POST", "/api/adoptions"): "authenticated",
    }
    visit = routes[("POST", "/api/shelters/{id}/visits")]
    assert visit.auth.mechanism == "middleware SessionMiddleware"
    assert visit.auth.evidence[0].path == "src/shelters/shelters.module.ts"
    assert visit.auth.evidence[0].snippet == ".apply(SessionMiddleware)"
    # TraceMiddleware is bound to every route but only calls next(): it changes nothing.
    assert routes[("GET", "/api/cats")].auth.status.value == "public"


MONO = Path(__file__).parent / "fixtures" / "js" / "nest-mono"


def test_paths_as_nest_builds_them() -> None:
    """URI versioning (default, controller, @Version, VERSION_NEUTRAL, arrays), array
    paths, RouterModule paths and setGlobalPrefix's exclude, per application."""
    routes = by_route(collect(MONO, NestJsCollector()))
    got = {key: r.auth.status.value for key, r in routes.items()}
    assert got == {
        ("GET", "/api/v1/notes"): "authenticated",  # the global TokenGuard
        ("GET", "/api/v1/notes/feed"): "public",  # @Open() sets the key TokenGuard skips on
        ("GET", "/api/v1/notes/history"): "authenticated",  # AuditTrailGuard: its own key set
        ("GET", "/api/v2/notes/recent"): "authenticated",
        ("GET", "/api/v2/notes/latest"): "authenticated",
        ("DELETE", "/api/v1/notes/{id}"): "restricted",  # @StaffOnly() sets StaffGuard's key
        ("GET", "/status"): "public",  # excluded from the prefix, version neutral
        ("GET", "/api/v1/backoffice/reports"): "authenticated",  # @SessionRequired()'s guard
        ("GET", "/api/v2/backoffice/reports"): "authenticated",
        ("GET", "/jobs/queue"): "public",  # the worker: the API's global guards are not its own
        # passport's login flows are the sign-in step (as in Express), a token strategy is not
        ("GET", "/api/v1/login/github"): "public",  # passport.authenticate(Providers.GITHUB)
        ("GET", "/api/v1/login/github/callback"): "public",  # AuthGuard('github')
        ("POST", "/api/v1/login/renew"): "authenticated",  # AuthGuard('jwt-renew')
        ("POST", "/api/v1/drafts"): "public",
        ("GET", "/api/v1/drafts/{id}"): "public",
    }


def test_guard_evidence_through_composed_decorator() -> None:
    routes = by_route(collect(MONO, NestJsCollector()))
    reports = routes[("GET", "/api/v1/backoffice/reports")].auth
    assert reports.mechanism == "guard CookieSessionGuard"  # TokenGuard is lifted by @Open()
    assert reports.evidence[0].snippet == "@SessionRequired()"
    # StaffGuard lets every route without its key through: GET /notes is TokenGuard's alone
    assert routes[("GET", "/api/v1/notes")].auth.mechanism == "guard TokenGuard"


def test_handler_effects_follow_injected_use_cases() -> None:
    """A controller hands its work to an injected service (``this.saveNote.execute(cmd)``
    with ``constructor(private readonly saveNote: SaveNote)``): its writes are the route's;
    building a command object (``SaveNoteCommand.create``) writes nothing."""
    routes = by_route(collect(MONO, NestJsCollector()))
    reader = RepoReader(MONO)
    save = handler_code(reader, routes[("POST", "/api/v1/drafts")])
    assert save is not None
    assert [(e.kind, e.call) for e in save.effects] == [("db_write", "this.store.notes.insertOne")]
    preview = handler_code(reader, routes[("GET", "/api/v1/drafts/{id}")])
    assert preview is not None and preview.effects == []


def test_a_write_named_call_on_an_injected_service_is_its_body(tmp_path: Path) -> None:
    """``this.users.delete(slug)`` on an injected ``UsersService`` is not an outbound HTTP
    call because a ``*Service`` has a ``delete``: the service's method is read, and the
    repository delete it makes is the route's write."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "users.controller.ts").write_text(
        "import { Controller, Delete, Param } from '@nestjs/common';\n"
        "import { UsersService } from './users.service';\n"
        "@Controller()\n"
        "export class UsersController {\n"
        "  constructor(private readonly users: UsersService) {}\n"
        "  @Delete('users/:slug')\n"
        "  async remove(@Param() params) {\n"
        "    return this.users.delete(params.slug);\n"
        "  }\n"
        "}\n"
    )
    (src / "users.service.ts").write_text(
        "import { Injectable } from '@nestjs/common';\n"
        "import { Repository } from 'typeorm';\n"
        "@Injectable()\n"
        "export class UsersService {\n"
        "  constructor(private readonly repo: Repository<object>) {}\n"
        "  async delete(email: string) {\n"
        "    return await this.repo.delete({ email });\n"
        "  }\n"
        "}\n"
    )
    routes = by_route(collect(tmp_path, NestJsCollector()))
    code = handler_code(RepoReader(tmp_path), routes[("DELETE", "/users/{slug}")])
    assert code is not None
    assert [(e.kind, e.call, e.destructive) for e in code.effects] == [
        ("db_write", "this.repo.delete", True)
    ]


def test_a_write_behind_a_verified_jwt_is_authenticated_by_it(tmp_path: Path) -> None:
    """An e-mail confirmation whose service first checks the signed hash
    (``this.jwtService.verifyAsync(hash, {secret})``) is authenticated by that token."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "auth.controller.ts").write_text(
        "import { Body, Controller, Post } from '@nestjs/common';\n"
        "import { AuthService } from './auth.service';\n"
        "@Controller('auth')\n"
        "export class AuthController {\n"
        "  constructor(private readonly service: AuthService) {}\n"
        "  @Post('email/confirm')\n"
        "  async confirm(@Body() dto: any) {\n"
        "    return this.service.confirm(dto.hash);\n"
        "  }\n"
        "}\n"
    )
    (src / "auth.service.ts").write_text(
        "import { Injectable } from '@nestjs/common';\n"
        "import { JwtService } from '@nestjs/jwt';\n"
        "import { Repository } from 'typeorm';\n"
        "@Injectable()\n"
        "export class AuthService {\n"
        "  constructor(private jwtService: JwtService, private repo: Repository<object>) {}\n"
        "  async confirm(hash: string) {\n"
        "    const data = await this.jwtService.verifyAsync(hash, { secret: 's' });\n"
        "    await this.repo.update(data.id, { active: true });\n"
        "  }\n"
        "}\n"
    )
    routes = by_route(collect(tmp_path, NestJsCollector()))
    code = handler_code(RepoReader(tmp_path), routes[("POST", "/auth/email/confirm")])
    assert code is not None and code.signature is not None
    assert [e.call for e in code.effects] == ["this.repo.update"]
