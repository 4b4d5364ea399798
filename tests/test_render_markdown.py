"""THREAT_MODEL.md: every section, untrusted text kept inert, links, secrets never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from render_sample import HOSTILE_PATH, SECRET_VALUE, sample_findings, sample_report

from threatmodel.errors import UsageError
from threatmodel.render import render
from threatmodel.render.formats import link_base_for
from threatmodel.render.text import code_span, fence, md_cell, md_text, repo_link


@pytest.fixture(scope="module")
def md() -> str:
    return render(sample_report(), "md")


def section(text: str, heading: str) -> str:
    """The body under ``heading`` up to the next heading of the same or higher level."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    nxt = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    return rest[: nxt.start()] if nxt else rest


def test_has_every_section_in_order(md: str) -> None:
    headings = [
        "## Summary",
        "## System at a glance",
        "### Data flow",
        "## Threats",
        "## Needs review",
        "## Accepted risks",
        "## Entry points",
        "## Data stores",
        "## Secrets and configuration",
        "## Methodology",
        "### What this report does not cover",
        "## Appendix",
        "### Suppressed claims",
        "### Files not parsed",
    ]
    positions = [md.index(h + "\n") for h in headings]
    assert positions == sorted(positions)


def test_summary_counts_and_worst_risks_first(md: str) -> None:
    summary = section(md, "## Summary")
    assert "| critical | 1 | 0 | 0 |" in summary
    assert "| medium | 0 | 1 | 0 |" in summary
    assert "| low | 0 | 0 | 1 |" in summary
    fix_first = summary[summary.index("**Fix first:**") :]
    items = re.findall(r"^\d\. \*\*(\w+)\*\* \[(TM-\w+)\]", fix_first, re.MULTILINE)
    # Critical before high; the accepted finding and the unverifiable one are not in it.
    assert items == [("CRITICAL", "TM-secret01"), ("HIGH", "TM-share001")]
    assert "[config.py#L4](config.py#L4)" in fix_first


def test_llm_skipped_banner_at_top_says_how_to_enable() -> None:
    skipped = render(sample_report("skipped"), "md")
    top = skipped.split("## Summary")[0]
    assert "LLM pass was skipped" in top and "OPENAI_API_KEY" in top
    ran = render(sample_report("ran"), "md")
    assert "LLM pass was skipped" not in ran
    assert "model `gpt-4o-mini`" in section(ran, "## Methodology")


def test_threats_grouped_by_stride_with_evidence_and_mitigation(md: str) -> None:
    threats = section(md, "## Threats")
    assert threats.index("### Tampering") < threats.index("### Information disclosure")
    share = section(
        threats, "#### TM-share001: POST /api/notes/{id}/share changes data without authentication"
    )
    assert "**Severity:** high" in share
    assert "[CWE-306](https://cwe.mitre.org/data/definitions/306.html)" in share
    assert "**Found by:** rule TM101" in share
    assert "[app.py#L10-L11](app.py#L10-L11)" in share
    assert "**Mitigation.** Require a login." in share
    # The quote holds ``` so the fence around it must be longer.
    assert "````python\ndef share(id):\n    q = f'```{id}'\n````" in share
    # Accepted and unverifiable findings are not listed as threats.
    assert "TM-bucket01" not in threats and "TM-review01" not in threats


def test_untrusted_llm_text_cannot_forge_structure(md: str) -> None:
    story = section(md, "#### TM-secret01: Stripe live key committed in config.py")
    attack = story[story.index("**How an attacker would do it.**") : story.index("**Evidence**")]
    assert "\\# Accepted" in attack  # not a heading
    assert re.search(r"(?<!\\)\]\(", attack) is None and "\\[the repo\\]" in attack  # no link
    assert "<img" not in attack and "&lt;img" in attack  # not HTML
    assert "\n\\```" in attack  # not a fence that would swallow the report
    # Every fence in the document is closed: an even count of fence lines per length.
    fences = re.findall(r"^(`{3,})\w*$", md, re.MULTILINE)
    assert len(fences) % 2 == 0


def test_secret_values_never_appear_but_names_and_places_do(md: str) -> None:
    assert SECRET_VALUE not in md
    assert 'STRIPE_KEY = "«redacted»"' in md
    secrets = section(md, "## Secrets and configuration")
    assert "| stripe_key | `STRIPE_KEY` | [config.py#L4](config.py#L4) | `3f9a1c2b` |" in secrets
    assert "`NEXT_PUBLIC_SUPABASE_URL`" in secrets and "`DATABASE_URL`" in secrets


