"""The shipped schemas load, resolve, and are valid Table Schema with joinedup's metadata."""

from __future__ import annotations

from importlib import resources
from typing import Any

import frictionless
import pytest

from joinedup.standards import (
    StandardDefinitionError,
    UnknownStandardError,
    extends,
    field,
    field_names,
    fields_with_check,
    frictionless_schema,
    is_person_standard,
    linkage_fields,
    list_standards,
    load_schema,
    personal_fields,
    primary_key,
    registry,
    required_fields,
    row_checks,
    special_category_fields,
)

PERSON_DOMAINS = [
    "school_census",
    "council_tax",
    "benefit_claim",
    "tenancy",
    "adult_social_care",
    "childrens_social_care",
    "electoral_register",
    "referral",
]
ALL = ["person", *PERSON_DOMAINS, "address", "spend"]
# The linkage CLI relies on these names.
LINKAGE_NAMES = [
    "given_name",
    "middle_names",
    "family_name",
    "date_of_birth",
    "sex",
    "address_line_1",
    "town",
    "postcode",
    "uprn",
    "nhs_number",
    "upn",
    "ni_number",
    "other_id",
]


def test_list_standards() -> None:
    assert list_standards() == sorted(ALL)


def test_schemas_are_package_data() -> None:
    folder = resources.files("joinedup.standards").joinpath("schemas")
    shipped = sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))
    assert shipped == sorted(f"{n}.json" for n in ALL)


@pytest.mark.parametrize("name", ALL)
def test_valid_table_schema(name: str) -> None:
    descriptor = load_schema(name)
    report = frictionless.Schema.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["type", "note"])
    schema = frictionless_schema(name)
    assert isinstance(schema, frictionless.Schema)
    assert schema.field_names == field_names(name)
    assert schema.primary_key == primary_key(name)
    # The file on disk: a standalone Table Schema unless it extends another standard, in
    # which case its primary key names base fields and only the resolved form is complete.
    raw = dict(registry._raw(name))
    if "x-joinedup-extends" in raw:
        assert not frictionless.Schema.validate_descriptor(raw).valid
        raw.pop("primaryKey")
    assert frictionless.Schema.validate_descriptor(raw).valid


@pytest.mark.parametrize("name", ALL)
def test_every_field_is_documented(name: str) -> None:
    for item in load_schema(name)["fields"]:
        where = f"{name}.{item['name']}"
        assert item["name"].isidentifier() and item["name"].islower(), where
        assert item["type"] in {"string", "integer", "number", "boolean", "date"}, where
        assert item["title"] and item["description"], where
        assert isinstance(item["constraints"], dict), where
        assert isinstance(item["x-joinedup-personal"], bool), where
        for key in ("x-joinedup-special-category", "x-joinedup-linkage"):
            assert item.get(key, True) is True, f"{where}: {key} is only ever true"


@pytest.mark.parametrize("name", ALL)
def test_descriptor_metadata(name: str) -> None:
    d = load_schema(name)
    assert d["x-joinedup-name"] == name
    assert d["x-joinedup-version"]
    assert d["title"] and d["description"]
    assert d["missingValues"] == ["", "NULL", "N/A", "#N/A"]
    assert "NA" not in d["missingValues"]  # a real family name


@pytest.mark.parametrize("name", ALL)
def test_code_lists_match_enums(name: str) -> None:
    for item in load_schema(name)["fields"]:
        enum = item["constraints"].get("enum")
        if enum is not None:
            assert list(item["x-joinedup-codes"]) == enum, item["name"]
            assert all(item["x-joinedup-codes"].values())


@pytest.mark.parametrize("name", ALL)
def test_primary_key_fields_are_required(name: str) -> None:
    required = set(required_fields(name))
    assert set(primary_key(name)) <= required


def test_primary_keys() -> None:
    assert primary_key("person") == ["source_record_id"]
    assert primary_key("address") == ["uprn"]
    assert primary_key("spend") == []
    for name in PERSON_DOMAINS:
        assert primary_key(name)[0] == "source_record_id"
    assert primary_key("school_census") == ["source_record_id", "school_urn", "census_date"]
    assert primary_key("council_tax") == ["source_record_id", "account_ref", "period"]


