"""Reason sentences: the ``reason:`` template of a rule, checked on load and filled with
values as people read them (money, months, dates, code labels, organisation names)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml

from joinedup.insight.rules import RuleError, load_rules, parse_rule, shipped_rules_dir
from joinedup.standards.readable import readable_value
from joinedup.standards.sentences import Shown, placeholders, render


def _doc(name: str = "rent-arrears-with-children") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((shipped_rules_dir() / f"{name}.yaml").read_text())
    return data


def _error(doc: dict[str, Any]) -> str:
    with pytest.raises(RuleError) as caught:
        parse_rule(doc, "my-rule.yaml")
    return str(caught.value)


def test_every_shipped_rule_has_a_reason_that_names_only_its_values() -> None:
    for rule in load_rules():
        assert rule.reason, f"{rule.file} has no reason template"
        names = placeholders(rule.reason)
        assert names, rule.file
        assert rule.describe()["reason"] == rule.reason


def test_an_unknown_placeholder_is_a_load_error_naming_the_file_and_field() -> None:
    doc = _doc()
    doc["reason"] = "Arrears of {tenancy.balence}"
    message = _error(doc)
    assert message.startswith("my-rule.yaml: reason: unknown placeholder '{tenancy.balence}'")
    assert "{tenancy.balance}" in message  # says what may be used

    doc = _doc()
    doc["reason"] = "Arrears of {tenancy.balance:euros}"
    assert _error(doc).startswith("my-rule.yaml: reason: '{tenancy.balance}' has an unknown format")

    doc = _doc()
    doc["reason"] = "Arrears of {tenancy.balance"
    assert _error(doc).startswith("my-rule.yaml: reason: has an unmatched '{'")

    doc = _doc()
    doc["reason"] = "A child of {child.date_of_birth}"  # not one of the flag's values
    assert "unknown placeholder '{child.date_of_birth}'" in _error(doc)


def test_values_read_as_people_read_them() -> None:
    assert readable_value("tenancy", "balance", "1107.94") == "£1,107.94"
    assert readable_value("tenancy", "balance", "500.0") == "£500"
    assert readable_value("tenancy", "period", "2026-11") == "November 2026"
    assert readable_value("tenancy", "tenancy_end_date", "2026-11-03") == "3 November 2026"
    assert readable_value("adult_social_care", "service_type", "supported_living") == (
        "Community: supported living"
    )
    assert readable_value("adult_social_care", "lives_alone", "true") == "Yes"
    assert readable_value("adult_social_care", "lives_alone", "false") == "No"
    assert readable_value("adult_social_care", "lives_alone", None) == "Not recorded"
    assert readable_value(None, "annual_earned_income", "7200.0") == "7,200"


def test_the_rent_arrears_sentence() -> None:
    rule = next(r for r in load_rules() if r.id == "rent-arrears-with-children")
    values = [
        Shown("tenancy", "balance", "1107.94"),
        Shown("tenancy", "weekly_rent", "151.2"),
        Shown("tenancy", "period", "2026-11"),
        Shown("tenancy", "tenancy_ref", "T1800400"),
    ]
    standards = {a: s.standard for a, s in rule.sources.items()}
    sentence = render(
        rule.reason,
        values,
        {"tenancy": "lewisham"},
        standards,
        {"lewisham": "Lewisham"},
        date(2026, 11, 30),
    )
    assert sentence == (
        "Rent arrears of £1,107.94 on tenancy T1800400 (Lewisham, November 2026; the rent is "
        "£151.20 a week), and a child under 18 in the household."
    )
    withheld = [Shown("tenancy", "balance", None, shown=False), *values[1:]]
    assert "Rent arrears of [not shared] on" in render(
        rule.reason, withheld, {"tenancy": "lewisham"}, standards, {}, None
    )
