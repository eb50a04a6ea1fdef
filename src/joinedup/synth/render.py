"""Turn canonical columns into one organisation's export: its column names, date format, name
style, case, money style and file format (CSV in UTF-8 / UTF-8 with BOM / Windows-1252, XLSX
or JSON). Writing is deterministic: the same table gives the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .layouts import (
    DMONY,
    DMY,
    FORENAME_FIRST,
    ISO,
    SEPARATE,
    SERIAL,
    SURNAME_FIRST,
    XLSX_DATE,
    Layout,
)
from .util import EPOCH

DATE_FIELDS = frozenset(
    {
        "dob",
        "entry_date",
        "census_date",
        "liability_start",
        "liability_end",
        "claim_start",
        "claim_end",
        "assessment_start",
        "assessment_end",
        "tenancy_start",
        "tenancy_end",
        "service_start",
        "service_end",
        "date_of_death",
        "referral_date",
        "cin_start",
        "cin_end",
        "cp_start",
        "cp_end",
        "attainment_date",
        "payment_date",
    }
)
MONEY_FIELDS = frozenset(
    {"balance", "arrears", "weekly_rent", "weekly_earned_income", "amount", "irrecoverable_vat"}
)
FLAG_FIELDS = frozenset({"fsm_eligible", "spd", "ctr", "postal_voter"})
NULL_STR = pa.scalar(None, pa.string())

_FIRST_DAY = (date(1880, 1, 1) - EPOCH).days
_LAST_DAY = (date(2040, 12, 31) - EPOCH).days
_DATE_CACHE: dict[str, pa.Array] = {}
EXCEL_EPOCH_OFFSET = 25569  # Excel serial number of 1970-01-01
FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _date_strings(fmt: str) -> pa.Array:
    if fmt not in _DATE_CACHE:
        py = {DMY: "%d/%m/%Y", ISO: "%Y-%m-%d", DMONY: "%d-%b-%Y"}[fmt]
        start = EPOCH + timedelta(days=_FIRST_DAY)
        _DATE_CACHE[fmt] = pa.array(
            [(start + timedelta(days=i)).strftime(py) for i in range(_LAST_DAY - _FIRST_DAY + 1)]
        )
    return _DATE_CACHE[fmt]


def valid_days(days: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
    return (days >= _FIRST_DAY) & (days <= _LAST_DAY)


def format_dates(days: npt.NDArray[np.int32], fmt: str) -> pa.Array:
    """Day numbers in the layout's date format (invalid/missing days become nulls)."""
    ok = valid_days(days)
    if fmt == SERIAL:
        return pa.array(days.astype(np.int64) + EXCEL_EPOCH_OFFSET, mask=~ok)
    if fmt == XLSX_DATE:
        return pa.array(days.astype(np.int32), type=pa.int32(), mask=~ok).cast(pa.date32())
    idx = np.where(ok, days - _FIRST_DAY, 0)
    return pc.take(_date_strings(fmt), pa.array(idx, mask=~ok))


def format_money(values: npt.NDArray[np.float64], style: str) -> pa.Array:
    ok = ~np.isnan(values)
    pence = np.rint(np.where(ok, values, 0.0) * 100).astype(np.int64)
    if style == "pence":
        return pa.array(pence, mask=~ok)
    negative = pence < 0
    pence = np.abs(pence)
    pounds = pence // 100
    frac = pc.utf8_lpad(pc.cast(pa.array(pence % 100), pa.string()), 2, "0")
    if style == "pound":
        thousands = pounds // 1000
        low = pc.cast(pa.array(pounds % 1000), pa.string())
        low_padded = pc.utf8_lpad(low, 3, "0")
        whole = pc.if_else(
            pa.array(thousands > 0),
            pc.binary_join_element_wise(pc.cast(pa.array(thousands), pa.string()), low_padded, ","),
            low,
        )
        text = pc.binary_join_element_wise(pa.scalar("£"), whole, "")
    else:
        text = pc.cast(pa.array(pounds), pa.string())
    text = pc.binary_join_element_wise(text, frac, ".")
    text = pc.if_else(
        pa.array(negative), pc.binary_join_element_wise(pa.scalar("-"), text, ""), text
    )
    return pc.if_else(pa.array(ok), text, NULL_STR)


def format_flags(values: npt.NDArray[np.bool_], flag_format: str) -> pa.Array:
    yes, no = flag_format.split("/")
    return pc.take(pa.array([no, yes]), pa.array(np.asarray(values).astype(np.int8)))


def format_sex(values: npt.NDArray[np.int8], sex_format: str) -> pa.Array:
    male, female = sex_format.split("/")
    return pc.take(pa.array([female, male]), pa.array(np.asarray(values).astype(np.int8)))


def _join_names(given: pa.Array, middle: pa.Array | None, family: pa.Array, style: str) -> pa.Array:
    if style == SURNAME_FIRST:
        forenames = (
            pc.binary_join_element_wise(given, middle, " ", null_handling="skip")
            if middle is not None
            else given
        )
        return pc.binary_join_element_wise(
            pc.utf8_upper(family), forenames, ", ", null_handling="skip"
        )
    parts = [given] + ([middle] if middle is not None else []) + [family]
    return pc.binary_join_element_wise(*parts, " ", null_handling="skip")


