"""The synthetic region's ready mappings: in step with the layouts, and every file ingests.

The fast tests check the shipped YAML against the generator (``joinedup.synth.mappings``) and
the layouts. The slow ones generate two small regions (clean, and with the default error
rates), ingest every file of each through its mapping, and join the accepted rows back to the
region's ground truth.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sqlalchemy import select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.home import init_home
from joinedup.ingest.errors import IngestError
from joinedup.ingest.mapping import Mapping, load_mapping, resolve_mapping_path
from joinedup.ingest.normalise import name_sql
from joinedup.ingest.pipeline import IngestRequest, IngestResult, ingest
from joinedup.standards import linkage_fields
from joinedup.store import SnapshotStore
from joinedup.synth import mappings as gen
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_region
from joinedup.synth.layouts import (
    FORENAME_FIRST,
    RECORD_ID_FIELD,
    SEPARATE,
    Column,
    Layout,
    all_layouts,
)
from joinedup.synth.manifest import FileEntry, Manifest
from tests.support import make_settings

LAYOUTS = all_layouts()
PERSON_FIELDS = {
    "given_name",
    "middle_name",
    "family_name",
    "full_name",
    "dob",
    "sex",
    "nhs_number",
    "ni_number",
    "upn",
    "address_line1",
    "address_line2",
    "address_line3",
    "town",
    "address",
    "postcode",
    "uprn",
}


def _mapping(layout: Layout) -> Mapping:
    return load_mapping(resolve_mapping_path(layout.mapping))


# --- the shipped files --------------------------------------------------------------------------


def test_shipped_mappings_equal_the_generator_output() -> None:
    """Regenerate with ``python -m joinedup.synth.mappings`` when this fails."""
    assert gen.out_of_date() == []
    assert gen.main(["--check"]) == 0


def test_every_layout_has_a_mapping_that_loads() -> None:
    shipped = sorted(p.name for p in (gen.MAPPINGS_DIR / "synth").glob("*.yaml"))
    assert shipped == sorted(layout.mapping.removeprefix("synth/") for layout in LAYOUTS.values())
    for layout in LAYOUTS.values():
        mapping = _mapping(layout)
        assert mapping.standard == layout.standard
        assert mapping.missing_columns([c.name for c in layout.columns]) == []


def test_mappings_use_every_person_column_and_explain_the_rest() -> None:
    """Each linkage-relevant column is mapped; each unmapped column is named in the header."""
    for layout in LAYOUTS.values():
        mapping = _mapping(layout)
        text = (gen.MAPPINGS_DIR / layout.mapping).read_text(encoding="utf-8")
        header = text.split("\nformat:", 1)[0]
        used = mapping.source_columns
        for col in layout.columns:
            if col.field in PERSON_FIELDS and layout.standard not in ("spend", "address"):
                assert col.name in used, (layout.mapping, col.name)
            if col.name not in used:
                assert f"#   {col.name}: " in header, (layout.mapping, col.name)
        # the source's own record id is kept, so rows can be joined back to the source
        if layout.dataset in RECORD_ID_FIELD:
            assert _record_id_field(layout, mapping) is not None


def test_mappings_needing_a_period_say_so() -> None:
    for layout in LAYOUTS.values():
        mapping = _mapping(layout)
        columns = {c.field for c in layout.columns}
        expected = (layout.standard in ("council_tax", "tenancy") and "period" not in columns) or (
            layout.standard == "electoral_register"
        )
        assert mapping.needs_period is expected, layout.mapping
        if expected:
            assert not mapping.with_period("2026-12").needs_period


def test_the_yaml_is_plain_and_readable() -> None:
    for layout in LAYOUTS.values():
        text = (gen.MAPPINGS_DIR / layout.mapping).read_text(encoding="utf-8")
        assert text.startswith(f"# {layout.mapping}: ")
        assert max(len(line) for line in text.splitlines()) <= gen.WIDTH
        data = yaml.safe_load(text)
        assert data["format"] == "joinedup-mapping/1"
        assert list(data) == [
            "format",
            "standard",
            "description",
            "organisation",
            "title",
            "fields",
        ]


def test_a_column_without_a_rule_stops_the_generator() -> None:
    layout = LAYOUTS[("tenancies", "lambeth")]
    odd = Layout(**{**layout.__dict__, "columns": (*layout.columns, Column("Pets", "pets"))})
    with pytest.raises(gen.LayoutRuleError, match=r"no rule for column 'Pets' \(pets\)"):
        gen.render_mapping(odd)


def test_write_all_replaces_stale_files(tmp_path: Path) -> None:
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "gone-away.yaml").write_text("old", encoding="utf-8")
    paths = gen.write_all(tmp_path)
    assert len(paths) == len(LAYOUTS)
    assert not (tmp_path / "synth" / "gone-away.yaml").exists()
    assert gen.out_of_date(tmp_path) == []
    paths[0].write_text("edited by hand\n", encoding="utf-8")
    assert gen.out_of_date(tmp_path) == [f"synth/{paths[0].name}"]


def _record_id_field(layout: Layout, mapping: Mapping) -> str | None:
    """The standard field holding the source's record id (the truth's record_id)."""
    column = next(c.name for c in layout.columns if c.field == RECORD_ID_FIELD[layout.dataset])
    preferred = ("episode_ref", "source_record_id")  # an episode row is keyed by its episode
    holding = [name for name, fm in mapping.fields.items() if fm.column == column]
    return next((f for f in preferred if f in holding), holding[0] if holding else None)


# --- ingesting whole regions --------------------------------------------------------------------

# Small, but with every dataset: October to December holds the autumn census, the December
# electoral register and three months of arrears and spend lists.
REGION = {"residents": 2_000, "months": 3, "start_month": "2025-10", "seed": 7}

# Quarantine the error model explains at the default rates: (field, rule) -> why.
EXPLAINED = {
    ("upn", "upn_check_letter"): "identifier_typo: a changed digit fails the UPN check letter",
    ("nhs_number", "nhs_mod11"): "identifier_typo: a changed digit fails the mod-11 check",
    ("postcode", "pattern"): "postcode_typo: a wrong character can break the postcode format",
    ("date_of_birth", "not_in_future"): "dob a year or ten years out: a baby born in the future",
}


@dataclass
class IngestedRegion:
    root: Path
    manifest: Manifest
    settings: Settings
    results: dict[str, IngestResult] = field(default_factory=dict)
    failures: dict[str, IngestError] = field(default_factory=dict)

    def accepted(self, entry: FileEntry) -> pa.Table:
        """The accepted rows of a file's dataset version."""
        result = self.results[entry.path]
        with session_scope(self.settings) as session:
            sha = session.scalars(
                select(DatasetVersion.snapshot_sha256)
                .join(Dataset)
                .join(Organisation)
                .where(
                    Organisation.code == entry.organisation,
                    Dataset.name == entry.dataset,
                    DatasetVersion.version == result.version,
                )
            ).one()
        return pq.read_table(SnapshotStore(self.settings).path_of(sha))

    def rules_by_dataset(self) -> dict[str, Counter[tuple[str, str]]]:
        out: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        for path, result in self.results.items():
            dataset = next(f.dataset for f in self.manifest.files if f.path == path)
            for rule in result.report["rules"]:
                out[dataset][(rule["field"], rule["rule"])] += rule["rows"]
        return out


