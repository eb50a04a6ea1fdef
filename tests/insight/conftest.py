"""The insight tests use the session-wide ``demo_home`` fixture of ``tests/conftest.py``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from joinedup.web.app import create_app
from tests.regions import Region

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture
def api(demo_home: Region) -> Iterator[TestClient]:
    """A test client of the app over the demo home (sign in with ``tests.support.signed_in``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(demo_home.settings)) as client:
        yield client
