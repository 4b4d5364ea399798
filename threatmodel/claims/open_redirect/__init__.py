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
        # the target by position or by its keyword; a constant local path or fixed host
        # before the input keeps the browser on a site the code chose (``url_host``)
        SinkRow("flask.redirect", kw="location", when="url_host"),
        SinkRow("werkzeug.utils.redirect", kw="location", when="url_host"),
        SinkRow("django.shortcuts.redirect", kw="to", when="url_host"),
        *(
            SinkRow(f"django.http.{c}", kw="redirect_to", when="url_host")
            for c in ("HttpResponseRedirect", "HttpResponsePermanentRedirect")
        ),
        *(
            SinkRow(f"{m}.RedirectResponse", kw="url", when="url_host")
            for m in ("starlette.responses", "fastapi.responses")
        ),
        js(".redirect", arg=-1, when="url_host"),  # res.redirect([status,] url), ctx.redirect
    ),
    sanitizers=(
        "django.utils.http.url_has_allowed_host_and_scheme",
        # Django's check as standalone PyPI packages (safe-redirect-url, is-safe-url)
        "safe_redirect_url.url_has_allowed_host_and_scheme",
        "is_safe_url.is_safe_url",
        "flask.url_for",
        # a path of this site built from the URLconf; Django escapes a leading ``//`` so
        # the result is never scheme-relative, whatever the arguments
        "django.urls.reverse",
        "django.urls.reverse_lazy",
        # JS: an encoded component has no ':', '/', '?', '#' or '\\': it cannot name a scheme
        # or a host, wherever it lands in the URL (Python's quote keeps '/' by default)
        "encodeURIComponent",
    ),
    prefix_guard=True,
)
