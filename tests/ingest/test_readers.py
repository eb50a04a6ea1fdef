"""Readers, happy paths per format, row numbering, and the pieces they are built from."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from joinedup.ingest.errors import IngestError
from joinedup.ingest.readers import (
    ReadOptions,
    SourceInfo,
    delimited,
    json_records,
    read_source,
    text,
)
from joinedup.ingest.readers.context import temp_name
from joinedup.ingest.readers.delimited import sniff_delimiter
from joinedup.ingest.readers.xlsx import cell_text, number_text
from joinedup.store import duckdb_session
from tests.support import make_settings


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb_session(make_settings(tmp_path / "home")) as con:
        yield con


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def _read(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: ReadOptions | None = None,
    tmp_dir: Path | None = None,
) -> tuple[SourceInfo, list[tuple[object, ...]]]:
    info = read_source(con, path, "src", options, tmp_dir=tmp_dir)
    rows = con.execute("SELECT * FROM src ORDER BY _row").fetchall()
    return info, rows


def _types(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'src' "
            "ORDER BY column_index"
        ).fetchall()
    ]


# --- CSV -------------------------------------------------------------------------------------


def test_csv_utf8_columns_types_rows_and_info(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, scratch: Path
) -> None:
    path = tmp_path / "lambeth-ct.csv"
    data = b' record_id , Given Name,amount,notes\n007,Ann,12.50,\n008,Bob,,""\n'
    path.write_bytes(data)
    info, rows = _read(con, path, tmp_dir=scratch)
    assert info.format == "csv" and info.encoding == "utf-8" and info.delimiter == ","
    assert info.columns == ["record_id", "Given Name", "amount", "notes"]
    assert info.row_count == 2 and info.sheet is None
    assert info.sha256 == hashlib.sha256(data).hexdigest() and info.size_bytes == len(data)
    assert info.warnings == []
    assert _types(con) == [
        ("_row", "BIGINT"),
        ("record_id", "VARCHAR"),
        ("Given Name", "VARCHAR"),
        ("amount", "VARCHAR"),
        ("notes", "VARCHAR"),
    ]
    assert rows == [(2, "007", "Ann", "12.50", None), (3, "008", "Bob", None, None)]
    assert list(scratch.iterdir()) == []


def test_csv_utf8_bom(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,name\r\n1,Siân\r\n".encode())
    info, rows = _read(con, path)
    assert info.columns == ["id", "name"] and info.encoding == "utf-8-sig"
    assert rows == [(2, "1", "Siân")]
    assert [w.split(":")[0] for w in info.warnings] == ["bom"]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_csv_single_byte_encodings_keep_the_pound_sign(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, scratch: Path, encoding: str
) -> None:
    path = tmp_path / "spend.csv"
    path.write_bytes(
        "supplier,amount\nCafé Zoë,£1,250.00\n".replace("£1,250.00", '"£1,250.00"').encode(encoding)
    )
    info, rows = _read(con, path, tmp_dir=scratch)
    assert rows == [(2, "Café Zoë", "£1,250.00")]
    assert info.encoding in ("cp1252", "iso8859_15", "latin_1")
    assert any(w.startswith("encoding:") for w in info.warnings)
    assert list(scratch.iterdir()) == []  # the transcoded temp is gone


def test_csv_cp1252_punctuation_and_declared_encoding(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "quotes.csv"
    path.write_bytes("name,note\nO’Neil,“£5” – €2\n".encode("cp1252"))
    info, rows = _read(con, path, ReadOptions(encoding="cp1252"))
    assert rows == [(2, "O’Neil", "“£5” – €2")]
    assert info.encoding == "cp1252" and info.warnings == []


@pytest.mark.parametrize(
    ("delim", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")]
)
def test_csv_delimiters_are_sniffed(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, delim: str, name: str
) -> None:
    path = tmp_path / f"{name}.csv"
    rows = [["id", "amount", "address"], ["1", "12,50", "1 High St; Flat 2"], ["2", "3", "x|y"]]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    info, got = _read(con, path)
    assert info.delimiter == delim
    assert info.columns == rows[0]
    assert [r[1:] for r in got] == [tuple(r) for r in rows[1:]]


def test_csv_delimiter_option_wins(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "one-column.csv"
    path.write_text("name;x\nA;1\n", encoding="utf-8")
    info, rows = _read(con, path, ReadOptions(delimiter=","))
    assert info.columns == ["name;x"] and rows == [(2, "A;1")]


def test_csv_quoted_newlines_quotes_and_delimiters(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(
        b'id,note,amount\r\n1,"line one\r\nline two",5\r\n2,"say ""hi"", then go",6\r\n'
        b'3,"a\n\nb",7\r\n'
    )
    info, rows = _read(con, path)
    assert rows == [
        (2, "1", "line one\nline two", "5"),
        (3, "2", 'say "hi", then go', "6"),
        (4, "3", "a\n\nb", "7"),
    ]
    assert any(w.startswith("line_endings:") for w in info.warnings)


def test_csv_crlf_and_cr_only_files_need_no_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    for eol in ("\r\n", "\r"):
        path = tmp_path / f"eol{len(eol)}.csv"
        path.write_bytes(eol.join(["a,b", "1,2", "3,4"]).encode() + eol.encode())
        with duckdb.connect() as c:
            info, rows = _read(c, path)
        assert rows == [(2, "1", "2"), (3, "3", "4")] and info.warnings == []


def test_csv_row_numbers_count_records_and_blank_lines(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text('id,note\n1,"two\nlines"\n\n2,x\n3,y\n\n', encoding="utf-8")
    info, rows = _read(con, path)
    assert [(r[0], r[1]) for r in rows] == [(2, "1"), (4, "2"), (5, "3")]
    assert any(w.startswith("blank_lines: 1 ") for w in info.warnings)


TRICKY = [
    'id,note,n\n1,"multi\nline ""quoted""",1\n2,,\n3,"",x\n4,"a,b",\n',
    "id,name\r\n1,Zoë\r\n2,Łukasz\r\n3,   padded   \r\n",
    "id\n1\n2\n\u00a0\n",
    'a;b;c\n"x;y";"";z\n1;2;3\n',
]


