"""docs/standards.md carries the generated reference of the shipped schemas, up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from joinedup.standards import list_standards, load_schema
from joinedup.standards.checks import FIELD_CHECKS, ROW_CHECKS
from joinedup.standards.docs import BEGIN, END, main, render_reference, update_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "standards.md"


def test_generated_reference_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert update_document(text) == text, (
        "docs/standards.md is stale: run .venv/bin/python -m joinedup.standards.docs "
        "docs/standards.md"
    )


def test_reference_covers_every_standard_field_and_check() -> None:
    reference = render_reference()
    for name in list_standards():
        assert f"### `{name}`" in reference
        for item in load_schema(name)["fields"]:
            assert f"| `{item['name']}` |" in reference
    for check in [*FIELD_CHECKS, *ROW_CHECKS]:
        assert f"| `{check}` |" in reference


def test_hand_written_part_names_the_sources() -> None:
    text = DOC.read_text(encoding="utf-8")
    for needle in [
        "specs.frictionlessdata.io/table-schema",
        "local-government-transparency-code-2015",
        "nhs_number",
        "Unique Pupil Number",
        "GSS",
        "UPRN",
        "Adding a standard",
    ]:
        assert needle in text


def test_update_document_needs_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        update_document("no markers here")


def test_main_rewrites_only_between_markers(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_text(f"intro\n{BEGIN}\nstale\n{END}\noutro\n", encoding="utf-8")
    assert main([str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith(f"{END}\noutro\n")
    assert "stale" not in text and "### `person`" in text
    assert main([]) == 2
