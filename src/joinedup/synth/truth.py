"""Ground truth, written beside the source files under ``truth/`` and never ingested.

* ``records.parquet`` — every person-bearing source record: file, record id (the value of the
  file's record-id column), person_id, household_id and, for records naming two people (joint
  council tax holders, joint tenants), ``joint_person_id``.
* ``errors.parquet`` — each error the error model applied: file, record id, field, error.
* ``people.parquet``, ``households.parquet``, ``moves.parquet``, ``pairs.parquet`` (twins and
  junior/senior pairs: hard negatives for linkage), ``fsm_eligibility.parquet`` (per pupil per
  month), ``schools.parquet``, ``areas.parquet`` and ``intervention.json`` / ``fsm_rules.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

RECORDS_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("record_id", pa.string()),
        ("person_id", pa.int64()),
        ("household_id", pa.int64()),
        ("joint_person_id", pa.int64()),
    ]
)
ERRORS_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("record_id", pa.string()),
        ("field", pa.string()),
        ("error", pa.string()),
    ]
)


class TruthWriter:
    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir / "truth"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.paths: dict[str, str] = {}
        self._records = pq.ParquetWriter(
            self.dir / "records.parquet", RECORDS_SCHEMA, compression="zstd"
        )
        self._errors = pq.ParquetWriter(
            self.dir / "errors.parquet", ERRORS_SCHEMA, compression="zstd"
        )
        self.paths["records"] = "truth/records.parquet"
        self.paths["errors"] = "truth/errors.parquet"

    def add_records(
        self,
        file_path: str,
        record_ids: pa.Array,
        person: npt.NDArray[np.int64],
        household: npt.NDArray[np.int64],
        joint: npt.NDArray[np.int64] | None = None,
    ) -> None:
        n = len(record_ids)
        joint_arr = (
            pa.nulls(n, pa.int64())
            if joint is None
            else pa.array(joint, mask=joint < 0, type=pa.int64())
        )
        table = pa.table(
            [
                pa.array(np.full(n, file_path, dtype=object), pa.string()),
                record_ids,
                pa.array(person, pa.int64()),
                pa.array(household, pa.int64()),
                joint_arr,
            ],
            schema=RECORDS_SCHEMA,
        )
        self._records.write_table(table)

    def add_errors(self, table: pa.Table | None) -> None:
        if table is not None and table.num_rows:
            self._errors.write_table(table.cast(ERRORS_SCHEMA))

    def table(self, name: str, table: pa.Table) -> None:
        pq.write_table(table, self.dir / f"{name}.parquet", compression="zstd")
        self.paths[name] = f"truth/{name}.parquet"

    def json(self, name: str, data: Any) -> None:
        (self.dir / f"{name}.json").write_text(
            json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        self.paths[name] = f"truth/{name}.json"

    def close(self) -> None:
        self._records.close()
        self._errors.close()
