"""The DuckDB SQL joinedup compiles, emitted as Spark SQL (store/dialect.py): the portable
forms of what Spark lacks, and the refusals of what has none. No Spark needed."""

from __future__ import annotations

import pytest

from joinedup.store.dialect import NotPortable, accent_table, java_format, spark_sql


def test_strptime_formats_become_java_patterns_that_read_one_or_two_digits() -> None:
    assert java_format("%d/%m/%Y") == "d/M/yyyy"
    assert java_format("%d-%b-%Y") == "d-MMM-yyyy"
    assert java_format("%Y%m%dT%H%M") == "yyyyMd'T'Hm"
    with pytest.raises(NotPortable, match="%j"):
        java_format("%j")


def test_accents_are_stripped_by_translate_from_unicode_decompositions() -> None:
    accented, base = accent_table()
    pairs = dict(zip(accented, base, strict=True))
    assert pairs["é"] == "e" and pairs["Ś"] == "S" and pairs["ǖ"] == "u"
    assert "Ł" not in pairs and "ß" not in pairs  # no decomposition: normalise.py spells them
    sql = spark_sql("SELECT strip_accents(x) FROM t")
    assert sql.startswith("SELECT TRANSLATE(x, '") and "STRIP_ACCENTS" not in sql


def test_list_indexes_from_the_end_and_slices_count_as_duckdb_does() -> None:
    sql = spark_sql("SELECT p[-1], p[1], p[2:], p[1:-2] FROM t")
    assert "TRY_ELEMENT_AT(p, -1)" in sql and "p[0]" in sql
    assert sql.count("SLICE(p,") == 2


def test_regular_expressions_keep_duckdb_meaning() -> None:
    sql = spark_sql(
        "SELECT regexp_full_match(x, 'a|b'), regexp_replace(x, '^(mr)\\.? ', '', 'i'), "
        "regexp_replace(x, '^(\\d)(\\d)$', '\\1 \\2', 'g') FROM t"
    )
    assert "x RLIKE '^(?:a|b)$'" in sql
    assert "'(?i)^(mr)" in sql
    assert "'$1 $2'" in sql
    with pytest.raises(NotPortable, match="first match"):
        spark_sql("SELECT regexp_replace(x, 'a', 'b') FROM t")


def test_shuffle_partitions_follow_the_local_cores_and_leave_clusters_to_spark() -> None:
    from joinedup.store.spark import shuffle_partitions

    assert shuffle_partitions("local[2]") == "2"
    assert shuffle_partitions("local[4,3]") == "4"  # cores, then failures allowed
    assert int(shuffle_partitions("local[*]")) >= 1
    assert shuffle_partitions("spark://hub:7077") == "200"  # Spark's default on a cluster