def region_today(manifest: Manifest) -> date:
    """The last day of the region's timeline: no synthetic event is in the future."""
    year, month = map(int, manifest.extra["period"]["end"].split("-"))
    return date(year, month, calendar.monthrange(year, month)[1])


def request_for(root: Path, manifest: Manifest, entry: FileEntry) -> IngestRequest:
    """How a region's file is ingested: its shipped mapping, its period, the region's today.

    A file with a period (monthly lists, censuses, registers) gives its own; a current-records
    extract was taken at the end of the timeline, so it gets the timeline's last month. The
    pipeline fills ``{period}`` in the mappings that need it from the request's period.
    """
    assert entry.mapping is not None
    return IngestRequest(
        organisation=entry.organisation,
        dataset=entry.dataset,
        path=root / entry.path,
        mapping=resolve_mapping_path(entry.mapping),
        period=entry.period or manifest.extra["period"]["end"],
        actor="test",
        today=region_today(manifest),
    )


def ingest_region(root: Path, settings: Settings) -> IngestedRegion:
    manifest = Manifest.load(root)
    init_home(settings)
    with session_scope(settings) as session:
        for org in manifest.organisations:
            session.add(
                Organisation(code=org.code, name=org.name, type=org.type, gss_code=org.gss_code)
            )
    region = IngestedRegion(root, manifest, settings)
    for entry in manifest.files:
        try:
            region.results[entry.path] = ingest(settings, request_for(root, manifest, entry))
        except IngestError as exc:
            region.failures[entry.path] = exc
    return region


