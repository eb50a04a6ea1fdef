"""One Spark session (``local[2]``) for every scale-out test of the session (issue 19).

The tests here compare a stage run on DuckDB with the same stage on Spark. They skip, saying
why, only where Spark cannot run (pyspark or Java 17 missing: ``make install`` installs
both); starting the JVM costs seconds, so the session is started once and stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from joinedup.config import Settings
from joinedup.store.spark import spark_problem, spark_session, stop_spark
from tests.support import make_settings

MASTER = "local[2]"


def on_spark(settings: Settings) -> Settings:
    """``settings`` with the Spark engine on the session's master."""
    return replace(settings, engine="spark", spark_master=MASTER)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The session's Spark (later ``spark_session`` calls with ``MASTER`` reuse it)."""
    problem = spark_problem()
    if problem:
        pytest.skip(f"Spark cannot run here: {problem}")
    home = tmp_path_factory.mktemp("spark-home") / "home"
    session = spark_session(on_spark(make_settings(home)))
    yield session
    stop_spark()
