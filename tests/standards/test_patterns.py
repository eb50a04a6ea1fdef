"""Schema patterns agree with the identifier functions and run unchanged in DuckDB (RE2)."""

from __future__ import annotations

import itertools
import re
import string

import duckdb
import pytest

from joinedup.standards import field, list_standards, load_schema, patterns
from joinedup.standards.identifiers import (
    NI_RE,
    is_valid_gss_code,
    is_valid_ni_number,
    normalise_postcode,
)


def test_ni_pattern_equals_identifiers_rule_for_every_prefix() -> None:
    # NI_RE uses a look-ahead (not in XML Schema or RE2); the schema pattern spells it out.
    for first, second in itertools.product(string.ascii_uppercase, repeat=2):
        for suffix in "ABCDE":
            value = f"{first}{second}123456{suffix}"
            assert patterns.full_match(patterns.NI_NUMBER, value) == bool(NI_RE.match(value)), value
            assert patterns.full_match(patterns.NI_NUMBER, value) == is_valid_ni_number(value)


@pytest.mark.parametrize(
    "raw", ["sw1a1aa", "SW1A 1AA", "m11ae", "B33 8TH", "dn551pt", "ABC 123", "SW1A1AA", "ec1a 1bb"]
)
def test_postcode_pattern_accepts_exactly_the_canonical_form(raw: str) -> None:
    canonical = normalise_postcode(raw)
    assert patterns.full_match(patterns.POSTCODE, raw) == (canonical == raw)
    if canonical is not None:
        assert patterns.full_match(patterns.POSTCODE, canonical)


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (
            patterns.GSS_LOCAL_AUTHORITY,
            ["E09000022", "E06000001", "E07000223", "W06000015"],
            ["E05000022", "E10000014", "E0900002", "e09000022", "E090000222", "S12000033"],
        ),
        (
            patterns.GSS_EDUCATION_AUTHORITY,
            ["E09000023", "E10000014", "E08000025"],
            ["E07000223", "W06000015", "E05000022"],
        ),
        (patterns.GSS_WARD, ["E05014001", "W05000001"], ["E01003013", "E0501400"]),
        (patterns.GSS_LSOA, ["E01003013", "W01000001"], ["E02000617", "E05014001"]),
        (patterns.GSS_MSOA, ["E02000617"], ["E01003013"]),
        (patterns.SCHOOL_URN, ["100001", "999999"], ["10001", "1000011", "A00001"]),
        (patterns.PERIOD, ["2025-03", "1999-12"], ["2025-13", "2025-3", "2025/26", "202503"]),
        (
            patterns.PHONE_E164,
            ["+447700900123", "+442079460000"],
            ["07700 900123", "07700900123", "+0447700900123"],
        ),
        (
            patterns.COMPANY_NUMBER,
            ["01234567", "SC123456", "OC300001", "R0000123"],
            ["1234567", "S1234567", "SC12345"],
        ),
        (
            patterns.VAT_NUMBER,
            ["GB123456789", "123456789", "GB123456789001", "GBGD001"],
            ["GB12345678", "GBGD500", "XI123456789"],
        ),
        (patterns.UPN, ["B801200005001"], ["I801200005001", "B80120000500A", "b801200005001"]),
        (patterns.NHS_NUMBER, ["9434765919"], ["943 476 5919", "943476591"]),
        (patterns.ELECTOR_NUMBER, ["1234", "1234/1"], ["AB1234", "1234/"]),
        (patterns.POLLING_DISTRICT, ["LA1", "AA"], ["1A", "la1"]),
    ],
)
def test_named_patterns(pattern: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert patterns.full_match(pattern, value), value
    for value in bad:
        assert not patterns.full_match(pattern, value), value


def test_gss_patterns_are_gss_codes() -> None:
    for value in ["E09000022", "E05014001", "E01003013", "E02000617", "W06000015"]:
        assert patterns.full_match(patterns.GSS_ANY, value) == is_valid_gss_code(value)


def _schema_patterns() -> set[str]:
    found: set[str] = set()
    for name in list_standards():
        for item in load_schema(name)["fields"]:
            if "pattern" in item["constraints"]:
                found.add(item["constraints"]["pattern"])
    return found


def test_every_schema_pattern_is_a_named_pattern() -> None:
    assert _schema_patterns() <= set(patterns.ALL.values())


@pytest.mark.parametrize("name", sorted(patterns.ALL))
def test_pattern_is_portable(name: str) -> None:
    pattern = patterns.ALL[name]
    assert "^" not in pattern.replace("[^", "") and not pattern.endswith("$")
    assert "(?" not in pattern  # no look-around or inline flags (XML Schema and RE2 lack them)
    re.compile(pattern)


def test_duckdb_agrees_with_python_on_every_pattern() -> None:
    """The ingest validator runs these patterns with regexp_full_match: same answers."""
    samples = [
        "SW1A 1AA",
        "sw1a 1aa",
        "9434765919",
        "B801200005001",
        "AB123456C",
        "BG123456C",
        "E09000022",
        "E05014001",
        "E01003013",
        "E02000617",
        "W06000015",
        "100001",
        "2025-03",
        "+447700900123",
        "a@b.org",
        "a b@c.org",
        "SC123456",
        "GB123456789",
        "LA1",
        "1234/1",
        "F",
        "",
        "X" * 20,
    ]
    con = duckdb.connect()
    for name, pattern in patterns.ALL.items():
        for value in samples:
            result = con.execute("select regexp_full_match(?, ?)", [value, pattern]).fetchone()
            assert result is not None
            got = result[0]
            assert got == patterns.full_match(pattern, value), (name, value)


@pytest.mark.parametrize("name", list_standards())
def test_examples_satisfy_their_constraints(name: str) -> None:
    for item in load_schema(name)["fields"]:
        if "example" in item and "pattern" in item["constraints"]:
            assert patterns.full_match(item["constraints"]["pattern"], item["example"]), item


def test_postcode_fields_share_the_pattern() -> None:
    assert field("person", "postcode")["constraints"]["pattern"] == patterns.POSTCODE
    assert field("address", "postcode")["constraints"]["pattern"] == patterns.POSTCODE
