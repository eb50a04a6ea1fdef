"""JSON (an array of objects) and NDJSON (one object per line), streamed.

The text is decoded record by record with ``json.JSONDecoder.raw_decode`` over a sliding buffer,
so the file is never held in memory as a whole; a record may be at most ``max_columns ×
max_cell_chars`` characters (``record_too_large``). Numbers keep their original text (``1.50``
stays ``1.50``), ``true``/``false`` stay as written, ``null`` is NULL and ``""`` stays an empty
string. Depth is guarded twice: Python's decoder raises ``RecursionError`` instead of exhausting
the stack, and a decoded record deeper than ``max_json_depth`` is rejected (``json_too_deep``).

Records must be flat: a value that is an object or an array is rejected (``json_not_flat``)
unless ``ReadOptions(nested="json")``, which keeps it as compact JSON text. Columns are the
union of keys, in order of first appearance; a record without a key has NULL there.

``_row`` is the record's position in the array (1-based) for a JSON array, and the line the
record starts on for NDJSON (empty lines are skipped and keep their number).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TextIO

from joinedup.ingest.readers.context import ReadContext
from joinedup.ingest.readers.table import (
    BatchSink,
    Header,
    drop_table,
    finish,
    new_stage_name,
)
from joinedup.ingest.readers.text import prepare_text

CHUNK_CHARS = 1024 * 1024
_WS = re.compile(r"[ \t\r\n]*")
_NEAR_END = 16


class _Obj(list[tuple[str, Any]]):
    """A decoded JSON object, as its (key, value) pairs (duplicates kept)."""


class _Num(str):
    """A JSON number, as written."""


def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(
        object_pairs_hook=_Obj,
        parse_float=_Num,
        parse_int=_Num,
        parse_constant=_Num,
    )


class JsonStream:
    """Values from a text stream, with the line each starts on."""

    def __init__(self, fh: TextIO, max_chars: int) -> None:
        self.fh = fh
        self.max_chars = max_chars
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number at index ``line_pos`` of ``buf``
        self.line_pos = 0
        self.decoder = _decoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        self._sync_line(self.pos)
        data = self.fh.read(max(CHUNK_CHARS, len(self.buf) - self.pos))
        self.buf = self.buf[self.pos :] + data
        self.line_pos -= self.pos
        self.pos = 0
        if not data:
            self.eof = True
        return bool(data)

    def _sync_line(self, upto: int) -> None:
        self.line += self.buf.count("\n", self.line_pos, upto)
        self.line_pos = upto

    def current_line(self) -> int:
        self._sync_line(self.pos)
        return self.line

    def peek(self) -> str | None:
        """The next character that is not JSON whitespace (``None`` at the end)."""
        while True:
            match = _WS.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return None

    def take(self) -> None:
        self.pos += 1

    def value(self) -> Any:
        """Decode the value at the current position. Raises ``_Incomplete`` at the end."""
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                unterminated = exc.msg.startswith("Unterminated string")
                if not self.eof and (unterminated or exc.pos >= len(self.buf) - _NEAR_END):
                    if len(self.buf) - self.pos > self.max_chars:
                        raise _TooLarge from None
                    self._fill()  # the record may continue in the next chunk
                    continue
                if unterminated or exc.pos >= len(self.buf.rstrip()):
                    raise _Incomplete from None
                raise _Syntax(self.buf.count("\n", self.pos, exc.pos)) from None
            if end == len(self.buf) and not self.eof and not isinstance(obj, list):
                self._fill()  # a number might continue in the next chunk
                continue
            self.pos = end
            return obj


class _Incomplete(Exception):
    pass


class _TooLarge(Exception):
    pass


class _Syntax(Exception):
    def __init__(self, lines_in: int) -> None:
        super().__init__()
        self.lines_in = lines_in


def _depth(value: Any) -> int:
    """Nesting depth of a decoded value (a scalar is 0, ``[]``/``{}`` 1), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, _Obj):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for _, v in item)
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _dump(value: Any) -> str:
    """Compact JSON text of a decoded value, numbers as written."""
    if isinstance(value, _Obj):
        return (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump(v)}" for k, v in value)
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, _Num):
        return str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value, ensure_ascii=False)


