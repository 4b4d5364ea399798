"""sql_injection: a SQL statement is built from request input instead of bound parameters."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

# JS: numbers, and the drivers' own escaping of a value for a SQL literal
_JS = ("parseInt", "parseFloat", "Number", "sqlstring.escape", "mysql.escape", "pg-format")
# Query builders bind what they are given as parameters: SQLAlchemy 2.0 and the Django ORM
# (``select(User).where(User.name.ilike(f"%{q}%"))``, ``qs.filter(name=q)``) put the value in
# a bound parameter, never in the SQL text (1.4+ refuses a plain string in ``where``; raw
# text goes through ``sqlalchemy.text`` / ``.raw`` / ``.extra``, sinks above). ``order_by``
# and ``group_by`` are left out: older SQLAlchemy read a string there as SQL.
_BUILDER_METHODS: tuple[str, ...] = ("where", "filter", "filter_by", "exclude", "having", "ilike")
_BUILDER_METHODS += ("like", "notilike", "notlike", "in_", "not_in", "between", "limit", "offset")
_BUILDERS = tuple(f".{m}" for m in _BUILDER_METHODS)
# SQLAlchemy's schema DDL takes a name, which its compiler writes as a quoted identifier
# (``IdentifierPreparer.format_schema``), as psycopg2.sql.Identifier does
_DDL_NAMES = tuple(
    f"sqlalchemy.{m}.{c}" for m in ("schema", "sql.ddl") for c in ("CreateSchema", "DropSchema")
)

# pg-promise's query methods (its Database API): each runs the statement it is given first
PG_PROMISE: tuple[str, ...] = ("none", "one", "many", "any", "oneOrNone", "manyOrNone", "result")
PG_PROMISE += ("multi", "multiResult", "each", "map")

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
        # pg-promise's database object (``db = pgp(url)``: ``dataflow/jsmade.py``) takes the
        # statement first in every query method; ``one`` or ``many`` alone name nothing
        *(js(f"pg-promise.{m}", when="sql_text") for m in PG_PROMISE),
        js(".literal", when="sql_string", modules=("sequelize",)),  # not zod's z.literal
        *(js(f".{m}", when="sql_text") for m in ("whereRaw", "orderByRaw", "havingRaw")),
        *(
            js(f".{m}", when="sql_text")
            for m in ("joinRaw", "$queryRawUnsafe", "$executeRawUnsafe")
        ),
    ),
    sanitizers=(
        *("int", "float", "uuid.UUID", ".quote_ident", "psycopg2.sql.Identifier"),
        *_BUILDERS,
        *_DDL_NAMES,
        *_JS,
    ),
    guard_needles=("'", '"', ";", "--"),
)
