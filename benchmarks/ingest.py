"""Benchmark ingest: a 1,000,000-row council export mapped, validated and snapshotted.

    .venv/bin/python benchmarks/ingest.py [ROWS] [--runs N] [--out DIR]

The file is a council tax export in a typical council layout ("SURNAME, Forename" names,
dd/mm/yyyy dates, £ amounts with thousands separators, Y/N flags, messy postcodes, about 1% of
rows invalid). Each run ingests it into a fresh home in a child process, so peak RSS (from
``os.wait4``) is the ingest's own. In the same run, as a floor to compare against, a second
child does only what any loader must: DuckDB reads the CSV as text and writes it to Parquet.
Target (issue 4): 1,000,000 rows in under 20 s with peak memory under 2 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

MAPPING = """\
format: joinedup-mapping/1
standard: council_tax
description: Benchmark council tax export
fields:
  source_record_id: PERSON_REF
  family_name: {column: NAME, split_name: surname_comma_forenames, part: family}
  given_name: {column: NAME, split_name: surname_comma_forenames, part: given}
  middle_names: {column: NAME, split_name: surname_comma_forenames, part: middle}
  date_of_birth: {column: DOB, date_formats: ["%d/%m/%Y"]}
  sex: {column: GENDER, codes: {Male: M, Female: F}}
  address_line_1: ADDRESS
  postcode: POSTCODE
  uprn: UPRN
  account_ref: ACCOUNT
  property_uprn: UPRN
  band: {column: BAND, case: upper}
  single_person_discount: {column: SPD}
  balance: {column: ARREARS, number: {currency: true}}
  period: {constant: "2026-10"}
"""

MAKE_CSV = """
COPY (
  SELECT
    'P' || lpad(i::VARCHAR, 8, '0') AS PERSON_REF,
    upper(['SMITH','JONES','OKAFOR','NGUYEN','KHAN','O''BRIEN','GARCIA','SILVA'][i % 8 + 1])
      || ', ' || ['Amelia','Mohammed','Chidi','Anh','Siân','Oliver','Zara','Kofi'][i % 7 + 1]
      || CASE WHEN i % 3 = 0 THEN ' James' ELSE '' END AS NAME,
    CASE WHEN i % 100 = 7 THEN '31/02/1980'
         ELSE strftime(DATE '1940-01-01' + (i * 37 % 25000)::INTEGER, '%d/%m/%Y') END AS DOB,
    ['Male','Female'][i % 2 + 1] AS GENDER,
    (i % 300 + 1)::VARCHAR || ' ' || ['High St','Acre Lane','Brixton Rd','Peckham Rye'][i % 4 + 1]
      AS ADDRESS,
    ['se1 7pb','SW9  8AB','SE15 4QT','sw2 1aa','SE5 9QQ'][i % 5 + 1] AS POSTCODE,
    (100000000000 + i)::VARCHAR AS UPRN,
    'A' || lpad((i // 2)::VARCHAR, 8, '0') AS ACCOUNT,
    ['a','B','c','D','E'][i % 5 + 1] AS BAND,
    ['Y','N'][i % 2 + 1] AS SPD,
    '£' || format('{:,.2f}', (i % 5000) / 3.0) AS ARREARS
  FROM range({rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""

CHILD = """
import sys, time
from pathlib import Path
from joinedup.catalog.db import session_scope
from joinedup.config import Settings
from joinedup.governance.organisations import ensure_organisation
from joinedup.home import init_home
from joinedup.ingest.pipeline import IngestRequest, ingest

home, csv, mapping = (Path(a) for a in sys.argv[1:4])
settings = Settings(home=home, max_upload_bytes=8 * 1024**3)
init_home(settings)
with session_scope(settings) as session:
    ensure_organisation(session, code="lambeth", name="Lambeth", gss_code="E09000022")
started = time.perf_counter()
result = ingest(settings, IngestRequest(organisation="lambeth", dataset="council-tax",
                                        path=csv, mapping=mapping))
print(time.perf_counter() - started, result.rows, result.accepted, result.rejected)
"""

FLOOR = """
import sys, time, duckdb
started = time.perf_counter()
con = duckdb.connect()
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}', all_varchar=true)) "
            f"TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)")
print(time.perf_counter() - started, 0, 0, 0)
"""


def run_child(code: str, *args: str) -> tuple[float, float, list[float]]:
    """Run a child; return (wall seconds, peak RSS GB, numbers it printed)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    output = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"child failed with status {status}")
    return wall, usage.ru_maxrss * 1024 / 1e9, [float(x) for x in output.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/ingest"))
    args = parser.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    csv, mapping = out / "council-tax.csv", out / "council-tax.yaml"
    duckdb.connect().execute(MAKE_CSV.replace("{rows}", str(args.rows)).replace("{path}", str(csv)))
    mapping.write_text(MAPPING)
    size_mb = csv.stat().st_size / 1e6
    ingest_runs, floor_runs = [], []
    for run in range(args.runs):
        home = out / f"home-{run}"
        wall, peak, (inner, rows, accepted, rejected) = run_child(
            CHILD, str(home), str(csv), str(mapping)
        )
        ingest_runs.append((inner, wall, peak))
        shutil.rmtree(home)
        fwall, fpeak, (finner, *_rest) = run_child(FLOOR, str(csv), str(out / "floor.parquet"))
        floor_runs.append((finner, fwall, fpeak))
        print(
            f"run {run + 1}: ingest {inner:.2f} s (process {wall:.2f} s, peak {peak:.2f} GB); "
            f"floor {finner:.2f} s (peak {fpeak:.2f} GB)",
            file=sys.stderr,
        )
    med = statistics.median(r[0] for r in ingest_runs)
    fmed = statistics.median(r[0] for r in floor_runs)
    print(
        "| rows | file | runs | ingest median | peak RSS | accepted | quarantined | "
        "floor (read CSV + write Parquet) | ingest / floor |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {int(rows):,} | {size_mb:.0f} MB | {args.runs} | {med:.2f} s | "
        f"{max(r[2] for r in ingest_runs):.2f} GB | {int(accepted):,} | {int(rejected):,} | "
        f"{fmed:.2f} s ({max(r[2] for r in floor_runs):.2f} GB) | {med / fmed:.1f}x |"
    )


if __name__ == "__main__":
    main()
