"""The data model: facts, claims, findings and the report (DESIGN.md's stable JSON contract).

Every other layer imports from here and nowhere else below it. Models are frozen so that a
fact, once collected, cannot be changed by a later stage; fingerprints ignore line numbers
so that a finding keeps its identity when code moves.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

SCHEMA_VERSION = "1.0"


class Frozen(BaseModel):
    """Base for every model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- locations


class Location(Frozen):
    """A place in the repository. Paths are POSIX, relative to the root; lines are 1-based."""

    path: str
    line: int = Field(ge=1)


class Evidence(Frozen):
    """Lines of a file that support a claim, with the quoted text."""

    path: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    snippet: str


# --------------------------------------------------------------------------- facts


class AuthStatus(StrEnum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    RESTRICTED = "restricted"  # authenticated and a role / permission check
    UNKNOWN = "unknown"


class SettingAuth(Frozen):
    """Who can call a route under each value of a setting its guard reads (a visibility
    option stored in the database, chosen in a setup wizard): the code names every value's
    state, the deployment picks one."""

    setting: str  # as the code names it, e.g. "ConfigTypes.CHALLENGE_VISIBILITY"
    default: str | None = None  # the value the read falls back to, when the code names one
    states: dict[str, AuthStatus]  # value -> status under it
    location: Location


class RouteAuth(Frozen):
    status: AuthStatus
    mechanism: str | None = None  # e.g. "decorator login_required", "Depends(get_current_user)"
    evidence: list[Evidence] = Field(default_factory=list)
    # Settings the status depends on; then status is the state under each setting's
    # default, else the most permissive state any value allows.
    settings: list[SettingAuth] = Field(default_factory=list)


# HTTP methods a route declares for changing state (``ANY`` is judged apart where it counts).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# ... and those that may change state: a route answering ``ANY`` method (a Django view) too.
MAY_WRITE_METHODS = WRITE_METHODS | {"ANY"}


class Route(Frozen):
    id: str  # "METHOD /path", unique within a report
    method: str  # upper case; "ANY" when every method is accepted
    path: str  # full path, prefixes applied, parameters normalised to {name}
    framework: str
    handler: str  # dotted or file-qualified name of the handler
    location: Location
    auth: RouteAuth
    hidden: bool = False  # e.g. FastAPI include_in_schema=False
    csrf_exempt: bool = False
    rate_limited: bool | None = None  # None: the collector does not know
    # The app of a monorepo the route belongs to (its root folder; '' for the repository's
    # root app): routes of different apps never merge (code/components.py).
    component: str = ""
    # Later registrations of the same method and path in the same router (Express stacks
    # them: the first answers, a later one runs only if an earlier handler calls next()).
    registered_again: list[Location] = Field(default_factory=list)
    # A path prefix the code reads at run time (a setting: ``"^{}api/".format(setting())``),
    # left out of ``path`` (read as empty, as a deployment without one serves it): its source.
    unread_prefix: str = ""
    # What the pattern says of each parameter it captures (name -> converter: "" for the
    # default one-segment converter, else as written: "int", "path", "uuid"...; "scalar" for
    # a regex group matching only word characters and '-'; "text" for any text the client
    # writes, as a GraphQL operation's arguments). Empty when the framework's
    # collector does not record it; a name missing here is not known to be request input.
    params: dict[str, str] = Field(default_factory=dict)


class Middleware(Frozen):
    kind: str  # auth | cors | csrf | session | security_headers | rate_limit | other
    name: str
    scope: str  # "global", a path prefix, or a route id
    location: Location
    options: dict[str, str] = Field(default_factory=dict)  # non-secret settings only

    def applies_to(self, route: Route) -> bool:
        """Does it run for ``route``: global, scoped to the route's id, or to a path prefix
        the route's path is under?"""
        return self.scope in ("global", route.id) or route.path.startswith(self.scope)


class Policy(Frozen):
    name: str
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    roles: list[str] = Field(default_factory=list)  # empty means PUBLIC
    using: str | None = None
    check: str | None = None
    permissive: bool  # lets every row through for its roles (not Postgres' PERMISSIVE keyword)
    restrictive: bool = False  # declared AS RESTRICTIVE
    location: Location | None = None


class Column(Frozen):
    name: str
    type: str | None = None
    sensitive: bool = False


class Grant(Frozen):
    role: str
    privileges: list[str]
    location: Location | None = None


class ProofCheck(Frozen):
    """One command tried by one role on a real PostgreSQL (see collect/proof/)."""

    role: str  # anon | user_a | user_b
    command: str  # SELECT | INSERT | UPDATE | DELETE
    allowed: bool  # the command had an effect (read, wrote, changed or deleted a row)
    reached: int = 0  # seeded rows it reached (INSERT: 1 when a row was accepted)
    total: int = 0  # seeded rows of the table (or of the bucket)
    # Reached a row of the other user (for anon: any user's); INSERT: wrote a row owned by the
    # other user. None when the table has no owner column to tell.
    other_rows: bool | None = None
    bucket: str | None = None  # storage.objects: the bucket whose objects were tried
    error: str | None = None  # the database's refusal, when not allowed


class TableProof(Frozen):
    database: str  # "PostgreSQL 18.6"
    seeded: int  # rows written as service_role (one per synthetic user)
    owner_columns: list[str] = Field(default_factory=list)
    # Rows belong to users: an owner column, or a foreign key to a table whose rows do.
    # False: the app's own reference data (roles, topics, a product catalog).
    user_rows: bool = True
    checks: list[ProofCheck] = Field(default_factory=list)
    note: str | None = None  # why part of it could not be proven


class Table(Frozen):
    name: str  # schema-qualified when the schema is not public, e.g. "storage.objects"
    source: str  # sql | sqlalchemy | django | prisma | sequelize | mongoose | ...
    rls_enabled: bool | None = None  # None: not a Postgres table with RLS semantics
    policies: list[Policy] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    grants: list[Grant] = Field(default_factory=list)
    location: Location
    # The Supabase project folder (config.toml or its own migrations/) when a repository
    # holds more than one: each is its own database.
    project: str | None = None
    proof: TableProof | None = None  # what a real PostgreSQL did (None: not proven)


class Bucket(Frozen):
    name: str
    public: bool
    location: Location


class EnvVar(Frozen):
    name: str
    client_exposed: bool
    locations: list[Location] = Field(default_factory=list)


class Secret(Frozen):
    """A hardcoded secret. The value itself never enters the model."""

    kind: str  # aws_access_key | stripe_key | private_key | jwt_secret | password | ...
    name: str  # the variable / key it is assigned to, or the token format
    location: Location
    fingerprint: str  # sha256 prefix of the value: lets users match it without revealing it


class Dependency(Frozen):
    ecosystem: str  # pypi | npm
    name: str
    version: str | None = None
    location: Location


class Setting(Frozen):
    """A security-relevant configuration value (never a secret value).

    Keys are dotted and stable: ``debug``, ``cors.allow_origins``, ``cors.allow_credentials``,
    ``jwt.verify``, ``jwt.algorithms``, ``csrf.enabled``, ``allowed_hosts``,
    ``session.cookie_secure``, ``secret_key`` (value: "hardcoded" | "env"),
    ``templates.autoescape`` (``TEMPLATES_AUTOESCAPE``), ``graphql.introspection`` /
    ``debug`` / ``playground`` / ``batching`` (a JS GraphQL server's option written true), ...
    """

    key: str
    value: str
    framework: str
    location: Location


# "false" where a template engine is set up not to escape what it prints.
TEMPLATES_AUTOESCAPE = "templates.autoescape"


class Sink(Frozen):
    """A call that becomes dangerous when it receives attacker input."""

    kind: str  # sql | command | http_request | redirect | template | eval | deserialize | file
    call: str  # the callee: Python's as imports resolve it ("flask.redirect"), else as written
    dynamic: bool  # the argument is not provably constant (or safe as called)
    location: Location
    handler: str | None = None  # the enclosing function
    handler_line: int | None = None  # first line of the enclosing function (links to routes)


class Flow(Frozen):
    """A value followed from a source to a sink by the dataflow engine (``threatmodel.dataflow``).

    ``source_kind``: request (client input), database, config, random (a ``random`` module
    value) or pattern (a call that is the finding by itself, e.g. MD5). ``broken_by`` names
    the sanitizer or guard that makes the value safe for ``claim`` (None: unbroken).
    """

    claim: str  # the claim kind the sink belongs to (claims registry)
    cwe: list[str] = Field(default_factory=list)
    source_kind: str
    source: str  # request.args, parameter id, os.getenv, hashlib.md5 ...
    source_location: Location
    sink: str  # the callee as resolved, e.g. subprocess.run
    sink_location: Location
    steps: list[Location] = Field(default_factory=list)  # source, assignments, sink, in order
    sanitizers: list[str] = Field(default_factory=list)  # sanitizers / guards met on the way
    broken_by: str | None = None
    # calls into the repository's own code the engine could not resolve, which the value
    # was assumed to pass through: an unbroken flow through one is not proof (needs review)
    unresolved: list[str] = Field(default_factory=list)
    # yes/no checks of the repository's own the value passed (``if is_local(url):``) that
    # decide on it but whose meaning the engine cannot read (``dataflow/pending.py``): an
    # unbroken flow past one is not proof either (needs review), named as ``is_local()``
    unread_checks: list[str] = Field(default_factory=list)


class DbFunction(Frozen):
    name: str
    security_definer: bool
    location: Location
    # API roles (anon, authenticated) that can call it through PostgREST's /rpc: it is in the
    # exposed schema, not a trigger function, and EXECUTE was not revoked from them.
    callable_by: list[str] = Field(default_factory=list)


class View(Frozen):
    """A SQL view. Without ``security_invoker`` it reads its tables with its owner's rights,
    so the RLS policies of those tables do not apply to the caller."""

    name: str
    security_invoker: bool
    tables: list[str] = Field(default_factory=list)  # the tables its query reads
    location: Location
    project: str | None = None  # as Table.project


class Facts(Frozen):
    routes: list[Route] = Field(default_factory=list)
    middleware: list[Middleware] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    buckets: list[Bucket] = Field(default_factory=list)
    env_vars: list[EnvVar] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    settings: list[Setting] = Field(default_factory=list)
    sinks: list[Sink] = Field(default_factory=list)
    functions: list[DbFunction] = Field(default_factory=list)
    views: list[View] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)


