"""FastAPI dependencies built by a call: an instance of the repository's class, or what a
factory returned (a closure, an instance of a class it defines), judged as the callable it
made, folded on the arguments it was built with (frameworks/_python/built.py, made.py)."""

from __future__ import annotations

import ast

import pytest
from pyweb_facts import facts_of, routes_by_id

from threatmodel.frameworks._python.built import Coll, Const, Ref, encode_call, fold
from threatmodel.frameworks._python.guards import summarize


@pytest.fixture(scope="module")
def facts():  # type: ignore[no-untyped-def]
    return facts_of("fastapi_built")


@pytest.mark.parametrize(
    ("route", "status", "mechanism"),
    [
        # Gate(admits={Guest, Member}) through an Annotated alias: a guest is served
        ("GET /catalog/items", "public", None),
        # Gate(admits={Member, ApiKey}, needs=...): a guest gets 401
        ("POST /catalog/items", "authenticated", "Depends(_Edit)"),
        # Depends(Gate(admits={Member})) written inside the alias
        ("GET /catalog/items/{item_id}/audit", "authenticated", "Depends(Gate)"),
        # guests admitted; the grant check after their early return never reaches them
        ("GET /catalog/items/{item_id}", "public", None),
        # a closure over required=False: optional login
        ("GET /catalog/featured", "public", None),
        ("GET /catalog/wishlist", "authenticated", "Depends(optional_login)"),
        # a closure that depends on a gate its factory built
        ("GET /catalog/reports", "authenticated", "Depends(member_with)"),
        # a closure whose parameter is annotated with an alias (its Depends applies)
        ("GET /catalog/drafts", "authenticated", "Depends(member_scoped)"),
        # admits a module constant that lists every kind of user, Guest among them
        ("GET /catalog/open", "public", None),
        # a factory returning one of two module functions by its keyword-only default
        ("GET /catalog/orders", "authenticated", "Depends(session_user)"),
        ("GET /catalog/deals", "public", None),
    ],
)
def test_a_built_dependency_guards_as_what_it_was_built_with(
    facts, route: str, status: str, mechanism: str | None
) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)[route]
    assert (r.auth.status.value, r.auth.mechanism) == (status, mechanism)


def test_evidence_is_the_dependency_as_written(facts) -> None:  # type: ignore[no-untyped-def]
    r = routes_by_id(facts)["POST /catalog/items"]
    assert [(e.path, e.start_line) for e in r.auth.evidence] == [("shop/catalog/auth.py", 12)]


CALL = """
async def __call__(self, user):
    if is_anonymous(user):
        if GUEST in self.admits:
            return user
        raise HTTPException(status_code=401)
    if not self.needs:
        return user
    raise HTTPException(status_code=403)
"""


def _folded(env: dict[str, object]) -> ast.FunctionDef | ast.AsyncFunctionDef:
    fn = ast.parse(CALL).body[0]
    assert isinstance(fn, ast.AsyncFunctionDef)
    return fold(fn, env, lambda name: Ref(f"?:{name}"))  # type: ignore[arg-type]


def test_fold_takes_the_arm_the_arguments_decide() -> None:
    guest = _folded({"self.admits": Coll(frozenset({"?:GUEST"})), "self.needs": Const(None)})
    assert ast.unparse(guest).splitlines()[1:] == [
        "    if is_anonymous(user):",
        "        return user",
        "    return user",
    ]
    member = _folded({"self.admits": Coll(frozenset({"?:MEMBER"})), "self.needs": Const(None)})
    assert "raise HTTPException(status_code=401)" in ast.unparse(member)
    assert summarize(member)["guard"] is not None
    assert summarize(guest)["guard"] is None


def test_fold_leaves_what_the_arguments_do_not_say() -> None:
    unknown = _folded({"self.admits": None})
    assert "if GUEST in self.admits:" in ast.unparse(unknown)


def test_a_reject_after_the_guests_early_return_does_not_guard() -> None:
    fn = ast.parse(
        "def dep(user):\n"
        "    if is_anonymous(user):\n"
        "        return None\n"
        "    if not user.scopes:\n"
        "        raise HTTPException(status_code=403)\n"
        "    return user\n"
    ).body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert summarize(fn)["guard"] is None
    no_exit = ast.parse(
        "def dep(user):\n"
        "    if is_anonymous(user):\n"
        "        raise HTTPException(status_code=401)\n"
        "    return user\n"
    ).body[0]
    assert isinstance(no_exit, ast.FunctionDef)
    assert summarize(no_exit)["guard"] is not None


def test_a_request_value_is_not_a_module_name_of_the_same_spelling() -> None:
    fn = ast.parse(
        "def __call__(self, subject):\n"
        "    if subject.role not in self.roles:\n"
        "        raise HTTPException(status_code=403)\n"
        "    return subject\n"
    ).body[0]
    assert isinstance(fn, ast.FunctionDef)
    env = {"self.roles": Coll(frozenset({"?:owner"}))}
    # ``subject.role`` is the caller's: the test stays, whatever a module calls ``role``
    folded = fold(fn, env, lambda name: Ref(f"?:{name.rsplit('.', 1)[-1]}"))  # type: ignore[arg-type]
    assert "if subject.role not in self.roles:" in ast.unparse(folded)


def test_not_permitted_on_a_role_test_restricts() -> None:
    fn = ast.parse(
        "def check(self, subject):\n"
        "    if subject.role not in self.roles:\n"
        "        raise NotPermitted('members with a billing role only')\n"
        "    return subject\n"
    ).body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert summarize(fn)["guard"] == ["restricted", 2]


def test_a_constant_against_a_name_stays_undecided() -> None:
    fn = ast.parse(
        "def __call__(self, user):\n"
        "    if self.mode == 'optional':\n"
        "        return user\n"
        "    raise HTTPException(status_code=401)\n"
    ).body[0]
    assert isinstance(fn, ast.FunctionDef)
    # Mode.OPTIONAL may be a str enum equal to 'optional': the code does not say
    env = {"self.mode": Ref("app/modes.py:Mode.OPTIONAL")}
    folded = fold(fn, env, lambda name: Ref(f"?:{name}"))  # type: ignore[arg-type]
    assert "if self.mode == 'optional':" in ast.unparse(folded)
    same = fold(fn, {"self.mode": Const("optional")}, lambda name: Ref(f"?:{name}"))  # type: ignore[arg-type]
    assert "raise" not in ast.unparse(same)


def test_a_secret_passed_to_a_call_is_never_recorded() -> None:
    # the extract is cached on disk: a password or key given to a constructor stays out
    call = ast.parse(
        'Gate(roles={"admin"}, password="hunter2", token="sk_live_' + "x1Y2z3" * 5 + '", '
        'mode="strict")'
    ).body[0]
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    _callee, _args, kws = encode_call(call.value)
    assert kws == {
        "roles": ["s", [["c", "admin"]]],
        "password": None,
        "token": None,
        "mode": ["c", "strict"],
    }
