"""The schemathesis harness of ``test_schemathesis.py`` and ``test_schemathesis_public.py``
(the fixtures ``fuzz_hub``, ``api_schema`` and ``tokens`` are in ``conftest.py``).

:func:`fuzz` runs every documented operation (or those of one tag, or all but one tag) with
generated inputs, valid or invalid, and holds each response to every schemathesis check
(or to the checks given). Operations with path parameters run twice: with generated values
(mostly 404s), and with values that exist in the hub (:data:`KNOWN`), so the handlers behind
the lookups are fuzzed too. Examples per operation and pass: ``examples`` (at most
:data:`MAX_EXAMPLES`), derandomised so that a failure reproduces.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

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
)

#: Examples per operation and pass: held to every check, and (the other roles' runs) to
#: no server error only. Bounded for the suite's time (12 and 6 until 2026-12-07, when the two
#: modules took 252 s of CPU; 111 s since, with the duplicate runs left out); derandomised, so
#: each run makes the same requests.
MAX_EXAMPLES = 6
ROLE_EXAMPLES = 3
#: Who calls the public read API (tag ``ckan``) signed in, in ``test_schemathesis_public``;
#: that caller's whole-API runs leave those operations out instead of running them twice.
PUBLIC_CALLER = "lam-owner"
PUBLIC_TAG = "ckan"
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


#: Where schemathesis's positive_data_acceptance (schema-valid requests are accepted) cannot
#: apply as it stands: the upload routes. Their ``file`` part is ``format: binary``, and what
#: makes a file acceptable (a table in a format ingest reads, whose columns fit the standard,
#: the mapping or the dataset's remembered layout) is no JSON Schema rule; nor is how the
#: form's fields fit together and the dataset (a mapping fills one standard; a dataset keeps
#: its standard). A generated file is random bytes, so these routes may refuse schema-valid
#: requests with 422 naming the file or field; every other check still applies to them.
FILE_CONTENT_RULES = {
    "include-name-regex": r"^POST /api/v1/(datasets/.*/(versions|layouts|layouts/match)"
    r"|mappings/suggest)$",
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
        }
    },
}


def api_schema_of(app: Any) -> Any:
    """The app's OpenAPI document as schemathesis reads it, with :data:`FILE_CONTENT_RULES`."""
    config = schemathesis.Config.from_dict({"operations": [FILE_CONTENT_RULES]})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def token_headers(hub: Hub) -> dict[str, dict[str, str]]:
    """Headers with an API token with every scope, and a purpose, by username."""
    return {
        username: {
            "Authorization": f"Bearer {hub.token(username)}",
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
    checks: list[Any] | None = None,
    examples: int = MAX_EXAMPLES,
    skip_tag: str | None = None,
) -> list[str]:
    """Run every operation (those tagged ``tag``; none tagged ``skip_tag``) with generated
    cases (valid ones, or invalid ones for ``GenerationMode.NEGATIVE``) and every check (or
    ``checks``); the failures, one line each.

    (Schemathesis's own pytest plugin does not run under this pytest, so the operations are
    driven here with Hypothesis directly.)
    """
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if (tag is not None and tag not in operation.tags) or skip_tag in operation.tags:
            continue
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
            @settings(BOUNDED, max_examples=examples)
            def run(case: Any) -> None:
                negated = _negated(case)
                ours = {k: v for k, v in headers.items() if ("header", k.lower()) not in negated}
                sent = {**(case.headers or {}), **ours}
                response = case.call(headers=sent)
                try:
                    # every check enabled; ignored_auth resends without the token it was sent
                    case.validate_response(response, checks=checks, headers=sent)
                except (Exception, BaseExceptionGroup) as exc:
                    exc.add_note(
                        f"{case.as_curl_command()}\n-> {response.status_code} "
                        f"{response.text[:300]}\n negated: {sorted(map(str, negated))}"
                    )
                    raise

            try:
                run()
            except Unsatisfiable:
                continue  # an operation with no parameters has no invalid request to make
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis: exception groups
                failures.append(f"{operation.method.upper()} {operation.path}: {_told(exc)}"[:3000])
    return failures


def _told(exc: BaseException) -> str:
    notes = "".join(f"\n  {note}" for note in getattr(exc, "__notes__", []))
    if isinstance(exc, BaseExceptionGroup):
        return " | ".join(_told(e) for e in exc.exceptions) + notes
    return f"{type(exc).__name__}: {exc}{notes}"


def _negated(case: Any) -> set[tuple[str, str | None]]:
    """The (location, lower-case name) of each parameter a negative case made invalid, so that
    the harness does not undo it (re-add a removed token, or put back a known path value);
    a mutation of a whole location (no name) is ``(location, None)``."""
    data = getattr(case.meta.phase, "data", None) if case.meta is not None else None
    return {
        (m.parameter_location.value, m.parameter.lower() if m.parameter else None)
        for m in getattr(data, "mutations", ())
    }


def _with_path(case: Any, values: dict[str, Any]) -> Any:
    negated = _negated(case)
    if ("path", None) in negated:
        return case
    path = {k: v for k, v in values.items() if k not in QUERY and ("path", k) not in negated}
    query = {k: v for k, v in values.items() if k in QUERY and ("query", k) not in negated}
    case.path_parameters = {**(case.path_parameters or {}), **path}
    if query:
        case.query = {**(case.query or {}), **query}
    return case
