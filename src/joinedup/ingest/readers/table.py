"""What every reader shares: header rules, the staging table, Arrow batches, final checks.

A reader loads the file into a private staging table whose columns are ``c0, c1, …`` (all
VARCHAR), either with one DuckDB statement (CSV fast path, Parquet; row numbers come from the
table's ``rowid``) or through Arrow batches from Python (XLSX, JSON, CSV slow path; a ``_row``
column carries the row numbers). :func:`finish` then runs the checks that are easiest in SQL
(no rows, too many rows, over-long cells, values under an empty trailing header) and creates the
caller's table in one ``CREATE TABLE … AS`` statement, so the table exists only if the whole read
succeeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

import numpy as np
import numpy.typing as npt

from joinedup.ingest.readers.context import ReadContext

BATCH_ROWS = 50_000
ROW_COLUMN = "_row"


def q(name: str) -> str:
    """A double-quoted DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def excel_column(index: int) -> str:
    """0 → ``A``, 27 → ``AB``."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_label(index: int, letters: bool = False) -> str:
    label = f"column {index + 1}"
    return f"{label} ({excel_column(index)})" if letters else label


@dataclass
class Header:
    names: list[str]
    """One name per source column; unnamed trailing columns get a placeholder."""
    unnamed: list[int] = field(default_factory=list)
    """Positions of trailing columns without a header; they must hold no values."""


def check_headers(
    ctx: ReadContext,
    raw: Sequence[object],
    row: int | None,
    *,
    letters: bool = False,
    allow_unnamed_trailing: bool = False,
) -> Header:
    """Trim the header names and apply the header rules (empty, duplicate, reserved, too many)."""
    opts = ctx.options
    texts = ["" if v is None else str(v).strip() for v in raw]
    width = len(texts)
    if allow_unnamed_trailing:
        while width and not texts[width - 1]:
            width -= 1
    if width > opts.max_columns:
        raise ctx.error(
            "too_many_columns",
            f"the file has {width} columns; the limit is {opts.max_columns}",
            row,
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(texts[:width]):
        label = column_label(i, letters)
        if not name:
            raise ctx.error("empty_header", f"{label} has no header", row)
        if len(name) > opts.max_cell_chars:
            raise ctx.error(
                "cell_too_large",
                f"the header of {label} is longer than {opts.max_cell_chars:,} characters",
                row,
            )
        if name.lower() == ROW_COLUMN:
            raise ctx.error(
                "reserved_header",
                f"{label} is named {ROW_COLUMN}, which the hub uses for row numbers; rename it",
                row,
                name,
            )
        key = name.lower()
        if key in seen:
            raise ctx.error(
                "duplicate_header",
                f"the header '{name}' is used by {column_label(seen[key], letters)} and {label}"
                " (headers must be unique, ignoring case)",
                row,
                name,
            )
        seen[key] = i
    unnamed = list(range(width, len(texts)))
    names = texts[:width] + [f"__unnamed_{i}" for i in unnamed]
    return Header(names, unnamed)


def new_stage_name() -> str:
    return f"__joinedup_read_{uuid.uuid4().hex[:16]}"


def drop_table(ctx: ReadContext, name: str) -> None:
    ctx.con.execute(f"DROP TABLE IF EXISTS {q(name)}")


class BatchSink:
    """Collects rows in Python and inserts them into the staging table as Arrow batches."""

    def __init__(self, ctx: ReadContext, stage: str, width: int) -> None:
        self.ctx = ctx
        self.stage = stage
        self.width = width
        self.count = 0
        self._rows: list[int] = []
        self._values: list[Sequence[str | None]] = []
        cols = ", ".join([f"{ROW_COLUMN} BIGINT", *(f"c{i} VARCHAR" for i in range(width))])
        ctx.con.execute(f"CREATE TABLE {q(stage)} ({cols})")

    def add_column(self) -> None:
        self.ctx.con.execute(f"ALTER TABLE {q(self.stage)} ADD COLUMN c{self.width} VARCHAR")
        self.width += 1

    def add(self, row: int, values: Sequence[str | None]) -> None:
        self.count += 1
        limit = self.ctx.options.max_rows
        if limit is not None and self.count > limit:
            raise self.ctx.error(
                "too_many_rows", f"the file has more than {limit:,} rows (the limit)", row
            )
        self._rows.append(row)
        self._values.append(values)
        if len(self._rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        columns = list(zip_longest(*self._values, fillvalue=None))
        columns += [(None,) * len(self._rows)] * (self.width - len(columns))
        # NumPy arrays, which DuckDB reads itself: pyarrow's conversions import pandas, a
        # second of the start of a command that reads one small file
        names = [ROW_COLUMN, *(f"c{i}" for i in range(self.width))]
        arrays: list[npt.NDArray[Any]] = [np.array(self._rows, dtype=np.int64)]
        arrays += [_strings(col) for col in columns]
        batch = dict(zip(names, arrays, strict=True))
        view = f"__joinedup_batch_{uuid.uuid4().hex[:12]}"
        con = self.ctx.con
        con.register(view, batch)
        try:
            con.execute(f"INSERT INTO {q(self.stage)} SELECT * FROM {q(view)}")
        finally:
            con.unregister(view)
        self._rows.clear()
        self._values.clear()


def finish(
    ctx: ReadContext,
    stage: str,
    table: str,
    header: Header,
    row_expr: str,
    *,
    empty_rule: str = "headers_only",
    empty_message: str = "the file has a header but no data rows",
    letters: bool = False,
    empty_as_null: bool = False,
) -> int:
    """Check the staged rows and create ``table`` with ``_row`` and the named columns."""
    con = ctx.con
    opts = ctx.options
    st = q(stage)
    count = int((con.execute(f"SELECT count(*) FROM {st}").fetchone() or (0,))[0])
    if count == 0:
        raise ctx.error(empty_rule, empty_message)
    if opts.max_rows is not None and count > opts.max_rows:
        raise ctx.error(
            "too_many_rows", f"the file has {count:,} rows; the limit is {opts.max_rows:,}"
        )

    for i in header.unnamed:
        first = con.execute(f"SELECT min({row_expr}) FROM {st} WHERE c{i} IS NOT NULL").fetchone()
        if first and first[0] is not None:
            raise ctx.error(
                "empty_header",
                f"{column_label(i, letters)} has values but no header",
                int(first[0]),
            )
    if header.unnamed:
        ctx.warn(
            "empty_columns",
            f"{len(header.unnamed)} empty trailing column(s) without a header were ignored",
        )
    kept = [i for i in range(len(header.names)) if i not in set(header.unnamed)]

    _check_cell_sizes(ctx, st, header, kept, row_expr)

    select = ", ".join(
        [
            f"{row_expr} AS {ROW_COLUMN}",
            *(
                (f"nullif(c{i}, '')" if empty_as_null else f"c{i}") + f" AS {q(header.names[i])}"
                for i in kept
            ),
        ]
    )
    con.execute(f"CREATE TABLE {q(table)} AS SELECT {select} FROM {st}")
    drop_table(ctx, stage)
    return count


def _check_cell_sizes(
    ctx: ReadContext, st: str, header: Header, kept: list[int], row_expr: str
) -> None:
    limit = ctx.options.max_cell_chars
    con = ctx.con
    if not kept:
        return
    sizes = con.execute(
        "SELECT " + ", ".join(f"max(strlen(c{i}))" for i in kept) + f" FROM {st}"
    ).fetchone()
    suspects = [i for i, size in zip(kept, sizes or (), strict=True) if (size or 0) > limit]
    worst: tuple[int, int] | None = None
    for i in suspects:
        first = con.execute(
            f"SELECT min({row_expr}) FROM {st} WHERE length(c{i}) > {int(limit)}"
        ).fetchone()
        if first and first[0] is not None and (worst is None or first[0] < worst[0]):
            worst = (int(first[0]), i)
    if worst is not None:
        row, i = worst
        name = header.names[i]
        raise ctx.error(
            "cell_too_large",
            f"the value in column '{name}' is longer than {limit:,} characters",
            row,
            name,
        )


def _strings(values: Sequence[str | None]) -> npt.NDArray[np.object_]:
    """Cell texts (None for an empty cell) as a one-dimensional object array."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
