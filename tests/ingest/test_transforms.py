"""Mapping transforms compiled to DuckDB SQL: address_part, extract, null codes and {period}."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pytest

from joinedup.ingest.compile import compile_ingest_sql
from joinedup.ingest.mapping import Mapping, MappingError, has_capture_group, parse_mapping

TODAY = "2026-11-23"


def _run(
    standard: str, fields: dict[str, Any] | Mapping, rows: Sequence[Any]
) -> list[dict[str, Any]]:
    """Map ``rows`` (all columns text) and return each row's mapped text and reasons."""
    mapping = (
        fields
        if isinstance(fields, Mapping)
        else parse_mapping({"standard": standard, "fields": fields}, "test.yaml")
    )
    columns = list(rows[0])
    con = duckdb.connect()
    defs = ", ".join(f'"{c}" VARCHAR' for c in columns)
    con.execute(f"CREATE TABLE src (_row BIGINT, {defs})")
    for i, row in enumerate(rows, start=2):
        con.execute(
            f"INSERT INTO src VALUES (?, {', '.join('?' for _ in columns)})",
            [i, *(row[c] for c in columns)],
        )
    cur = con.execute(f"SELECT * FROM ({compile_ingest_sql(mapping, 'src', TODAY)}) ORDER BY _row")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


ADDRESS_FIELDS = {
    "source_record_id": "ID",
    "address_line_1": {"column": "ADDRESS", "address_part": "line_1"},
    "address_line_2": {"column": "ADDRESS", "address_part": "line_2"},
    "address_line_3": {"column": "ADDRESS", "address_part": "line_3"},
}


@pytest.mark.parametrize(
    ("address", "lines"),
    [
        ("12 Acre Road, Brixton", ("12 Acre Road", None, "Brixton")),
        (
            "Flat 3, Churchill House, Acre Road, Brixton",
            ("Flat 3, Churchill House", "Acre Road", "Brixton"),
        ),
        (
            "FLAT 15, HARPER COURT, GREENWOOD HILL, CAMBERWELL",
            ("FLAT 15, HARPER COURT", "GREENWOOD HILL", "CAMBERWELL"),
        ),
        (
            "Apartment 12B,Kings Wharf , Quay Road,, Deptford",
            ("Apartment 12B, Kings Wharf", "Quay Road", "Deptford"),
        ),
        ("12, Acre Road, Brixton", ("12 Acre Road", None, "Brixton")),
        ("14A, High Street, Old Town, Clapham", ("14A High Street", "Old Town", "Clapham")),
        (
            "Rose Cottage, Mill Lane, Upper Norwood, London",
            ("Rose Cottage", "Mill Lane, Upper Norwood", "London"),
        ),
        ("Acre Road", ("Acre Road", None, None)),
        ("Flat 3", ("Flat 3", None, None)),
        ("  ", (None, None, None)),
        (None, (None, None, None)),
    ],
)
def test_address_part_splits_one_line_addresses(address: str | None, lines: tuple) -> None:
    (row,) = _run("person", ADDRESS_FIELDS, [{"ID": "1", "ADDRESS": address}])
    assert (row["t:address_line_1"], row["t:address_line_2"], row["t:address_line_3"]) == lines
    assert row["_reasons"] == []


def test_address_part_builds_lines_from_gazetteer_columns() -> None:
    """SAO, PAO, street and locality joined with commas give the same lines as the exports."""
    cols = ["SAO", "PAO", "STREET", "LOCALITY"]
    fields = {
        "uprn": "UPRN",
        "local_authority_code": "LA",
        **{
            f"address_line_{n}": {"columns": cols, "join": ", ", "address_part": f"line_{n}"}
            for n in (1, 2, 3)
        },
    }
    rows = [
        {
            "UPRN": "1",
            "LA": "E09000022",
            "SAO": None,
            "PAO": "12",
            "STREET": "Acre Road",
            "LOCALITY": "Brixton",
        },
        {
            "UPRN": "2",
            "LA": "E09000022",
            "SAO": "Flat 3",
            "PAO": "Churchill House",
            "STREET": "Acre Road",
            "LOCALITY": "Brixton",
        },
    ]
    out = _run("address", fields, rows)
    assert [(r["address_line_1"], r["address_line_2"], r["address_line_3"]) for r in out] == [
        ("12 Acre Road", None, "Brixton"),
        ("Flat 3, Churchill House", "Acre Road", "Brixton"),
    ]


def test_extract_keeps_the_match_or_its_first_group() -> None:
    fields = {
        "source_record_id": "REF",
        "polling_district": {"column": "REF", "extract": "^[A-Z]+[0-9]+"},
        "elector_number": {"column": "REF", "extract": "-([0-9]+(?:/[0-9]+)?)$"},
        "register_date": {"constant": "2025-12-01"},
        "given_name": {"column": "TERM", "extract": "^[A-Za-z]+", "case": "lower"},
    }
    rows = [
        {"REF": "LA01-12", "TERM": "Summer 2025"},
        {"REF": "LE02-7/2", "TERM": "AUTUMN 2026"},
        {"REF": "no number", "TERM": "2025"},  # no match: kept whole, so validation says so
        {"REF": "LA01-", "TERM": None},
    ]
    out = _run("electoral_register", fields, rows)
    assert [r["t:elector_number"] for r in out] == ["12", "7/2", "no number", "LA01-"]
    assert [r["polling_district"] for r in out] == ["LA01", "LE02", "no number", "LA01"]
    assert [r["t:given_name"] for r in out] == ["SUMMER", "AUTUMN", "2025", None]
    assert out[0]["_reasons"] == [] and out[1]["_reasons"] == []
    bad = {(r["field"], r["rule"]) for r in out[2]["_reasons"]}
    assert ("elector_number", "pattern") in bad and ("polling_district", "pattern") in bad