def _region(tmp_path_factory: pytest.TempPathFactory, error_rate: float) -> IngestedRegion:
    root = tmp_path_factory.mktemp(f"region-{error_rate:g}")
    generate_region(SynthConfig(**REGION, error_rate=error_rate), root)
    return ingest_region(root, make_settings(root.parent / f"{root.name}-home"))


@pytest.fixture(scope="module")
def clean_region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestedRegion]:
    yield _region(tmp_path_factory, 0.0)
    dispose_engines()


@pytest.fixture(scope="module")
def default_region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestedRegion]:
    yield _region(tmp_path_factory, 1.0)
    dispose_engines()


def _check_every_file_stored(region: IngestedRegion) -> None:
    datasets = {f.dataset for f in region.manifest.files}
    assert {"address-gazetteer", "spend-over-500"} <= datasets
    assert len(datasets) == 12
    for entry in region.manifest.files:
        if entry.rows == 0:  # an empty monthly list: the pipeline refuses a file with no rows
            assert region.failures[entry.path].rule == "headers_only"
            continue
        assert entry.path not in region.failures, str(region.failures.get(entry.path))
        result = region.results[entry.path]
        assert (result.status, result.rows) == ("created", entry.rows), entry.path
        assert result.report["mapping"] == Path(entry.mapping or "").name


@pytest.mark.slow
def test_clean_region_ingests_with_nothing_quarantined(clean_region: IngestedRegion) -> None:
    _check_every_file_stored(clean_region)
    for dataset, rules in clean_region.rules_by_dataset().items():
        assert dict(rules) == {}, dataset
    issues = sum(r.rejected for r in clean_region.results.values())
    assert issues == 0


@pytest.mark.slow
def test_default_errors_quarantine_a_few_explained_rows(default_region: IngestedRegion) -> None:
    _check_every_file_stored(default_region)
    rows: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for entry in default_region.manifest.files:
        if entry.path in default_region.results:
            rows[entry.dataset] += default_region.results[entry.path].rows
            rejected[entry.dataset] += default_region.results[entry.path].rejected
    for dataset, rules in default_region.rules_by_dataset().items():
        unexplained = {k for k in rules if k not in EXPLAINED}
        assert unexplained == set(), dataset
        assert rejected[dataset] / rows[dataset] < 0.03, dataset
    assert sum(rejected.values()) / sum(rows.values()) < 0.01


# --- joining the accepted rows back to the truth ------------------------------------------------

COMPARED = ("given_name", "family_name", "date_of_birth", "sex", "postcode", "nhs_number")


def _person_rows(region: IngestedRegion) -> pa.Table:
    """Accepted rows of every person file, with the file, its record id and layout facts."""
    parts = []
    for entry in region.manifest.files:
        layout = LAYOUTS[(entry.dataset, entry.organisation)]
        if entry.dataset not in RECORD_ID_FIELD or entry.path not in region.results:
            continue
        mapping = _mapping(layout)
        id_field = _record_id_field(layout, mapping)
        table = region.accepted(entry)
        n = table.num_rows
        columns: dict[str, Any] = {
            "file": pa.array([entry.path] * n, pa.string()),
            "record_id": table[id_field],
            "name_style": pa.array([layout.name_style] * n, pa.string()),
            "cp1252": pa.array([layout.encoding == "cp1252"] * n, pa.bool_()),
            "upper_case": pa.array([layout.upper_case] * n, pa.bool_()),
        }
        for name in (*COMPARED, "upn", "ni_number", "uprn"):
            columns[name] = table[name] if name in mapping.fields else pa.nulls(n, table[name].type)
        for n_line in (1, 2, 3):
            columns[f"line_{n_line}"] = table[f"address_line_{n_line}"]
        parts.append(pa.table(columns))
    return pa.concat_tables(parts, promote_options="default")


