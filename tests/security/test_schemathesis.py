"""Schemathesis against the app's own OpenAPI document, in process (ASGI, no network).

Every documented operation is called with generated inputs, valid and invalid, and held to
**every** schemathesis check (statuses, content types, headers and bodies as documented, valid
data accepted, invalid data rejected, unsupported methods 405 with ``Allow``, a token that is
removed or wrong refused): the whole API as a hub admin and as a data owner (an API token with
every scope, acting for a purpose), and the public read API (the CKAN Action API, tag
``ckan``) also anonymously. One check is configured where it cannot apply as it stands
(``FILE_CONTENT_RULES`` in ``fuzzing.py``). The stateful checks (use_after_free,
ensure_resource_availability) are enabled too, but act only in a stateful run with links: each
case here is one request, and the API deletes nothing.
The other roles (a caseworker under ``fsm``, a DPO under ``subject-access``, each under a
purpose the register grants it) and an anonymous caller run the whole API with valid inputs,
with fewer examples, and must never get a server error (issue 15's target).

The harness (``tests/security/fuzzing.py``) runs operations with path parameters twice: with
generated values (mostly 404s), and with values that exist in the hub (its organisations,
dataset, versions, agreement, jobs, users), so the handlers behind the lookups are fuzzed too.
Generated requests may change the module's throwaway hub (revoke its agreement, upload
files...): that is the point. The public API's runs and the other roles' are in
``test_schemathesis_public.py`` (its own module and hub, so that the suite's two workers share
the runs); the data owner's CKAN operations run there, not here as well.
"""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis import GenerationMode

from tests.security.fuzzing import PUBLIC_CALLER, PUBLIC_TAG, fuzz

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("username", ["admin", PUBLIC_CALLER])
def test_the_staff_api_passes_every_check(
    api_schema: Any, tokens: dict[str, dict[str, str]], username: str, mode: Any
) -> None:
    """The whole API (``/api/v1`` and the rest), with an API token and a purpose, valid and
    invalid inputs: 0 failures of any check (the data owner's CKAN operations: in
    ``test_schemathesis_public.py``, with the same token, modes and checks)."""
    skip = PUBLIC_TAG if username == PUBLIC_CALLER else None
    failures = fuzz(api_schema, tokens[username], mode, skip_tag=skip)
    assert not failures, "\n\n".join(failures)


def test_the_document_covers_every_api_route(api_schema: Any) -> None:
    operations = [op.ok() for op in api_schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert "/api/v1/datasets/{organisation}/{dataset}/records" in paths
    assert len(operations) >= 10
