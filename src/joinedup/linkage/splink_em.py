"""Expectation maximisation that stays within the numbers Splink accepts.

A level that only non-matches reach in a session's blocks (a national identifier that
differs, among pairs at one postcode and family name: couples, parents and children) has an
m that each EM iteration multiplies by a small factor: the pairs in it are all but certain
non-matches, so the share of match weight they carry shrinks with m itself. Given enough
iterations (more of them on larger data, where EM converges more slowly) it falls below
1e-300, and Splink refuses to store it: the session fails with ``ValueError: m_probability
value ... is below the minimum allowed``, and training fell back to another rule (on a
million records, the second session every time). In the same way the share of matches
among a session's pairs can reach 1 where nearly every blocked pair is a match, and its
log-odds become infinite.

:func:`floor_em` holds each iteration's m at or above :data:`EM_M_FLOOR` (1e-250: above
Splink's limit, so no session fails) and the session's share of matches strictly between 0
and 1. The floor only stops the failure: it is far below the scoring model's floor
(:data:`joinedup.linkage.model.M_FLOOR`, 1e-6, applied after training), because a higher one
changes what EM learns. Splink starts each session from the previous one's parameters and
keeps the median of the sessions' estimates; an m held at 1e-6 instead of falling towards 0
stays within reach of a later session, which can raise it again (the likely route: a
session whose blocks hold look-alikes, at one date of birth and postcode, twins each with
their own pupil number; the sessions' own estimates were not recorded). With
the floor at 1e-6, the demo region's m of "UPN different" came out at 0.095 (weight -3.4)
instead of the floor (-19.9), and three pairs of twins at school together merged
(issue 14, sixth pass).
"""

from __future__ import annotations

import functools
from typing import Any

import duckdb
from splink import DuckDBAPI
from splink.internals import expectation_maximisation as em
from splink.internals.pipeline import CTEPipeline
from splink.internals.predict import predict_from_agreement_pattern_counts_sqls

LAMBDA_CLOSED = 1e-9
#: The lowest m an EM iteration keeps: above Splink's limit (1e-300), far below the scoring
#: floor, so that it only stops a session failing and changes nothing EM learns otherwise.
EM_M_FLOOR = 1e-250
_LAMBDA = "_probability_two_random_records_match"


@functools.cache
def floor_em(m_floor: float) -> None:
    """Install the floors on Splink's maximisation step (once per process)."""
    original = getattr(em, "maximisation_step", None)
    if not callable(original):  # Splink changed: leave it
        return

    def floored(
        training_fixed_probabilities: set[str],
        core_model_settings: Any,
        param_records: list[dict[str, Any]],
    ) -> Any:
        return original(
            training_fixed_probabilities=training_fixed_probabilities,
            core_model_settings=core_model_settings,
            param_records=[floor_record(r, m_floor) for r in param_records],
        )

    em.maximisation_step = floored


def floor_record(record: dict[str, Any], m_floor: float) -> dict[str, Any]:
    """One row of the maximisation step's parameters, with m floored (a level) or the
    share of matches kept inside (0, 1)."""
    m = record.get("m_probability")
    if not isinstance(m, float) or m != m:  # None or NaN: Splink handles it
        return record
    if record.get("output_column_name") == _LAMBDA:
        bounded = min(max(m, LAMBDA_CLOSED), 1.0 - LAMBDA_CLOSED)
    else:
        bounded = max(m, m_floor)
    return record if bounded == m else {**record, "m_probability": bounded}


@functools.cache
def em_on_driver() -> None:
    """Run EM's iterations in DuckDB when a session's pairs are on Spark (once per process).

    With ``estimate_without_term_frequencies`` (joinedup's sessions) every iteration reads only
    the agreement patterns and their counts: at most one row per pattern, a table bounded by
    the model's levels whatever the data's size. On Spark each iteration was a job of its own
    (planning, code generation, a shuffle) for a few hundred rows; here Spark counts the
    patterns over the session's pairs once, and DuckDB iterates on the counts with Splink's
    own SQL (ADR 0046). A session with term frequencies, or on DuckDB, runs as Splink has it.
    """
    from splink.internals import em_training_session as sessions

    original = getattr(sessions, "expectation_maximisation", None)
    if not callable(original):  # Splink changed: leave it
        return

    def routed(**kwargs: Any) -> Any:
        spark = kwargs["db_api"].sql_dialect.sql_dialect_str == "spark"
        if spark and kwargs["estimate_without_term_frequencies"]:
            return em_from_patterns(**kwargs)
        return original(**kwargs)

    sessions.expectation_maximisation = routed  # type: ignore[assignment]


def em_from_patterns(**kwargs: Any) -> list[Any]:
    """Splink's ``expectation_maximisation`` (its keyword arguments, without term
    frequencies): the agreement patterns counted by the session's engine in one query, the
    iterations in a DuckDB of this process."""
    settings = kwargs["core_model_settings"]
    pipeline = CTEPipeline([kwargs["df_comparison_vector_values"]])
    pipeline.enqueue_sql(
        em.count_agreement_patterns_sql(settings.comparisons), "__splink__agreement_pattern_counts"
    )
    counted = kwargs["db_api"].sql_pipeline_to_splink_dataframe(pipeline)
    patterns = counted.as_pyarrow_table()
    counted.drop_table_from_database_and_remove_from_cache()
    con = duckdb.connect()
    try:
        con.register("jd_em_patterns_arrow", patterns)
        con.execute("CREATE TABLE __jd_em_patterns AS SELECT * FROM jd_em_patterns_arrow")
        driver = DuckDBAPI(connection=con)
        counts = driver.table_to_splink_dataframe(
            "__splink__agreement_pattern_counts", "__jd_em_patterns"
        )
        return _iterate(
            driver,
            counts,
            kwargs["training_settings"],
            settings,
            kwargs["training_fixed_probabilities"],
        )
    finally:
        con.close()


def _iterate(
    driver: Any,
    counts: Any,
    training: Any,
    settings: Any,
    fixed: set[str],
) -> list[Any]:
    """Splink's EM loop (``expectation_maximisation`` without term frequencies) on ``counts``,
    the agreement patterns and their counts, in ``driver``'s DuckDB."""
    history = [settings.copy()]
    for _ in range(training.max_iterations):
        pipeline = CTEPipeline()
        for step in predict_from_agreement_pattern_counts_sqls(
            settings.comparisons,
            settings.probability_two_random_records_match,
            sql_dialect=driver.sql_dialect,
        ):
            pipeline.enqueue_sql(step["sql"], step["output_table_name"])
        pipeline.enqueue_sql(
            em.compute_new_parameters_sql(True, settings.comparisons), "__splink__m_u_counts"
        )
        pipeline.append_input_dataframe(counts)
        params = driver.sql_pipeline_to_splink_dataframe(pipeline)
        records = em.compute_proportions_for_new_parameters(params)
        params.drop_table_from_database_and_remove_from_cache()
        settings = em.maximisation_step(
            training_fixed_probabilities=fixed,
            core_model_settings=settings,
            param_records=records,
        )
        history.append(settings)
        change = em._max_change_in_parameters_comparison_levels(history)
        if change["max_abs_change_value"] < training.em_convergence:
            break
    return history
