"""The linkage stage end to end on a copy of the demo region (slow: every demo stage ran)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import AuditEvent, LinkageRun, Snapshot
from joinedup.cli import app
from joinedup.demo import source_dir
from tests.regions import DEMO, copy_region

F1_FLOOR = 0.95


@pytest.mark.slow
def test_demo_region_links_above_the_floor(tmp_path: Path) -> None:
    region = copy_region(DEMO, tmp_path / "home")  # the demo's every stage, built once
    settings, result = region.settings, region.result
    stage = next(s for s in result.stages if s["stage"] == "Link residents")
    assert stage["status"] == "succeeded"
    figures = stage["result"]
    assert figures["pairwise_f1"] >= F1_FLOOR, figures
    assert figures["pairwise_precision"] >= 0.97
    assert figures["twin_junior_senior_false_merge_rate"] < 0.1
    assert figures["datasets_refused"] == 0

    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun)).one()
        index = session.get(Snapshot, run.index_sha256)
        assert index is not None and index.row_count == run.records == figures["records"]
        reads = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "personal_data.process",
                AuditEvent.decision == "allow",
                AuditEvent.purpose == "linkage",
            )
        )
        assert reads == figures["datasets_linked"] * 2  # the build's reads and the evaluation's
    model = json.loads((settings.home / run.model_path).read_text())
    assert model["version"] == run.model_version == 1
    assert model["training"]["records"] == run.records
    assert {c["output_column_name"] for c in model["splink_settings"]["comparisons"]} >= {
        "given_name",
        "family_name",
        "date_of_birth",
        "address",
        "source",
    }

    truth = source_dir(settings) / "truth" / "records.parquet"
    env = {"JOINEDUP_HOME": str(settings.home), "JOINEDUP_DATABASE_URL": ""}
    out = CliRunner().invoke(app, ["linkage", "evaluate", "--truth", str(truth), "--json"], env=env)
    dispose_engines()
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["pairwise_f1"] == figures["pairwise_f1"]
