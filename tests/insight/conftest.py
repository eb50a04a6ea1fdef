from __future__ import annotations

import pytest

from tests.insight.helpers import DemoHome, build_demo_home


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> DemoHome:
    return build_demo_home(tmp_path_factory.mktemp("insight") / "home")
