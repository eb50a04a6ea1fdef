"""One Spark session (``local[2]``) for every scale-out test of the session (issue 19).

The tests here compare a stage run on DuckDB with the same stage on Spark. They skip, saying
why, only where Spark cannot run (pyspark or Java 17 missing: ``make install`` installs
both); starting the JVM costs seconds, so the session is started once and stopped at the end.
The tests live in one module (``test_equivalence.py``) so that pytest-xdist's ``loadscope``
runs them on one worker: one JVM for the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from joinedup.config import Settings
from joinedup.store.spark import spark_problem, spark_session, stop_spark
from tests.support import make_settings

MASTER = "local[2]"
#: The tests' JVM lives for minutes and runs a few hundred small queries: with the C1 compiler
#: only (no C2), its CPU time is about a third less (docs/benchmarks.md, issue 19). Results do
#: not depend on it; a long production run keeps both compilers.
TEST_CONF = (("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1"),)


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
    session = spark_session(replace(on_spark(make_settings(home)), spark_conf=TEST_CONF))
    yield session
    stop_spark()
