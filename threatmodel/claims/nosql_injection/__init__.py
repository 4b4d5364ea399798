"""nosql_injection: a MongoDB query document or $where code comes from request input."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

_METHODS = ("find", "find_one", "find_one_and_update", "update_one", "update_many")
_METHODS2 = ("delete_one", "delete_many", "aggregate", "count_documents")
_JS_METHODS = (
    *("find", "findOne", "findOneAndUpdate", "findOneAndDelete", "findOneAndReplace"),
    *("update", "updateOne", "updateMany", "deleteOne", "deleteMany", "remove"),
    *("count", "countDocuments", "replaceOne", "aggregate"),
)

# npm packages whose queries take a document of operators (``{"$ne": null}``, a Mango
# selector, Sequelize 4's ``$`` aliases): a JS ``findOne(filter)`` is a NoSQL query only in
# a project that depends on one of them (``collect/_document_stores.py``); elsewhere it is
# a SQL ORM's or the code's own method.
JS_CLIENTS = frozenset(
    {"mongodb", "mongoose", "mongojs", "monk", "mongoist", "mongoskin", "mquery", "camo"}
    | {"@nestjs/mongoose", "@typegoose/typegoose", "@mikro-orm/mongodb", "marsdb", "nedb"}
    | {"@seald-io/nedb", "nedb-promises", "tingodb", "lokijs", "mingo", "sift", "nano"}
    | {"pouchdb", "pouchdb-node", "pouchdb-browser", "pouchdb-find", "sequelize"}
    | {"waterline", "sails"}
)

SPEC = KindSpec(
    kind="nosql_injection",
    title="NoSQL injection",
    meaning="a MongoDB query at `location` takes a whole document (operators included) or "
    "$where code from user input",
    params="location",
    cwe=("CWE-943",),
    stride=("tampering", "information_disclosure"),
    severity="high",
    help="Build query documents from typed fields (str(value)), never pass a parsed request "
    "body as the filter; avoid $where.",
    sinks=(
        *(SinkRow(f".{m}", whole=True, when="mongo") for m in _METHODS + _METHODS2),
        # JS: a filter that is request data, or holds a request field as it was parsed (a JSON
        # body's ``{"$ne": null}``), and ``$where`` code (the key of an object literal)
        *(js(f".{m}", when="mongo_filter") for m in _JS_METHODS),
        js("$where", at="key", fact="sql"),  # listed with the SQL sinks: a query as code
    ),
    sanitizers=("parseInt", "parseFloat", "Number", "mongo-sanitize"),
)
