"""`joinedup linkage evaluate --labels`: linkage output judged against any labelled file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines
from joinedup.cli import app
from joinedup.config import Settings
from joinedup.linkage.evaluate import (
    LabelError,
    LinkMetrics,
    evaluate_clusters,
    evaluate_pairs,
    evaluate_run_labels,
)
from joinedup.linkage.runs import latest_run
from joinedup.store import SnapshotStore
from tests.linkage.region import copy_home

# Eight records of four people: the labels say who is who.
PEOPLE = """ref,first,last,dob,postcode,person
1,Oliver,Jones,2020-04-19,SE21 4LY,p1
2,Ollie,Jones,2020-04-19,SE21 4LY,p1
3,Amelia,Jones,2017-08-03,SE21 4LY,p2
4,Amelia,Jones,2017-03-08,SE21 4LY,p2
5,Grace,Taylor,1950-01-01,N1 1AA,p3
6,Grace,Taylor,1950-01-01,E8 2PB,p3
7,Grace,Taylor-Brown,1950-01-01,E8 2PB,p3
8,Mohammed,Khan,2001-03-03,E1 6AN,p4
"""
LEFT = """id,given,family,birth,pc,who
L1,Robert,Smith,1980-02-01,SW1A 1AA,a
L2,Elizabeth,Jones,1975-07-15,SE1 7PB,b
L3,Mohammed,Khan,2001-03-03,E1 6AN,c
L4,Anna,Nowak,2013-11-21,SE22 7AJ,d
"""
RIGHT = """id,given,family,birth,pc,who
R1,Bob,Smith,1980-02-01,SW1A 1AA,a
R2,Liz,Jones,1975-07-15,SE1 7PB,b
R3,Muhammad,Khan,2001-03-03,E1 6AN,c
R4,Mohamed,Khan,2001-03-03,E1 6AN,c
R9,John,Brown,1990-01-01,N1 1AA,z
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_clusters_against_labels_exact_figures(tmp_path: Path) -> None:
    labels = _write(tmp_path, "people.csv", PEOPLE)
    # p1 together, p2 split, p3's records 6 and 7 joined with 8 (a false merge); 5 missing
    clusters = _write(
        tmp_path, "clusters.csv", "record_id,cluster_id\n1,1\n2,1\n3,3\n4,4\n6,6\n7,6\n8,6\n"
    )
    got = evaluate_clusters(labels, clusters, id_columns=["ref"], entity_column="person")
    # true pairs: p1 1, p2 1, p3 3 = 5; predicted: {1,2} 1 + {6,7,8} 3 = 4; correct: 1 + 1
    assert (got.true_pairs, got.predicted_pairs, got.correct_pairs) == (5, 4, 2)
    assert got.precision == pytest.approx(0.5) and got.recall == pytest.approx(0.4)
    assert got.records == 8 and got.persons == 4 and got.clusters == 5  # 5 on its own
    assert 0 < got.bcubed_f1 < 1
    code, out = _cli(
        "linkage", "evaluate", "--labels", str(labels), "--id-column", "ref",
        "--entity-column", "person", "--clusters", str(clusters), "--json",
    )  # fmt: skip
    assert code == 0, out
    figures = json.loads(out)
    assert figures["pairwise_f1"] == pytest.approx(2 * 0.5 * 0.4 / 0.9, abs=1e-4)
    assert "twin_junior_senior_pairs" in figures  # zero: the labels name no hard pairs
    code, out = _cli(
        "linkage", "evaluate", "--labels", str(labels), "--id-column", "ref",
        "--entity-column", "person", "--clusters", str(clusters),
    )  # fmt: skip
    assert code == 0 and "pairwise precision" in out and "twin" not in out


def test_real_dedupe_output_is_judged(tmp_path: Path) -> None:
    labels = _write(tmp_path, "people.csv", PEOPLE)
    out = tmp_path / "dedupe.csv"
    code, text = _cli(
        "dedupe", str(labels), "--out", str(out), "--id", "ref",
        "--map", "first=given_name", "--map", "last=family_name",
    )  # fmt: skip
    assert code == 0, text
    got = evaluate_clusters(labels, out, id_columns=["ref"], entity_column="person")
    assert got.records == 8 and got.true_pairs == 5
    # Oliver/Ollie at one address with one date of birth: the pair any model should find
    assert got.correct_pairs >= 1
    assert got.precision > 0 and 0 < got.f1 <= 1


def test_match_pairs_against_two_labelled_files(tmp_path: Path) -> None:
    left, right = _write(tmp_path, "left.csv", LEFT), _write(tmp_path, "right.csv", RIGHT)
    pairs = _write(
        tmp_path,
        "pairs.csv",
        "left_id,right_id,match_probability\nL1,R1,0.99\nL3,R3,0.97\nL2,R9,0.95\nL3,R4,0.4\n",
    )
    got = evaluate_pairs(
        [left, right], pairs, id_columns=["id"], entity_column="who", threshold=0.9
    )
    assert isinstance(got, LinkMetrics)
    # true pairs: a 1, b 1, c 2 = 4; kept 3 pairs, 2 right
    assert (got.true_pairs, got.predicted_pairs, got.correct_pairs) == (4, 3, 2)
    every = evaluate_pairs([left, right], pairs, id_columns=["id"], entity_column="who")
    assert (every.predicted_pairs, every.correct_pairs) == (4, 3)
    # a real `joinedup match` run
    out = tmp_path / "matched.csv"
    code, text = _cli(
        "match", str(left), str(right), "--out", str(out), "--id-left", "id", "--id-right", "id",
        "--map-left", "given=given_name", "--map-right", "given=given_name",
        "--map-left", "family=family_name", "--map-right", "family=family_name",
        "--map-left", "birth=date_of_birth", "--map-right", "birth=date_of_birth",
        "--map-left", "pc=postcode", "--map-right", "pc=postcode", "--threshold", "0.5",
    )  # fmt: skip
    assert code == 0, text
    code, text = _cli(
        "linkage", "evaluate", "--labels", str(left), "--labels", str(right), "--id-column",
        "id", "--entity-column", "who", "--pairs", str(out), "--json",
    )  # fmt: skip
    assert code == 0, text
    figures = json.loads(text)
    assert figures["true_pairs"] == 4 and figures["left_records"] == 4
    assert figures["correct_pairs"] >= 2 and figures["pairwise_precision"] > 0.5


