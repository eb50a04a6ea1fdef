"""The Spark session of this process, for the data plane's heavy stages when
``JOINEDUP_ENGINE=spark`` (ADR 0038).

pyspark is an optional extra (``pip install joinedup[spark]``) and needs Java 17; importing
this module never imports pyspark, so the default DuckDB engine pays nothing for it. One
session per process and master, configured for this home (its tmp folder for Spark's local
directories) and with Splink's similarity UDF jar on the class path, so that Splink's
``SparkAPI`` can use its string comparisons.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from joinedup.config import Settings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import SparkSession

_lock = threading.Lock()
_sessions: dict[str, SparkSession] = {}


class SparkUnavailable(RuntimeError):
    """Spark was chosen but cannot run here; the message says what to install."""


#: Where Debian installs Java 17 (scripts/ensure-java.sh); Spark 4 runs on 17 or 21.
JAVA_17 = "/usr/lib/jvm/java-17-openjdk-*"


def java_home() -> str | None:
    """The Java Spark runs on: Debian's Java 17 when installed (whatever else JAVA_HOME or
    the PATH names: a newer JDK beside it is not one Spark 4 supports), else JAVA_HOME."""
    found = sorted(glob.glob(JAVA_17 + "/bin/java"))
    if found:
        return str(Path(found[0]).parent.parent)
    return os.environ.get("JAVA_HOME") or None


def spark_problem() -> str | None:
    """Why Spark cannot run on this machine, or None when it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install 'joinedup[spark]' (or make install)"
    if not (java_home() or shutil.which("java")):
        return "Java 17 is not installed: apt-get install openjdk-17-jre-headless (make java)"
    return None


def splink_udf_jar() -> Path:
    """Splink's bundled similarity-function jar for Spark 4."""
    import splink

    jars = sorted(
        (Path(splink.__file__).parent / "internals" / "files" / "spark_jars").glob(
            "scala-udf-similarity-*_spark4.x.jar"
        )
    )
    if not jars:
        raise SparkUnavailable("Splink's Spark 4 similarity jar was not found")
    return jars[-1]


def shuffle_partitions(master: str) -> str:
    """Partitions after a shuffle: on one machine (``local[N]``) one per core, since Splink
    runs hundreds of small stages and each task has a fixed cost; on a cluster Spark's own
    default, which ``[joinedup.spark]`` can change (``spark.sql.shuffle.partitions``)."""
    found = re.fullmatch(r"local\[(\d+|\*)(?:,\s*\d+)?\]|local", master.strip())
    if not found:
        return "200"
    cores = found.group(1)
    return cores if cores and cores != "*" else str(os.cpu_count() or 1)


def spark_session(settings: Settings) -> SparkSession:
    """This process's Spark session for ``settings.spark_master`` (built on first use)."""
    problem = spark_problem()
    if problem:
        raise SparkUnavailable(problem)
    with _lock:
        session = _sessions.get(settings.spark_master)
        if session is not None:
            return session
        from pyspark.sql import SparkSession

        java = java_home()
        if java:  # read by pyspark when it starts the JVM
            os.environ["JAVA_HOME"] = java
        local_dir = settings.tmp_dir / "spark"
        local_dir.mkdir(parents=True, exist_ok=True)
        builder = (
            SparkSession.builder.master(settings.spark_master)
            .appName("joinedup")
            .config("spark.jars", str(splink_udf_jar()))
            .config("spark.local.dir", str(local_dir))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")  # never on our standard error
            .config("spark.sql.shuffle.partitions", shuffle_partitions(settings.spark_master))
            # as DuckDB has them, for the queries joinedup transpiles (store/dialect.py): a
            # failed cast is NULL where the SQL allows for it, and the size of NULL is NULL
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.sql.legacy.sizeOfNull", "false")
            .config("spark.driver.memory", "4g")
        )
        for key, value in settings.spark_conf:
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        _sessions[settings.spark_master] = session
        return session


def stop_spark() -> None:
    """Stop every session this process started (tests and CLI exits)."""
    with _lock:
        for session in _sessions.values():
            session.stop()
        _sessions.clear()
