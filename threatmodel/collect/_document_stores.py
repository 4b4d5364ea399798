"""NoSQL flows in JS/TS code of a project that depends on no document store.

The JS sinks of ``nosql_injection`` are matched by method name (``findOne``, ``find``,
``update``...), which SQL ORMs (TypeORM, Prisma, Objection) and a project's own services
share. An operator document from a JSON body (``{"$ne": null}``) changes a query only in a
client that reads operators (``nosql_injection.JS_CLIENTS``), and none is installed unless
some ``package.json`` of the project names it. So where the manifests are read and name
none, such a flow is broken, with that reason; a project with no manifest read keeps them.
"""

from __future__ import annotations

from threatmodel.claims.nosql_injection import JS_CLIENTS
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.models import Dependency, Flow

KIND = "nosql_injection"
WHERE = "$where"  # MongoDB's own operator by name: code that spells it targets such a store
# read after "made safe by" (``verify.flows``)
WHY = (
    "the project's npm dependencies, which hold no document store (find / update are not MongoDB's)"
)


def without_document_store(flows: list[Flow], deps: list[Dependency]) -> list[Flow]:
    """``flows`` with each unbroken JS NoSQL flow broken when the npm manifests read name
    no client of a document store."""
    npm = {d.name for d in deps if d.ecosystem == "npm"}
    if not npm or npm & JS_CLIENTS:
        return flows
    return [
        f.model_copy(update={"broken_by": WHY})
        if f.claim == KIND
        and f.broken_by is None
        and f.sink != WHERE
        and detect_language(f.sink_location.path) in JS_LANGUAGES
        else f
        for f in flows
    ]
