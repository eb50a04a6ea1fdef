"""Compile a mapping and a standard into DuckDB SQL: text values, typed values, and reasons.

Three stages, each one SELECT over the previous, all vectorised in DuckDB:

1. ``mapped``: one VARCHAR column per standard field, built from the source columns by the
   mapping's transforms, trimmed, missing values as NULL, linkage fields normalised.
2. ``typed``: each field converted to its standard type (dates through the mapping's formats).
3. ``checked``: a ``_reasons`` list of ``{field, rule, value}`` structs for every failed rule;
   an empty list means the row is accepted.
"""

from __future__ import annotations

from typing import Any

from joinedup.ingest.mapping import FieldMapping, Mapping, has_capture_group
from joinedup.ingest.normalise import TITLE_PATTERN, normalise_sql
from joinedup.standards import REDACTED, REDACTION_PATTERN, load_schema, redaction_markers
from joinedup.standards.registry import MARKER_WORD
from joinedup.store.sql import ident, lit

SHAPE_CHARS = 40  # value excerpts are kept to this many characters


def _source_text(fm: FieldMapping) -> str:
    if fm.constant is not None:
        return lit(fm.constant)
    if fm.column is not None:
        return ident(fm.column)
    parts = ", ".join(f"nullif(trim({ident(c)}), '')" for c in fm.columns)
    return f"nullif(concat_ws({lit(fm.join)}, {parts}), '')"


def _split_name(expr: str, style: str, part: str) -> str:
    if style == "surname_comma_forenames":
        family = f"trim(split_part({expr}, ',', 1))"
        rest = f"trim(CASE WHEN contains({expr}, ',') THEN split_part({expr}, ',', 2) END)"
    else:  # forenames_surname: the last word is the family name
        words = f"string_split(trim({expr}), ' ')"
        family = f"{words}[-1]"
        rest = f"array_to_string({words}[1:-2], ' ')"
    if part == "family":
        return family
    rest = f"regexp_replace({rest}, '{TITLE_PATTERN}', '', 'i')"
    given = f"split_part({rest}, ' ', 1)"
    if part == "given":
        return given
    return f"trim(substr({rest}, length({given}) + 1))"


# A leading sub-building part of a one-line address ("Flat 3", "Apartment 12B", "Unit 4").
SUB_BUILDING = r"(?i)(flat|apartment|apt|unit|room|suite|studio|maisonette)\.?\s*[0-9a-z]+"
HOUSE_NUMBER = r"(?i)[0-9]+[a-z]?(-[0-9]+[a-z]?)?"


def _address_part(expr: str, part: str) -> str:
    """Line 1, 2 or 3 of a one-line, comma-separated address (see the mapping docs)."""
    parts = (
        f"list_filter(list_transform(string_split({expr}, ','), lambda x: trim(x)), "
        "lambda x: x <> '')"
    )
    sub = f"(array_length(p) >= 2 AND regexp_full_match(p[1], {lit(SUB_BUILDING)}))"
    number = f"(array_length(p) >= 2 AND regexp_full_match(p[1], {lit(HOUSE_NUMBER)}))"
    if part == "line_1":
        body = (
            f"CASE WHEN {sub} THEN p[1] || ', ' || p[2] "
            f"WHEN {number} THEN p[1] || ' ' || p[2] ELSE p[1] END"
        )
    else:
        rest = f"(CASE WHEN {sub} OR {number} THEN p[3:] ELSE p[2:] END)"
        if part == "line_3":
            body = f"CASE WHEN array_length({rest}) >= 1 THEN {rest}[-1] END"
        else:  # line_2: whatever lies between line 1 and the last part
            middle = f"array_to_string({rest}[1:-2], ', ')"
            body = f"CASE WHEN array_length({rest}) >= 2 THEN {middle} END"
    return f"list_transform([{parts}], lambda p: {body})[1]"


def _extract(expr: str, pattern: str) -> str:
    """The match (or first group) of ``pattern``; a value without a match is kept whole."""
    group = 1 if has_capture_group(pattern) else 0
    return (
        f"CASE WHEN regexp_matches({expr}, {lit(pattern)}) "
        f"THEN regexp_extract({expr}, {lit(pattern)}, {group}) ELSE {expr} END"
    )