@pytest.mark.parametrize("name", PERSON_DOMAINS)
def test_domains_extend_person(name: str) -> None:
    names = field_names(name)
    person = field_names("person")
    assert names[: len(person)] == person  # person fields first, domain fields after
    assert len(names) > len(person)
    assert set(LINKAGE_NAMES) <= set(names)
    assert extends(name) == "person"
    assert is_person_standard(name)
    d = load_schema(name)
    assert "x-joinedup-extends" not in d  # resolved: never merged twice
    assert d["x-joinedup-base"] == "person"
    # the merged person fields are identical to person's own
    assert d["fields"][: len(person)] == load_schema("person")["fields"]


def test_person_field_names() -> None:
    names = field_names("person")
    assert set(LINKAGE_NAMES) <= set(names)
    for extra in (
        "source_record_id",
        "address_line_2",
        "address_line_3",
        "phone",
        "email",
        "household_ref",
    ):
        assert extra in names
    assert required_fields("person") == ["source_record_id"]
    assert set(LINKAGE_NAMES) <= set(linkage_fields("person"))


@pytest.mark.parametrize("name", ["address", "spend"])
def test_non_person_standards(name: str) -> None:
    assert extends(name) is None
    assert not is_person_standard(name)
    assert "source_record_id" not in field_names(name)
    assert personal_fields(name) == []
    assert linkage_fields(name) == []


def test_personal_and_special_category() -> None:
    assert "nhs_number" in personal_fields("person")
    assert set(field_names("person")) == set(personal_fields("person"))
    assert "school_urn" not in personal_fields("school_census")
    assert "fsm_eligible" in personal_fields("school_census")
    assert special_category_fields("person") == []
    assert set(special_category_fields("adult_social_care")) == {
        "service_type",
        "primary_support_reason",
    }
    assert set(special_category_fields("childrens_social_care")) == {
        "reason_code",
        "category_of_abuse",
    }
    assert special_category_fields("referral") == ["reason_code"]
    assert special_category_fields("council_tax") == []


def test_custom_checks_declared() -> None:
    assert fields_with_check("person") == {
        "date_of_birth": "not_in_future",
        "nhs_number": "nhs_mod11",
        "upn": "upn_check_letter",
    }
    assert fields_with_check("referral")["referral_date"] == "not_in_future"
    assert {
        "check": "only_when",
        "field": "category_of_abuse",
        "when": "episode_type",
        "in": ["CP"],
    } in row_checks("childrens_social_care")


@pytest.mark.parametrize(
    ("name", "field_name", "expected"),
    [
        ("school_census", "census_term", ["autumn", "spring", "summer"]),
        ("council_tax", "band", list("ABCDEFGH")),
        ("benefit_claim", "role", ["claimant", "partner", "dependant", "non_dependant"]),
        ("benefit_claim", "benefit_type", ["housing_benefit", "council_tax_reduction"]),
        ("childrens_social_care", "episode_type", ["CIN", "CP", "LAC"]),
        ("person", "sex", ["M", "F", "X", "U"]),
    ],
)
def test_enums(name: str, field_name: str, expected: list[str]) -> None:
    assert field(name, field_name)["constraints"]["enum"] == expected


def test_legacy_benefit_code_list() -> None:
    codes = field("benefit_claim", "legacy_benefit")["constraints"]["enum"]
    assert codes == [
        "income_support",
        "jsa_income_based",
        "esa_income_related",
        "pension_credit_guarantee",
        "child_tax_credit_only",
        "asylum_support",
        "none",
    ]


def test_uprn_constraints() -> None:
    for name, fname in [
        ("person", "uprn"),
        ("address", "uprn"),
        ("council_tax", "property_uprn"),
        ("tenancy", "property_uprn"),
    ]:
        c = field(name, fname)["constraints"]
        assert field(name, fname)["type"] == "integer"
        assert c["minimum"] == 1 and c["maximum"] == 999_999_999_999
    assert field("address", "uprn")["constraints"]["unique"] is True


def test_date_of_birth_range() -> None:
    dob = field("person", "date_of_birth")
    assert dob["type"] == "date"
    assert dob["constraints"]["minimum"] == "1900-01-01"
    assert dob["x-joinedup-check"] == "not_in_future"


