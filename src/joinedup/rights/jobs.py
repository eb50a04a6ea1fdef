"""Job kind ``rights.demo``: the demo's residents' rights example.

It picks a synthetic resident whose records are held by the most organisations, and has the
demo DPO record a sample dispute of one of their records, so that the rights pages, the
disputed marks and the data owner's notification have something to show. The result names
the resident by id only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageRun, Role, User
from joinedup.governance.access import Actor
from joinedup.jobs.registry import JobContext, job
from joinedup.rights.common import SAR_PURPOSE
from joinedup.rights.disputes import record_dispute
from joinedup.store import SnapshotStore, duckdb_session

SAMPLE_STATEMENT = (
    "Synthetic example: the resident says this address is out of date; they moved out "
    "before the record's date."
)


@job("rights.demo")
def rights_demo_job(ctx: JobContext) -> dict[str, Any]:
    """Record a sample dispute for a resident held by several organisations."""
    settings = ctx.settings
    ctx.progress(0.1, "Choosing a resident held by several organisations")
    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc())).first()
        dpo = session.scalars(select(User).where(User.role == Role.DPO.value)).first()
        if run is None or dpo is None:
            raise RuntimeError("the demo needs a resident index and a DPO first")
        actor = Actor.of(dpo, SAR_PURPOSE)
        index = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        resident, organisations = con.execute(
            f"""SELECT resident_id, count(DISTINCT organisation) FROM {index}
            GROUP BY 1 ORDER BY 2 DESC, count(*) DESC, 1 LIMIT 1"""
        ).fetchall()[0]
        organisation, dataset, record_id = con.execute(
            f"""SELECT organisation, dataset, source_record_id FROM {index}
            WHERE resident_id = ? ORDER BY record_key LIMIT 1""",
            [resident],
        ).fetchall()[0]
    ctx.progress(0.6, "Recording a sample dispute")
    dispute = record_dispute(
        settings,
        actor,
        organisation=organisation,
        dataset=dataset,
        source_record_id=record_id,
        fields=["address_line_1", "postcode"],
        statement=SAMPLE_STATEMENT,
    )
    return {
        "resident_id": resident,
        "organisations": int(organisations),
        "dispute": dispute.id,
        "disputed_record": dispute.record_key,
        "dpo": dpo.username,
    }
