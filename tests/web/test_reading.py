"""What people read: months by name, figures rounded, areas named on a map, fairness groups
in reading order, the impact form's month, the open-data preview's booleans, and charts that
are not drawn when there is nothing to draw. The checks of the browser journeys' plain
English (tests/browser/readable.py) are tested here too."""

from __future__ import annotations

import pytest

from joinedup.insight.dashboard import has_figures, label_point
from joinedup.insight.impact import ImpactError
from joinedup.web.pages.insight_areas import group_label, group_order, start_month
from joinedup.web.pages.open_data import csv_text
from joinedup.web.templating import format_month, format_number
from tests.browser.readable import problems


def test_months_read_as_names() -> None:
    assert format_month("2026-11") == "November 2026"
    assert format_month("all") == "all"
    assert format_month(None) == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (35.1667, "35.2"),
        (9.063, "9.1"),
        (0.0, "0"),
        (1234, "1,234"),
        (1234.5, "1,234.5"),
        (None, ""),
    ],
)
def test_figures_are_rounded_for_reading(value: float | None, shown: str) -> None:
    assert format_number(value) == shown


def test_an_area_is_named_inside_it() -> None:
    square = [[0.0, 0.0], [0.0, 2.0], [2.0, 2.0], [2.0, 0.0], [0.0, 0.0]]
    assert label_point({"type": "Polygon", "coordinates": [square]}) == pytest.approx((1, 1))
    islands = {
        "type": "MultiPolygon",
        "coordinates": [[[[5, 5], [5, 5.1], [5.1, 5.1], [5, 5]]], [square]],
    }
    assert label_point(islands) == pytest.approx((1, 1))  # the largest part
    assert label_point({"type": "Polygon", "coordinates": []}) is None


def test_a_chart_of_only_suppressed_figures_is_not_drawn() -> None:
    assert not has_figures([None, None])
    assert not has_figures([])
    assert has_figures([None, 0])


def test_fairness_groups_read_in_order_and_by_name() -> None:
    names = {"E09000022": "Lambeth"}
    bands = ["45-64", "5-10", "unknown", "0-4", "75+", "11-15"]
    ordered = sorted(bands, key=lambda g: group_order(g, group_label(g, names)))
    assert ordered == ["0-4", "5-10", "11-15", "45-64", "75+", "unknown"]
    assert group_label("E09000022", names) == "Lambeth"
    assert group_label("F", names) == "Female" and group_label("unknown", names) == "Not known"
    assert group_label("unplaced", names) == "No address in the region"


def test_the_start_month_comes_from_a_month_and_a_year() -> None:
    assert start_month("9", "2026") == "2026-09"
    assert start_month("09", "2026") == "2026-09"
    for month, year, message in [
        ("", "", "Enter the month the intervention started"),
        ("9", "", "The start date must include a year"),
        ("", "2026", "The start date must include a month"),
        ("13", "2026", "The month must be a number from 1 to 12"),
        ("9", "26", "The year must be 4 numbers, for example 2026"),
    ]:
        with pytest.raises(ImpactError, match=message) as caught:
            start_month(month, year)
        assert caught.value.field == "start_month"


def test_the_preview_shows_values_as_the_csv_does() -> None:
    assert csv_text(True) == "true" and csv_text(False) == "false"
    assert csv_text(None) == "" and csv_text(15) == "15"


def _text(text: str, code: bool = False) -> dict[str, object]:
    return {"text": text, "code": code, "where": "td"}


@pytest.mark.parametrize(
    "text",
    [
        '{"accepted": 29, "rejected": 3}',
        "lives_alone: None",
        "None",
        "True",
        "Lives alone: supported_living",
        "synth/lambeth/housing.yaml",
        "/tmp/pytest-of-root/home",
    ],
)
def test_what_a_person_should_not_read_is_found(text: str) -> None:
    assert problems([_text(text)])


@pytest.mark.parametrize(
    "text",
    [
        "None of the records match.",
        "London Borough of Lambeth",
        "November 2026",
        "35.2",
        "hub.analyst on 7 December 2026",
        "Children's social care involvement where a sibling has moved borough",
        "true",
    ],
)
def test_plain_english_passes(text: str) -> None:
    assert not problems([_text(text)])


def test_code_may_name_a_column_or_a_path_but_never_hold_json() -> None:
    assert not problems([_text("local_authority_code", code=True)])
    assert not problems([_text("/api/v1/insight/areas/trends.csv", code=True)])
    assert problems([_text('{"dispute": 1}', code=True)])
