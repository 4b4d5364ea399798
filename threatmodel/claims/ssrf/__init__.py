"""ssrf: the server fetches a URL taken from request input."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
_JS_LIBS = ("axios", "needle", "request", "got", "superagent", "http", "https", "undici")
_JS_VERBS = ("get", "post", "put", "patch", "delete", "head", "request", "fetch")

SPEC = KindSpec(
    kind="ssrf",
    title="Server-side request forgery",
    meaning="an outbound HTTP request at `location` goes to a URL taken from user input",
    params="location",
    cwe=("CWE-918",),
    stride=("information_disclosure", "elevation_of_privilege"),
    severity="high",
    help="Fetch only allow-listed hosts; resolve and reject private addresses.",
    sink_fact="http_request",
    sinks=(
        # ``requests.request(method, url)``: the URL is the second argument
        *(
            SinkRow(f"{lib}.{v}", arg=1 if v == "request" else 0, kw="url", when="url_host")
            for lib in ("requests", "httpx")
            for v in _VERBS
        ),
        SinkRow("urllib.request.urlopen", kw="url", when="url_host"),
        SinkRow("urllib.request.Request", kw="url", when="url_host"),
        SinkRow("urllib3.PoolManager.request", arg=1, kw="url", when="url_host"),
        *(js(c, when="url_host") for c in ("fetch", "axios", "needle", "request", "got")),
        *(js(f"{lib}.{v}", when="url_host") for lib in _JS_LIBS for v in _JS_VERBS),
        *(js(c, when="url_host") for c in ("node-fetch", "cross-fetch", "isomorphic-fetch")),
    ),
    sanitizers=("encodeURIComponent",),  # JS: an encoded component names no scheme or host
    prefix_guard=True,
)
