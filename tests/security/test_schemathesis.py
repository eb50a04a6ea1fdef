"""Schemathesis against the app's own OpenAPI document, in process (ASGI, no network).

Every documented operation (the whole API: staff and public) is called with generated inputs,
anonymously and as each kind of principal (an API token with every scope, acting under a
purpose the register grants the role: a hub admin, a data owner, an analyst and a caseworker
under ``fsm``, a DPO under ``subject-access``), and must never answer with a 5xx.

The public read API (the CKAN Action API, tag ``ckan``) is held to **every** schemathesis
check, with valid and invalid inputs, anonymously and signed in with a purpose: statuses,
content types, headers and bodies as documented, valid data accepted, invalid data rejected,
unsupported methods 405 with ``Allow``. (The staff API is not yet: some of its refusals are
rules the document does not state, e.g. a council's GSS code; see docs/open-data.md.)
Operations with path parameters run twice: with generated values (mostly 404s), and with
values that exist in the hub (its organisations, dataset, versions, agreement, jobs, users),
so the handlers behind the lookups are fuzzed too. Generated requests may change the throwaway
hub (revoke its agreement, upload files...): that is the point. Examples per operation and
pass: ``MAX_EXAMPLES``, derandomised so that a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from joinedup.catalog.db import dispose_engines
from joinedup.web import auth
from tests.security.conftest import (
    AGREEMENT,
    DATASET,
    OTHER,
    OWN,
    PURPOSE,
    ROLE_PURPOSE,
    SHARED,
    USERS,
    Hub,
    build_hub,
)

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12
#: Path values that exist in the hub (from tests/security/conftest.py).
KNOWN = {
    "organisation": st.sampled_from([OWN, SHARED, OTHER]),
    "dataset": st.just(DATASET),
    "version": st.sampled_from([1, 2]),
    "reference": st.just(AGREEMENT),
    "job_id": st.sampled_from(
        ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]
    ),
    "username": st.sampled_from(["lam-case", "sou-owner"]),
    "fields": st.sampled_from(
        ["source_record_id,given_name,fsm_eligible", "given_name,date_of_birth", "upn"]
    ),
}
QUERY = {"fields"}


@pytest.fixture(scope="module")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    built = build_hub(tmp_path_factory.mktemp("schemathesis") / "home")
    try:
        yield built
    finally:
        built.close()
        dispose_engines()


@pytest.fixture(scope="module")
def api_schema(fuzz_hub: Hub) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_hub.app)


@pytest.fixture(scope="module")
def tokens(fuzz_hub: Hub) -> dict[str, dict[str, str]]:
    """Headers with an API token with every scope, and a purpose, by username."""
    return {
        username: {
            "Authorization": f"Bearer {fuzz_hub.token(username)}",
            auth.PURPOSE_HEADER: ROLE_PURPOSE.get(USERS[username][1]) or PURPOSE,
        }
        for username in ("admin", "lam-owner", "lam-analyst", "lam-case", "lam-dpo")
    }


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
)


def fuzz(
    api_schema: Any,
    headers: dict[str, str],
    mode: GenerationMode = GenerationMode.POSITIVE,
    tag: str | None = None,
) -> list[str]:
    """Run every operation with generated cases (valid ones, or invalid ones for
    ``GenerationMode.NEGATIVE``) and every check; the failures, one line each.

    (Schemathesis's own pytest plugin does not run under this pytest, so the operations are
    driven here with Hypothesis directly.)
    """
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if tag is not None and tag not in operation.tags:
            continue
        every_check = "ckan" in (operation.tags or [])
        generated = operation.as_strategy(generation_mode=mode)
        known = [name for name in KNOWN if "{" + name + "}" in operation.path]
        if operation.path.endswith("/records"):
            known.append("fields")
        strategies = [generated]
        if known:  # and again with path values that exist, to get past the 404s
            strategies.append(
                st.tuples(generated, st.fixed_dictionaries({n: KNOWN[n] for n in known})).map(
                    lambda pair: _with_path(*pair)
                )
            )
        for strategy in strategies:

            @given(case=strategy)
            @BOUNDED
            def run(case: Any) -> None:
                response = case.call(headers={**(case.headers or {}), **headers})
                if every_check:
                    case.validate_response(response)  # every check
                else:
                    case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                continue  # an operation with no parameters has no invalid request to make
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis: exception groups
                failures.append(f"{operation.method.upper()} {operation.path}: {_told(exc)}"[:3000])
    return failures


def _told(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return " | ".join(_told(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def _with_path(case: Any, values: dict[str, Any]) -> Any:
    path = {k: v for k, v in values.items() if k not in QUERY}
    query = {k: v for k, v in values.items() if k in QUERY}
    case.path_parameters = {**(case.path_parameters or {}), **path}
    if query:
        case.query = {**(case.query or {}), **query}
    return case


@pytest.mark.parametrize(
    "username", ["admin", "lam-owner", "lam-analyst", "lam-case", "lam-dpo", None]
)
def test_no_server_errors(
    api_schema: Any, tokens: dict[str, dict[str, str]], username: str | None
) -> None:
    """The whole API, signed in with a granted purpose as each role, and anonymous."""
    failures = fuzz(api_schema, tokens[username] if username else {})
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("username", ["lam-owner", None])
def test_the_public_api_passes_every_check(
    api_schema: Any, tokens: dict[str, dict[str, str]], username: str | None, mode: Any
) -> None:
    """The CKAN API, signed in with a purpose and anonymous, valid and invalid: 0 failures."""
    failures = fuzz(api_schema, tokens[username] if username else {}, mode, tag="ckan")
    assert not failures, "\n\n".join(failures)


def test_the_document_covers_every_api_route(api_schema: Any) -> None:
    operations = [op.ok() for op in api_schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert "/api/v1/datasets/{organisation}/{dataset}/records" in paths
    assert len(operations) >= 10