def _address_lines(
    gazetteer: Any, address_id: Any, disorder: npt.NDArray[np.int64] | None
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """First line, second line and locality of each address; rows with an address disorder
    (see ``ADDRESS_DISORDERS`` in records.py: 1 all in line 1, 2 rotated, 3 first line only,
    4 no first line) have their parts moved or blanked."""
    ids = pa.array(address_id)
    l1 = pc.take(gazetteer.line1, ids)
    l2 = pc.take(gazetteer.line2, ids)
    l3 = pc.take(gazetteer.locality, ids)
    if disorder is None:
        return l1, l2, l3
    kind = np.asarray(disorder)
    whole = pc.binary_join_element_wise(l1, l2, l3, ", ", null_handling="skip")
    null = pa.nulls(len(ids), pa.string())

    def pick(*choices: pa.Array) -> pa.Array:
        # choices[k] is the value for disorder kind k (0 = none)
        out = choices[0]
        for k, choice in enumerate(choices[1:], start=1):
            out = pc.if_else(pa.array(kind == k), choice, out)
        return out

    return (
        pick(l1, whole, l3, l1, null),
        pick(l2, null, l1, null, l2),
        pick(l3, null, l2, null, l3),
    )


def build_table(layout: Layout, cols: dict[str, Any], gazetteer: Any = None) -> pa.Table:
    """Select, derive and format the layout's columns from canonical ``cols``."""
    out: dict[str, pa.Array] = {}
    name_style = layout.name_style if layout.name_style != SEPARATE else FORENAME_FIRST
    address_id = cols.get("address_id")
    for column in layout.columns:
        f = column.field
        value: Any
        if f == "full_name":
            value = _join_names(
                cols["given_name"], cols.get("middle_name"), cols["family_name"], name_style
            )
        elif f == "joint_full_name":
            value = cols.get("joint_given_name")
            if value is not None:
                value = _join_names(
                    cols["joint_given_name"], None, cols["joint_family_name"], name_style
                )
                value = pc.if_else(pa.array(cols["joint_present"]), value, NULL_STR)
        elif f == "town":
            value = pa.array(["London"] * len(pa.array(address_id)), pa.string())
        elif f in ("address_line1", "address_line2", "address_line3", "address"):
            lines = _address_lines(gazetteer, address_id, cols.get("address_disorder"))
            if f == "address":
                value = pc.binary_join_element_wise(*lines, ", ", null_handling="skip")
            else:
                value = lines[int(f[-1]) - 1]
        elif f in DATE_FIELDS:
            value = format_dates(np.asarray(cols[f], dtype=np.int32), layout.date_format)
        elif f in MONEY_FIELDS and layout.format != "csv" and layout.money_format == "plain":
            value = pa.array(
                np.round(np.asarray(cols[f], dtype=np.float64), 2),
                mask=np.isnan(np.asarray(cols[f], dtype=np.float64)),
            )
        elif f in MONEY_FIELDS:
            value = format_money(np.asarray(cols[f], dtype=np.float64), layout.money_format)
        elif f in FLAG_FIELDS:
            value = format_flags(cols[f], layout.flag_format)
        elif f == "sex":
            value = format_sex(cols[f], layout.sex_format)
        elif f == "nhs_number" and layout.nhs_format == "spaced":
            v = cols[f]
            value = pc.replace_substring_regex(v, r"^(\d{3})(\d{3})(\d{4})$", r"\1 \2 \3")
        else:
            value = cols[f]
        if value is None:
            value = pa.nulls(len(next(iter(out.values()))) if out else 0, pa.string())
        if not isinstance(value, (pa.Array, pa.ChunkedArray)):
            value = pa.array(value)
        if layout.upper_case and pa.types.is_string(value.type):
            value = pc.utf8_upper(value)
        out[column.name] = value
    return pa.table(out)


def write_table(path: Path, layout: Layout, table: pa.Table) -> None:
    """Write ``table`` in the layout's format and encoding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout.format == "csv":
        buf = io.BytesIO()
        options = pacsv.WriteOptions(
            include_header=True, delimiter=layout.delimiter or ",", quoting_style="needed"
        )
        pacsv.write_csv(table, buf, write_options=options)
        data = buf.getvalue()
        if layout.encoding == "cp1252":
            data = data.decode("utf-8").encode("cp1252", errors="replace")
        elif layout.encoding == "utf-8-sig":
            data = b"\xef\xbb\xbf" + data
        path.write_bytes(data)
    elif layout.format == "xlsx":
        write_xlsx(path, table)
    elif layout.format == "json":
        rows = table.to_pylist()
        text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str)
        path.write_bytes(text.encode("utf-8"))
    else:  # pragma: no cover - layouts only use the formats above
        raise ValueError(f"unknown format {layout.format}")


def write_xlsx(path: Path, table: pa.Table, sheet: str = "Export") -> None:
    """Write one sheet with openpyxl's write-only mode, then fix timestamps for determinism."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(table.column_names)
    columns = [col.to_pylist() for col in table.columns]
    for row in zip(*columns, strict=True):
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _normalise_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _STAMP.sub(rb"\g<1>2020-01-01T00:00:00Z\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, content)
    return out.getvalue()
