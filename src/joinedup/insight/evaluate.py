"""Check the free-school-meals flags against a synthetic region's truth.

The truth (``truth/fsm_eligibility.parquet``) says, per pupil per month, whether the child was
eligible and registered. A flag of ``fsm-eligible-not-registered`` names the pupil's census
record; its dataset version's source file and record id give the truth's person. Positives
are the children eligible and not registered in the month of the census the flag was judged
at. Two recalls are reported: against every such child, and against those the hub could find
at all — children whose family claims council tax reduction (the synthetic region has no
Universal Credit data of its own: families who claim nothing locally are invisible to it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, InsightRun, Organisation
from joinedup.config import Settings
from joinedup.errors import Missing
from joinedup.store import SnapshotStore, duckdb_session

FSM_RULE = "fsm-eligible-not-registered"


@dataclass
class FsmEvaluation:
    month: str
    flagged_children: int
    true_positives: int
    eligible_unregistered: int
    discoverable: int
    precision: float
    recall: float
    recall_discoverable: float
    flags_by_home_borough: dict[str, int]
    missed_not_claiming_ctr: int
    in_borough_school: int
    cross_borough_school: int

    def summary(self) -> dict[str, Any]:
        return {
            "fsm_flagged_children": self.flagged_children,
            "fsm_eligible_unregistered_truth": self.eligible_unregistered,
            "fsm_precision": round(self.precision, 4),
            "fsm_recall": round(self.recall, 4),
            "fsm_recall_discoverable": round(self.recall_discoverable, 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _q(path: Path) -> str:
    return str(path).replace("'", "''")


def evaluate_fsm(settings: Settings, truth_dir: Path, run_id: int | None = None) -> FsmEvaluation:
    """Precision and recall of the FSM flags of an insight run (the latest by default)."""
    truth_dir = Path(truth_dir)
    if truth_dir.name == "records.parquet":
        truth_dir = truth_dir.parent
    if (truth_dir / "truth").is_dir():
        truth_dir = truth_dir / "truth"
    for name in ("records.parquet", "fsm_eligibility.parquet", "households.parquet"):
        if not (truth_dir / name).is_file():
            raise Missing(f"{truth_dir / name}: no such truth file")
    with session_scope(settings) as session:
        query = select(InsightRun).order_by(InsightRun.id.desc()).limit(1)
        if run_id is not None:
            query = select(InsightRun).where(InsightRun.id == run_id)
        run = session.scalars(query).first()
        if run is None:
            raise Missing("no insight run yet: run `joinedup insight run`")
        sha = run.flags_sha256
        files = {
            (o, d, int(v)): f
            for o, d, v, f in session.execute(
                select(
                    Organisation.code,
                    Dataset.name,
                    DatasetVersion.version,
                    DatasetVersion.source_filename,
                )
                .join(Dataset, Dataset.organisation_id == Organisation.id)
                .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
                .where(Dataset.standard == "school_census")
            ).all()
        }
    with duckdb_session(settings) as con:
        import pyarrow as pa

        con.register(
            "census_files",
            pa.table(
                {
                    "organisation": [k[0] for k in files],
                    "dataset": [k[1] for k in files],
                    "version": [k[2] for k in files],
                    "file": [f"{k[0]}/{v}" for k, v in files.items()],
                }
            ),
        )
        con.execute(
            f"""CREATE TABLE flagged AS
            SELECT DISTINCT f.organisation AS home, r.organisation, r.dataset, r.version,
                   r.source_record_id, f.as_at
            FROM {SnapshotStore(settings).sql_source(sha)} f, unnest(f.records) AS u(r)
            WHERE f.rule_id = '{FSM_RULE}' AND r.alias = 'pupil'"""
        )
        con.execute(
            f"""CREATE TABLE flagged_people AS
            SELECT DISTINCT t.person_id, strftime(fl.as_at, '%Y-%m') AS month, fl.home
            FROM flagged fl
            JOIN census_files cf USING (organisation, dataset, version)
            JOIN read_parquet('{_q(truth_dir / "records.parquet")}') t
              ON t.file = cf.file AND t.record_id = fl.source_record_id"""
        )
        month_row = (
            con.execute("SELECT max(month) FROM flagged_people").fetchall()[0][0]
            or con.execute("SELECT strftime(max(as_at), '%Y-%m') FROM flagged").fetchall()[0][0]
        )
        if month_row is None:
            # no flags: judge against the latest census month of the region
            eligibility = _q(truth_dir / "fsm_eligibility.parquet")
            month_row = con.execute(
                f"SELECT max(month) FROM read_parquet('{eligibility}')"
            ).fetchall()[0][0]
        month = str(month_row)
        con.execute(
            f"""CREATE TABLE positives AS
            SELECT e.person_id, e.home_borough, e.school_borough, h.claims_ctr_when_eligible
            FROM read_parquet('{_q(truth_dir / "fsm_eligibility.parquet")}') e
            JOIN read_parquet('{_q(truth_dir / "households.parquet")}') h USING (household_id)
            WHERE e.month = '{month}' AND e.eligible AND NOT e.registered"""
        )
        (flagged_n, tp, pos, disc, tp_disc, missed_ctr, tp_in, tp_cross) = con.execute(
            """SELECT
                 (SELECT count(DISTINCT person_id) FROM flagged_people),
                 (SELECT count(DISTINCT person_id) FROM flagged_people
                    WHERE person_id IN (SELECT person_id FROM positives)),
                 (SELECT count(*) FROM positives),
                 (SELECT count(*) FROM positives WHERE claims_ctr_when_eligible),
                 (SELECT count(*) FROM positives WHERE claims_ctr_when_eligible
                    AND person_id IN (SELECT person_id FROM flagged_people)),
                 (SELECT count(*) FROM positives WHERE NOT claims_ctr_when_eligible),
                 (SELECT count(*) FROM positives WHERE home_borough = school_borough
                    AND person_id IN (SELECT person_id FROM flagged_people)),
                 (SELECT count(*) FROM positives WHERE home_borough <> school_borough
                    AND person_id IN (SELECT person_id FROM flagged_people))"""
        ).fetchall()[0]
        by_home = dict(
            con.execute(
                "SELECT home, count(DISTINCT person_id) FROM flagged_people GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    return FsmEvaluation(
        month=month,
        flagged_children=int(flagged_n),
        true_positives=int(tp),
        eligible_unregistered=int(pos),
        discoverable=int(disc),
        precision=tp / flagged_n if flagged_n else 0.0,
        recall=tp / pos if pos else 0.0,
        recall_discoverable=tp_disc / disc if disc else 0.0,
        flags_by_home_borough={str(k): int(v) for k, v in by_home.items()},
        missed_not_claiming_ctr=int(missed_ctr),
        in_borough_school=int(tp_in),
        cross_borough_school=int(tp_cross),
    )