def test_unknown_standard() -> None:
    with pytest.raises(UnknownStandardError) as info:
        load_schema("parking_fines")
    assert isinstance(info.value, LookupError)
    assert "parking_fines" in str(info.value) and "school_census" in str(info.value)
    for fn in (field_names, personal_fields, primary_key, frictionless_schema, row_checks):
        with pytest.raises(UnknownStandardError):
            fn("parking_fines")
    with pytest.raises(UnknownStandardError):
        load_schema("../person")


def test_unknown_field() -> None:
    with pytest.raises(KeyError, match="no field 'shoe_size'"):
        field("person", "shoe_size")


def test_load_schema_returns_a_fresh_copy() -> None:
    first = load_schema("person")
    first["fields"].clear()
    assert len(load_schema("person")["fields"]) == len(field_names("person"))


def test_field_view_is_the_descriptor_read_only_and_field_a_copy() -> None:
    """Request paths read descriptors in place (``field_view``); ``field`` stays a copy."""
    view = registry.field_view("school_census", "fsm_eligible")
    assert dict(view) == field("school_census", "fsm_eligible")
    assert registry.field_view("school_census", "given_name")["name"] == "given_name"  # base
    with pytest.raises(TypeError):
        view["title"] = "changed"  # type: ignore[index]
    copied = field("school_census", "fsm_eligible")
    copied["title"] = "changed"
    assert registry.field_view("school_census", "fsm_eligible")["title"] != "changed"
    with pytest.raises(KeyError, match="no field 'shoe_size'"):
        registry.field_view("person", "shoe_size")
    with pytest.raises(UnknownStandardError):
        registry.field_view("parking_fines", "name")


# --- joinedup's own definition rules -----------------------------------------------------


def _field(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "string",
        "title": name,
        "description": name,
        "constraints": {},
        "x-joinedup-personal": False,
        **extra,
    }


@pytest.mark.parametrize(
    ("descriptor", "message"),
    [
        ({"fields": []}, "non-empty"),
        ({"fields": [_field("a"), _field("a")]}, "defined twice"),
        ({"fields": [_field("a", **{"x-joinedup-check": "luhn"})]}, "unknown check 'luhn'"),
        (
            {"fields": [{**_field("a"), "type": "integer", "x-joinedup-check": "nhs_mod11"}]},
            "does not apply",
        ),
        (
            {"fields": [{k: v for k, v in _field("a").items() if k != "x-joinedup-personal"}]},
            "x-joinedup-personal",
        ),
        ({"fields": [{k: v for k, v in _field("a").items() if k != "title"}]}, "no 'title'"),
        ({"fields": [_field("a")], "primaryKey": ["a"]}, "must be required"),
        ({"fields": [_field("a")], "primaryKey": ["b"]}, "unknown field 'b'"),
        (
            {
                "fields": [
                    {**_field("a"), "constraints": {"enum": ["x"]}, "x-joinedup-codes": {"y": "Y"}}
                ]
            },
            "must equal the enum",
        ),
        (
            {"fields": [_field("a")], "x-joinedup-row-checks": [{"check": "nope"}]},
            "unknown row check",
        ),
        (
            {
                "fields": [_field("a")],
                "x-joinedup-row-checks": [{"check": "date_order", "fields": ["a", "z"]}],
            },
            "unknown field 'z'",
        ),
    ],
)
def test_definition_rules(descriptor: dict[str, Any], message: str) -> None:
    with pytest.raises(StandardDefinitionError, match=message):
        registry._check_definition("broken", descriptor)


def test_extends_unknown_or_circular(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = {
        "loop_a": {"x-joinedup-extends": "loop_b", "fields": [_field("a")]},
        "loop_b": {"x-joinedup-extends": "loop_a", "fields": [_field("b")]},
        "orphan": {"x-joinedup-extends": "ghost", "fields": [_field("c")]},
    }
    monkeypatch.setattr(registry, "_names", lambda: tuple(sorted(fake)))
    monkeypatch.setattr(registry, "_raw", lambda name: fake[name])
    resolved = registry._resolved.__wrapped__  # bypass the cache
    monkeypatch.setattr(registry, "_resolved", resolved)
    with pytest.raises(StandardDefinitionError, match="circular"):
        resolved("loop_a")
    with pytest.raises(StandardDefinitionError, match="unknown standard 'ghost'"):
        resolved("orphan")
