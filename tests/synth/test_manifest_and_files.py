"""The manifest, the files it lists, encodings, formats, layouts and truth joins."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from joinedup.synth.layouts import RECORD_ID_FIELD, all_layouts
from joinedup.synth.manifest import MANIFEST_FORMAT, STANDARDS, Manifest

from .helpers import read_source

LAYOUTS = all_layouts()


def test_manifest_keys_and_organisations(region):
    out, manifest, config = region
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key in (
        "format",
        "synthetic",
        "seed",
        "residents",
        "months",
        "start_month",
        "error_rate",
        "organisations",
        "files",
        "truth",
    ):
        assert key in data
    assert data["format"] == MANIFEST_FORMAT
    assert data["synthetic"] is True
    assert data["residents"] == config.residents and data["seed"] == config.seed
    assert data["start_month"] == "2025-04" and data["months"] == 24
    orgs = {o["code"]: o for o in data["organisations"]}
    assert orgs["lambeth"] == {
        "code": "lambeth",
        "name": "London Borough of Lambeth",
        "type": "council",
        "gss_code": "E09000022",
    }
    assert orgs["lewisham"]["gss_code"] == "E09000023"
    assert orgs["southwark"]["gss_code"] == "E09000028"
    assert orgs["wandsworth"]["gss_code"] == "E09000032"
    assert orgs["foodbank"]["type"] == "voluntary" and orgs["hub"]["type"] == "hub"
    assert Manifest.load(out).files == manifest.files


def test_files_exist_with_declared_rows(region):
    out, manifest, _ = region
    org_codes = {o.code for o in manifest.organisations}
    for entry in manifest.files:
        assert (out / entry.path).is_file(), entry.path
        assert entry.organisation in org_codes
        assert entry.standard in STANDARDS
        assert entry.mapping == f"synth/{entry.dataset}-{entry.organisation}.yaml"
        assert entry.path.startswith(("gazetteer/", f"{entry.organisation}/"))
        table = read_source(out, entry)
        assert table.num_rows == entry.rows, entry.path
        layout = LAYOUTS[(entry.dataset, entry.organisation)]
        assert table.column_names == [c.name for c in layout.columns], entry.path


def test_every_dataset_and_cycle_present(region):
    _, manifest, _ = region
    datasets = {f.dataset for f in manifest.files}
    assert datasets == {
        "address-gazetteer",
        "school-census",
        "council-tax-accounts",
        "council-tax-arrears",
        "benefit-claims",
        "tenancies",
        "rent-arrears",
        "adult-social-care-clients",
        "childrens-social-care-episodes",
        "electoral-register",
        "foodbank-referrals",
        "spend-over-500",
    }
    census = {f.period for f in manifest.files_for("school-census", "lambeth")}
    assert census == {"2025-05", "2025-10", "2026-01", "2026-05", "2026-10", "2027-01"}
    assert len(manifest.files_for("council-tax-arrears", "southwark")) == 24
    assert len(manifest.files_for("rent-arrears", "lewisham")) == 24
    assert len(manifest.files_for("spend-over-500", "wandsworth")) == 24
    assert {f.period for f in manifest.files_for("electoral-register", "lambeth")} == {
        "2025-12",
        "2026-12",
    }
    assert all(f.period is None for f in manifest.files_for("tenancies"))


def test_rows_per_resident_in_proportion(region):
    _, manifest, config = region
    per_resident = manifest.total_rows / config.residents
    assert 7.0 <= per_resident <= 12.0, per_resident


def test_gazetteer_is_marked_synthetic(region):
    _, manifest, _ = region
    (gaz,) = manifest.files_for("address-gazetteer")
    assert "synthetic" in gaz.path and gaz.synthetic and gaz.organisation == "hub"
    assert all(f.synthetic for f in manifest.files)


def test_encodings_and_formats(region):
    out, manifest, _ = region
    (ct,) = manifest.files_for("council-tax-accounts", "lambeth")
    raw = (out / ct.path).read_bytes()
    assert ct.encoding == "cp1252"
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "£" in raw.decode("cp1252")
    bom = manifest.files_for("school-census", "lewisham")[0]
    assert bom.encoding == "utf-8-sig"
    assert (out / bom.path).read_bytes().startswith(b"\xef\xbb\xbf")
    plain = manifest.files_for("school-census", "lambeth")[0]
    assert not (out / plain.path).read_bytes().startswith(b"\xef\xbb\xbf")
    tsv = manifest.files_for("tenancies", "lewisham")[0]
    assert tsv.delimiter == "\t" and "\t" in (out / tsv.path).read_text().splitlines()[0]
    xlsx = [f for f in manifest.files if f.format == "xlsx"]
    assert {f.dataset for f in xlsx} >= {"adult-social-care-clients", "spend-over-500"}
    from openpyxl import load_workbook

    wb = load_workbook(out / xlsx[0].path)  # a normal (not read-only) open checks the package
    assert wb.worksheets[0].max_row == xlsx[0].rows + 1
    header = [c.value for c in wb.worksheets[0][1]]
    col = header.index("Date of Birth") + 1
    dates = [c.value for c in next(wb.worksheets[0].iter_cols(min_col=col, max_col=col))][1:]
    assert all(hasattr(d, "year") for d in dates if d is not None)  # native date cells
    wb.close()
    (fb,) = manifest.files_for("foodbank-referrals")
    rows = json.loads((out / fb.path).read_text(encoding="utf-8"))
    assert isinstance(rows, list) and len(rows) == fb.rows


def test_quirks_show_in_the_files(region):
    out, manifest, _ = region
    southwark = read_source(out, manifest.files_for("school-census", "southwark")[0])
    names = southwark.column("NAME").to_pylist()
    assert all(", " in n for n in names[:50])
    assert all(n == n.upper() for n in names)
    serial = read_source(out, manifest.files_for("benefit-claims", "wandsworth")[0])
    starts = [int(v) for v in serial.column("ClaimStartDate").to_pylist() if v]
    assert all(30000 < v < 50000 for v in starts)  # Excel serial day numbers
    iso = read_source(out, manifest.files_for("benefit-claims", "southwark")[0])
    assert all(len(v) == 10 and v[4] == "-" for v in iso.column("claim_start").to_pylist())
    dmy = read_source(out, manifest.files_for("benefit-claims", "lambeth")[0])
    assert all(v[2] == "/" for v in dmy.column("CLAIM_START").to_pylist())
    spend_headers = {
        tuple(read_source(out, manifest.files_for("spend-over-500", c)[0]).column_names)
        for c in ("lambeth", "lewisham", "southwark", "wandsworth")
    }
    assert len(spend_headers) == 4  # each council its own layout


def _truth_records(out: Path):
    return pq.read_table(out / "truth" / "records.parquet")


def test_truth_joins_to_every_person_record(region):
    out, manifest, _ = region
    truth = _truth_records(out)
    files = pc.unique(truth.column("file")).to_pylist()
    person_files = [f for f in manifest.files if f.dataset in RECORD_ID_FIELD]
    assert sorted(files) == sorted(f.path for f in person_files)
    by_file = truth.group_by("file").aggregate(
        [("record_id", "count_distinct"), ("record_id", "count")]
    )
    counts = dict(
        zip(
            by_file.column("file").to_pylist(),
            by_file.column("record_id_count").to_pylist(),
            strict=True,
        )
    )
    distinct = dict(
        zip(
            by_file.column("file").to_pylist(),
            by_file.column("record_id_count_distinct").to_pylist(),
            strict=True,
        )
    )
    for entry in person_files:
        assert counts[entry.path] == entry.rows == distinct[entry.path], entry.path
    # and the ids really are the file's record-id column
    for entry in person_files[::7]:
        layout = LAYOUTS[(entry.dataset, entry.organisation)]
        column = next(c.name for c in layout.columns if c.field == RECORD_ID_FIELD[entry.dataset])
        ids = set(read_source(out, entry).column(column).to_pylist())
        mask = pc.equal(truth.column("file"), entry.path)
        assert ids == set(truth.filter(mask).column("record_id").to_pylist()), entry.path
    assert truth.column("person_id").null_count == 0
    assert truth.column("household_id").null_count == 0
    people = pq.read_table(out / "truth" / "people.parquet")
    assert int(pc.max(truth.column("person_id")).as_py()) < people.num_rows


def test_truth_files_listed_and_present(region):
    out, manifest, _ = region
    for name in (
        "records",
        "errors",
        "people",
        "households",
        "moves",
        "pairs",
        "fsm_eligibility",
        "intervention",
        "fsm_rules",
        "schools",
        "areas",
    ):
        assert (out / manifest.truth[name]).is_file(), name
        assert manifest.truth[name].startswith("truth/")
    assert not any(f.path.startswith("truth/") for f in manifest.files)
    intervention = json.loads((out / manifest.truth["intervention"]).read_text())
    assert intervention["organisation"] == "lewisham"
    assert intervention["start_month"] == "2026-01"
    assert set(intervention["comparison_organisations"]) == {"lambeth", "southwark", "wandsworth"}


def test_layouts_are_distinct_per_export(region):
    mappings = [layout.mapping for layout in LAYOUTS.values()]
    assert len(mappings) == len(set(mappings))
    assert all(layout.columns for layout in LAYOUTS.values())
    yaml_text = __import__("joinedup.synth.layouts", fromlist=["layouts_yaml"]).layouts_yaml()
    assert "synth/benefit-claims-wandsworth.yaml" in yaml_text