# --------------------------------------------------------------------------- claims & findings

ClaimKind = Literal[
    "route_unauthenticated",
    "missing_authorization",
    "sql_injection",
    "command_injection",
    "hardcoded_secret",
    "debug_enabled",
    "weak_jwt",
    "rls_permissive",
    "rls_disabled",
    "public_bucket",
    "mass_assignment",
    "ssrf",
    "csrf_missing",
    "missing_rate_limit",
    "xss",
    "open_redirect",
    "info_leak",
    "client_exposed_secret",
    "cors_misconfigured",
    "rls_bypass",
    # kinds of the claim registry (threatmodel/claims/<kind>/), checked by dataflow
    "code_injection",
    "path_traversal",
    "insecure_deserialization",
    "xxe",
    "ldap_injection",
    "xpath_injection",
    "template_injection",
    "nosql_injection",
    "prototype_pollution",
    "weak_hash",
    "weak_random",
    "insecure_cookie",
    "trust_boundary",
    "default_credentials",
    "cost_abuse",
]
CLAIM_KINDS: tuple[str, ...] = ClaimKind.__args__  # type: ignore[attr-defined]


class RouteRef(Frozen):
    method: str
    path: str


class Claim(Frozen):
    """A machine-checkable statement. Which parameters matter depends on ``kind``."""

    kind: ClaimKind
    route: RouteRef | None = None
    table: str | None = None
    location: Location | None = None
    name: str | None = None  # an env var, secret, bucket or policy name the kind refers to


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return ["info", "low", "medium", "high", "critical"].index(self.value)


