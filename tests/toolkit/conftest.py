"""Fixtures the toolkit's tests share with the governance and web tests: the small governed
region, and clients signed in as the test accounts."""

from tests.governance.conftest import active_fsm_agreement, region  # noqa: F401
from tests.web.conftest import client_for, signed_in_for  # noqa: F401
