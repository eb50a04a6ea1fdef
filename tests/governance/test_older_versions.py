"""A version ingested under an earlier release of its standard lacks the fields added since;
reads of it give those fields as typed NULLs instead of failing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from joinedup.governance.processing import select_list


def test_a_field_added_to_the_standard_later_reads_as_a_typed_null(tmp_path: Path) -> None:
    con = duckdb.connect()
    old = tmp_path / "claims-1.0.0.parquet"
    # benefit_claim 1.0.0 had no assessment dates
    con.execute(
        f"COPY (SELECT 'C1' AS source_record_id, DATE '2025-04-01' AS claim_start_date) "
        f"TO '{old}' (FORMAT parquet)"
    )
    source = f"read_parquet('{old}')"
    columns = ["source_record_id", "claim_start_date", "assessment_start_date", "shoe_size"]
    rows = con.execute(
        f"SELECT {select_list(con, source, 'benefit_claim', columns)} FROM {source}"
    ).fetchall()
    assert rows == [("C1", date(2025, 4, 1), None, None)]
    types = dict(
        con.execute(
            f"DESCRIBE SELECT {select_list(con, source, 'benefit_claim', columns)} FROM {source}"
        ).fetchall()[i][:2]
        for i in range(4)
    )
    assert types["assessment_start_date"] == "DATE"  # the standard's type, so unions line up
    assert types["shoe_size"] == "VARCHAR"
