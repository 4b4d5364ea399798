"""The effect catalog: callee patterns and the tests that say what a call does.

One row per pattern (``EFFECTS``), like a sink catalog: database, file and storage writes,
email, SMS, payments, paid APIs, outbound calls; plus the calls that authenticate a request
by what it carries (``SIGNATURE``), request-body reads (``BODY``) and scratch paths. Used by
``effects`` (Python) and ``effects_js``.
"""

from __future__ import annotations

import ast
import re

from threatmodel.code.pyast import str_const

# Client libraries of databases and caches: evidence of a data store the app talks to (the
# system view), and the packages whose classes' write-named methods do store
# (``effects_js_classes.library_receiver``).
DATASTORE_CLIENTS = {
    "psycopg2": "PostgreSQL",
    "psycopg2-binary": "PostgreSQL",
    "psycopg": "PostgreSQL",
    "asyncpg": "PostgreSQL",
    "pg": "PostgreSQL",
    "postgres": "PostgreSQL",
    "pymysql": "MySQL",
    "mysqlclient": "MySQL",
    "mysql": "MySQL",
    "mysql2": "MySQL",
    "mysql-python": "MySQL",
    "mysql-connector-python": "MySQL",
    "sqlalchemy": "SQL database (SQLAlchemy)",
    "flask-sqlalchemy": "SQL database (SQLAlchemy)",
    "sequelize": "SQL database (Sequelize)",
    "@prisma/client": "SQL database (Prisma)",
    "typeorm": "SQL database (TypeORM)",
    "knex": "SQL database (Knex)",
    "peewee": "SQL database (peewee)",
    "sqlite3": "SQLite",
    "better-sqlite3": "SQLite",
    "redis": "Redis",
    "ioredis": "Redis",
    "pymongo": "MongoDB",
    "motor": "MongoDB",
    "mongoengine": "MongoDB",
    "mongodb": "MongoDB",
    "mongoose": "MongoDB",
    "elasticsearch": "Elasticsearch",
    "@elastic/elasticsearch": "Elasticsearch",
    "objection": "SQL database (Objection)",
    "kysely": "SQL database (Kysely)",
    "drizzle-orm": "SQL database (Drizzle)",
    "@mikro-orm/core": "SQL database (MikroORM)",
    "@upstash/redis": "Redis",
    "@vercel/kv": "Redis",
    "@aws-sdk/client-dynamodb": "DynamoDB",
    "@aws-sdk/lib-dynamodb": "DynamoDB",
    "firebase-admin": "Firestore",
    "@google-cloud/firestore": "Firestore",
}


DEPTH = 3  # calls into the repository's own functions followed from the handler