def _truth_people(region: IngestedRegion) -> pa.Table:
    """True names, and as a cp1252 export writes them (characters it lacks become '?', after
    upper-casing in an upper-case export: 'Yıldırım' is written 'YILDIRIM')."""
    people = pq.read_table(region.root / "truth" / "people.parquet")

    def cp1252(values: list[str | None], upper: bool) -> list[str | None]:
        return [
            None
            if v is None
            else (v.upper() if upper else v).encode("cp1252", "replace").decode("cp1252")
            for v in values
        ]

    for name in ("given_name", "family_name"):
        values = people[name].to_pylist()
        people = people.append_column(f"{name}_cp", pa.array(cp1252(values, False)))
        people = people.append_column(f"{name}_upcp", pa.array(cp1252(values, True)))
    return people


@pytest.fixture(scope="module")
def truth_join(default_region: IngestedRegion) -> Iterator[duckdb.DuckDBPyConnection]:
    region = default_region
    con = duckdb.connect()
    con.register("ingested", _person_rows(region))
    con.register("people", _truth_people(region))
    truth = region.root / "truth"
    con.execute(f"CREATE VIEW records AS SELECT * FROM '{truth / 'records.parquet'}'")
    con.execute(f"CREATE VIEW errors AS SELECT * FROM '{truth / 'errors.parquet'}'")
    con.execute(f"CREATE VIEW households AS SELECT * FROM '{truth / 'households.parquet'}'")
    gazetteer = next(f for f in region.manifest.files if f.dataset == "address-gazetteer")
    con.register("gazetteer", region.accepted(gazetteer))
    exported = (
        "CASE WHEN NOT i.cp1252 THEN p.{0} WHEN i.upper_case THEN p.{0}_upcp ELSE p.{0}_cp END"
    )
    given = name_sql(exported.format("given_name"), strip_titles=True)
    family = name_sql(exported.format("family_name"))
    con.execute(
        f"""
        CREATE TABLE joined AS
        SELECT i.*, r.person_id, p.dob AS true_dob, p.sex AS true_sex,
               p.nhs_number AS true_nhs, p.upn AS true_upn, p.ni_number AS true_ni,
               {given} AS true_given, {family} AS true_family,
               contains(p.given_name, ' ') AS given_has_space,
               contains(p.family_name, ' ') AS family_has_space,
               [gs.postcode, ge.postcode] AS true_postcodes,
               (SELECT list(DISTINCT e.field) FROM errors e
                 WHERE e.file = i.file AND e.record_id = i.record_id) AS error_fields
        FROM ingested i
        LEFT JOIN records r ON r.file = i.file AND r.record_id = i.record_id
        LEFT JOIN people p ON p.person_id = r.person_id
        LEFT JOIN households h ON h.household_id = r.household_id
        LEFT JOIN gazetteer gs ON gs.uprn = h.uprn_start
        LEFT JOIN gazetteer ge ON ge.uprn = h.uprn_end
        """
    )
    yield con
    con.close()


def _count(
    con: duckdb.DuckDBPyConnection, same: str, where: str, join: str = ""
) -> tuple[int, int]:
    """(rows compared, rows where ``same`` is not true) among the joined rows ``where`` holds."""
    got = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT coalesce({same}, FALSE)) "
        f"FROM joined {join} WHERE {where}"
    ).fetchall()[0]
    assert got is not None
    return int(got[0]), int(got[1])


