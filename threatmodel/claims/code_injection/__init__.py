"""code_injection: request input is evaluated as Python code."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

SPEC = KindSpec(
    kind="code_injection",
    title="Code injection",
    meaning="user input reaches eval/exec/compile at `location` and runs as code",
    params="location",
    cwe=("CWE-94", "CWE-95"),
    stride=("tampering", "elevation_of_privilege"),
    severity="critical",
    help="Never evaluate input; parse data with json or ast.literal_eval.",
    sink_fact="eval",
    sinks=(
        *(SinkRow(c) for c in ("eval", "exec", "compile", "builtins.eval", "builtins.exec")),
        SinkRow("code.InteractiveInterpreter.runsource"),
        # libraries whose documentation says they eval their string argument: Pillow's
        # ImageMath (CVE-2022-22817, CVE-2023-50447) and SymPy's sympify
        *(SinkRow(f"PIL.ImageMath.{f}") for f in ("eval", "unsafe_eval")),
        SinkRow("sympy.sympify"),
        # JS: code run whole, a stored value too (``stored``: what a user saved, run later)
        *(js(c, stored=True) for c in ("eval", "vm.Script", "vm.runInThisContext")),
        # a string is code, a function is called: ``setTimeout(tick, 100)`` runs no text
        *(js(c, when="code_string", stored=True) for c in ("setTimeout", "setInterval")),
        js("Function", arg=-1, stored=True),  # ``new Function(a, b, body)``: all is code
        # ``res.render(view, locals)`` where the view's engine evaluates a local as code
        # (dustjs-helpers' ``{@if cond="'{x}'=='a'"}`` evals the text): link reads the view
        # (dataflow/jsviews.py)
        js(".render", arg=1, when="view_locals"),
        # the sandbox is code's data too: ``runInContext('safeEval(x)', {x})`` runs x
        *(js(f"vm.{f}", arg=-1, stored=True) for f in ("runInNewContext", "runInContext")),
        # math.js's expression parser reached JavaScript's Function constructor before 3.17.0
        # (CVE-2017-1001002, CVE-2017-1001003); a sink only where the app pins such a version
        js("mathjs.eval", below="3.17.0"),
    ),
    sanitizers=("ast.literal_eval", "int", "float", "parseInt", "parseFloat", "Number"),
)