def test_pairs_within_one_file_are_clustered(tmp_path: Path) -> None:
    labels = _write(tmp_path, "people.csv", PEOPLE)
    pairs = _write(
        tmp_path, "pairs.csv", "left_id,right_id,match_probability\n1,2,0.99\n5,6,0.9\n6,7,0.9\n"
    )
    got = evaluate_pairs([labels], pairs, id_columns=["ref"], entity_column="person")
    # components {1,2} and {5,6,7}: 4 predicted pairs, all right, of 5 true
    assert (got.predicted_pairs, got.correct_pairs, got.true_pairs) == (4, 4, 5)
    assert got.precision == 1.0


def test_bad_files_get_clear_errors(tmp_path: Path) -> None:
    labels = _write(tmp_path, "people.csv", PEOPLE)
    clusters = _write(tmp_path, "clusters.csv", "record_id,cluster_id\n1,1\n2,1\n")
    with pytest.raises(LabelError, match=r"people.csv: no column 'who' \(columns: ref, first"):
        evaluate_clusters(labels, clusters, id_columns=["ref"], entity_column="who")
    twice = _write(tmp_path, "twice.csv", PEOPLE + "3,Amelia,Jones,2017-08-03,SE21 4LY,p2\n")
    with pytest.raises(LabelError, match=r"twice.csv: 2 rows repeat an id .*first at data row 3"):
        evaluate_clusters(twice, clusters, id_columns=["ref"], entity_column="person")
    unnamed = _write(tmp_path, "unnamed.csv", PEOPLE.replace(",p4\n", ",\n"))
    with pytest.raises(LabelError, match=r"unnamed.csv: 1 rows have no 'person' .*row 8"):
        evaluate_clusters(unnamed, clusters, id_columns=["ref"], entity_column="person")
    stray = _write(tmp_path, "stray.csv", "record_id,cluster_id\n1,1\n99,1\n")
    with pytest.raises(
        LabelError, match=r"stray.csv: 1 ids in column 'record_id' are not in the labels"
    ):
        evaluate_clusters(labels, stray, id_columns=["ref"], entity_column="person")
    again = _write(tmp_path, "again.csv", "record_id,cluster_id\n1,1\n1,2\n")
    with pytest.raises(LabelError, match=r"again.csv: 2 rows repeat a record id"):
        evaluate_clusters(labels, again, id_columns=["ref"], entity_column="person")
    with pytest.raises(LabelError, match=r"nowhere.csv: no such file"):
        evaluate_clusters(tmp_path / "nowhere.csv", again, id_columns=["ref"], entity_column="x")
    code, out = _cli(
        "linkage", "evaluate", "--labels", str(labels), "--id-column", "ref",
        "--entity-column", "person", "--clusters", str(stray),
    )  # fmt: skip
    assert code == 1 and "not in the labels" in out
    code, out = _cli("linkage", "evaluate", "--labels", str(labels), "--clusters", str(stray))
    assert code == 1 and "--id-column" in out


@pytest.mark.slow
def test_the_hubs_index_against_labels(linked_region_template: Settings, tmp_path: Path) -> None:
    settings = copy_home(linked_region_template, tmp_path / "home")
    run = latest_run(settings)
    assert run is not None
    index = duckdb.sql(
        f"SELECT record_key, organisation, dataset, CAST(source_record_id AS VARCHAR) AS sid, "
        f"resident_id FROM {SnapshotStore(settings).sql_source(run.index_sha256)}"
    ).fetchall()
    dispose_engines()
    # labels that agree with the index exactly, keyed by record key ...
    exact = tmp_path / "exact.csv"
    exact.write_text(
        "key,who\n" + "".join(f"{k},{r}\n" for k, _, _, _, r in index), encoding="utf-8"
    )
    got = evaluate_run_labels(settings, exact, id_columns=["key"], entity_column="who")
    assert got.records == len(index) and got.precision == got.recall == 1.0
    # ... and by organisation, dataset and source record id, with one resident's records
    # said to be two people: precision falls by exactly the pairs across the split
    sizes: dict[str, int] = {}
    for *_, r in index:
        sizes[r] = sizes.get(r, 0) + 1
    big = max(sizes, key=lambda r: (sizes[r], r))
    n, seen = sizes[big], 0
    lines = ["org,ds,sid,who"]
    for _, o, d, s, r in index:
        who = r
        if r == big:
            seen += 1
            who = f"{r}-b" if seen == 1 else r
        lines.append(f"{o},{d},{s},{who}")
    split = tmp_path / "split.csv"
    split.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {"JOINEDUP_HOME": str(settings.home), "JOINEDUP_DATABASE_URL": ""}
    code, out = _cli(
        "linkage", "evaluate", "--labels", str(split), "--id-column", "org,ds,sid",
        "--entity-column", "who", "--run", str(run.id), "--json", env=env,
    )  # fmt: skip
    dispose_engines()
    assert code == 0, out
    figures = json.loads(out)
    assert figures["recall"] == 1.0
    assert figures["predicted_pairs"] - figures["correct_pairs"] == n - 1