def _case(expr: str, case: str) -> str:
    if case == "upper":
        return f"upper({expr})"
    if case == "lower":
        return f"lower({expr})"
    words = f"string_split(lower({expr}), ' ')"
    return f"array_to_string(list_transform({words}, lambda w: upper(w[1]) || w[2:]), ' ')"


def _codes(expr: str, codes: dict[str, str | None]) -> str:
    whens = " ".join(
        f"WHEN {lit(src.strip().upper())} THEN {'NULL' if dst is None else lit(dst)}"
        for src, dst in codes.items()
    )
    return f"CASE upper(trim({expr})) {whens} ELSE {expr} END"


def text_expression(fm: FieldMapping, missing_values: list[str]) -> str:
    """The mapped, normalised text of one field (NULL when missing)."""
    expr = f"CAST({_source_text(fm)} AS VARCHAR)"
    expr = f"trim({expr})"
    if missing_values:
        missing = ", ".join(lit(v) for v in missing_values)
        expr = f"CASE WHEN {expr} IN ({missing}) THEN NULL ELSE {expr} END"
    if fm.split_name and fm.part:
        expr = f"nullif({_split_name(expr, fm.split_name, fm.part)}, '')"
    if fm.address_part:
        expr = f"nullif({_address_part(expr, fm.address_part)}, '')"
    if fm.extract:
        expr = f"nullif({_extract(expr, fm.extract)}, '')"
    if fm.case:
        expr = _case(expr, fm.case)
    if fm.codes:
        expr = _codes(expr, fm.codes)
    if fm.default is not None:
        expr = f"coalesce({expr}, {lit(fm.default)})"
    return normalise_sql(fm.target, expr)


def redacted_expression(expr: str, markers: tuple[str, ...] | None = None) -> str:
    """A redactable field: a redaction marker becomes ``Redacted`` (not missing). ``markers``
    are the field's declared ones (as :func:`~joinedup.standards.marker_key`, ``""`` for
    blank); without them, blank and anything ``REDACTION_PATTERN`` matches."""
    if markers is None:
        marker = f"regexp_full_match({expr}, {lit(REDACTION_PATTERN)})"
        return f"CASE WHEN {expr} IS NULL OR {marker} THEN {lit(REDACTED)} ELSE {expr} END"
    key = f"array_to_string(regexp_extract_all(lower({expr}), {lit(MARKER_WORD)}), ' ')"
    words = [m for m in markers if m]
    cond = f"{key} IN ({', '.join(lit(m) for m in words)})" if words else "false"
    if "" in markers:  # blank (or a value of punctuation only) is a declared marker
        cond = f"{expr} IS NULL OR {key} = '' OR {cond}"
    return f"CASE WHEN {cond} THEN {lit(REDACTED)} ELSE {expr} END"


def _date(expr: str, formats: tuple[str, ...]) -> str:
    options = []
    for fmt in formats or ("iso",):
        if fmt == "iso":
            options.append(
                f"CASE WHEN regexp_matches({expr}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}([T ].*)?$') "
                f"THEN try_strptime(substr({expr}, 1, 10), '%Y-%m-%d')::DATE END"
            )
        elif fmt == "excel_serial":
            options.append(
                f"CASE WHEN regexp_full_match({expr}, '[1-9][0-9]{{3,5}}(\\.0+)?') "
                f"THEN DATE '1899-12-30' + CAST(floor(CAST({expr} AS DOUBLE)) AS INTEGER) END"
            )
        else:
            options.append(f"try_strptime({expr}, {lit(fmt)})::DATE")
    return f"coalesce({', '.join(options)})" if len(options) > 1 else options[0]


