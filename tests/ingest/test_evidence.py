"""Value evidence that decides close calls: ranges, amounts and dates are not identifiers, a
key's values differ, and a header's numbers must agree with the field's."""

from __future__ import annotations

import pytest

from joinedup.ingest.evidence import value_evidence
from joinedup.ingest.headers import numbers_disagree, phrase_similarity
from joinedup.ingest.suggest import suggest_mapping
from joinedup.standards import field

WEEKLY = ["91.44", "£3,266.87", "451.14", "1486.00", "(12.00)"]
ARREARS = ["£59,426.76", "77111.68", "139951.81", "191,268.90", "4,000.00"]


def test_numbers_outside_the_fields_range_count_against_it() -> None:
    rent = field("tenancy", "weekly_rent")  # 0 to 5,000 a week
    assert value_evidence(rent, WEEKLY).score == 0.3  # one refund of five: 80% in range
    against = value_evidence(rent, ARREARS)
    assert against.score < 0 and "range" in against.why
    assert value_evidence(field("tenancy", "balance"), ARREARS).score > 0


@pytest.mark.parametrize(
    "values",
    [
        ["4547.91", "4894.10", "3559.35", "1954.48"],  # amounts
        ["£120", "£1,250", "£7", "£80"],
        ["25-Jun-1967", "03-May-1959", "07-May-1997", "03-Mar-1955"],  # dates
        ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"],
    ],
)
def test_amounts_and_dates_are_not_identifiers(values: list[str]) -> None:
    assert value_evidence(field("tenancy", "tenancy_ref"), values).score < 0
    assert value_evidence(field("tenancy", "tenancy_ref"), ["T1", "T2", "A9", "B7"]).score > 0


def test_a_key_wants_distinct_values() -> None:
    key = field("person", "source_record_id")
    repeated = ["M", "F", "M", "M", "F", "F", "M"]
    distinct = [f"R{i:06d}" for i in range(7)]
    assert value_evidence(key, repeated, key=True).score < value_evidence(key, repeated).score
    assert value_evidence(key, distinct, key=True).score > value_evidence(key, repeated).score
    assert "distinct" in value_evidence(key, distinct, key=True).why


def test_a_headers_numbers_must_agree_with_the_fields() -> None:
    line_1 = field("address", "address_line_1")
    assert numbers_disagree(line_1, "Address.3") and numbers_disagree(line_1, "3_ADDRESS")
    assert not numbers_disagree(line_1, "fld_addressLine1")
    assert not numbers_disagree(line_1, "Address")  # no number: nothing to disagree with
    assert phrase_similarity("addressLine1", "address line 1") == 1.0


def test_a_required_key_does_not_take_a_column_of_repeated_codes() -> None:
    columns = ["Gender", "Surname", "Person Key"]
    sample = {
        "Gender": ["M", "F", "M", "F", "M", "F"],
        "Surname": ["Smith", "Jones", "Khan", "Patel", "Brown", "Evans"],
        "Person Key": [f"P{i:05d}" for i in range(6)],
    }
    _, suggestions = suggest_mapping("person", columns, sample)
    chosen = {s.field: s.column for s in suggestions}
    assert chosen["source_record_id"] == "Person Key"
    assert chosen["sex"] == "Gender"


def test_a_required_field_takes_the_one_column_left_whose_values_fit() -> None:
    columns = ["Expenditure Category", "Paid Date", "Trans No", "Amount", "Supplier Name",
               "Grouping", "Batch"]  # fmt: skip
    sample = {
        "Expenditure Category": ["Care Fees", "Repairs", "Fuel"],
        "Paid Date": ["01/04/2026", "02/04/2026", "03/04/2026"],
        "Trans No": ["T1", "T2", "T3"],
        "Amount": ["12.00", "13.50", "900.00"],
        "Supplier Name": ["Acme Ltd", "Builders Ltd", "Taxi Co"],
        "Grouping": ["Adults", "Housing", "Highways"],  # a name no vocabulary has
        "Batch": ["x1", "x2", "x3"],  # not words: does not fit a label
    }
    _, suggestions = suggest_mapping("spend", columns, sample)
    area = next(s for s in suggestions if s.field == "service_area")
    assert area.column == "Grouping" and area.review and "left" in area.why