def test_entry_point_and_data_store_tables(md: str) -> None:
    routes = section(md, "## Entry points")
    assert (
        "| POST | `/api/notes/{id}/share` | public |  | [app.py#L10](app.py#L10) `app.h10` "
        "| [TM-share001](#tm-share001) |"
    ) in routes
    assert "| DELETE | `/admin/users/{id}` | restricted | @require_admin |" in routes
    # The hostile path stays inside one cell: its pipe is escaped, its backticks fenced.
    row = next(line for line in routes.splitlines() if "/api/x" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # six cells
    stores = section(md, "## Data stores")
    assert "| `profiles` | sql | **disabled** | 0 |" in stores
    assert '`anyone "reads"` (SELECT USING `true`)' in stores
    assert "| `avatars` | **yes** | [db/0001.sql#L9](db/0001.sql#L9) |" in stores


def test_review_accepted_suppressed_and_methodology(md: str) -> None:
    assert "**Why it could not be verified.** no verifier for info_leak" in section(
        md, "## Needs review"
    )
    accepted = section(md, "## Accepted risks")
    assert "TM-bucket01 | low | Bucket avatars is public | Avatars are public by design" in accepted
    suppressed = section(md, "### Suppressed claims")
    assert "| TM-refuted1 | GET /api/notes is unauthenticated | llm |" in suppressed
    assert "guarded by decorator @login_required" in suppressed
    method = section(md, "## Methodology")
    assert "12 files scanned, 2 skipped" in method and "1 not parsed" in method
    assert "3 calls, 12000 input and 900 output tokens, $0.0123" in method
    assert "5 findings checked" in method and "1 refuted" in method
    assert "| verify | **no** | 5 | verifier info_leak crashed |" in method
    assert "Some stages did not run fully: verify" in md.split("## Summary")[0]
    assert "- broken.py: invalid syntax (line 3)" in section(md, "### Files not parsed")


def test_system_at_a_glance_derives_services_and_boundaries(md: str) -> None:
    glance = section(md, "## System at a glance")
    assert "**External services:** Stripe, Supabase." in glance
    assert "database clients: PostgreSQL" in glance
    assert (
        "Internet → server: 2 entry points with no authentication (1 of them change data)."
        in glance
    )
    assert "Undecided: 1 entry point" in glance


def test_links_are_relative_to_the_output_folder(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    assert link_base_for(root, root / "THREAT_MODEL.md") == ""
    assert link_base_for(root, root / "docs" / "THREAT_MODEL.md") == ".."
    assert link_base_for(root, tmp_path / "out" / "tm.md") == "../repo"
    assert link_base_for(root, None) == "" and link_base_for(root, Path("-")) == ""
    md = render(sample_report(), "md", link_base="..")
    assert "[config.py#L4](../config.py#L4)" in md
    assert (
        repo_link("", "dir with space/(x).py", 3)
        == "[dir with space/(x).py#L3](dir%20with%20space/%28x%29.py#L3)"
    )


def test_rendering_is_deterministic() -> None:
    assert render(sample_report(), "md") == render(sample_report(), "md")


def test_custom_template_gets_report_and_view(tmp_path: Path) -> None:
    tpl = tmp_path / "mine.md.j2"
    tpl.write_text(
        "{{ view.name }}: {{ view.confirmed | length }} / {{ report.facts.routes | length }}\n"
    )
    assert render(sample_report(), "md", template=tpl) == "sample-app: 2 / 5\n"
    with pytest.raises(UsageError, match="no such file"):
        render(sample_report(), "md", template=tmp_path / "missing.j2")
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ view.nope }}\n")
    with pytest.raises(UsageError, match=r"template bad\.j2"):
        render(sample_report(), "md", template=bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a|b\nc", "a\\|b c"),
        ("[x](http://e)", "\\[x\\](http://e)"),
        ("<script>", "&lt;script&gt;"),
    ],
)
def test_md_cell(value: str, expected: str) -> None:
    assert md_cell(value) == expected


def test_helpers_handle_backticks() -> None:
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"
    assert fence("x = '``````'", "a.py").startswith("```````python\n")
    assert md_text("ok\n## Fake\n---\n1. step") == "ok\n\\## Fake\n\\---\n1. step"
    assert HOSTILE_PATH  # the sample carries it into the entry-point table above


def test_fix_first_names_distinct_problems_with_their_look_alikes() -> None:
    from threatmodel.render.view import top_risks

    findings, _ = sample_findings()
    share = next(f for f in findings if f.id == "TM-share001")
    twins = [share.model_copy(update={"id": f"TM-twin{i}"}) for i in range(7)]
    top = top_risks([share, *twins])
    assert len(top) == 1 and len(top[0].similar) == 7
    md = render(sample_report().model_copy(update={"findings": [*findings, *twins]}), "md")
    line = next(x for x in md.splitlines() if x.startswith("2. **HIGH** [TM-share001]"))
    assert "and 7 more like it" in line and line.endswith(", …")


def test_findings_link_to_routes_through_the_sink_handler() -> None:
    from threatmodel.models import Claim, Location, Sink

    findings, _ = sample_findings()
    facts = sample_report().facts
    sink = Sink(
        kind="sql",
        call="cursor.execute",
        dynamic=True,
        location=Location(path="views.py", line=7),
        handler="this.h20",  # the route's handler is "app.h20": same last name
    )
    sqli = findings[1].model_copy(
        update={
            "id": "TM-sqli0001",
            "claims": [Claim(kind="sql_injection", location=sink.location)],
        }
    )
    report = sample_report().model_copy(
        update={"facts": facts.model_copy(update={"sinks": [sink]}), "findings": [sqli]}
    )
    routes = section(render(report, "md"), "## Entry points")
    row = next(x for x in routes.splitlines() if x.startswith("| GET | `/api/notes` |"))
    assert "[TM-sqli0001](#tm-sqli0001)" in row
