"""debug_enabled: the application runs with debug mode on (stack traces, debugger, ...).

Confirmed by a ``debug`` Setting fact with a true value (near the cited location when one is
given), or by the cited line itself setting ``debug=True`` / ``DEBUG = True``. Refuted when
the cited line is a comment (e.g. ``# app.run(debug=True)``), sets debug to False, or when
every debug setting of the repository is false (the reason names where). Unverifiable when
debug comes from the environment or nothing is known.

Debug on is a threat only where production runs with it. A dev-server call
(``app.run(debug=True)``) is confirmed only when a deployment file (Dockerfile, Procfile,
compose, entrypoint script: ``verify/_entry.py``) runs that file directly; under
``if __name__ == "__main__":`` or in a runner no deployment starts, it is unverifiable with
the entry-point link named. Settings in a dev / local / test settings module likewise.
"""

from __future__ import annotations

from threatmodel.collect.entrypoints import entry_points
from threatmodel.collect.scope import Classifier
from threatmodel.models import Claim, Finding, Location, ProofStep
from threatmodel.verify._common import TRUTHY, at, claim_locations, settings
from threatmodel.verify._line import assigned_at, is_comment
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class DebugEnabled(Verifier):
    kind = "debug_enabled"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        facts = settings(ctx.facts, "debug")
        on = [s for s in facts if s.value.strip().lower() in TRUTHY]
        locs = claim_locations(claim, finding)
        for loc in locs:
            if is_comment(ctx.reader, loc):
                return ClaimResult.refuted(f"line {loc.line} of {loc.path} is a comment")
            for s in on:
                if s.location.path == loc.path and abs(s.location.line - loc.line) <= 3:
                    return in_production(s.location, f"debug is {s.value}{at(s.location)}", ctx)
            for v in assigned_at(ctx.reader, loc) or []:
                if v.target.lower().endswith("debug") and v.kind == "bool":
                    if v.truth:
                        why = f"{v.target} = True at {loc.path}:{loc.line}"
                        return in_production(loc, why, ctx)
                    return ClaimResult.refuted(f"{v.target} is False at {loc.path}:{loc.line}")
                if v.target.lower().endswith("debug") and v.kind == "env":
                    return ClaimResult.unverifiable(
                        f"debug at {loc.path}:{loc.line} comes from the environment (`{v.text}`)"
                    )
        if on and not locs:
            return in_production(on[0].location, f"debug is {on[0].value}{at(on[0].location)}", ctx)
        if facts and not on:
            return ClaimResult.refuted(f"debug is {facts[0].value}{at(facts[0].location)}")
        return ClaimResult.unverifiable("no debug setting was found at the cited location")


_DEV_SETTINGS = ("dev", "local", "develop", "development", "test", "testing", "debug")


def in_production(loc: Location, why: str, ctx: VerifyContext) -> ClaimResult:
    """Confirmed when production runs the code that turns debug on; else the missing link."""
    setting = ProofStep(kind="setting", text=why, location=loc)
    line = ctx.reader.snippet(loc.path, loc.line)
    entries = entry_points(ctx.reader)
    runs = entries.running(loc.path)
    if ".run(" in line:  # the framework's development server
        if runs is not None:
            step = ProofStep(
                kind="fact", text=f"deployment runs {loc.path} directly", location=runs
            )
            return ClaimResult.confirmed(f"{why}; production runs it", (setting, step))
        dev = Classifier(ctx.reader).at(loc.path, loc.line) == "dev"
        where = 'under `if __name__ == "__main__"`' if dev else "in a runner"
        served = (
            f"; deployment serves the app with a WSGI/ASGI server ({at(entries.servers[0])[4:]})"
            if entries.servers
            else ""
        )
        return ClaimResult.unverifiable(
            f"{why}, {where} that no deployment file runs{served}: the production entry-point "
            "link is missing"
        )
    stem = loc.path.rsplit("/", 1)[-1].removesuffix(".py").lower()
    if any(part in _DEV_SETTINGS for part in stem.replace("-", "_").split("_")):
        return ClaimResult.unverifiable(
            f"{why}, in {loc.path}, a development settings module: whether production loads "
            "it is not decidable"
        )
    return ClaimResult.confirmed(why, (setting,))
