"""Who may call a FastAPI route when its dependencies compare the caller with a setting.

``account.id != settings.owner_account and account.id not in settings.operator_accounts``
rejects every caller the deployment does not list: only listed operators pass, a
restriction however the setting is named (no role word needed). A dependency that depends
on it (``owner``) is at least as strict. ``dependencies=panel_checks`` names a module's
list of ``Depends``: FastAPI runs each of them. A check of the caller against another row
(``item.account_id != account.id``) is not a list of callers; a test that reads only
settings (``settings.method_on("password")``) decides by deployment, not by caller.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from threatmodel.collect import collect_facts

FIXTURE = Path(__file__).parent / "fixtures" / "python" / "fastapi_allowlist"


def _routes(tmp_path: Path) -> dict[str, tuple[str, str]]:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    files = sorted(p.name for p in root.glob("*.py"))
    facts = collect_facts(root, files, cache=None, jobs=1).facts
    return {
        f"{r.method} {r.path}": (r.auth.status.value, r.auth.mechanism or "") for r in facts.routes
    }


def test_a_setting_that_lists_callers_restricts(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert routes["GET /ops/accounts"][0] == "restricted"
    assert routes["DELETE /ops/accounts/{account_id}"][0] == "restricted"


def test_a_module_list_of_dependencies_guards_the_route(tmp_path: Path) -> None:
    status, mechanism = _routes(tmp_path)["GET /panel"]
    assert status == "restricted"
    assert "operator" in mechanism


def test_comparing_with_another_row_is_no_list_of_callers(tmp_path: Path) -> None:
    assert _routes(tmp_path)["GET /ops/mine/{item_id}"][0] == "authenticated"


def test_a_test_of_settings_alone_turns_a_feature_off_for_everyone(tmp_path: Path) -> None:
    assert _routes(tmp_path)["POST /signup"][0] == "public"


def test_a_login_through_a_helper_is_a_login(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert routes["POST /signin"][0] == "public"  # its password check is the login
    # the same check with no credentials issued stays the handler's check
    assert routes["POST /unlock"][0] == "authenticated"
    assert routes["POST /confirm"][0] == "authenticated"


def test_a_role_word_in_a_value_the_client_sends_proves_no_role(tmp_path: Path) -> None:
    # ``if not admin_session: raise 401``: a cookie the client chose, present or not
    routes = _routes(tmp_path)
    assert routes["DELETE /switch-back"][0] == "authenticated"
    # a parameter typed with an alias defined elsewhere may be injected: its role counts
    assert routes["GET /admin-report"][0] == "restricted"


def test_a_websocket_route_is_a_route_with_its_dependencies(tmp_path: Path) -> None:
    assert _routes(tmp_path)["WS /ops/feed/{channel}"][0] == "restricted"
