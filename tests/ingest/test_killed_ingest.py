"""Killing an ingest at any moment leaves either nothing or a whole version, never a part."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import DatasetVersion, Snapshot
from joinedup.governance.organisations import ensure_organisation
from joinedup.home import init_home
from tests.support import make_settings

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from joinedup.config import Settings
    from joinedup.ingest.pipeline import IngestRequest, ingest
    settings = Settings(home=Path(sys.argv[1]), secret_key="k")
    print("started", flush=True)
    ingest(settings, IngestRequest(organisation="lambeth", dataset="people",
                                   path=Path(sys.argv[2]), standard="person"))
    print("done", flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 0.6, 1.0, 1.6, 2.5])
def test_killed_ingest_leaves_nothing_half_written(tmp_path: Path, delay: float) -> None:
    settings = make_settings(tmp_path / "home")
    init_home(settings)
    with session_scope(settings) as session:
        ensure_organisation(session, code="lambeth", name="Lambeth", gss_code="E09000022")
    dispose_engines()
    source = tmp_path / "people.csv"
    duckdb.connect().execute(
        "COPY (SELECT 'P' || i AS source_record_id, 'NAME' || (i % 977) AS family_name, "
        "strftime(DATE '1950-01-01' + (i % 20000)::INTEGER, '%Y-%m-%d') AS date_of_birth, "
        "'SE1 7PB' AS postcode FROM range(400000) t(i)) "
        f"TO '{source}' (HEADER)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.home), str(source)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)

    init_home(settings)  # what an operator runs after a crash: sweeps dead temp files
    with session_scope(settings) as session:
        versions = session.scalars(select(DatasetVersion)).all()
        assert len(versions) <= 1
        snapshots = {s.sha256: s for s in session.scalars(select(Snapshot))}
        for version in versions:  # a visible version is whole
            snapshot = snapshots[version.snapshot_sha256]
            assert snapshot.row_count == version.accepted_rows == 400000
            assert (settings.home / snapshot.path).is_file()
        if not versions:
            assert snapshots == {}
    assert [p.name for p in settings.tmp_dir.iterdir() if p.name.startswith(".tmp-")] == []
    dispose_engines()
