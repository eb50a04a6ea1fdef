"""The query languages the CKAN API accepts: the Solr subset of ``q``/``fq``/``sort`` (a
parser, with a clear error for everything else) and ``datastore_search_sql``'s checks (sqlglot:
one read-only SELECT over allowed tables) and sandbox (DuckDB without external access)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from joinedup.publish.ckan import SEARCH_FIELDS, SORT_FIELDS
from joinedup.publish.solr import QueryError, parse_query, parse_sort
from joinedup.publish.sqlquery import ROW_LIMIT, SqlRefused, check_sql, run_sql
from joinedup.store import SnapshotStore
from joinedup.store.hashing import file_sha256
from tests.support import make_settings

DOCS = {
    "a": {"name": ["fsm"], "tags": ["free school meals", "poverty"], "text": ["Free meals"]},
    "b": {"name": ["spend"], "tags": ["spend"], "text": ["Council spend over 500"]},
    "c": {"name": ["vuln"], "tags": [], "text": ["Vulnerability by ward"]},
}


def _found(query: str) -> list[str]:
    match = parse_query(query, SEARCH_FIELDS)
    return sorted(k for k, doc in DOCS.items() if match(doc))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a", "b", "c"]),
        ("*:*", ["a", "b", "c"]),
        ('tags:"free school meals"', ["a"]),
        ("tags:FREE\\ SCHOOL\\ MEALS", []),  # escaped spaces are not supported as one value
        ("-tags:spend", ["a", "c"]),
        ("NOT tags:spend AND NOT name:vuln", ["a"]),
        ("name:(fsm OR spend)", ["a", "b"]),
        ("name:fsm OR name:vuln", ["a", "c"]),
        ("(name:fsm OR name:spend) AND tags:spend", ["b"]),
        ("tags:*", ["a", "b"]),
        ("meals", ["a"]),
        ("council 500", ["b"]),
        ("text:ward", ["c"]),
        ("%", []),
    ],
)
def test_the_solr_subset(query: str, expected: list[str]) -> None:
    assert _found(query) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("metadata_modified:[2020 TO 2021]", "range queries"),
        ("name:{a TO b}", "range queries"),
        ("tags:free*", "wildcards"),
        ("name:fsm~2", "fuzzy"),
        ("title:meals^2", "boosts"),
        ("name:/f.*/", "regular expressions"),
        ("nosuch:x", "unknown field 'nosuch'"),
        ("(name:fsm", "ends too early"),
        ('"unclosed', "cannot read"),
        ("name:fsm)", "unexpected ')'"),
        ("name:(a AND b)", "only OR lists"),
    ],
)
def test_what_is_outside_the_subset_is_refused_by_name(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_query(query, SEARCH_FIELDS)


def test_sort() -> None:
    assert parse_sort("name asc, metadata_modified desc", SORT_FIELDS) == [
        ("name", False),
        ("metadata_modified", True),
    ]
    for bad in ["views_recent desc", "name sideways", "", "name asc,"]:
        with pytest.raises(QueryError):
            parse_sort(bad, SORT_FIELDS)


TABLES = {"fsm-v1", "spend-v2"}


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT * FROM "fsm-v1" LIMIT 3',
        'SELECT a.x FROM "fsm-v1" a JOIN "spend-v2" b ON a.x = b.x',
        'WITH t AS (SELECT * FROM "fsm-v1") SELECT count(*) FROM t',
        'SELECT 1 UNION SELECT 2 FROM "spend-v2"',
    ],
)
def test_read_only_selects_over_published_tables_pass(sql: str) -> None:
    check_sql(sql, TABLES)


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("", "Missing value"),
        ('DELETE FROM "fsm-v1"', "only a SELECT"),
        ('INSERT INTO "fsm-v1" VALUES (1)', "only a SELECT"),
        ('DROP TABLE "fsm-v1"', "only a SELECT"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SELECT * FROM publication", 'no published table "publication"'),
        ("SELECT * FROM read_csv('/etc/passwd')", "no table functions"),
        ("SELECT * FROM '/etc/passwd'", "no published table"),
        ("SELECT read_text('/etc/passwd')", "read_text is not allowed"),
        ("SELECT getenv('HOME')", "getenv is not allowed"),
        ('SELECT * FROM main."fsm-v1"', "no schema or catalogue"),
        ("COPY (SELECT 1) TO '/tmp/x'", "only a SELECT"),
        ("ATTACH 'x.db'", "not valid SQL|only a SELECT"),
        ('SELECT * FROM "fsm-v1" FOR UPDATE', "LOCK is not allowed"),
        ('SELECT "unclosed', "not valid SQL"),
        ("SELECT $$", "not valid SQL"),
    ],
)
def test_anything_else_is_refused(sql: str, why: str) -> None:
    with pytest.raises(SqlRefused, match=why):
        check_sql(sql, TABLES)


def test_the_sandbox_runs_with_a_row_limit_and_no_file_access(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    written = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(ROW_LIMIT + 5))}), written)
    sha = file_sha256(written)
    target = SnapshotStore(settings).path_of(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(written, target)
    tables = {"t-v1": sha}
    result = run_sql(settings, 'SELECT x FROM "t-v1" ORDER BY x', tables)
    assert result.truncated and len(result.records) == ROW_LIMIT
    assert result.fields == [{"id": "x", "type": "int8"}]
    assert result.records[:2] == [{"x": 0}, {"x": 1}]
    # a file-reading function sqlglot does not know is still blocked by DuckDB's sandbox
    with pytest.raises(SqlRefused):
        run_sql(settings, "SELECT * FROM \"t-v1\" WHERE x IN (SELECT size FROM stat('/'))", tables)
    with pytest.raises(SqlRefused, match=r"Referenced column|not found|does not exist"):
        run_sql(settings, 'SELECT nope FROM "t-v1"', tables)