def typed_expression(fm: FieldMapping | None, spec: dict[str, Any], text: str) -> str:
    """Convert a field's text to its standard type; NULL when it cannot be converted."""
    kind = spec.get("type", "string")
    if kind == "date":
        return _date(text, fm.date_formats if fm else ())
    if kind == "integer":
        return f"TRY_CAST(regexp_replace({text}, '^\\+|\\.0+$', '') AS BIGINT)"
    if kind == "number":
        cleaned = text
        if fm is not None and fm.currency:
            cleaned = f"regexp_replace({text}, '[£,\\s]', '', 'g')"
            cleaned = f"regexp_replace({cleaned}, '^\\((.*)\\)$', '-\\1')"
        return f"TRY_CAST({cleaned} AS DOUBLE)"
    if kind == "boolean":
        true_values = fm.true_values if fm else ("TRUE", "Y", "YES", "1")
        false_values = fm.false_values if fm else ("FALSE", "N", "NO", "0")
        up = f"upper({text})"
        return (
            f"CASE WHEN {up} IN ({', '.join(lit(v.upper()) for v in true_values)}) THEN TRUE "
            f"WHEN {up} IN ({', '.join(lit(v.upper()) for v in false_values) or 'NULL'}) "
            "THEN FALSE END"
        )
    return text


def _reason(field: str, rule: str, condition: str, text: str) -> str:
    value = f"left(coalesce({text}, ''), {SHAPE_CHARS})"
    reason = f"{{'field': {lit(field)}, 'rule': {lit(rule)}, 'value': {value}}}"
    return f"CASE WHEN {condition} THEN {reason} END"


def _nhs_mod11(t: str) -> str:
    total = " + ".join(f"CAST(substr({t}, {i}, 1) AS INTEGER) * {11 - i}" for i in range(1, 10))
    check = f"(11 - (({total}) % 11))"
    last = f"CAST(substr({t}, 10, 1) AS INTEGER)"
    return (
        f"(regexp_full_match({t}, '[0-9]{{10}}') AND "
        f"CASE WHEN {check} = 11 THEN {last} = 0 WHEN {check} = 10 THEN FALSE "
        f"ELSE {last} = {check} END)"
    )


def _upn_check(t: str) -> str:
    total = " + ".join(f"CAST(substr({t}, {i}, 1) AS INTEGER) * {i}" for i in range(2, 14))
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    return (
        f"(regexp_full_match({t}, '[A-Z][0-9]{{12}}') AND "
        f"substr({t}, 1, 1) = substr('{letters}', (({total}) % 23) + 1, 1))"
    )


FIELD_CHECK_SQL = {
    "nhs_mod11": lambda text, typed, today: _nhs_mod11(text),
    "upn_check_letter": lambda text, typed, today: _upn_check(text),
    "not_in_future": lambda text, typed, today: f"({typed} <= DATE {lit(today)})",
}


def field_reasons(name: str, spec: dict[str, Any], text: str, typed: str, today: str) -> list[str]:
    """One CASE expression per rule of a field, yielding a reason struct when it fails."""
    c = spec.get("constraints", {})
    kind = spec.get("type", "string")
    present = f"{text} IS NOT NULL"
    out = []
    if c.get("required"):
        out.append(_reason(name, "required", f"{text} IS NULL", text))
    if kind != "string":
        rule = {"date": "invalid_date", "boolean": "invalid_boolean"}.get(kind, f"invalid_{kind}")
        out.append(_reason(name, rule, f"{present} AND {typed} IS NULL", text))
    valid = f"{typed} IS NOT NULL"
    if "pattern" in c:
        out.append(
            _reason(
                name,
                "pattern",
                f"{present} AND NOT regexp_full_match({text}, {lit(c['pattern'])})",
                text,
            )
        )
    if "enum" in c:
        values = [str(v) for v in c["enum"]]
        out.append(
            _reason(
                name,
                "enum",
                f"{present} AND {text} NOT IN ({', '.join(lit(v) for v in values)})",
                text,
            )
        )
    if "minLength" in c:
        out.append(
            _reason(
                name, "min_length", f"{present} AND length({text}) < {int(c['minLength'])}", text
            )
        )
    if "maxLength" in c:
        out.append(
            _reason(
                name, "max_length", f"{present} AND length({text}) > {int(c['maxLength'])}", text
            )
        )
    for bound, op in (("minimum", "<"), ("maximum", ">")):
        if bound in c:
            limit = f"DATE {lit(str(c[bound]))}" if kind == "date" else str(c[bound])
            out.append(_reason(name, bound, f"{valid} AND {typed} {op} {limit}", text))
    check = spec.get("x-joinedup-check")
    if check:
        # Like the reference validator: a custom check only judges values that passed the rest.
        passed = valid
        if "pattern" in c:
            passed += f" AND regexp_full_match({text}, {lit(c['pattern'])})"
        condition = FIELD_CHECK_SQL[check](text, typed, today)
        out.append(_reason(name, check, f"{passed} AND NOT {condition}", text))
    return out


