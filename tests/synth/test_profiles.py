"""Scenario profiles: deterministic per seed, and each shows the property it exists for,
measured on the files it writes (not on the generator's own log)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from joinedup.synth.cli import register
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_region
from joinedup.synth.manifest import Manifest
from joinedup.synth.profiles import PROFILES, apply_profile
from joinedup.synth.readback import person_records, read_source
from joinedup.synth.systems.base import LAYOUTS

BOROUGHS = ("lambeth", "lewisham", "southwark", "wandsworth")
# files with a date of birth and an address, from five systems
CSC_FORMAT = {"lambeth": "csv", "lewisham": "csv", "southwark": "xlsx", "wandsworth": "xlsx"}
PERSON_FILES = [
    *(f"{b}/benefit-claims.csv" for b in BOROUGHS),
    *(f"{b}/tenancies.csv" for b in BOROUGHS),
    *(f"{b}/school-census-2026-01.csv" for b in BOROUGHS),
    *(f"{b}/childrens-social-care-episodes.{CSC_FORMAT[b]}" for b in BOROUGHS),
    "foodbank/foodbank-referrals.json",
]


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name in PROFILES:
        root = tmp_path_factory.mktemp(name)
        generate_region(apply_profile(SynthConfig(residents=3000, seed=3, months=12), name), root)
        out[name] = root
    return out


def _records(root: Path) -> pa.Table:
    return person_records(root, PERSON_FILES)


def _pairs(con: duckdb.DuckDBPyConnection, records: pa.Table) -> None:
    """Pairs of records of the same person in two different files, with each side's borough
    (from the postcode, through the region's gazetteer)."""
    con.register("records", records)
    con.execute(
        """CREATE OR REPLACE TABLE r AS SELECT *, split_part(record_id, '#', 1) AS file,
        upper(replace(postcode, ' ', '')) AS pc FROM records"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE pairs AS SELECT a.pc AS pc_a, b.pc AS pc_b,
        ga.la AS la_a, gb.la AS la_b,
        lower(a.given_name) AS given_a, lower(b.given_name) AS given_b,
        lower(a.family_name) AS family_a, lower(b.family_name) AS family_b
        FROM r a JOIN r b ON a.person_id = b.person_id AND a.file < b.file
        LEFT JOIN gaz ga ON ga.pc = a.pc LEFT JOIN gaz gb ON gb.pc = b.pc"""
    )


def _gazetteer(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    manifest = Manifest.load(root)
    entry = next(f for f in manifest.files if f.dataset == "address-gazetteer")
    con.register("g", read_source(root, entry))
    con.execute(
        """CREATE OR REPLACE TABLE gaz AS SELECT DISTINCT upper(replace("POSTCODE", ' ', ''))
        AS pc, any_value("LA_GSS_CODE") AS la FROM g GROUP BY ALL"""
    )


def _address_figures(root: Path) -> tuple[float, float]:
    """(share of a person's record pairs at different postcodes, share of those pairs in
    different boroughs)."""
    con = duckdb.connect()
    _gazetteer(con, root)
    _pairs(con, _records(root))
    moved, cross = con.execute(
        """SELECT avg(CASE WHEN pc_a <> pc_b THEN 1 ELSE 0 END),
        avg(CASE WHEN la_a <> la_b THEN 1 ELSE 0 END) FILTER (WHERE pc_a <> pc_b)
        FROM pairs WHERE pc_a IS NOT NULL AND pc_b IS NOT NULL"""
    ).fetchall()[0]
    return float(moved), float(cross)


def test_default_profile_is_the_default_config():
    config = SynthConfig(residents=2000, seed=4)
    assert apply_profile(config, "default") == config
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        apply_profile(config, "nope")


def test_a_profile_is_deterministic_per_seed(tmp_path, regions):
    config = apply_profile(SynthConfig(residents=3000, seed=3, months=12), "names")
    generate_region(config, tmp_path / "again")
    assert _digests(tmp_path / "again") == _digests(regions["names"])
    generate_region(replace_seed(config, 4), tmp_path / "other")
    other = _digests(tmp_path / "other")
    assert sum(other[k] != v for k, v in _digests(regions["names"]).items()) > len(other) // 2


def replace_seed(config: SynthConfig, seed: int) -> SynthConfig:
    return config.with_overrides(seed=seed)


def test_movers_are_at_other_addresses_often_in_another_borough(regions):
    moved, cross = _address_figures(regions["movers"])
    base_moved, _ = _address_figures(regions["default"])
    # each file holds 20-40% of people somewhere else, so a pair of files disagrees on
    # roughly 1 - (1 - p)^2 of people: 36-64%
    assert 0.3 <= moved <= 0.65, moved
    assert cross >= 0.5, cross
    assert moved > 2 * base_moved
    # fewer shared identifiers: NI numbers blank on many benefit claims
    records = person_records(regions["movers"], [f"{b}/benefit-claims.csv" for b in BOROUGHS])
    adults = [
        v
        for v, d in zip(
            records.column("ni_number").to_pylist(), records.column("dob").to_pylist(), strict=True
        )
        if d and d < "2008-01-01"
    ]
    assert sum(v is None for v in adults) / len(adults) >= 0.35


def test_sparse_records_miss_dates_of_birth_and_address_parts(regions):
    for name, low, high in (("sparse", 0.15, 0.3), ("default", 0.0, 0.03)):
        records = _records(regions[name])
        dob = records.column("dob").to_pylist()
        share = sum(v is None for v in dob) / len(dob)
        assert low <= share <= high, (name, share)
    # address parts shuffled or missing: first lines left blank, or holding more parts
    label = next(
        c.name for c in LAYOUTS[("benefit-claims", "lambeth")].columns if c.field == "address_line1"
    )

    def first_lines(name: str) -> tuple[float, float]:
        entry = Manifest.load(regions[name]).files_for("benefit-claims", "lambeth")[0]
        line1 = read_source(regions[name], entry).column(label).to_pylist()
        blank = sum(v is None for v in line1) / len(line1)
        commas = sum(v.count(",") for v in line1 if v) / len(line1)
        return blank, commas

    blank, commas = first_lines("sparse")
    base_blank, base_commas = first_lines("default")
    assert blank >= 0.03 and base_blank == 0, (blank, base_blank)
    assert commas >= base_commas + 0.02, (commas, base_commas)


def test_names_differ_between_files(regions):
    def figures(name: str) -> tuple[float, float, float]:
        con = duckdb.connect()
        _gazetteer(con, regions[name])
        records = _records(regions[name])
        _pairs(con, records)
        given, family = con.execute(
            """SELECT avg(CASE WHEN given_a <> given_b THEN 1 ELSE 0 END),
            avg(CASE WHEN family_a <> family_b THEN 1 ELSE 0 END) FROM pairs"""
        ).fetchall()[0]
        double = [
            v for v in records.column("given_name").to_pylist() if v and ("-" in v or " " in v)
        ]
        return float(given), float(family), len(double) / records.num_rows

    given, family, double = figures("names")
    base_given, base_family, base_double = figures("default")
    assert given >= 0.25 and given > 2 * base_given, (given, base_given)
    assert family >= 0.15 and family > 1.5 * base_family, (family, base_family)
    assert double >= 0.02 and base_double < 0.01, (double, base_double)


def test_profile_option_on_the_command_line(tmp_path):
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    bad = runner.invoke(app, ["synth", "-n", "500", "-o", str(tmp_path / "x"), "--profile", "nope"])
    assert bad.exit_code != 0 and "unknown profile" in bad.output
    ok = runner.invoke(
        app,
        ["synth", "-n", "500", "--months", "3", "-o", str(tmp_path / "m"), "--profile", "sparse"],
    )
    assert ok.exit_code == 0, ok.output
    assert Manifest.load(tmp_path / "m").extra["profile"] == "sparse"