@pytest.mark.parametrize("content", TRICKY)
def test_csv_fast_and_slow_paths_agree(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    path = tmp_path / "tricky.csv"
    path.write_text(content, encoding="utf-8", newline="")
    fast_info, fast = _read(con, path)
    con.execute("DROP TABLE src")
    monkeypatch.setattr(delimited, "_fast_load", lambda *a, **k: False)
    slow_info, slow = _read(con, path)
    assert fast == slow
    assert fast_info.columns == slow_info.columns


BLANKS = [
    'id,note\n\n1,a\n\n\n2,"x\n\ny"\n3,b\n\n4,\n\n\n',
    "\n\nid,note\n1,a\n\n2,b\n",  # empty lines above the header
    "id\n1\n\n2\n\n\n3\n",  # one column: DuckDB keeps its empty lines, Python does not
    'id,note\n1,"p1\n\np2"\n2,b\n',  # the only empty line is inside quotes
]


@pytest.mark.parametrize("content", BLANKS)
def test_csv_empty_lines_number_like_the_python_parser(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    path = tmp_path / "blanks.csv"
    path.write_text(content, encoding="utf-8", newline="")
    expected = []
    with path.open(newline="", encoding="utf-8") as fh:
        records = list(enumerate(csv.reader(fh), start=1))
    data = [(n, r) for n, r in records if r][1:]
    expected = [(n, *[v or None for v in r]) for n, r in data]
    _, rows = _read(con, path)
    assert rows == expected
    con.execute("DROP TABLE src")
    monkeypatch.setattr(delimited, "_fast_load", lambda *a, **k: False)
    _, slow = _read(con, path)
    assert slow == expected


def test_csv_large_cells_up_to_the_limit(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "big-ok.csv"
    path.write_text(f"id,text\n1,{'é' * 32_768}\n", encoding="utf-8")
    _, rows = _read(con, path)
    assert len(str(rows[0][2])) == 32_768
    con.execute("DROP TABLE src")
    with pytest.raises(IngestError) as caught:
        read_source(con, path, "src", ReadOptions(max_cell_chars=1000))
    assert (caught.value.rule, caught.value.row, caught.value.column) == (
        "cell_too_large",
        2,
        "text",
    )


def test_csv_unterminated_quote_beyond_the_parser_field_limit(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the open quote swallows more than the parser's field ceiling, quote parity decides."""
    path = tmp_path / "open.csv"
    path.write_text('id,note\n1,ok\n2,"never closed\n' + "3,filler\n" * 5000, encoding="utf-8")
    old = csv.field_size_limit()
    monkeypatch.setattr(delimited, "FIELD_LIMIT", 1000)
    csv.field_size_limit(1000)
    try:
        with pytest.raises(IngestError) as caught:
            read_source(con, path, "src")
    finally:
        csv.field_size_limit(old)
    assert (caught.value.rule, caught.value.row) == ("unterminated_quote", 3)


def test_sniffer() -> None:
    assert sniff_delimiter("a;b;c\n1;2,5;3\n4;5;6\n", False) == ";"
    assert sniff_delimiter("a,b\n1,2\n3,4,5\n", False) == ","  # ragged, still comma
    assert sniff_delimiter("name\nAnn\n", False) == ","  # one column
    assert sniff_delimiter("a\tb|c\n1\t2|3\n", False) == "\t"  # ties go to the earlier candidate
    assert sniff_delimiter('a|b\n"x\ny"|2\n', False) == "|"


# --- byte scan and transcoding ---------------------------------------------------------------


SCAN_SAMPLES = [
    b"a,b\r\n1,2\r\n",
    b"a,b\n1,2\r\n3,4\r5\n",
    b"a\r\r\nb\n\nc",
    b"\n\nx\n",
    b"x\n\n\n",
    b"caf\xc3\xa9,\xe2\x82\xac\n" * 3,
    b"caf\xe9\n",
    b"a\x00b\n",
]


@pytest.mark.parametrize("data", SCAN_SAMPLES)
def test_scan_is_independent_of_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    whole = text.scan_file(path)
    for size in (1, 2, 3, 5):
        monkeypatch.setattr(text, "CHUNK", size)
        assert text.scan_file(path) == whole, size


def test_scan_facts(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"a,b\r\n1,2\n\n3,4\r\n")
    scan = text.scan_file(path)
    assert (scan.crlf, scan.lone_lf, scan.lone_cr) == (True, True, False)
    assert scan.mixed_endings and scan.interior_blank_line and scan.bad_utf8_at is None
    path.write_bytes(b"a\nb\n\n\n")
    assert not text.scan_file(path).interior_blank_line
    assert text.line_at(path, 2) == 2


# --- XLSX ------------------------------------------------------------------------------------


def test_cell_text() -> None:
    assert number_text(12.0) == "12"
    assert number_text(0.1 + 0.2) == "0.3"
    assert number_text(1234567.891) == "1234567.891"
    assert number_text(100023336956.0) == "100023336956"
    assert number_text(1e20) == "100000000000000000000"
    assert number_text(1.5e-7) == "0.00000015"
    assert number_text(-3.25) == "-3.25"
    assert cell_text(datetime(2020, 2, 29)) == "2020-02-29"
    assert cell_text(datetime(2021, 3, 4, 10, 30)) == "2021-03-04T10:30:00"
    assert cell_text(date(2020, 1, 1)) == "2020-01-01"
    assert cell_text(dtime(9, 5)) == "09:05:00"
    assert cell_text(True) == "TRUE" and cell_text(False) == "FALSE"
    assert cell_text(43831) == "43831"
    assert cell_text("") is None and cell_text(None) is None
    assert cell_text("  007 ") == "  007 "


def _xlsx(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Claims"
    ws.append([])  # an empty title area
    ws.append([])
    ws.append([" Ref ", "DOB", "Amount", "Count", "Serial", "Flag", "Code", "Seen"])
    ws.append(["R1", date(2020, 2, 29), 12.0, 3, 43831, True, "007", datetime(2021, 3, 4, 10, 30)])
    ws.append([])  # an empty row in the middle
    ws.append(["R2", None, 0.1 + 0.2, 100023336956, 44000.5, False, '=HYPERLINK("x")', None])
    ws.cell(row=6, column=7).data_type = "s"
    ws.cell(row=4, column=5).number_format = "0"
    ws.cell(row=6, column=5).number_format = "0.00"
    second = wb.create_sheet("Other")
    second.append(["x"])
    second.append(["y"])
    wb.save(path)


def test_xlsx_values_dates_numbers_and_row_numbers(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, scratch: Path
) -> None:
    path = tmp_path / "claims.xlsx"
    _xlsx(path)
    info, rows = _read(con, path, tmp_dir=scratch)
    assert info.format == "xlsx" and info.sheet == "Claims" and info.encoding is None
    assert info.columns == ["Ref", "DOB", "Amount", "Count", "Serial", "Flag", "Code", "Seen"]
    assert rows == [
        (4, "R1", "2020-02-29", "12", "3", "43831", "TRUE", "007", "2021-03-04T10:30:00"),
        (6, "R2", None, "0.3", "100023336956", "44000.5", "FALSE", '=HYPERLINK("x")', None),
    ]
    kinds = sorted(w.split(":")[0] for w in info.warnings)
    assert kinds == ["empty_rows", "header_row", "sheet"]
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert list(scratch.iterdir()) == []


def test_xlsx_sheet_option(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "claims.xlsx"
    _xlsx(path)
    info, rows = _read(con, path, ReadOptions(sheet="Other"))
    assert info.sheet == "Other" and rows == [(2, "y")]
    with pytest.raises(IngestError) as caught:
        read_source(con, path, "other", ReadOptions(sheet="Missing"))
    assert caught.value.rule == "sheet_not_found"
    assert "'Claims', 'Other'" in caught.value.message


# --- JSON and NDJSON -------------------------------------------------------------------------


def test_json_array(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text(
        json.dumps(
            [
                {"id": "P1", "amount": 1.5, "count": 12, "ok": True, "note": None},
                {"id": "P2", "postcode": "SW1A 1AA", "note": ""},
            ]
        ).replace("1.5", "1.50"),
        encoding="utf-8",
    )
    info, rows = _read(con, path)
    assert info.format == "json" and info.encoding == "utf-8"
    assert info.columns == ["id", "amount", "count", "ok", "note", "postcode"]
    assert rows == [
        (1, "P1", "1.50", "12", "true", None, None),
        (2, "P2", None, None, None, "", "SW1A 1AA"),
    ]


def test_json_nested_kept_as_json_text_when_asked(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "nested.json"
    path.write_text(
        '[{"id": "1", "address": {"line1": "1 High St", "uprn": 100023336956, "tags": [1.0]}}]',
        encoding="utf-8",
    )
    info, rows = _read(con, path, ReadOptions(nested="json"))
    assert rows == [(1, "1", '{"line1":"1 High St","uprn":100023336956,"tags":[1.0]}')]
    assert any(w.startswith("json_nested:") for w in info.warnings)


def test_ndjson_rows_are_line_numbers(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"a": "1"}\r\n\r\n{"a": "2", "b": false}\r\n{"b": 3}\r\n')
    info, rows = _read(con, path)
    assert info.format == "ndjson" and info.columns == ["a", "b"]
    assert rows == [(1, "1", None), (3, "2", "false"), (4, None, "3")]


def test_ndjson_two_records_on_one_line(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "two.ndjson"
    path.write_text('{"a": "1"}\n{"a": "2"} {"a": "3"}\n', encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        read_source(con, path, "src")
    assert (caught.value.rule, caught.value.row) == ("json_syntax", 2)


def test_json_records_across_chunk_boundaries(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [
        {
            "id": f"R{i}",
            "n": i * 1001,
            "x": i / 7,
            "s": 'é "q" \\ \u00a3' * (i % 3),
            "b": i % 2 == 0,
        }
        for i in range(40)
    ]
    path = tmp_path / "chunks.json"
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    expected = None
    for size in (1, 3, 7, 64, 1024 * 1024):
        monkeypatch.setattr(json_records, "CHUNK_CHARS", size)
        with duckdb.connect() as c:
            _, rows = _read(c, path)
        expected = expected or rows
        assert rows == expected, size
    assert expected is not None and len(expected) == 40
    assert expected[3] == (4, "R3", "3003", repr(3 / 7), "", "false")


# --- Parquet ---------------------------------------------------------------------------------


def test_parquet_all_columns_as_text(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, scratch: Path
) -> None:
    path = tmp_path / "gazetteer.parquet"
    table = pa.table(
        {
            "uprn": pa.array([100023336956.0, None, 12.5], pa.float64()),
            "postcode": ["SW1A 1AA", "SE1 7PB", None],
            "n": pa.array([1, 2, 3], pa.int64()),
            "since": [date(2020, 2, 29), None, date(1999, 12, 31)],
            "at": [datetime(2021, 3, 4, 10, 30), None, None],
            "ok": [True, False, None],
        }
    )
    pq.write_table(table, path)
    info, rows = _read(con, path, tmp_dir=scratch)
    assert info.format == "parquet" and info.columns == [
        "uprn",
        "postcode",
        "n",
        "since",
        "at",
        "ok",
    ]
    assert rows == [
        (1, "100023336956", "SW1A 1AA", "1", "2020-02-29", "2021-03-04T10:30:00", "true"),
        (2, None, "SE1 7PB", "2", None, None, "false"),
        (3, "12.5", None, "3", "1999-12-31", None, None),
    ]
    assert all(t == "VARCHAR" for n, t in _types(con) if n != "_row")


def test_parquet_nested_as_json_when_asked(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": ["1"], "tags": [["a", "b"]]}), path)
    _, rows = _read(con, path, ReadOptions(nested="json"))
    assert rows == [(1, "1", '["a","b"]')]


# --- the API around the readers --------------------------------------------------------------


def test_ingest_error_text_and_dict() -> None:
    err = IngestError("/data/uploads/lambeth-ct.csv", 7, "ragged_row", "the row has 5 fields")
    assert str(err) == "lambeth-ct.csv, row 7: ragged_row — the row has 5 fields"
    assert err.file == "lambeth-ct.csv"
    assert str(IngestError("x.csv", None, "empty_file", "empty")) == "x.csv: empty_file — empty"
    assert err.as_dict()["rule"] == "ragged_row"
    import pickle

    again = pickle.loads(pickle.dumps(err))
    assert (again.file, again.row, again.rule, again.message) == (
        err.file,
        err.row,
        err.rule,
        err.message,
    )


def test_existing_table_and_missing_file(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    con.execute("CREATE TABLE src (x INT)")
    with pytest.raises(ValueError, match="already exists"):
        read_source(con, path, "SRC")
    with pytest.raises(IngestError) as caught:
        read_source(con, tmp_path / "missing.csv", "other")
    assert caught.value.rule == "not_found"


def test_insertion_order_setting_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n2\n", encoding="utf-8")
    with duckdb.connect(config={"preserve_insertion_order": False}) as c:
        _, rows = _read(c, path)
        assert rows == [(2, "1"), (3, "2")]
        assert c.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (
            False,
        )


def test_temp_names_match_the_store_cleanup_convention() -> None:
    name = temp_name(".csv")
    assert name.startswith(f".tmp-{os.getpid()}-") and name.endswith(".csv")


KILL_SCRIPT = """
import sys, duckdb
from pathlib import Path
from joinedup.ingest.readers import read_source
from joinedup.ingest.readers import text
real = text._transcode
def slow(src, dst, codec, normalise):
    dst.write_bytes(b"partial")
    print("transcoding", flush=True)
    import time; time.sleep(60)
text._transcode = slow
read_source(duckdb.connect(), Path(sys.argv[1]), "src", tmp_dir=Path(sys.argv[2]))
"""


def test_a_killed_read_leaves_only_an_attributable_temp(tmp_path: Path) -> None:
    """SIGKILL cannot run ``finally``; what is left is named for the store's stale-temp sweep."""
    src = tmp_path / "cp.csv"
    src.write_bytes("a,b\n£,1\n".encode("cp1252"))
    scratch = tmp_path / "scratch"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(src), str(scratch)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "transcoding"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = [p.name for p in scratch.iterdir()]
    assert len(left) == 1
    assert left[0].startswith(f".tmp-{proc.pid}-") and left[0].endswith(".csv")


def test_failed_reads_remove_their_temps(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("a,b\n£,1\n£,2,3\n".encode("cp1252"))
    scratch = tmp_path / "scratch"
    with pytest.raises(IngestError) as caught:
        read_source(con, path, "src", tmp_dir=scratch)
    assert (caught.value.rule, caught.value.row) == ("ragged_row", 3)
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "options"),
    [
        ("id\tname\r\n1\tZoë\r\n".encode("utf-16-le"), None),
        ("id\tname\r\n1\tZoë\r\n".encode("utf-16-be"), None),
        ("\ufeffid\tname\n1\tZoë\n".encode("utf-16-le"), ReadOptions(encoding="utf-16")),
    ],
)
def test_utf16_with_and_without_bom(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, data: bytes, options: ReadOptions | None
) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes(data)
    info, rows = _read(con, path, options)
    assert info.delimiter == "\t" and rows == [(2, "1", "Zoë")]
    assert info.encoding is not None and info.encoding.startswith("utf-16")


def test_display_name_for_stored_uploads(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    stored = tmp_path / "upload-3f2a9c"  # no extension: the web layer's name for the stream
    stored.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        read_source(con, stored, "src", name="C:\\Users\\me\\lambeth-ct.csv")
    assert str(caught.value).startswith("lambeth-ct.csv, row 3: ragged_row")
    stored.write_text("a,b\n1,2\n", encoding="utf-8")
    assert read_source(con, stored, "src", name="lambeth-ct.csv").format == "csv"


def test_json_limits(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    huge = tmp_path / "huge.ndjson"
    huge.write_text('{"a": "1"}\n{"a": "' + "x" * 3_000_000 + '"}\n', encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        read_source(con, huge, "src", ReadOptions(max_cell_chars=100, max_columns=10))
    assert (caught.value.rule, caught.value.row) == ("record_too_large", 2)
    nested = tmp_path / "nested.json"
    nested.write_text('[{"a": {"b": {"c": "1"}}}]', encoding="utf-8")
    assert read_source(con, nested, "ok", ReadOptions(nested="json")).row_count == 1
    with pytest.raises(IngestError) as caught:
        read_source(con, nested, "src", ReadOptions(nested="json", max_json_depth=2))
    assert (caught.value.rule, caught.value.row, caught.value.column) == ("json_too_deep", 1, "a")
