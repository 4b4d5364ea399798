"""Next.js API routes guarded by a helper that answers the refusal itself (pages router).

``tests/fixtures/js/next-pages-helper`` (an app in a monorepo folder, imports through its
tsconfig alias): ``readPass`` reads the session token and answers a *message* in place of
the caller when there is none; ``requireMember`` tests that answer's shape
(``typeof pass === "string"``), answers 401 itself and returns null; a handler stops on the
null (``if (!member) return;``). Both helpers are default exports imported by default.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from js_support import by_route, collect, js_flows

from tests.test_precision import by_rule, scan
from threatmodel.frameworks.nextjs.routes import NextJsCollector
from threatmodel.models import Facts

FIXTURE = Path(__file__).parent / "fixtures" / "js" / "next-pages-helper"


@pytest.fixture(scope="module")
def facts() -> Facts:
    return collect(FIXTURE, NextJsCollector())


def test_handler_stopping_on_a_helper_that_refused_is_authenticated(facts: Facts) -> None:
    route = next(r for r in facts.routes if r.path == "/api/bookmarks")
    assert route.auth.status.value == "authenticated"
    assert "requireMember()" in (route.auth.mechanism or "")
    assert route.auth.evidence[0].snippet == "if (!member) return;"


def test_a_401_branch_on_a_lookups_answer_is_the_anonymous_branch(facts: Facts) -> None:
    # the handler tests the shape of readPass's answer and answers 401 itself
    route = next(r for r in facts.routes if r.path == "/api/whoami")
    assert route.auth.status.value == "authenticated"


def test_a_helper_whose_answer_is_not_tested_guards_nothing(facts: Facts) -> None:
    route = next(r for r in facts.routes if r.path == "/api/visits")
    assert route.auth.status.value == "public"


def test_auth_library_endpoints_and_email_verification_are_public_by_design(
    tmp_path: Path,
) -> None:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    report = scan(root, {})
    assert by_route(report.facts)[("ANY", "/api/visits")].auth.status.value == "public"
    flagged = {f.claims[0].route.path for f in by_rule(report, "TM101") if f.claims[0].route}
    # the anonymous visit log is reported; NextAuth's own endpoint (whose sign-in event
    # writes) and the resend-verification step are not
    assert "/api/visits" in flagged
    assert not {"/api/auth/{nextauth}", "/api/auth/request-verification-email"} & flagged


def test_request_options_with_a_fixed_host_are_no_ssrf() -> None:
    text = """
        import http from "http";
        import type { NextApiRequest, NextApiResponse } from "next";

        export default function handler(req: NextApiRequest, res: NextApiResponse) {
          const path = String(req.query.p);
          http.request({ host: "inventory.internal", port: 8080, path }, (r) => r.pipe(res));
          http.request({ hostname: String(req.query.h), path: "/" }, (r) => r.pipe(res));
        }
    """
    flows = [f for f in js_flows({"pages/api/fetch.ts": text}) if f.claim == "ssrf"]
    by_line = {f.sink_location.line: f for f in flows}
    assert by_line[7].broken_by is not None and "server is fixed" in by_line[7].broken_by
    assert by_line[8].broken_by is None  # the caller picks the host