@pytest.mark.parametrize(
    ("pattern", "group"),
    [
        ("^[A-Z]+", False),
        ("-([0-9]+)$", True),
        ("(?:ab)+", False),
        ("(?i)flat", False),
        ("(?P<n>[0-9]+)", True),
        (r"\(literal\)", False),
        ("[(]x[)]", False),
        ("[]()]", False),
        ("[^]()](a)", True),
    ],
)
def test_capture_groups_are_recognised(pattern: str, group: bool) -> None:
    assert has_capture_group(pattern) is group


@pytest.mark.parametrize("pattern", ["(?=x)", "([0-9]", "", 12])
def test_extract_rejects_patterns_duckdb_cannot_run(pattern: object) -> None:
    with pytest.raises(MappingError, match=r"test\.yaml: field 'given_name': extract"):
        parse_mapping(
            {
                "standard": "person",
                "fields": {
                    "source_record_id": "ID",
                    "given_name": {"column": "N", "extract": pattern},
                },
            },
            "test.yaml",
        )


def test_address_part_options_are_checked() -> None:
    with pytest.raises(MappingError, match="address_part must be one of"):
        parse_mapping(
            {
                "standard": "person",
                "fields": {
                    "source_record_id": "ID",
                    "town": {"column": "A", "address_part": "town"},
                },
            },
            "test.yaml",
        )
    with pytest.raises(MappingError, match="split_name or address_part, not both"):
        parse_mapping(
            {
                "standard": "person",
                "fields": {
                    "source_record_id": "ID",
                    "town": {
                        "column": "A",
                        "address_part": "line_3",
                        "split_name": "forenames_surname",
                        "part": "family",
                    },
                },
            },
            "test.yaml",
        )


def test_a_code_mapped_to_null_makes_the_value_missing() -> None:
    fields = {
        "source_record_id": "ID",
        "service_type": {"column": "SERVICE", "codes": {"Home care": "home_care"}},
        "service_start_date": {"constant": "2025-01-01"},
        "primary_support_reason": {
            "column": "PSR",
            "codes": {"Mental health support": "mental_health", "Sensory support": None},
        },
    }
    rows = [
        {"ID": "1", "SERVICE": "HOME CARE", "PSR": "Mental health support"},
        {"ID": "2", "SERVICE": "Home care", "PSR": " sensory SUPPORT "},
        {"ID": "3", "SERVICE": "Home care", "PSR": "Unheard of"},
    ]
    out = _run("adult_social_care", fields, rows)
    assert [r["t:primary_support_reason"] for r in out] == ["mental_health", None, "Unheard of"]
    assert out[0]["_reasons"] == [] and out[1]["_reasons"] == []
    assert [(r["field"], r["rule"]) for r in out[2]["_reasons"]] == [
        ("primary_support_reason", "enum")
    ]


PERIOD_MAPPING = {
    "standard": "tenancy",
    "fields": {
        "source_record_id": "REF",
        "tenancy_ref": "REF",
        "period": {"constant": "{period}"},
        "tenancy_start_date": {"constant": "{period}-01"},
    },
}


def test_period_placeholder_is_filled_in() -> None:
    mapping = parse_mapping(PERIOD_MAPPING, "t.yaml")
    assert mapping.needs_period
    filled = mapping.with_period("2027-03")
    assert not filled.needs_period
    assert filled.fields["period"].constant == "2027-03"
    assert filled.fields["tenancy_start_date"].constant == "2027-03-01"
    assert filled.fields["source_record_id"] == mapping.fields["source_record_id"]
    assert filled.name == mapping.name and filled.standard == mapping.standard
    assert mapping.fields["period"].constant == "{period}"  # the original is unchanged
    assert not parse_mapping(
        {
            **PERIOD_MAPPING,
            "fields": {"source_record_id": "REF", "tenancy_ref": "REF", "period": "P"},
        },
        "t.yaml",
    ).needs_period


@pytest.mark.parametrize("bad", ["", "{period}"])
def test_period_placeholder_needs_a_period(bad: str) -> None:
    with pytest.raises(MappingError, match=r"t\.yaml: cannot fill in \{period\}"):
        parse_mapping(PERIOD_MAPPING, "t.yaml").with_period(bad)


def test_an_unfilled_period_placeholder_fails_validation() -> None:
    """Ingesting without filling the placeholder in quarantines the rows, naming the field."""
    mapping = parse_mapping(PERIOD_MAPPING, "t.yaml")
    out = _run("tenancy", mapping, [{"REF": "T1"}])
    rules = {(r["field"], r["rule"]) for r in out[0]["_reasons"]}
    assert ("period", "pattern") in rules and ("tenancy_start_date", "invalid_date") in rules
    filled = _run("tenancy", mapping.with_period("2027-03"), [{"REF": "T1"}])
    assert filled[0]["_reasons"] == []
    assert filled[0]["period"] == "2027-03"
