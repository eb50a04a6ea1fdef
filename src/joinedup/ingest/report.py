"""The validation report kept with every dataset version (and with every rejected upload).

The report is safe to show to the data owner without opening the data: counts per rule and
field, and example rows given by row number and the *shape* of the value (letters as ``a``/``A``,
digits as ``9``), never the value itself.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from joinedup.standards import REDACTED
from joinedup.store.sql import ident

EXAMPLES_PER_RULE = 5


def value_shape(value: str) -> str:
    """``Sw1a 1aa`` → ``Aa9a 9aa``: the format of a value without its content."""
    shape = re.sub(r"[A-Z]", "A", value)
    shape = re.sub(r"[a-z]", "a", shape)
    return re.sub(r"[0-9]", "9", shape)


def build_report(
    con: duckdb.DuckDBPyConnection, checked: str, redactable: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Counts per (field, rule) and a few example rows each, from the checked table, and the
    rows whose redactable fields were lawfully redacted."""
    total, rejected = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE len(_reasons) > 0) FROM {checked}"
    ).fetchone() or (0, 0)
    rows = con.execute(
        f"""
        WITH r AS (SELECT _row, unnest(_reasons) AS reason FROM {checked}
                   WHERE len(_reasons) > 0)
        SELECT reason.field, reason.rule, count(*) AS n,
               list(struct_pack(row := _row, value := reason.value) ORDER BY _row)
                 [1:{EXAMPLES_PER_RULE}] AS examples
        FROM r GROUP BY ALL ORDER BY n DESC, reason.field, reason.rule
        """
    ).fetchall()
    rules = [
        {
            "field": field,
            "rule": rule,
            "rows": int(n),
            "examples": [{"row": e["row"], "shape": value_shape(e["value"])} for e in examples],
        }
        for field, rule, n, examples in rows
    ]
    redacted = {}
    for name in redactable:
        text = ident(f"t:{name}")
        count = con.execute(f"SELECT count(*) FROM {checked} WHERE {text} = $r", {"r": REDACTED})
        redacted[name] = int((count.fetchone() or (0,))[0])
    return {
        "rows": int(total),
        "accepted": int(total) - int(rejected),
        "rejected": int(rejected),
        "redacted": redacted,
        "rules": rules,
    }
