"""Schemathesis against the app's own OpenAPI document, in process (ASGI, no network).

Every documented operation is called with generated inputs, as a hub admin and as a data owner
(an API token with every scope, acting for a purpose), and must never answer with a 5xx.
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
from schemathesis.checks import not_a_server_error

from joinedup.catalog.db import dispose_engines
from joinedup.web import auth
from tests.security.conftest import (
    AGREEMENT,
    DATASET,
    OTHER,
    OWN,
    PURPOSE,
    SHARED,
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
            auth.PURPOSE_HEADER: PURPOSE,
        }
        for username in ("admin", "lam-owner")
    }


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible
)


def fuzz(api_schema: Any, headers: dict[str, str]) -> list[str]:
    """Run every operation with generated cases; the failures, one line each.

    (Schemathesis's own pytest plugin does not run under this pytest, so the operations are
    driven here with Hypothesis directly.)
    """
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        generated = operation.as_strategy()
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
                case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    return failures


def _with_path(case: Any, values: dict[str, Any]) -> Any:
    path = {k: v for k, v in values.items() if k not in QUERY}
    query = {k: v for k, v in values.items() if k in QUERY}
    case.path_parameters = {**(case.path_parameters or {}), **path}
    if query:
        case.query = {**(case.query or {}), **query}
    return case


@pytest.mark.parametrize("username", ["admin", "lam-owner"])
def test_no_server_errors(
    api_schema: Any, tokens: dict[str, dict[str, str]], username: str
) -> None:
    failures = fuzz(api_schema, tokens[username])
    assert not failures, "\n\n".join(failures)


def test_the_document_covers_every_api_route(api_schema: Any) -> None:
    operations = [op.ok() for op in api_schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert "/api/v1/datasets/{organisation}/{dataset}/records" in paths
    assert len(operations) >= 10
