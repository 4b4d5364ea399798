"""xss: request input is written into an HTML response without escaping."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

SPEC = KindSpec(
    kind="xss",
    title="Cross-site scripting",
    meaning="user input is rendered into HTML at `location` without escaping",
    params="location",
    cwe=("CWE-79",),
    stride=("tampering", "information_disclosure"),
    severity="medium",
    help="Render through an autoescaping template, or escape with html.escape / "
    "markupsafe.escape; never mark input safe (Markup, |safe).",
    sinks=(
        # a response's body is HTML unless its content type (or an attachment) says not
        *(
            SinkRow(c, when="response_body")
            for c in ("flask.make_response", "flask.Response", "django.http.HttpResponse")
        ),
        SinkRow("markupsafe.Markup"),
        SinkRow("django.utils.safestring.mark_safe"),
        SinkRow("<return>", when="html_handler"),
        # JS: Express's res.send of a string is an HTML page; res.json / objects are not
        *(js(f".{m}", when="html_response") for m in ("send", "write", "end")),
        # res.render(view, locals), Koa's ctx.render, Fastify's reply.view: XSS where the
        # view prints a local raw (EJS ``<%- %>``, Handlebars ``{{{ }}}``, Pug ``!{}``);
        # link reads the view (dataflow/jsviews.py)
        *(js(f".{m}", arg=1, when="view_locals", stored=True) for m in ("render", "view")),
        # the browser: HTML written into the page (the DOM's writers are "template" sinks),
        # React's raw HTML, Angular's sanitizer switched off: no escaping at all, so a stored
        # value is worth a review too (persisted XSS)
        *(js(c, fact="template", stored=True) for c in ("document.write", "document.writeln")),
        *(
            js(f".{p}", at="assign", fact="template", stored=True)
            for p in ("innerHTML", "outerHTML")
        ),
        js("__html", at="key", shown="dangerouslySetInnerHTML", stored=True),
        js(".html", stored=True),
        js(".insertAdjacentHTML", arg=1, stored=True),
        *(
            js(f".bypassSecurityTrust{t}", stored=True)
            for t in ("Html", "Script", "Url", "ResourceUrl")
        ),
    ),
    sanitizers=(
        "html.escape",
        "markupsafe.escape",
        "flask.escape",
        "bleach.clean",
        "cgi.escape",
        "django.utils.html.escape",
        "django.utils.html.conditional_escape",
        "django.urls.reverse",  # a URL path whose arguments are percent-quoted
        "flask.render_template",
        "flask.jsonify",
        "json.dumps",
        "django.shortcuts.render",
        "django.template.loader.render_to_string",  # a file template: autoescaped
        "int",
        "float",
        # a file served by path (or file object) answers with the file's bytes, not the
        # argument's text: the path is path traversal's concern (its own sink row), never XSS
        *("flask.send_file", "flask.send_from_directory", "werkzeug.utils.send_file"),
        *("werkzeug.utils.send_from_directory", "django.http.FileResponse"),
        *("starlette.responses.FileResponse", "fastapi.responses.FileResponse"),
        "<escape_html>",
        *("escape-html", "validator.escape", "he.encode", "he.escape", "lodash.escape", "xss"),
        *("dompurify.sanitize", "isomorphic-dompurify.sanitize", "sanitize-html"),
        *("encodeURIComponent", "parseInt", "Number", "JSON.stringify"),
    ),
    guard_needles=("<", ">"),
)