def _no_error(*fields: str) -> str:
    listed = ", ".join(f"'{f}'" for f in fields)
    return f"NOT list_has_any(coalesce(error_fields, []), [{listed}])"


@pytest.mark.slow
def test_every_accepted_person_row_joins_to_its_truth_record(
    truth_join: duckdb.DuckDBPyConnection,
) -> None:
    total, unmatched = truth_join.execute(
        "SELECT count(*), count(*) FILTER (WHERE person_id IS NULL) FROM joined"
    ).fetchall()[0]
    assert total > 3_000 and unmatched == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "compared", "condition", "minimum"),
    [
        (
            "date_of_birth",
            f"date_of_birth IS NOT NULL AND {_no_error('dob')}",
            "date_of_birth = true_dob",
            1_500,
        ),
        ("sex", "sex IS NOT NULL", "sex = true_sex", 1_000),
        (
            "family_name",
            # one-field 'Forename Surname' names cannot tell 'Da Silva' from a middle name
            f"{_no_error('family_name', 'given_name')} AND NOT (family_has_space AND "
            f"name_style = '{FORENAME_FIRST}')",
            "family_name = true_family",
            3_000,
        ),
        (
            "given_name",
            f"{_no_error('given_name')} AND NOT (given_has_space AND name_style <> '{SEPARATE}')",
            "given_name = true_given",
            3_000,
        ),
        (
            "postcode",
            _no_error("postcode", "address"),
            "list_contains(true_postcodes, postcode)",
            3_000,
        ),
        (
            "nhs_number",
            f"nhs_number IS NOT NULL AND {_no_error('nhs_number')}",
            "nhs_number = true_nhs",
            20,
        ),
        ("upn", f"upn IS NOT NULL AND {_no_error('upn')}", "upn = true_upn", 200),
        (
            "ni_number",
            f"ni_number IS NOT NULL AND {_no_error('ni_number')}",
            "ni_number = true_ni",
            300,
        ),
    ],
)
def test_fields_without_a_logged_error_equal_the_truth(
    truth_join: duckdb.DuckDBPyConnection, name: str, compared: str, condition: str, minimum: int
) -> None:
    compared_rows, differ = _count(truth_join, condition, compared)
    assert compared_rows >= minimum, (name, compared_rows)
    if differ:
        sample = truth_join.execute(
            f"SELECT * FROM joined WHERE {compared} AND NOT coalesce({condition}, FALSE) LIMIT 5"
        ).fetchall()
        pytest.fail(f"{name}: {differ} of {compared_rows} rows differ from the truth: {sample}")


@pytest.mark.slow
def test_address_lines_agree_with_the_gazetteer(truth_join: duckdb.DuckDBPyConnection) -> None:
    """Separate lines and split one-line addresses give the gazetteer's lines for the UPRN."""
    same = " AND ".join(
        f"coalesce(upper(line_{n}), '') = coalesce(upper(g.address_line_{n}), '')"
        for n in (1, 2, 3)
    )
    join = "JOIN gazetteer g ON g.uprn = joined.uprn"
    compared_rows, differ = _count(truth_join, same, _no_error("address", "uprn"), join)
    assert compared_rows >= 2_000, compared_rows
    assert differ == 0


def _accepted_rows(region: IngestedRegion, dataset: str, columns: list[str]) -> pa.Table:
    parts = []
    for entry in region.manifest.files:
        if entry.dataset == dataset and entry.path in region.results:
            table = region.accepted(entry).select(columns)
            n = table.num_rows
            table = table.append_column("file", pa.array([entry.path] * n, pa.string()))
            table = table.append_column("period", pa.array([entry.period] * n, pa.string()))
            parts.append(table)
    return pa.concat_tables(parts)


