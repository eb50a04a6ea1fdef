"""The SQL joinedup compiles, emitted in each engine's dialect (ADR 0038).

Every stage compiles its queries once, as DuckDB SQL; :func:`spark_sql` transpiles one to
Spark SQL with sqlglot (as Splink does), and rewrites the few DuckDB functions Spark lacks
into portable expressions over functions both engines have:

* ``strip_accents(x)``: ``translate(x, <accented letters>, <their base letters>)``, the table
  built from Unicode's canonical decompositions (every letter whose decomposition is one
  base letter and combining marks, as DuckDB's ``strip_accents`` strips them);
* ``regexp_full_match(x, p)``: ``x RLIKE '^(?:p)$'``; ``regexp_replace``'s ``i`` option as
  ``(?i)``, and a replacement of the first match only (no ``g``) refused unless the pattern
  is anchored at the start (where first and all are the same);
* ``try_strptime(x, f)``: ``try_to_timestamp`` with the format in Java's letters;
* list indexes from the end (``p[-1]``) and slices (``p[2:]``, ``p[1:-2]``): ``try_element_at``
  and ``slice``, which count as DuckDB does (from 1; a negative index from the end).

The session (:mod:`joinedup.store.spark`) turns ANSI mode off and ``size(NULL)`` to NULL, as
DuckDB has them. A DuckDB construct without a portable form raises :class:`NotPortable` when
the query is compiled, before any row is read.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import sqlglot
from sqlglot import expressions as exp


@functools.cache
def accent_table() -> tuple[str, str]:
    """The accented letters of the Basic Multilingual Plane and their base letters."""
    accented, base = [], []
    for code in range(0x00C0, 0x3000):
        char = chr(code)
        decomposed = unicodedata.normalize("NFD", char)
        if decomposed == char:
            continue
        letters = [c for c in decomposed if not unicodedata.combining(c)]
        if len(letters) == 1 and len(decomposed) > 1 and letters[0] != char:
            accented.append(char)
            base.append(letters[0])
    return "".join(accented), "".join(base)


#: strptime's directives as Java's pattern letters, for parsing (one letter for the day, month
#: and time fields: Java then reads one or two digits, as strptime does).
STRPTIME_TO_JAVA = {
    "%Y": "yyyy", "%y": "yy", "%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s",
    "%b": "MMM", "%B": "MMMM", "%f": "SSSSSS", "%%": "%",
}  # fmt: skip


def java_format(fmt: str) -> str:
    """A strptime format as a Spark datetime pattern (other letters quoted)."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i : i + 2]
            if directive not in STRPTIME_TO_JAVA:
                raise NotPortable(f"the date format directive {directive!r}")
            out.append(STRPTIME_TO_JAVA[directive])
            i += 2
        else:
            char = fmt[i]
            out.append(f"'{char}'" if char.isalpha() or char == "'" else char)
            i += 1
    return "".join(out)


class NotPortable(ValueError):
    """A generated query uses DuckDB SQL that has no Spark form here."""


def _pattern(node: exp.Expr, what: str) -> str:
    if not isinstance(node, exp.Literal) or not node.is_string:
        raise NotPortable(f"{what}: the pattern must be a literal")
    return str(node.this)


def _regexp_replace(node: exp.RegexpReplace) -> exp.Expr:
    modifiers = node.args.get("modifiers")
    options = _pattern(modifiers, "regexp_replace options") if modifiers else ""
    pattern = _pattern(node.expression, "regexp_replace")
    if "g" not in options and not pattern.startswith("^"):
        raise NotPortable(f"regexp_replace of the first match of {pattern!r}: anchor it or use 'g'")
    if "i" in options:
        pattern = "(?i)" + pattern
    replacement = node.args.get("replacement")
    if replacement is not None:
        text = _pattern(replacement, "regexp_replace's replacement")
        # RE2's \\1 is Java's $1; a literal $ is escaped for Java
        java = re.sub(r"\\(\d)", r"$\1", text.replace("$", "\\$"))
        replacement = exp.Literal.string(java)
    return exp.RegexpReplace(
        this=node.this, expression=exp.Literal.string(pattern), replacement=replacement
    )


def _number(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and node.is_number:
        return int(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and node.this.is_number:
        return -int(node.this.this)
    return None


def _index(node: exp.Bracket) -> exp.Expr:
    """``p[i]`` and ``p[a:b]`` counted as DuckDB counts (from 1; negative from the end)."""
    if len(node.expressions) != 1:
        raise NotPortable("a list index must be one index or one slice")
    index = node.expressions[0]
    if not isinstance(index, exp.Slice):
        value = _number(index)
        if value is not None and value < 0:
            # sqlglot holds indexes from 0: DuckDB's -1 (the last) is held as -2
            return exp.func("try_element_at", node.this, exp.Literal.number(value + 1))
        if value is None and isinstance(index, exp.Neg):
            raise NotPortable("a computed index from the end of a list")
        return node
    start = index.args.get("this") or exp.Literal.number(1)
    end = index.args.get("expression")
    size = exp.func("size", node.this.copy())
    # the last index, as a positive one: b, or size + b + 1 when b counts from the end
    one = exp.Literal.number(1)
    last: exp.Expr = size
    if end is not None:
        from_end = exp.Add(this=exp.Add(this=size, expression=end.copy()), expression=one)
        negative = exp.LT(this=end.copy(), expression=exp.Literal.number(0))
        last = exp.If(this=negative, true=from_end, false=end.copy())
    count = exp.Sub(this=exp.Paren(this=last), expression=start.copy())
    length = exp.func("greatest", exp.Literal.number(0), exp.Add(this=count, expression=one))
    return exp.func("slice", node.this, start, length)


def _portable(node: exp.Expr) -> exp.Expr:
    """DuckDB functions without a Spark equivalent, as expressions Spark has."""
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "strip_accents":
            accented, base = accent_table()
            return exp.func(
                "translate",
                node.expressions[0],
                exp.Literal.string(accented),
                exp.Literal.string(base),
            )
        if name == "try_strptime":
            fmt = java_format(_pattern(node.expressions[1], "try_strptime"))
            return exp.func("try_to_timestamp", node.expressions[0], exp.Literal.string(fmt))
    if isinstance(node, exp.RegexpFullMatch):
        pattern = _pattern(node.expression, "regexp_full_match")
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pattern})$"))
    if isinstance(node, exp.RegexpReplace):
        return _regexp_replace(node)
    if isinstance(node, exp.Bracket):
        return _index(node)
    return node


@functools.lru_cache(maxsize=512)
def spark_sql(duckdb_sql: str) -> str:
    """``duckdb_sql`` (one statement) in Spark SQL."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    return _rewrite(tree).sql(dialect="spark")


def _rewrite(node: exp.Expr) -> exp.Expr:
    """``node`` with :func:`_portable` applied from the leaves up (so a rewritten function's
    arguments are rewritten too, which sqlglot's ``transform`` does not do)."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expr):
            node.set(key, _rewrite(value))
        elif isinstance(value, list):
            node.set(key, [_rewrite(v) if isinstance(v, exp.Expr) else v for v in value])
    return _portable(node)
