"""Model JSON round trip, evaluation metrics on a tiny known example, constrained clustering."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from joinedup.linkage import model as m
from joinedup.linkage.cluster import (
    cannot_link_sql,
    cluster_records,
    connected_components,
    link_threshold,
)
from joinedup.linkage.comparisons import date_of_birth, gamma, given_name
from joinedup.linkage.evaluate import metrics


def test_model_json_round_trip(tmp_path: Path) -> None:
    settings, record = m.reference_settings("dedupe_only", [5000], with_source=True)
    model = m.LinkageModel(
        settings=settings, threshold=0.95, review_band=(0.4, 0.95), training=record, version=3
    )
    path = model.save(tmp_path / "models" / "3.json")
    data = json.loads(path.read_text())
    assert data["format"] == m.MODEL_FORMAT and data["version"] == 3
    assert data["name_variants"].startswith("nicknames ")
    loaded = m.LinkageModel.load(path)
    assert loaded.settings == model.settings
    assert (loaded.threshold, loaded.review_band, loaded.version) == (0.95, (0.4, 0.95), 3)
    assert loaded.training == record
    # the loaded settings drive a Splink linker as they are
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 0::BIGINT AS rid")
    assert m.make_linker(con, ["t"], loaded.settings) is not None


def test_untrained_levels_get_documented_defaults() -> None:
    settings = m.settings_dict(with_source=False)
    filled = m.complete_parameters(settings, u_floor=1e-6)
    nhs = next(c for c in settings["comparisons"] if c["output_column_name"] == "nhs_number")
    m_of = {
        lv["label_for_charts"]: lv["m_probability"]
        for lv in nhs["comparison_levels"]
        if not lv.get("is_null_level")
    }
    assert m_of == {"same": 0.98, "two characters transposed": 0.005, "different": 0.015}
    assert filled  # every level was reported


def test_metrics_on_a_known_example() -> None:
    con = duckdb.connect()
    # persons: P1 = a,b,c; P2 = d,e; P3 = f. Clusters: X = a,b; Y = c,d,e; Z = f; g has no truth
    con.register(
        "assign",
        pa.table(
            {
                "cluster": ["X", "X", "Y", "Y", "Y", "Z", "Z"],
                "person": [1, 1, 1, 2, 2, 3, None],
            }
        ),
    )
    con.register(
        "hard",
        pa.table({"person_a": [1, 2], "person_b": [2, 3], "kind": ["twin", "junior_senior"]}),
    )
    result = metrics(con, "assign", "hard")
    # true pairs: ab ac bc de = 4; predicted: ab cd ce de = 4; correct: ab de = 2
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (4, 4, 2)
    assert result.precision == 0.5 and result.recall == 0.5 and result.f1 == 0.5
    # B-cubed precision: a,b 1; c 1/3; d,e 2/3; f 1 -> (1+1+1/3+2/3+2/3+1)/6
    assert abs(result.bcubed_precision - (14 / 3) / 6) < 1e-9
    # B-cubed recall: a,b 2/3; c 1/3; d,e 1; f 1 -> (2/3+2/3+1/3+1+1+1)/6
    assert abs(result.bcubed_recall - (14 / 3) / 6) < 1e-9
    assert abs(result.exact_clusters - 1 / 3) < 1e-9  # only P3 (g has no truth, so Z = f)
    assert result.hard_negatives == {
        "junior_senior": {"pairs": 1, "merged": 0},
        "twin": {"pairs": 1, "merged": 1},
    }
    assert result.hard_negative_rate == 0.5


def test_connected_components() -> None:
    labels = connected_components(6, np.array([0, 2, 4]), np.array([1, 3, 3]))
    assert labels.tolist() == [0, 0, 2, 2, 2, 5]


def test_a_cannot_link_stops_a_chain_through_a_third_record() -> None:
    # 0 = father (dob), 1 = son (dob), 2 = father's council tax record (no dob): 2 links to
    # both, more strongly to the father; 0 and 1 must not end up together
    links = (np.array([0, 1]), np.array([2, 2]), np.array([0.99, 0.95]))
    cannot = (np.array([0]), np.array([1]))
    result = cluster_records(3, links, cannot)
    assert result.labels[0] == result.labels[2] != result.labels[1]
    assert result.links_refused == 1 and result.conflicted_components == 1


def test_similar_given_names_are_a_cannot_link_only_where_both_records_hold_a_date() -> None:
    # JACK / JAKE born the same day (twins) stay apart; AISHA / AYESHA where one record has
    # no date of birth is a spelling the variant data lacks, not evidence of two people; a
    # given name that is plainly different is a conflict either way
    similar, different = gamma(given_name(), "similar"), gamma(given_name(), "different")
    exact_dob, no_dob = gamma(date_of_birth(), "exact"), -1
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE p (id INT, match_probability DOUBLE, match_weight DOUBLE, "
        "gamma_given_name INT, gamma_date_of_birth INT, gamma_sex INT, gamma_middle_names INT)"
    )
    con.executemany(
        "INSERT INTO p VALUES (?, 0.4, -1.0, ?, ?, -1, -1)",
        [(1, similar, exact_dob), (2, similar, no_dob), (3, different, no_dob)],
    )
    refused = cannot_link_sql(0.9, with_source=False)
    rows = con.execute(f"SELECT id FROM p WHERE {refused} ORDER BY id").fetchall()
    assert rows == [(1,), (3,)]
    # a model without dates of birth at all: "similar" is no conflict on its own
    columns = {"match_probability", "match_weight", "gamma_given_name"}
    refused = cannot_link_sql(0.9, with_source=False, present=columns)
    assert con.execute(f"SELECT id FROM p WHERE {refused} ORDER BY id").fetchall() == [(3,)]


def test_a_dedupe_links_at_twice_the_odds_with_households_and_half_without() -> None:
    # 0.9 is odds of 9: 18 (0.947) where the file shows households of different people,
    # whose look-alikes the model over-rates; 4.5 (0.818) in a file of duplicates
    assert math.isclose(link_threshold(0.9, households=True), 18 / 19)
    assert math.isclose(link_threshold(0.9, households=False), 4.5 / 5.5)
    assert math.isclose(link_threshold(0.5, households=True, bits=2.0), 0.8)
    # the order of thresholds is kept, and 0 and 1 mean what they say
    assert link_threshold(0.8, True) < link_threshold(0.9, True) < link_threshold(0.95, True)
    assert link_threshold(1.0, True) == 1.0 and link_threshold(0.0, False) == 0.0
    # a pair at 0.92 links in a file of duplicates, not in a file of households
    links = (np.array([0]), np.array([1]), np.array([0.92]))
    none: tuple[np.ndarray, np.ndarray] = (np.array([], dtype=np.int64),) * 2
    for households, joined in ((True, False), (False, True)):
        keep = links[2] >= link_threshold(0.9, households)
        chosen = (links[0][keep], links[1][keep], links[2][keep])
        labels = cluster_records(2, chosen, none).labels
        assert bool(labels[0] == labels[1]) == joined


def _weights(con: duckdb.DuckDBPyConnection, weights: list[float]) -> str:
    con.execute("CREATE OR REPLACE TABLE scored (match_weight DOUBLE)")
    con.executemany("INSERT INTO scored VALUES (?)", [(w,) for w in weights])
    return "scored"


def test_calibrated_prior_recovers_the_share_of_matches() -> None:
    con = duckdb.connect()
    prior = 1e-4
    # 50 pairs certain at any prior, 1,000 certain non-matches, among 100,000 pairs: the
    # calibrated prior is 50 in 100,000 whatever the first guess
    pairs = _weights(con, [40.0] * 50 + [-40.0] * 1000)
    calibrated = m.calibrated_prior(con, pairs, 100_000, prior)
    assert abs(calibrated - 50 / 100_000) < 1e-6


def test_calibrated_prior_does_not_collapse_to_zero() -> None:
    con = duckdb.connect()
    prior = 1e-3
    # weak evidence everywhere: each step lowers the prior, which lowers the next step's
    # sum, down to nothing; the deterministic rules' share (and one match) hold it up
    pairs = _weights(con, [math.log2(prior / (1 - prior)) + 6.0] * 200)
    unguarded = m.calibrated_prior(con, pairs, 1e7, prior)
    assert unguarded == 1e-7  # one match among all pairs, not 0
    found = 20 / 1e7
    assert m.calibrated_prior(con, pairs, 1e7, prior, floor=found) == found


def test_em_floors_an_m_that_would_underflow_and_keeps_the_share_of_matches_inside() -> None:
    from joinedup.linkage.splink_em import LAMBDA_CLOSED, floor_record

    level = {"output_column_name": "ni_number", "comparison_vector_value": 0}
    # Splink refuses an m below 1e-300 (the session failed with a ValueError)
    assert floor_record({**level, "m_probability": 1.5e-302}, m.M_FLOOR)["m_probability"] == (
        m.M_FLOOR
    )
    assert floor_record({**level, "m_probability": 0.3}, m.M_FLOOR)["m_probability"] == 0.3
    share = {"output_column_name": "_probability_two_random_records_match"}
    assert floor_record({**share, "m_probability": 1.0}, m.M_FLOOR)["m_probability"] == (
        1.0 - LAMBDA_CLOSED
    )
    assert floor_record({**share, "m_probability": 1e-7}, m.M_FLOOR)["m_probability"] == 1e-7


def test_em_floor_only_stops_the_failure_and_leaves_small_m_to_em() -> None:
    """EM's floor is above Splink's limit and far below the scoring floor: an m that EM drove
    towards 0 stays there (held at 1e-6, a later session could raise it again, and twins at
    school together merged on the demo region: issue 14, sixth pass)."""
    from splink.internals.comparison_level import M_U_CLAMP_MIN

    from joinedup.linkage.splink_em import EM_M_FLOOR, floor_record

    assert M_U_CLAMP_MIN <= EM_M_FLOOR < m.M_FLOOR * 1e-100
    level = {"output_column_name": "upn", "comparison_vector_value": 0}
    assert floor_record({**level, "m_probability": 1e-200}, EM_M_FLOOR)["m_probability"] == (1e-200)
    assert floor_record({**level, "m_probability": 1.5e-302}, EM_M_FLOOR)["m_probability"] == (
        EM_M_FLOOR
    )


def test_em_on_counted_agreement_patterns_is_splinks_em(monkeypatch: pytest.MonkeyPatch) -> None:
    """The EM loop that a Spark build runs in DuckDB (ADR 0046) learns what Splink's own
    loop learns, on the same pairs: here both on DuckDB, 400 people with typo'd copies."""
    import random

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.internals import em_training_session as sessions

    from joinedup.linkage.splink_em import em_from_patterns

    rng = random.Random(19)
    letters = "ABCDEFGHIJKLMNOPRSTW"
    rows = []
    for i in range(400):
        person = {
            "first": "".join(rng.choices(letters, k=5)),
            "surname": "".join(rng.choices(letters, k=6)),
            "city": rng.choice(["LEEDS", "YORK", "HULL", "BATH"]),
            "dob": f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        }
        rows.append({"unique_id": 2 * i, **person})
        if rng.random() < 0.5:  # a copy with one field changed
            field = rng.choice(["first", "surname", "city"])
            rows.append({"unique_id": 2 * i + 1, **person, field: person[field][::-1]})
    table = pa.Table.from_pylist(rows)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.ExactMatch(c) for c in ("first", "surname", "city", "dob")],
    )

    def learnt() -> list[tuple[str, float | None]]:
        linker = Linker(DuckDBAPI().register(table), settings)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e5, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("dob"), estimate_without_term_frequencies=True
        )
        return [
            (f"{c.output_column_name} {lv.label_for_charts}", lv.m_probability)
            for c in linker._settings_obj.comparisons
            for lv in c._comparison_levels_excluding_null
        ]

    splinks = learnt()
    calls: list[int] = []

    def counted(**kwargs: Any) -> list[Any]:
        calls.append(1)
        return em_from_patterns(**kwargs)

    monkeypatch.setattr(sessions, "expectation_maximisation", counted)
    ours = learnt()
    assert calls == [1]  # the session ran through the DuckDB loop
    assert [name for name, _ in ours] == [name for name, _ in splinks]
    assert all(m is not None for _, m in ours)
    assert [m for _, m in ours] == pytest.approx([m for _, m in splinks], rel=1e-9)
