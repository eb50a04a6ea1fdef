"""CSV exports are safe against formula injection; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import frictionless
import pyarrow as pa

from joinedup.publish.formats import csv_digest, data_package, render_csv, safe_text

FIELDS = [
    {"name": "supplier_name", "type": "string"},
    {"name": "net_amount", "type": "number"},
    {"name": "payment_date", "type": "date"},
    {"name": "card_transaction", "type": "boolean"},
]
HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(A1:A9)",
    "-2+3",
    "@cmd",
    "\tTAB",
    "\rCR",
    "Plain Ltd",
    'Ünïcode, with "quotes"\nand a new line',
]


def test_safe_text_prefixes_formula_starts_only() -> None:
    assert safe_text("=1+1") == "'=1+1"
    assert safe_text("Acme = good") == "Acme = good"
    assert safe_text("") == ""


def test_a_hostile_csv_opens_safely_and_still_validates(tmp_path: Path) -> None:
    n = len(HOSTILE)
    table = pa.table(
        {
            "supplier_name": HOSTILE,
            "net_amount": [-1250.5] + [500.0] * (n - 1),
            "payment_date": [date(2026, 1, 2)] * n,
            "card_transaction": [True, False] + [None] * (n - 2),
        }
    )
    data = render_csv(table, FIELDS)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    for row, original in zip(rows, HOSTILE, strict=True):
        assert not row["supplier_name"].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row["supplier_name"].lstrip("'") == original
    assert rows[0]["net_amount"] == "-1250.5"  # a number column is not escaped
    assert rows[0]["card_transaction"] == "true" and rows[2]["card_transaction"] == ""
    (tmp_path / "data.csv").write_bytes(data)
    package = data_package(
        name="hostile",
        title="Hostile",
        description="A hostile table",
        version=1,
        keywords=[],
        fields=FIELDS,
        primary_key=[],
        csv_sha256=csv_digest(data),
        csv_bytes=len(data),
        created=datetime.now(UTC),
        disclosure=None,
    )
    (tmp_path / "datapackage.json").write_text(json.dumps(package))
    assert frictionless.validate(tmp_path / "datapackage.json").valid
    (tmp_path / "data.csv").write_bytes(data.replace(b"Plain", b"Plane"))  # a changed byte
    assert not frictionless.validate(tmp_path / "datapackage.json").valid