class Stride(StrEnum):
    SPOOFING = "spoofing"
    TAMPERING = "tampering"
    REPUDIATION = "repudiation"
    INFORMATION_DISCLOSURE = "information_disclosure"
    DENIAL_OF_SERVICE = "denial_of_service"
    ELEVATION_OF_PRIVILEGE = "elevation_of_privilege"


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    UNVERIFIABLE = "unverifiable"


_WS = re.compile(r"\s+")


def normalize_snippet(text: str) -> str:
    """Whitespace-insensitive form of a quote, used for matching and fingerprints."""
    return _WS.sub(" ", text).strip()


ProofKind = Literal[
    "route", "guard", "handler", "effect", "flow", "sink", "setting", "policy", "secret", "fact"
]


class ProofStep(Frozen):
    """One link of a verdict's proof chain: what was established, and where.

    A confirmed finding's ``proof`` lists its links in order (route → guards → handler →
    effect / flow → sink, or the setting / policy / secret that decides it). ``flow`` steps
    come from the dataflow engine; every step names the fact or line it rests on.
    """

    kind: ProofKind
    text: str
    location: Location | None = None


Scope = Literal["production", "test", "fixture", "example", "docs", "ci", "dev"]


class Finding(Frozen):
    id: str = ""  # assigned by the pipeline ("TM-" + fingerprint prefix) unless the input had one
    title: str
    severity: Severity
    stride: list[Stride] = Field(default_factory=list)
    cwe: list[str] = Field(default_factory=list)  # "CWE-306"
    source: Literal["llm", "rule", "external"]
    rule_id: str | None = None  # for rule findings: the registered rule id
    verdict: Verdict = Verdict.UNVERIFIABLE
    claims: list[Claim] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    attack: str = ""
    mitigation: str = ""
    reason: str | None = None  # why it was refuted (or why it could not be verified)
    notes: list[str] = Field(default_factory=list)  # e.g. evidence line corrections
    accepted: bool = False  # matched a baseline entry
    acceptance: str | None = None  # the baseline justification
    proof: list[ProofStep] = Field(default_factory=list)  # a confirmed verdict's chain
    scope: Scope = "production"  # where the finding's code lives (collect/scope.py)

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        """Accept a report's own JSON back: ``fingerprint`` is recomputed, never trusted."""
        if isinstance(data, dict) and "fingerprint" in data:
            data = {k: v for k, v in data.items() if k != "fingerprint"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fingerprint(self) -> str:
        """Identity that survives line moves: claim parameters and quoted text, no lines."""
        claims = sorted(
            json.dumps(
                {
                    "kind": c.kind,
                    "route": [c.route.method.upper(), c.route.path] if c.route else None,
                    "table": c.table,
                    "path": c.location.path if c.location else None,
                    "name": c.name,
                },
                sort_keys=True,
            )
            for c in self.claims
        )
        quotes = sorted(f"{e.path}\0{normalize_snippet(e.snippet)}" for e in self.evidence)
        basis = json.dumps({"claims": claims, "quotes": quotes}, sort_keys=True)
        if not self.claims and not self.evidence:
            basis += "\0" + self.title  # nothing checkable: the title is all there is
        return hashlib.sha256(basis.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- report


class RepoInfo(Frozen):
    root: str
    commit: str | None = None


class VerifierStats(Frozen):
    checked: int = 0
    confirmed: int = 0
    refuted: int = 0
    unverifiable: int = 0


class FileStats(Frozen):
    scanned: int = 0
    skipped: int = 0  # vendored, generated, minified, binary, too large, symlink out
    not_parsed: list[str] = Field(default_factory=list)  # "path: reason"


class Stats(Frozen):
    llm_calls: int = 0
    input_tokens: int = 0  # every prompt token sent, cached_input_tokens included
    output_tokens: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    verifier: VerifierStats = Field(default_factory=VerifierStats)
    files: FileStats = Field(default_factory=FileStats)
    cached_input_tokens: int = 0  # prompt tokens the provider served from its prompt cache
    cached_input_cost_usd: float = 0.0  # what those cost (part of cost_usd)
    fixed_tokens_per_call: int = 0  # system prompt + schema + prompt template, per call


class StageHealth(Frozen):
    """What one pipeline stage checked. A stage that could not run says so here."""

    stage: str
    ok: bool  # False: the stage could not run (fails the run in CI mode)
    partial: bool = False  # ran, but not over everything (failed LLM chunks, a budget)
    checked: int = 0
    message: str = ""


class LlmRun(Frozen):
    status: Literal["ran", "skipped", "partial", "failed"]
    provider: str | None = None
    model: str | None = None
    message: str = ""  # e.g. how to enable the LLM pass when it was skipped
    failed_chunks: list[str] = Field(default_factory=list)
    budget_reached: bool = False  # stopped at --max-tokens / --max-cost (partial by request)


class ProofRun(Frozen):
    """The proof stage: which database, what was skipped, where it and the static reading differ."""

    status: Literal["proven", "unavailable", "off", "nothing"]
    database: str | None = None  # "PostgreSQL 18.6 (embedded)"
    message: str = ""
    statements: int = 0  # migration statements applied
    skipped: list[str] = Field(default_factory=list)  # "path:line: reason", not applied
    disagreements: list[str] = Field(default_factory=list)  # static vs proof, which was right
    duration_s: float = 0.0


class Report(Frozen):
    schema_version: str = SCHEMA_VERSION
    tool: dict[str, str] = Field(default_factory=lambda: {"name": "threatmodel"})
    repo: RepoInfo
    facts: Facts
    findings: list[Finding] = Field(default_factory=list)  # confirmed and unverifiable
    suppressed: list[Finding] = Field(default_factory=list)  # refuted, with reason
    stats: Stats = Field(default_factory=Stats)
    llm: LlmRun
    stages: list[StageHealth] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    proof: ProofRun | None = None  # None: no SQL schema to prove

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def model_json_schema() -> dict[str, Any]:
    """JSON Schema of the report, generated from the models (exported by `threatmodel schema`)."""
    return Report.model_json_schema(mode="serialization")
