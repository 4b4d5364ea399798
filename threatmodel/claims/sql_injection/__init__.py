"""sql_injection: a SQL statement is built from request input instead of bound parameters."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

# JS: numbers, and the drivers' own escaping of a value for a SQL literal
_JS = ("parseInt", "parseFloat", "Number", "sqlstring.escape", "mysql.escape", "pg-format")

SPEC = KindSpec(
    kind="sql_injection",
    title="SQL injection",
    meaning="a SQL query at `location` is built from user input rather than bound parameters",
    params="location",
    cwe=("CWE-89",),
    stride=("tampering", "information_disclosure", "elevation_of_privilege"),
    severity="high",
    help="Pass values as bound parameters (cursor.execute(sql, params)), never format them "
    "into the statement.",
    sink_fact="sql",
    sinks=(
        *(SinkRow(f".{m}") for m in ("execute", "executemany", "executescript", "mogrify")),
        *(SinkRow(f".{m}") for m in ("raw", "exec_driver_sql", "extra")),
        *(SinkRow(c) for c in ("sqlalchemy.text", "pandas.read_sql", "pandas.read_sql_query")),
        SinkRow("django.db.models.expressions.RawSQL"),
        # JS: mysql / pg / sequelize / mysql2 take the statement first, knex / prisma raw forms
        *(js(f".{m}", when="sql_text") for m in ("query", "raw")),
        # names many libraries share: SQL only when a statement is written there
        js(".execute", when="sql_string"),  # not ``job.execute(payload)``
        js(".literal", when="sql_string", modules=("sequelize",)),  # not zod's z.literal
        *(js(f".{m}", when="sql_text") for m in ("whereRaw", "orderByRaw", "havingRaw")),
        *(
            js(f".{m}", when="sql_text")
            for m in ("joinRaw", "$queryRawUnsafe", "$executeRawUnsafe")
        ),
    ),
    sanitizers=("int", "float", "uuid.UUID", ".quote_ident", "psycopg2.sql.Identifier", *_JS),
    guard_needles=("'", '"', ";", "--"),
)
