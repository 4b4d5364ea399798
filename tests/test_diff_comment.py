"""The PR comment's Markdown: verdict first, links, folding, and untrusted text kept inert."""

from __future__ import annotations

import re

from threatmodel.delta import Change, DiffReport, RefInfo
from threatmodel.models import Claim, Evidence, Finding, Location, RouteRef, Severity, Verdict
from threatmodel.render.pr_comment import MARKER, MAX_BODY, render_pr_comment

BASE = RefInfo(ref="main", commit="a" * 40)
HEAD = RefInfo(ref="feature", commit="b" * 40)


def report(**kw: object) -> DiffReport:
    return DiffReport(base=BASE, head=HEAD, **kw)  # type: ignore[arg-type]


def route_change(
    subject: str = "POST /admin/purge", detail: str = "public: no auth guard"
) -> Change:
    return Change(
        area="route",
        action="added",
        subject=subject,
        detail=detail,
        risk=True,
        location=Location(path="app.py", line=73),
    )


def new_finding() -> Finding:
    return Finding(
        id="TM-1234abcd",
        title="POST /admin/purge changes data without authentication",
        severity=Severity.HIGH,
        source="rule",
        rule_id="TM101",
        verdict=Verdict.CONFIRMED,
        claims=[Claim(kind="route_unauthenticated", route=RouteRef(method="POST", path="/p"))],
        evidence=[Evidence(path="app.py", start_line=73, end_line=76, snippet="def purge():")],
        attack="Call it.",
    )


def test_unchanged_is_one_line_and_the_marker() -> None:
    text = render_pr_comment(report(changed_files=["web/app.css"]))
    assert text.splitlines() == [
        "⚪ **threatmodel**: architecture unchanged (`aaaaaaa`…`bbbbbbb`): no route, auth, "
        "middleware, schema, policy, bucket, env var, secret or dependency changed.",
        "",
        MARKER,
    ]


def test_links_point_at_the_head_commit_with_the_scanned_folder() -> None:
    r = report(repo="acme/notes", path_prefix="svc/", changes=[route_change()],
               new_findings=[new_finding()])  # fmt: skip
    text = render_pr_comment(r)
    first = text.splitlines()[0]
    assert first.startswith("🔴 **threatmodel**") and "1 new finding (1 high)" in first
    url = f"https://github.com/acme/notes/blob/{'b' * 40}/svc/app.py"
    assert f"[app.py#L73]({url}#L73)" in text  # the change row
    assert f"[app.py#L73-L76]({url}#L73-L76)" in text  # the finding's evidence
    assert "```python\n  def purge():\n  ```" in text


def test_without_a_repository_links_are_relative_and_removed_items_link_to_base() -> None:
    removed = Change(area="route", action="removed", subject="GET /old", detail="public",
                     risk=False, location=Location(path="app.py", line=5), at="base")  # fmt: skip
    text = render_pr_comment(report(changes=[removed]))
    assert "[app.py#L5](app.py#L5)" in text
    assert text.splitlines()[0].startswith("🟢 ")
    r = report(repo="o/r", changes=[removed])
    assert f"/o/r/blob/{'a' * 40}/app.py#L5" in render_pr_comment(r)


def test_untrusted_names_cannot_mention_inject_html_or_break_the_table() -> None:
    hostile = route_change(
        subject="GET /x|y`z", detail="<img src=x onerror=alert(1)> ping @acme/security | [a](b)"
    )
    text = render_pr_comment(report(changes=[hostile]))
    row = next(line for line in text.splitlines() if line.startswith("| ⚠️"))
    assert "<img" not in text and "&lt;img" in row
    assert "@acme" not in text and "@\u2060acme/security" in row
    assert "\\[a\\](b)" in row
    assert "``GET /x\\|y`z``" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # still six columns


def test_rest_is_folded_in_details() -> None:
    resolved = new_finding().model_copy(update={"id": "TM-gone0000"})
    r = report(changes=[route_change()], resolved_findings=[resolved])
    text = render_pr_comment(r)
    assert "<details>\n<summary>Resolved findings (1)</summary>" in text
    assert f"/blob/{'a' * 40}/" not in text  # no repo: relative links even for base
    assert "How this was checked" in text


def test_huge_delta_still_fits_a_github_comment() -> None:
    many = [route_change(subject=f"GET /r{i}", detail="x" * 300) for i in range(3000)]
    text = render_pr_comment(report(changes=many))
    assert len(text) <= MAX_BODY
    assert text.splitlines()[0].startswith("🟠 **threatmodel**")
    assert text.rstrip().endswith(MARKER)
