"""The custom check registry and its pure-Python reference implementations."""

from __future__ import annotations

import datetime as dt

import pytest

from joinedup.standards import FIELD_CHECKS, ROW_CHECKS, list_standards, row_checks
from joinedup.standards.checks import get_field_check, get_row_check
from joinedup.standards.validation import CheckFailure, check_row
from tests.standards.samples import GOOD_ROWS

TODAY = dt.date(2025, 6, 1)


def test_registry_names() -> None:
    assert set(FIELD_CHECKS) == {"nhs_mod11", "upn_check_letter", "not_in_future"}
    assert set(ROW_CHECKS) == {"date_order", "only_when"}
    assert get_field_check("nhs_mod11") is FIELD_CHECKS["nhs_mod11"]
    with pytest.raises(KeyError, match="luhn"):
        get_field_check("luhn")
    with pytest.raises(KeyError, match="nope"):
        get_row_check("nope")


@pytest.mark.parametrize("name", sorted(FIELD_CHECKS))
def test_sample_values(name: str) -> None:
    check = FIELD_CHECKS[name]
    assert check.sample_values["good"] and check.sample_values["bad"]
    for value in check.sample_values["good"]:
        assert check(value, today=TODAY), value
    for value in check.sample_values["bad"]:
        assert not check(value, today=TODAY), value
    assert check(None, today=TODAY)  # missing values are required's business


def test_nhs_and_upn_checks() -> None:
    nhs, upn = FIELD_CHECKS["nhs_mod11"], FIELD_CHECKS["upn_check_letter"]
    assert nhs("9434765919") and not nhs("9434765918") and not nhs("0000000060")
    assert not nhs(9434765919)  # typed values: the field is a string
    assert upn("B801200005001") and not upn("A801200005001")


def test_not_in_future() -> None:
    check = FIELD_CHECKS["not_in_future"]
    assert check(TODAY, today=TODAY)
    assert not check(TODAY + dt.timedelta(days=1), today=TODAY)
    assert check(dt.datetime(2025, 6, 1, 23, 59), today=TODAY)
    assert not check("2025-01-01", today=TODAY)  # typed values only
    assert check(dt.date(2000, 1, 1))  # defaults to the real today


def test_date_order() -> None:
    check, spec = ROW_CHECKS["date_order"], {"check": "date_order", "fields": ["s", "e"]}
    assert check({"s": dt.date(2024, 1, 1), "e": dt.date(2024, 1, 1)}, spec)
    assert not check({"s": dt.date(2024, 1, 2), "e": dt.date(2024, 1, 1)}, spec)
    assert check({"s": dt.date(2024, 1, 2), "e": None}, spec)
    assert check({}, spec)
    assert check.report_field(spec) == "e"
    assert check.fields_of(spec) == ["s", "e"]


def test_only_when() -> None:
    check = ROW_CHECKS["only_when"]
    spec = {"check": "only_when", "field": "cat", "when": "type", "in": ["CP"]}
    assert check({"cat": "NEG", "type": "CP"}, spec)
    assert not check({"cat": "NEG", "type": "CIN"}, spec)
    assert check({"cat": None, "type": "CIN"}, spec)
    assert check.report_field(spec) == "cat"
    assert check.fields_of(spec) == ["cat", "type"]


@pytest.mark.parametrize("name", list_standards())
def test_row_check_specs_are_well_formed(name: str) -> None:
    for spec in row_checks(name):
        assert spec["check"] in ROW_CHECKS
        if spec["check"] == "date_order":
            assert len(spec["fields"]) == 2
        if spec["check"] == "only_when":
            assert isinstance(spec["in"], list) and spec["in"]


def test_check_row_reports_each_failure() -> None:
    row = {
        "date_of_birth": dt.date(2030, 1, 1),
        "nhs_number": "9434765918",
        "upn": "B801200005001",
        "episode_type": "CIN",
        "category_of_abuse": "NEG",
        "episode_start_date": dt.date(2024, 5, 1),
        "episode_end_date": dt.date(2024, 4, 1),
    }
    failures = check_row("childrens_social_care", row, today=TODAY)
    assert failures == [
        CheckFailure("date_of_birth", "not_in_future", dt.date(2030, 1, 1)),
        CheckFailure("nhs_number", "nhs_mod11", "9434765918"),
        CheckFailure("episode_end_date", "date_order", dt.date(2024, 4, 1)),
        CheckFailure("category_of_abuse", "only_when", "NEG"),
    ]


def test_check_row_passes_missing_fields() -> None:
    assert check_row("person", {}, today=TODAY) == []
    assert check_row("spend", {"payment_date": dt.date(2024, 1, 1)}, today=TODAY) == []
    assert check_row("spend", {"payment_date": dt.date(2026, 1, 1)}, today=TODAY) == [
        CheckFailure("payment_date", "not_in_future", dt.date(2026, 1, 1))
    ]


def test_good_samples_pass_python_checks() -> None:
    import frictionless

    from joinedup.standards import frictionless_schema

    for name, row in GOOD_ROWS.items():
        schema = frictionless_schema(name)
        typed = {}
        for f in schema.fields:
            raw = row.get(f.name, "")
            typed[f.name] = None if raw in ("", None) else f.read_cell(raw)[0]
        assert check_row(name, typed, today=TODAY) == [], name
        assert isinstance(schema, frictionless.Schema)