@pytest.mark.slow
def test_domain_fields_equal_the_truth(default_region: IngestedRegion) -> None:
    """FSM flag, school and year group of each pupil; single person discount and property."""
    region = default_region
    truth = region.root / "truth"
    con = duckdb.connect()
    census = _accepted_rows(
        region, "school-census", ["source_record_id", "fsm_eligible", "school_urn", "nc_year_group"]
    )
    con.register("census", census)
    got = con.execute(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE c.fsm_eligible IS DISTINCT FROM f.registered),
               count(*) FILTER (WHERE CAST(c.school_urn AS BIGINT) IS DISTINCT FROM f.school_urn),
               count(*) FILTER (WHERE c.nc_year_group IS DISTINCT FROM
                   CASE f.nc_year WHEN 0 THEN 'R' ELSE CAST(f.nc_year AS VARCHAR) END)
        FROM census c
        JOIN '{truth / "records.parquet"}' r ON r.file = c.file AND r.record_id = c.source_record_id
        LEFT JOIN '{truth / "fsm_eligibility.parquet"}' f
          ON f.person_id = r.person_id AND f.month = c.period
        """
    ).fetchall()[0]
    assert got is not None and got[0] == census.num_rows > 300
    assert got[1:] == (0, 0, 0)
    accounts = _accepted_rows(
        region, "council-tax-accounts", ["account_ref", "single_person_discount", "property_uprn"]
    )
    con.register("accounts", accounts)
    got = con.execute(
        f"""
        SELECT count(*),
               count(*) FILTER (WHERE a.single_person_discount IS DISTINCT FROM t.spd_claimed),
               count(*) FILTER (WHERE a.property_uprn IS NOT NULL AND a.property_uprn <> t.uprn)
        FROM accounts a
        JOIN '{truth / "council_tax_accounts.parquet"}' t
          ON t.organisation = split_part(a.file, '/', 1) AND t.account_ref = a.account_ref
        """
    ).fetchall()[0]
    assert got is not None and got[0] == accounts.num_rows > 300
    assert got[1:] == (0, 0)


@pytest.mark.slow
def test_benefit_assessments_are_dated_as_the_truth_assessed_them(
    default_region: IngestedRegion,
) -> None:
    """Each claimant row is one assessment: its earnings are the household's on the day the
    assessment started, and the assessment ends where the next one of the claim begins."""
    region = default_region
    truth = region.root / "truth"
    con = duckdb.connect()
    columns = ["source_record_id", "claim_ref", "role", "weekly_income"]
    claims = _accepted_rows(
        region, "benefit-claims", [*columns, "assessment_start_date", "assessment_end_date"]
    )
    con.register("claims", claims)
    got = con.execute(
        f"""
        WITH c AS (
            SELECT c.*, h.household_id,
                   CASE WHEN h.income_change_date <= c.assessment_start_date
                        THEN h.income_after_change ELSE h.income_start END AS income,
                   lead(c.assessment_start_date) OVER (
                       PARTITION BY c.file, c.claim_ref ORDER BY c.assessment_start_date
                   ) AS next_start
            FROM claims c
            JOIN '{truth / "records.parquet"}' r
              ON r.file = c.file AND r.record_id = c.source_record_id
            JOIN '{truth / "households.parquet"}' h USING (household_id)
            -- an assessment shorter than its claim's start lag ends before it starts: never
            -- in force (the generator's simplification; the next one starts with the claim)
            WHERE c.role = 'claimant' AND NOT coalesce(
                c.assessment_end_date < c.assessment_start_date, FALSE)
        )
        SELECT count(*),
               count(*) FILTER (WHERE assessment_start_date IS NULL),
               count(*) FILTER (WHERE abs(weekly_income * 52 - income) >= 1),
               count(*) FILTER (WHERE next_start IS NOT NULL
                                AND next_start <> assessment_end_date + 1),
               count(*) FILTER (WHERE next_start IS NULL AND assessment_end_date IS NOT NULL)
        FROM c
        """
    ).fetchall()[0]
    assert got is not None and got[0] > 300
    # every assessment is dated and earns what the household earned when it started; a
    # claim's assessments follow each other (an ended claim's last one has an end date)
    assert got[1:4] == (0, 0, 0), got
    assert got[4] > 0


def test_linkage_fields_of_the_standards_are_the_ones_checked() -> None:
    """The person fields compared above are linkage fields of every person standard."""
    assert set(COMPARED) <= set(linkage_fields("person"))
