"""template_injection: request input becomes template source (server-side template injection)."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

SPEC = KindSpec(
    kind="template_injection",
    title="Server-side template injection",
    meaning="user input is compiled as a template at `location` (Jinja2, Mako, Django)",
    params="location",
    cwe=("CWE-1336",),
    stride=("tampering", "elevation_of_privilege"),
    severity="critical",
    help="Render fixed templates and pass input as context variables, never as template text.",
    sink_fact="template",
    sinks=(
        *(SinkRow(c) for c in ("flask.render_template_string", "jinja2.Template")),
        *(SinkRow(c) for c in ("mako.template.Template", "django.template.Template")),
        SinkRow(".from_string", when="template_env"),
        *(js(f"{m}.{f}") for m in ("ejs", "pug", "jade") for f in ("render", "compile")),
        *(js(f"{m}.compile") for m in ("handlebars", "Handlebars")),
        *(js(c) for c in ("nunjucks.renderString", "lodash.template", "dot.template")),
    ),
)
