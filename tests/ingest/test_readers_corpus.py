"""The hostile corpus: every file gets its expected rule and row, or is accepted — and no read,
good or bad, leaves a table, a temporary file or a cell value in an error message behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from joinedup.ingest.errors import READ_RULES, IngestError
from joinedup.ingest.readers import read_source
from joinedup.store import duckdb_session
from tests.ingest.corpus import CASES, Case, build
from tests.support import make_settings

# Values that occur in the corpus files' cells; none may ever appear in an error message.
CELL_VALUES = ("Alex", "Smith", "SW1A", "R000", "£", "Café", "evil.example", "xxxxxxxx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb_session(make_settings(tmp_path / "home")) as con:
        yield con


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return sorted(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())


def test_corpus_is_big_and_varied() -> None:
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)
    rules = {c.rule for c in CASES if c.rule}
    assert len(rules) >= 25
    assert rules <= set(READ_RULES)
    assert sum(1 for c in CASES if c.rule is None) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(
    case: Case, corpus: dict[str, Path], con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    tmp_dir = tmp_path / "scratch"
    tmp_dir.mkdir()
    path = corpus[case.name]
    if case.rule is None:
        info = read_source(con, path, "src", case.options, tmp_dir=tmp_dir)
        assert info.row_count == con.execute("SELECT count(*) FROM src").fetchone()[0]
        assert _tables(con) == ["src"]
        if case.check:
            case.check(con, info)
    else:
        with pytest.raises(IngestError) as caught:
            read_source(con, path, "src", case.options, tmp_dir=tmp_dir)
        err = caught.value
        assert err.rule == case.rule, str(err)
        assert err.row == case.row, str(err)
        if case.column is not None:
            assert err.column == case.column
        assert err.file == case.name
        text = str(err)
        assert text.startswith(case.name + (f", row {case.row}:" if case.row else ":"))
        assert f" {case.rule} — " in text
        assert str(path.parent) not in text
        for value in CELL_VALUES:
            assert value not in text, f"a cell value leaked into: {text}"
        assert _tables(con) == []
    assert list(tmp_dir.iterdir()) == []


def test_later_rules_are_recorded_for_the_validator() -> None:
    later = {c.name: c.later for c in CASES if c.later}
    assert later == {"impossible-date.csv": ("invalid_date", 3)}
