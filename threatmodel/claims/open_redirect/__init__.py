"""open_redirect: the redirect target is taken from request input."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

SPEC = KindSpec(
    kind="open_redirect",
    title="Open redirect",
    meaning="a redirect at `location` sends the browser to a URL taken from user input",
    params="location",
    cwe=("CWE-601",),
    stride=("spoofing",),
    severity="medium",
    help="Redirect only to relative paths or to hosts on an allow-list "
    "(url_has_allowed_host_and_scheme).",
    sink_fact="redirect",
    sinks=(
        *(SinkRow(c) for c in ("flask.redirect", "django.shortcuts.redirect")),
        *(SinkRow(c) for c in ("django.http.HttpResponseRedirect", "werkzeug.utils.redirect")),
        SinkRow("django.http.HttpResponsePermanentRedirect"),
        SinkRow("starlette.responses.RedirectResponse"),
        SinkRow("fastapi.responses.RedirectResponse"),
        js(".redirect", arg=-1, when="url_host"),  # res.redirect([status,] url), ctx.redirect
    ),
    sanitizers=("django.utils.http.url_has_allowed_host_and_scheme", "flask.url_for"),
    prefix_guard=True,
)
