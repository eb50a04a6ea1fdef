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
        "Rent arrears of £1,107.94 on tenancy T1800400 (Lewisham, November 2026), and a child "
        "under 18 in the household."
    )
    withheld = [Shown("tenancy", "balance", None, shown=False), *values[1:]]
    assert "Rent arrears of [not shared] on" in render(
        rule.reason, withheld, {"tenancy": "lewisham"}, standards, {}, None
    )


#: What each shipped rule's sentence reads like on the demo, every value filled in for reading.
MONEY = r"£[\d,]+(\.\d\d)?"
DAY = r"\d{1,2} [A-Z][a-z]+ \d{4}"
MONTH = r"[A-Z][a-z]+ \d{4}"
ON_THE_DEMO = {
    "rent-arrears-with-children": rf"^Rent arrears of {MONEY} on tenancy \S+ \(London Borough of "
    rf"\w+, {MONTH}\), and a child under 18 in the household\.$",
    "asc-alone-council-tax-arrears": r"^Receives adult social care \([^)]+\), lives alone "
    r"\((as the care record says|the only resident linked to the household)\), and owes "
    rf"{MONEY} council tax on account \S+ \(London Borough of \w+, {MONTH}\)\.$",
    "csc-sibling-moved-borough": r"^An open children's social care episode \([^)]+\) since "
    rf"{DAY}, and a brother or sister is a dependant on benefit claim \S+ in London Borough "
    r"of \w+\.$",
    "foodbank-claim-ending": rf"^Referred to a food bank on {DAY} \([^)]+\), close to the end "
    rf"of the household's .+ claim on {DAY}\.$",
    "fsm-eligible-not-registered": r"^The household's .+ claim \(London Borough of \w+; "
    rf"earned income a year: ({MONEY}|not recorded)\) makes this pupil eligible for free "
    r"school meals, but the school census of school \d{6} \((London Borough of \w+|\[not "
    r"shared\])\) does not record them as eligible\.$",
    "school-outside-home-borough": r"^Goes to school (\d{6}|\[not shared\]) in [A-Z][\w ]+, "
    r"outside the borough where the household pays council tax \(account \S+, London "
    r"Borough of \w+\)\.$",
    "spd-other-adults": r"^A single person discount on council tax account \S+ \(London "
    r"Borough of \w+\), but another adult is linked to the household in the [a-z ]+ records\.$",
}


def test_every_rule_reads_as_a_sentence_on_the_demo(demo_home: Any) -> None:
    """Each rule's flags, read as the raising council's caseworker, give a full sentence."""
    import re

    import duckdb

    from joinedup.insight.flags import FlagFilter, list_flags
    from joinedup.insight.run import latest_insight_run
    from joinedup.store import SnapshotStore
    from tests.rights.conftest import actor_for

    settings = demo_home.settings
    run = latest_insight_run(settings)
    assert run is not None
    source = SnapshotStore(settings).path_of(run.flags_sha256)
    seen = duckdb.sql(
        f"SELECT rule_id, any_value(organisation), any_value(purpose) FROM '{source}' GROUP BY 1"
    ).fetchall()
    assert {r for r, _, _ in seen} == set(ON_THE_DEMO)
    for rule, organisation, purpose in seen:
        actor = actor_for(demo_home, f"{organisation}.caseworker", purpose)
        page = list_flags(settings, actor, FlagFilter(rule=rule, status="all", page_size=500))
        assert page.flags, rule
        for flag in page.flags:
            assert re.match(ON_THE_DEMO[rule], flag.sentence), (rule, flag.sentence)
            assert not re.search(r"\b(None|True|False)\b|[{}_]", flag.sentence), flag.sentence
            assert flag.to_dict()["reason"] == flag.sentence
            for value in flag.values:  # the table beneath: labels and text, never raw
                assert value.label and "_" not in value.label, value
                assert value.text not in ("None", "True", "False", ""), value