# (effect kind, regex over the callee's dotted name). First match wins; order matters.
EFFECTS: list[tuple[str, re.Pattern[str]]] = [
    ("paid_api", re.compile(r"(^|\.)(chat\.)?completions\.create$|ChatCompletion\.create$")),
    (
        "paid_api",
        re.compile(
            r"(openai|anthropic|llm|claude|gemini|genai|cohere)\w*\..*(create|generate\w*|invoke|complete\w*|chat)$",
            re.I,
        ),
    ),
    ("paid_api", re.compile(r"(^|\.)(generate_content|generateText|streamText|generateObject)$")),
    (
        "sms",
        re.compile(
            r"(twilio|sms|client)\w*\.messages\.create$|(^|\.)send_sms$|sns\w*\.publish$", re.I
        ),
    ),
    (
        "payment",
        re.compile(
            r"stripe\.\w+\.(create|modify|capture|confirm)$|(^|\.)(Charge|PaymentIntent|Refund|Transfer)\.create$"
        ),
    ),
    (
        "email",
        re.compile(
            r"(^|\.)(send_mail|send_mass_mail|send_email|sendmail|send_message|mail_admins|send_templated_mail)$|(mail|email|msg|message)\w*\.send$",
            re.I,
        ),
    ),
    (
        "storage",
        re.compile(r"(^|\.)(upload_file|upload_fileobj|put_object|upload_blob|upload_from_\w+)$"),
    ),
    (
        "file_write",
        re.compile(
            r"(^|\.)(write_text|write_bytes|unlink|rmtree)$|^(os\.(remove|rename|replace|rmdir)|shutil\.\w+)$"
        ),
    ),
    (
        "db_write",
        re.compile(
            r"(^|\.)(save|create_all|drop_all|bulk_create|bulk_update|update_or_create|get_or_create|insert_one|insert_many|update_one|update_many|delete_one|delete_many|replace_one|find_one_and_update|find_one_and_delete|bulk_write|executemany)$"
        ),
    ),
    (
        "db_write",
        re.compile(
            r"(objects|query|session|db|collection|table|manager|qs|queryset|repo\w*|crud|conn\w*|cursor|cur)\b.*\.(create|add|add_all|update|delete|insert|merge|commit|flush|upsert|remove|destroy)$",
            re.I,
        ),
    ),
    ("db_write", re.compile(r"(^|\.)(filter|exclude|all|get)\(?\)?\.(update|delete)$")),
    ("db_write", re.compile(r"(^|\.)(hset|hmset|lpush|rpush|sadd|setex|incr)$")),
    (
        "outbound",
        re.compile(r"^(requests|httpx|session|client|aiohttp\w*)\.(post|put|patch|delete)$"),
    ),
]
# Calls that authenticate the request by what it carries: a webhook signature, a signed
# link (``signer.unsign``), a one-time token (``check_token``), credentials (``authenticate``).
# A JSON Web Token checked against the app's key (jsonwebtoken's ``jwt.verify``, NestJS's
# ``this.jwtService.verifyAsync``): what the request carries was signed by the app (unless
# the call accepts no key or the ``none`` algorithm: ``effects_js``).
_JWT_VERIFY = r"(^|\.)jwt\w*\.verify(Async)?"
JWT_VERIFY = re.compile(_JWT_VERIFY + "$", re.I)
SIGNATURE = re.compile(
    r"(compare_digest|construct_event|verify_signature|verify_webhook|validate_signature|"
    r"check_signature|verify_header|Webhook\.verify|webhook\w*\.verify|constructEvent|"
    r"(^|\.)unsign|signing\.loads|check_token|constant_time_compare|verify_token|"
    r"validate_token|timingSafeEqual|^authenticate|verify_?\w*_?(signature|token|webhook|hmac)|"
    rf"{_JWT_VERIFY}|"
    r"(signature|hmac|webhook)_?(is_?)?valid\w*)$",
    re.I,
)
# Authentication libraries' own request handlers: a route that hands its request to one is
# the library's sign-in, callback and session endpoint (next-auth's `[...nextauth]`), public
# by design, whatever the sign-in callbacks write.
SIGN_IN = re.compile(r"^(NextAuth|ExpressAuth|passport\.authenticate)$")
# The calls that sign a caller in, up or out: passport's ``req.logIn(user)``, a
# ``signIn(ctx, ...)`` handed the request, the ``signIn`` such a library's factory hands back
# (``export const { auth, signIn } = NextAuth(config)``): a route making one is a sign-in or
# sign-up endpoint. Not ``auth``, the session getter every guarded route calls.
SIGN_IN_STEPS = re.compile(r"^(sign_?(in|up|out)|log_?(in|out))$", re.I)
# A file written under a cache or temp folder is derived data, not a change to the app's data.
SCRATCH_PATH = re.compile(r"cache|\btmp\b|\btemp|tempfile|mkstemp|gettempdir", re.I)
# Request bodies, forms and uploads: what a caller sends beyond the URL.
BODY = re.compile(
    r"^(request|req|self\.request)\.(POST|FILES|data|json|get_json|form|files|body|stream|"
    r"get_data|text|formData|file|content)\b"
)
URL_TYPES = frozenset(
    {"str", "int", "float", "bool", "UUID", "uuid.UUID", "Request", "HttpRequest"}
)
TOKEN_NAME = re.compile(r"token|signature|^sig$|hmac|otp|nonce", re.I)
_SQL_WRITE = re.compile(r"^\s*(insert|update|delete|replace|create|drop|alter|truncate)\b", re.I)
_FILE_WRITE_MODES = frozenset("wax+")
DATA_WRITES = frozenset({"db_write", "file_write", "storage"})
SIDE_EFFECTS = frozenset({"email", "payment"})
# URLs of paid APIs called over plain HTTP (fetch, requests.post): the host decides.
PAID_URL = re.compile(
    r"api\.openai\.com|api\.anthropic\.com|api\.groq\.com|generativelanguage\.googleapis|"
    r"api\.mistral\.ai|api\.cohere|/chat/completions|/v1/messages|api\.twilio\.com|"
    r"openrouter\.ai|api\.together|replicate\.com",
    re.I,
)


_DESTRUCTIVE = re.compile(r"delete|remove|destroy|drop|truncate|update|upsert|unlink|rm", re.I)
_SQL_DESTRUCTIVE = re.compile(r"^\s*(delete|update|drop|truncate|alter|replace)\b", re.I)


def destructive(kind: str, name: str, first_arg: str | None) -> bool:
    """A write that deletes or changes existing records, not one that adds derived data."""
    if kind not in ("db_write", "file_write", "storage"):
        return False
    if first_arg is not None and _SQL_DESTRUCTIVE.match(first_arg):
        return True
    return bool(_DESTRUCTIVE.search(name.rsplit(".", 1)[-1]))


def classify_call(name: str, call: ast.Call | None = None) -> str | None:
    """The effect kind of a call by its dotted callee name (and arguments), or None."""
    if not name:
        return None
    tail = name.rsplit(".", 1)[-1]
    if call is not None and tail in ("execute", "raw", "executescript"):
        first = str_const(call.args[0]) if call.args else None
        return "db_write" if first is not None and _SQL_WRITE.match(first) else None
    if call is not None and name == "open":
        mode = str_const(call.args[1]) if len(call.args) > 1 else None
        for k in call.keywords:
            if k.arg == "mode":
                mode = str_const(k.value)
        return "file_write" if mode and _FILE_WRITE_MODES & set(mode) else None
    for kind, pattern in EFFECTS:
        if pattern.search(name):
            if kind == "outbound" and call is not None and call.args:
                url = str_const(call.args[0]) or _fstring_prefix(call.args[0])
                if url and PAID_URL.search(url):
                    return "paid_api"
            return kind
    return None


def _fstring_prefix(node: ast.expr) -> str | None:
    if isinstance(node, ast.JoinedStr) and node.values:
        return str_const(node.values[0])
    return None