class _Records:
    """Turns decoded objects into rows of the staging table, growing columns as keys appear."""

    def __init__(self, ctx: ReadContext, stage: str) -> None:
        self.ctx = ctx
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.sink = BatchSink(ctx, stage, 0)
        self.nested_columns: set[str] = set()

    def add(self, row: int, obj: Any) -> None:
        ctx = self.ctx
        opts = ctx.options
        if not isinstance(obj, _Obj):
            kind = "an array" if isinstance(obj, list) else "a single value"
            raise ctx.error(
                "json_not_object", f"the record is {kind}, not an object with named fields", row
            )
        values: list[str | None] = [None] * len(self.names)
        seen: set[int] = set()
        for key, value in obj:
            name = key.strip()
            if not name:
                raise ctx.error("empty_header", "a field of the record has an empty name", row)
            if name.lower() == "_row":
                raise ctx.error(
                    "reserved_header",
                    "a field is named _row, which the hub uses for row numbers; rename it",
                    row,
                    name,
                )
            col = self.index.get(name.lower())
            if col is None:
                if len(self.names) >= opts.max_columns:
                    raise ctx.error(
                        "too_many_columns",
                        f"the records have more than {opts.max_columns} distinct fields",
                        row,
                    )
                col = len(self.names)
                self.index[name.lower()] = col
                self.names.append(name)
                self.sink.add_column()
                values.append(None)
            elif self.names[col] != name or col in seen:
                raise ctx.error(
                    "duplicate_header",
                    f"the field '{name}' appears more than once"
                    + (" (ignoring case)" if self.names[col] != name else "")
                    + " in the records",
                    row,
                    name,
                )
            seen.add(col)
            values[col] = self._text(row, name, value)
        self.sink.add(row, values)

    def _text(self, row: int, name: str, value: Any) -> str | None:
        if value is None:
            return None
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, str):
            return str(value)
        opts = self.ctx.options
        depth = _depth(value) + 1  # the record itself is depth 1
        if depth > opts.max_json_depth:
            raise self.ctx.error(
                "json_too_deep",
                f"the field '{name}' is nested {depth} levels deep; the limit is "
                f"{opts.max_json_depth}",
                row,
                name,
            )
        if opts.nested == "reject":
            kind = "an object" if isinstance(value, _Obj) else "an array"
            raise self.ctx.error(
                "json_not_flat",
                f"the field '{name}' holds {kind}; records must be flat (one value per field)",
                row,
                name,
            )
        self.nested_columns.add(name)
        return _dump(value)


def read_json(
    ctx: ReadContext, table: str, fmt: Literal["json", "ndjson"] | str
) -> tuple[list[str], int, str]:
    """Read JSON or NDJSON records into ``table``; returns (columns, rows, encoding)."""
    prepared = prepare_text(ctx, normalise_newlines=False, suffix=".json")
    opts = ctx.options
    limit = max(1024 * 1024, opts.max_cell_chars * opts.max_columns)
    stage = new_stage_name()
    try:
        with prepared.path.open("r", encoding=prepared.codec, newline="") as fh:
            stream = JsonStream(fh, limit)
            first = stream.peek()
            records = _Records(ctx, stage)
            if first == "[":
                _read_array(ctx, stream, records)
            elif first == "{":
                _read_lines(ctx, stream, records)
            else:
                raise ctx.error(
                    "json_syntax",
                    "the file must hold a JSON array of objects, or one JSON object per line",
                    1,
                )
        if first == "[" and fmt == "ndjson":
            ctx.warn("json_format", "the file holds a JSON array, not one object per line")
        records.sink.flush()
        if records.nested_columns:
            ctx.warn(
                "json_nested",
                "nested values kept as JSON text in: " + ", ".join(sorted(records.nested_columns)),
            )
        header = Header(records.names)
        rows = finish(
            ctx,
            stage,
            table,
            header,
            "_row",
            empty_rule="empty_file",
            empty_message="the file holds no records",
        )
    finally:
        drop_table(ctx, stage)
    return records.names, rows, prepared.encoding


def _decode(ctx: ReadContext, stream: JsonStream, row: int, line: int) -> Any:
    try:
        return stream.value()
    except RecursionError:
        raise ctx.error(
            "json_too_deep",
            f"the record is nested too deeply to read; the limit is {ctx.options.max_json_depth}",
            row,
        ) from None
    except _Incomplete:
        raise ctx.error("truncated", "the file ends in the middle of this record", row) from None
    except _TooLarge:
        raise ctx.error(
            "record_too_large", "the record is longer than the limit for one record", row
        ) from None
    except _Syntax as exc:
        raise ctx.error(
            "json_syntax", f"the JSON is not well formed (line {line + exc.lines_in})", row
        ) from None


def _read_array(ctx: ReadContext, stream: JsonStream, records: _Records) -> None:
    stream.take()  # "["
    index = 0
    if stream.peek() == "]":
        stream.take()
    else:
        while True:
            index += 1
            if stream.peek() is None:
                raise ctx.error("truncated", "the file ends inside the JSON array", index)
            line = stream.current_line()
            obj = _decode(ctx, stream, index, line)
            records.add(index, obj)
            nxt = stream.peek()
            if nxt == ",":
                stream.take()
                continue
            if nxt == "]":
                stream.take()
                break
            if nxt is None:
                raise ctx.error("truncated", "the file ends inside the JSON array", index)
            raise ctx.error(
                "json_syntax",
                f"expected , or ] after this record (line {stream.current_line()})",
                index,
            )
    if stream.peek() is not None:
        raise ctx.error(
            "json_syntax",
            f"there is more text after the closing ] (line {stream.current_line()})",
            index or None,
        )


def _read_lines(ctx: ReadContext, stream: JsonStream, records: _Records) -> None:
    previous = 0
    while stream.peek() is not None:
        line = stream.current_line()
        if line == previous:
            raise ctx.error(
                "json_syntax", "more than one record on this line (one object per line)", line
            )
        obj = _decode(ctx, stream, line, line)
        records.add(line, obj)
        previous = stream.current_line()
