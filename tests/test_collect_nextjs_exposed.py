"""Server actions a browser can call, on fixtures/js/next15-actions: an export of a
"use server" file that only server code imports is no endpoint under Next.js 15."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from js_support import collect

from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.models import Facts

APP = Path(__file__).parent / "fixtures" / "js" / "next15-actions"


def actions(facts: Facts) -> set[str]:
    return {r.path for r in facts.routes if r.path.startswith("action:")}


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(APP, NextJsCollector())


def test_only_actions_client_code_reaches_are_endpoints(facts: Facts) -> None:
    assert actions(facts) == {
        # a hook a "use client" component imports calls it
        "action:app/actions/teams.ts#renameTeamAction",
        # the same hook imports it through a barrel (export * from)
        "action:app/actions/invites.ts#resendInvite",
        # a server component hands it to <form action=...>
        "action:app/actions/billing.ts#updatePlan",
        # no importer found at all: not finding one is no proof, it stays
        "action:app/actions/teams.ts#archiveTeam",
        "action:app/actions/invites.ts#sendInvite",
    }
    # removeMember and chargeCard: only the API route (and the action module) import them
    routes = {r.id for r in facts.routes}
    assert "DELETE /api/teams" in routes


def test_before_next_15_every_export_is_an_action(tmp_path: Path) -> None:
    app = tmp_path / "app14"
    shutil.copytree(APP, app)
    (app / "package.json").write_text('{"dependencies": {"next": "14.2.3"}}')
    got = actions(collect(app, NextJsCollector()))
    assert "action:app/actions/teams.ts#removeMember" in got
    assert "action:app/actions/billing.ts#chargeCard" in got
    assert len(got) == 7


def test_an_unreadable_next_version_hides_nothing(tmp_path: Path) -> None:
    app = tmp_path / "canary"
    shutil.copytree(APP, app)
    (app / "package.json").write_text('{"dependencies": {"next": "canary"}}')
    assert len(actions(collect(app, NextJsCollector()))) == 7


def test_a_header_compared_with_a_secret_from_the_environment_is_a_gate(facts: Facts) -> None:
    routes = {r.id: r for r in facts.routes}
    cron = routes["POST /api/cron/reindex"].auth
    assert cron.status.value == "authenticated"
    assert (cron.mechanism or "").startswith("api_key")
    assert cron.evidence[0].snippet.startswith('return new Response("Unauthorized"')
    # the same compare with no refusal guards nothing
    assert routes["POST /api/cron/open"].auth.status.value == "public"
