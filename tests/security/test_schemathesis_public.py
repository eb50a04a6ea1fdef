"""Schemathesis, second half: the public read API held to every check (anonymous and signed
in, valid and invalid inputs), and the whole API as the other roles, never a server error.

The harness is ``tests/security/fuzzing.py`` and the fixtures are in ``conftest.py``; the runs
are split over two modules so that the suite's two workers share them (each module builds its
own throwaway hub).
"""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.security.fuzzing import PUBLIC_CALLER, PUBLIC_TAG, ROLE_EXAMPLES, fuzz

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("username", ["lam-case", "lam-dpo", None])
def test_no_server_errors_as_each_role(
    api_schema: Any, tokens: dict[str, dict[str, str]], username: str | None
) -> None:
    """The whole API with valid inputs, as a caseworker and a DPO (each under a purpose
    granted to the role), and anonymously: never a 5xx. (Anonymous calls to the public API
    are held to every check, not_a_server_error among them, below.)"""
    headers = tokens[username] if username else {}
    skip = PUBLIC_TAG if username is None else None
    failures = fuzz(
        api_schema, headers, checks=[not_a_server_error], examples=ROLE_EXAMPLES, skip_tag=skip
    )
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("username", [PUBLIC_CALLER, None])
def test_the_public_api_passes_every_check(
    api_schema: Any, tokens: dict[str, dict[str, str]], username: str | None, mode: Any
) -> None:
    """The CKAN API, signed in with a purpose and anonymous, valid and invalid: 0 failures."""
    failures = fuzz(api_schema, tokens[username] if username else {}, mode, tag=PUBLIC_TAG)
    assert not failures, "\n\n".join(failures)
