"""insecure_deserialization: request input is deserialised by a format that runs code."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

SPEC = KindSpec(
    kind="insecure_deserialization",
    title="Insecure deserialization",
    meaning="user input is deserialised at `location` by pickle, marshal, unsafe YAML or "
    "similar, which can run code",
    params="location",
    cwe=("CWE-502",),
    stride=("tampering", "elevation_of_privilege"),
    severity="critical",
    help="Parse untrusted data as JSON or with yaml.safe_load; never unpickle it.",
    sink_fact="deserialize",
    sinks=(
        *(SinkRow(f"pickle.{f}") for f in ("loads", "load", "Unpickler")),
        *(SinkRow(f"_pickle.{f}") for f in ("loads", "load")),
        *(SinkRow(f"cPickle.{f}") for f in ("loads", "load")),
        *(SinkRow(c) for c in ("marshal.loads", "marshal.load", "dill.loads", "dill.load")),
        *(SinkRow(c) for c in ("jsonpickle.decode", "shelve.open", "yaml.unsafe_load")),
        *(SinkRow(c) for c in ("yaml.full_load", "yaml.unsafe_load_all", "pandas.read_pickle")),
        SinkRow("yaml.load", when="unsafe_yaml"),
        SinkRow("yaml.load_all", when="unsafe_yaml"),
        *(js(c) for c in ("node-serialize.unserialize", "serialize-to-js.deserialize")),
        *(js(c) for c in ("funcster.deepDeserialize", "cryo.parse")),
        # js-yaml 3's load reads !!js/function (its 4's is safe; the version is not read)
        *(js(f"js-yaml.{f}") for f in ("load", "loadAll")),
    ),
)