def row_reasons(schema: dict[str, Any], text: dict[str, str], typed: dict[str, str]) -> list[str]:
    out = []
    for check in schema.get("x-joinedup-row-checks", []):
        if check["check"] == "date_order":
            start, end = check["fields"]
            both = f"{typed[start]} IS NOT NULL AND {typed[end]} IS NOT NULL"
            cond = f"{both} AND {typed[end]} < {typed[start]}"
            out.append(_reason(end, "date_order", cond, text[end]))
        elif check["check"] == "only_when":
            fld, when = check["field"], check["when"]
            allowed = ", ".join(lit(str(v)) for v in check["in"])
            cond = f"{text[fld]} IS NOT NULL AND coalesce({text[when]} NOT IN ({allowed}), TRUE)"
            out.append(_reason(fld, "only_when", cond, text[fld]))
        else:
            raise ValueError(f"no SQL for row check {check['check']!r}")
    return out


def key_reasons(schema: dict[str, Any], text: dict[str, str]) -> list[str]:
    """A row whose primary key (or unique field) repeats an earlier row's is quarantined.

    The first occurrence is kept, as the Frictionless reference validator does.
    """
    out = []
    key = schema.get("primaryKey") or []
    if isinstance(key, str):
        key = [key]
    if key:
        parts = ", ".join(text[k] for k in key)
        cond = f"row_number() OVER (PARTITION BY {parts} ORDER BY _row) > 1"
        value = f"concat_ws('|', {parts})"
        out.append(_reason("+".join(key), "duplicate_key", cond, value))
    for spec in schema["fields"]:
        if spec.get("constraints", {}).get("unique") and spec["name"] not in key[-1:]:
            t = text[spec["name"]]
            cond = f"{t} IS NOT NULL AND row_number() OVER (PARTITION BY {t} ORDER BY _row) > 1"
            out.append(_reason(spec["name"], "unique", cond, t))
    return out


def compile_ingest_sql(mapping: Mapping, source: str, today: str) -> str:
    """A query over ``source`` returning ``_row``, every standard field typed, and ``_reasons``."""
    schema = load_schema(mapping.standard)
    missing_values = [str(v) for v in schema.get("missingValues", [""])]
    text_cols, typed_cols = {}, {}
    mapped_select, typed_select = ["_row"], ["_row"]
    for spec in schema["fields"]:
        name = spec["name"]
        fm = mapping.fields.get(name)
        text_col, typed_col = ident(f"t:{name}"), ident(name)
        text_cols[name], typed_cols[name] = text_col, typed_col
        expr = text_expression(fm, missing_values) if fm else "CAST(NULL AS VARCHAR)"
        if fm and spec.get("x-joinedup-redactable"):
            expr = redacted_expression(expr, redaction_markers(spec))
        mapped_select.append(f"{expr} AS {text_col}")
        typed_select.append(f"{text_col}, {typed_expression(fm, spec, text_col)} AS {typed_col}")
    reasons: list[str] = []
    for spec in schema["fields"]:
        name = spec["name"]
        reasons += field_reasons(name, spec, text_cols[name], typed_cols[name], today)
    reasons += row_reasons(schema, text_cols, typed_cols)
    reasons += key_reasons(schema, text_cols)
    reason_list = (
        f"list_filter([{', '.join(reasons)}], lambda r: r IS NOT NULL)" if reasons else "[]"
    )
    return (
        f"WITH mapped AS (SELECT {', '.join(mapped_select)} FROM {source}), "
        f"typed AS (SELECT {', '.join(typed_select)} FROM mapped) "
        f"SELECT *, {reason_list} AS _reasons FROM typed"
    )


def output_columns(standard: str) -> list[str]:
    """The names of a standard's typed columns, in order."""
    return [str(spec["name"]) for spec in load_schema(standard)["fields"]]
