"""The joinedup person-linkage model: Splink 5 settings, unsupervised training, prediction, and
versioned JSON files holding the Splink settings with our training record.

Training is unsupervised and deterministic: the prior (probability that two random records
match) from deterministic rules and an assumed recall, u probabilities by random sampling with
a fixed seed, m probabilities by expectation maximisation on blocked pairs (two sessions, each
estimating the comparisons its blocking rule does not use).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from splink import Linker
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.exceptions import SplinkException
from splink.internals.splink_dataframe import SplinkDataFrame

from joinedup import __version__
from joinedup.linkage import namesakes
from joinedup.linkage.comparisons import (
    COMPARISON_FIELDS,
    comparisons,
    with_household_conflict,
    with_household_context,
    without_absent,
)
from joinedup.linkage.names import dataset_version
from joinedup.linkage.on_spark import SparkLinkage, with_parameters
from joinedup.linkage.splink_em import EM_M_FLOOR, em_on_driver, floor_em
from joinedup.linkage.splink_speed import FastDuckDBAPI, speed_up
from joinedup.linkage.u_from_values import (
    IDENTIFIERS,
    SAME,
    TRANSPOSED,
    exact_u,
    household_u,
    identifier_u,
    with_exact_u,
    with_identifier_u,
)
from joinedup.store.duck import with_memory_to_spare

MODEL_FORMAT = "joinedup-linkage-model/1"
UNIQUE_ID = "rid"
SOURCE_DATASET = "source_dataset"

#: Candidate pairs are records that agree on at least one of these (each rule after the first
#: only adds pairs the earlier ones did not). Every rule is an equi-join on prepared columns,
#: so the count of pairs stays near-linear in the number of records.
BLOCKING_RULES: tuple[str, ...] = (
    "l.nhs_number = r.nhs_number",
    "l.ni_number = r.ni_number",
    "l.upn = r.upn",
    "l.other_id = r.other_id",
    "l.email = r.email",
    "l.dob = r.dob AND l.given_name = r.given_name",
    "l.dob = r.dob AND l.family_compact = r.family_compact",
    "l.dob = r.dob AND l.postcode_district = r.postcode_district",
    "l.dob = r.dob AND l.postcode = r.postcode",
    "l.postcode = r.postcode AND l.given_name = r.given_name",
    "l.uprn = r.uprn AND l.given_name = r.given_name",
    "l.given_name = r.given_name AND l.family_compact = r.family_compact "
    "AND l.postcode_sector = r.postcode_sector",
    "l.given_name = r.given_name AND l.family_compact = r.family_compact AND l.address = r.address",
    "left(l.given_name, 1) = left(r.given_name, 1) AND l.family_compact = r.family_compact "
    "AND l.postcode = r.postcode",
    "l.given_name = r.family_name AND l.family_name = r.given_name",
    # people known by name alone (one record without a date of birth), who may have moved:
    # only names few records carry (``full_name_block``), so the pairs stay near-linear
    "l.full_name_block = r.full_name_block AND (l.dob IS NULL OR r.dob IS NULL)",
)

#: Looser rules, for analysts' spreadsheets (``joinedup match`` / ``dedupe``): they find the
#: pairs whose identifiers, names and dates are all corrupted at once, but make far too
#: many pairs on a region. Each is added, in order, only while the pairs it adds keep the
#: total within :data:`LOOSE_PAIR_BUDGET` (counted by Splink's blocking analysis).
LOOSE_RULES: tuple[str, ...] = (
    "l.given_name = r.given_name",
    "l.family_compact = r.family_compact",
    "l.dob = r.dob",
    "l.postcode = r.postcode",
)
LOOSE_PAIR_BUDGET = 5_000_000

#: Rules for the prior: pairs these admit are almost surely matches; ``recall`` is the share
#: of all true matches they are assumed to find.
PRIOR_RULES: tuple[str, ...] = (
    "l.nhs_number = r.nhs_number",
    "l.given_name = r.given_name AND l.family_name = r.family_name AND l.dob = r.dob "
    "AND l.postcode = r.postcode",
)

#: EM sessions: each estimates m for the comparisons whose SQL reads no column of its rule
#: (address from the first; given, middle names and date of birth from the second; family name
#: from the third).
EM_RULES: tuple[str, ...] = (
    "l.dob = r.dob AND l.given_name = r.given_name",
    "l.postcode = r.postcode AND l.family_compact = r.family_compact",
    "l.dob = r.dob AND l.postcode = r.postcode",
)

#: A session whose rule finds no pairs (a file without postcodes) is replaced by the first of
#: these that does, so that the comparisons it trains learn m from the data rather than
#: taking the reference model's (trained on the synthetic region, where dates of birth are
#: rarely mistyped: on fake_1000 that vetoed most true pairs).
EM_FALLBACK: dict[str, tuple[str, ...]] = {
    EM_RULES[1]: ("l.given_name = r.given_name AND l.family_compact = r.family_compact",),
    EM_RULES[2]: ("l.dob = r.dob AND l.email = r.email", "l.dob = r.dob AND l.town = r.town"),
}

Progress = Callable[[float, str], None]

#: Prior when deterministic rules find no matches (tiny or identifier-less files).
DEFAULT_PRIOR = 0.001


@dataclass(frozen=True)
class TrainingOptions:
    """Parameters of unsupervised training (all recorded in the model file)."""

    seed: int = 2026
    u_max_pairs: float = 2e6
    em_max_pairs: float | None = 2e6
    prior_recall: float = 0.6
    em_convergence: float = 0.0001
    max_iterations: int = 25


@dataclass
class LinkageModel:
    """Splink settings (with trained parameters) and joinedup's metadata about them."""

    settings: dict[str, Any]
    threshold: float = 0.9
    review_band: tuple[float, float] = (0.5, 0.9)
    training: dict[str, Any] = field(default_factory=dict)
    version: int | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "version": self.version,
            "created_at": self.created_at,
            "joinedup_version": __version__,
            "name_variants": dataset_version(),
            "threshold_match_probability": self.threshold,
            "review_band": list(self.review_band),
            "training": self.training,
            "splink_settings": self.settings,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkageModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a joinedup linkage model (format {data.get('format')!r})")
        low, high = data.get("review_band", (0.5, 0.9))
        return cls(
            settings=data["splink_settings"],
            threshold=float(data["threshold_match_probability"]),
            review_band=(float(low), float(high)),
            training=data.get("training", {}),
            version=data.get("version"),
            created_at=data.get("created_at", ""),
        )

    def save(self, path: Path) -> Path:
        """Write the model as JSON atomically (temp file + rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> LinkageModel:
        return cls.from_dict(json.loads(Path(path).read_text()))


def settings_dict(link_type: str = "dedupe_only", with_source: bool = True) -> dict[str, Any]:
    """The untrained Splink settings of the joinedup person model."""
    return {
        "link_type": link_type,
        "unique_id_column_name": UNIQUE_ID,
        "source_dataset_column_name": SOURCE_DATASET,
        "comparisons": comparisons(with_source),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule} for rule in BLOCKING_RULES
        ],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "linker_uid": "joinedup",
    }


def quiet_splink() -> None:
    """Splink logs every step at INFO; joinedup reports progress itself."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def make_linker(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    settings: dict[str, Any],
    *,
    lazy_levels: bool = False,
) -> Linker:
    """A Splink linker over prepared DuckDB tables (registered as SplinkDataFrames).
    ``lazy_levels``: see :class:`joinedup.linkage.splink_speed.FastDuckDBAPI`."""
    quiet_splink()
    speed_up()
    db_api = FastDuckDBAPI(con, lazy_levels=lazy_levels)
    frames = [db_api.register(t, table_name=f"__jd_input_{i}") for i, t in enumerate(tables)]
    for frame, name in zip(frames, tables, strict=True):
        frame.dataset_display_name = name
    inputs: SplinkDataFrame | list[SplinkDataFrame] = frames[0] if len(frames) == 1 else frames
    # the settings are joinedup's own (tested in tests/linkage): Splink's validation parses
    # every level's SQL with sqlglot, about a second per linker for these comparisons
    return Linker(inputs, settings, log_level=None, validate_settings=False)


def engine_linker(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    settings: dict[str, Any],
    spark: SparkLinkage | None = None,
    *,
    lazy_levels: bool = False,
) -> Linker:
    """A linker over prepared DuckDB ``tables``: on DuckDB, or on Spark when ``spark`` is
    given (the tables handed over as Parquet, the SQL emitted in Spark's dialect)."""
    if spark is None:
        return make_linker(con, tables, settings, lazy_levels=lazy_levels)
    quiet_splink()
    speed_up()
    em_on_driver()
    return spark.linker(con, list(tables), settings)


def blocking_rules_for(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    link_type: str,
    budget: int = LOOSE_PAIR_BUDGET,
) -> tuple[list[str], int]:
    """:data:`BLOCKING_RULES` plus each of :data:`LOOSE_RULES` that keeps the pairs within
    ``budget``; returns the rules and the pairs they make.

    The pairs are counted as Splink's blocking analysis counts them (each rule's pairs that
    no earlier rule makes), one rule at a time, stopping at the first loose rule that does
    not fit: the same numbers without Splink parsing every rule with sqlglot (about half a
    second of a 5,000-record dedupe)."""
    if link_type == "dedupe_only" and len(tables) == 1:
        left = right = tables[0]
        pair = f"l.{UNIQUE_ID} < r.{UNIQUE_ID}"
    elif link_type == "link_only" and len(tables) == 2:
        left, right = tables
        pair = "TRUE"
    else:
        return _blocking_rules_by_splink(con, tables, link_type, budget)

    def marginal(index: int, rule: str) -> int:
        earlier = "".join(f" AND NOT coalesce(({r}), FALSE)" for r in everything[:index])
        sql = f"SELECT count(*) FROM {left} l JOIN {right} r ON ({rule}) AND {pair}{earlier}"
        return int(con.execute(sql).fetchall()[0][0])

    everything = [*BLOCKING_RULES, *LOOSE_RULES]
    rules = list(BLOCKING_RULES)
    total = sum(marginal(i, rule) for i, rule in enumerate(BLOCKING_RULES))
    for i, rule in enumerate(LOOSE_RULES, start=len(BLOCKING_RULES)):
        added = marginal(i, rule)
        if total + added > budget:
            break
        rules.append(rule)
        total += added
    return rules, total


def _blocking_rules_by_splink(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    link_type: str,
    budget: int,
) -> tuple[list[str], int]:
    """:func:`blocking_rules_for` counted by Splink's blocking analysis (any link type)."""
    quiet_splink()
    db_api = FastDuckDBAPI(con)
    frames = [db_api.register(t, table_name=f"__jd_count_{i}") for i, t in enumerate(tables)]
    counts = count_comparisons_from_blocking_rules(
        frames if len(frames) > 1 else frames[0],
        blocking_rules=[*BLOCKING_RULES, *LOOSE_RULES],
        link_type=link_type,  # type: ignore[arg-type]
        unique_id_column_name=UNIQUE_ID,
        source_dataset_column_name=SOURCE_DATASET if len(frames) > 1 else None,
        record_sample_proportion=1.0,
    )
    strict = len(BLOCKING_RULES)
    rules = list(BLOCKING_RULES)
    total = int(counts[strict - 1]["cumulative_comparison_count"])
    for rule, count in zip(LOOSE_RULES, counts[strict:], strict=True):
        added = int(count["marginal_comparison_count"])
        if total + added > budget:
            break
        rules.append(rule)
        total += added
    return rules, total


DEFAULT_M = {SAME: 0.98, TRANSPOSED: 0.005, "different": 0.015}
DEFAULT_M_OTHER = 0.001


M_FLOOR = 1e-6


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def complete_parameters(settings: dict[str, Any], u_floor: float) -> list[str]:
    """Give every level without a trained m or u a documented default; return which.

    * A level neither trained nor sampled carries no weight (m = u).
    * An m that EM could not estimate (too few pairs in its blocks) is taken from the shipped
      reference model when it has the level.
    * A u that random sampling never observed is below about one over the pairs sampled:
      ``u_floor`` (that bound) is used.
    * A national identifier whose "same" level EM never saw gets the priors of
      :data:`DEFAULT_M` on both levels (its "different" level alone would say m = 1).
    * Other untrained m: :data:`DEFAULT_M_OTHER`. Trained m below :data:`M_FLOOR` are raised
      to it, so that no single level decides a pair by itself.
    """
    filled: list[str] = []
    reference = reference_m()
    for comparison in settings["comparisons"]:
        column = comparison["output_column_name"]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        if column in IDENTIFIERS and not any(
            lv["label_for_charts"] == "same" and _is_number(lv.get("m_probability"))
            for lv in levels
        ):
            for level in levels:
                level["m_probability"] = DEFAULT_M[level["label_for_charts"]]
                filled.append(f"{column}: {level['label_for_charts']} (m)")
        for level in levels:
            name = f"{column}: {level['label_for_charts']}"
            has_m, has_u = (
                _is_number(level.get("m_probability")),
                _is_number(level.get("u_probability")),
            )
            if not has_m and not has_u:
                level["m_probability"] = level["u_probability"] = u_floor
                filled.append(f"{name} (m and u: no weight)")
                continue
            if not has_m:
                fallback = reference.get((column, level["label_for_charts"]))
                if fallback is not None:
                    level["m_probability"] = fallback
                    filled.append(f"{name} (m from the reference model)")
                else:
                    level["m_probability"] = DEFAULT_M.get(
                        level["label_for_charts"], DEFAULT_M_OTHER
                    )
                    filled.append(f"{name} (m)")
            if not has_u:
                level["u_probability"] = u_floor
                filled.append(f"{name} (u)")
            level["m_probability"] = max(float(level["m_probability"]), M_FLOOR)
    return filled


def reference_m() -> dict[tuple[str, str], float]:
    """m of every level the shipped reference model learnt, by (comparison, level label).

    Levels its own training never saw carry no weight there (m = u, both a floor): their m
    says nothing about how often true matches fall in them, so they are left out and the
    level gets the documented default instead (a floor as m would veto such pairs)."""
    if not REFERENCE_MODEL.is_file():
        return {}
    data = json.loads(REFERENCE_MODEL.read_text(encoding="utf-8"))
    return {
        (c["output_column_name"], lv["label_for_charts"]): float(lv["m_probability"])
        for c in data["splink_settings"]["comparisons"]
        for lv in c["comparison_levels"]
        if _is_number(lv.get("m_probability"))
        and lv.get("m_probability") != lv.get("u_probability")
    }


#: Fewest household pairs that are clearly two people (:func:`household_u`) from which a
#: household u is estimated; with fewer, the data shows no households to learn from and the
#: household-context level is not added (an exact match counts as it does anywhere).
def train(
    linker: Linker,
    options: TrainingOptions,
    progress: Progress | None = None,
    u_linker: Linker | None = None,
) -> dict[str, Any]:
    """Estimate the prior, u and m; return the training record (parameters and timings).

    On small or sparse data a step can find nothing to learn from (no deterministic matches,
    no pairs in an EM block): the step is skipped and noted, and the levels it would have
    trained get documented defaults (:func:`complete_parameters`).

    ``u_linker``: a linker with the same comparisons, on DuckDB, that estimates u in place of
    ``linker`` (a Spark linker; :func:`copy_u`).
    """
    report = progress or (lambda f, m: None)
    timings: dict[str, float] = {}
    notes: list[str] = []
    settings_obj = linker._settings_obj
    start = time.perf_counter()
    report(0.0, "Estimating the prior")
    # the share of all pairs the deterministic rules found: a lower bound for the prior
    found = 0.0
    try:
        linker.training.estimate_probability_two_random_records_match(
            list(PRIOR_RULES), recall=options.prior_recall
        )
        found = settings_obj._probability_two_random_records_match * options.prior_recall
    except (SplinkException, ValueError) as exc:
        notes.append(f"prior: {type(exc).__name__}")
    if not 0 < settings_obj._probability_two_random_records_match < 1:
        settings_obj._probability_two_random_records_match = DEFAULT_PRIOR
        notes.append(f"prior: no deterministic matches, default {DEFAULT_PRIOR}")
        found = 0.0
    timings["prior"] = time.perf_counter() - start
    start = time.perf_counter()
    report(0.2, "Estimating u by random sampling")
    # one pass: Splink's default (ten chunks, stopping once every level is seen 100 times)
    # never stops early here, since levels of absent columns are never seen, and ten passes
    # cost about three times one
    (u_linker or linker).training.estimate_u_using_random_sampling(
        max_pairs=options.u_max_pairs, seed=options.seed, num_chunks=1
    )
    if u_linker is not None:
        copy_u(u_linker, linker)
    timings["u"] = time.perf_counter() - start
    used: list[str] = []
    # an m that underflows fails a session: held above Splink's limit, not at the scoring floor
    floor_em(EM_M_FLOOR)
    for index, first in enumerate(EM_RULES):
        start = time.perf_counter()
        report(0.4 + 0.2 * index, f"Estimating m by EM ({index + 1} of {len(EM_RULES)})")
        for rule in (first, *EM_FALLBACK.get(first, ())):
            saved = copy.deepcopy(settings_obj.core_model_settings)
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, max_pairs=options.em_max_pairs, estimate_without_term_frequencies=True
                )
            except (SplinkException, ValueError, ZeroDivisionError) as exc:
                settings_obj.core_model_settings = saved  # a failed session may leave it partial
                notes.append(f"EM {index + 1}: {rule}: skipped ({type(exc).__name__})")
                continue
            used.append(rule)
            break
        timings[f"em_{index + 1}"] = time.perf_counter() - start
    report(1.0, "Trained")
    return {
        "options": asdict(options),
        "prior_rules": list(PRIOR_RULES),
        "em_rules": used,
        "probability_two_random_records_match": (
            settings_obj._probability_two_random_records_match
        ),
        "prior_found_by_rules": found,
        "notes": notes,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }


def copy_u(source: Linker, target: Linker) -> None:
    """The u that ``source`` estimated, onto ``target``: the same comparisons and levels in
    the same order (a Spark linker made from the DuckDB settings of ``source``)."""
    pairs = zip(source._settings_obj.comparisons, target._settings_obj.comparisons, strict=True)
    for got, into in pairs:
        levels = zip(
            got._comparison_levels_excluding_null,
            into._comparison_levels_excluding_null,
            strict=True,
        )
        for level, other in levels:
            other._trained_u_probabilities = copy.deepcopy(level._trained_u_probabilities)
    target._populate_m_u_from_trained_values()


def trained_settings(
    linker: Linker,
    u_floor: float,
    household: dict[str, float],
    canonical: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The scoring settings: the trained parameters, defaults for levels training could not
    see (listed), the household-context levels and the household-conflict level. This is
    what the model JSON holds. ``canonical``: the DuckDB settings a Spark linker was made
    from, whose SQL the model keeps (:func:`joinedup.linkage.on_spark.with_parameters`)."""
    settings = linker.misc.save_model_to_json(out_path=None)
    if canonical is not None:
        settings = with_parameters(settings, canonical)
    filled = complete_parameters(settings, u_floor)
    with_household_context(settings, household)
    # the conflict level keeps household members apart: on data that shows no households of
    # different people (a file of duplicates) a shared address is evidence like any other
    return (with_household_conflict(settings) if household else settings), filled


def calibrated_prior(
    con: duckdb.DuckDBPyConnection,
    pairs: str,
    total_pairs: float,
    prior: float,
    floor: float = 0.0,
) -> float:
    """The prior that agrees with the scored pairs: the expected number of matches among them
    (the sum of their match probabilities) over all pairs of records, found by fixed-point
    iteration with m and u held (EM's update of the prior, on every blocked pair; pairs that
    blocking leaves out are taken as non-matches).

    The first estimate (deterministic rules and an assumed recall,
    :data:`TrainingOptions.prior_recall`) can be several times off on data unlike the
    region it was set on: FEBRL3 has 2.7 times more matches than it assumes, fake_1000 many
    times more. A prior too low lowers every probability, and recall with it.

    Zero is a fixed point of the iteration: where the scored pairs hold few strong ones (a
    small link, weak evidence everywhere) each step lowers the prior, which lowers every
    probability, which lowers the next step's, down to nothing. The result is therefore
    never below ``floor`` (the share of pairs the deterministic rules found, which are
    matches whatever the weights say) nor below one match among all pairs."""
    import numpy as np

    # fetchnumpy, not pyarrow: pyarrow's conversions import pandas (a second of a start)
    weights = np.asarray(
        con.execute(f"SELECT match_weight FROM {pairs}").fetchnumpy()["match_weight"],
        dtype=np.float64,
    )
    if total_pairs <= 0 or len(weights) == 0:
        return prior
    lowest = min(max(floor, 1.0 / total_pairs), 0.5)
    bayes = weights - np.log2(prior / (1 - prior))
    lam = max(prior, lowest)
    for _ in range(100):
        expected = float(np.sum(1.0 / (1.0 + np.exp2(-(bayes + np.log2(lam / (1 - lam)))))))
        new = min(max(expected / total_pairs, lowest), 0.5)
        if abs(new - lam) <= 1e-4 * lam:
            return new
        lam = new
    return lam


def with_prior(con: duckdb.DuckDBPyConnection, pairs: str, old: float, new: float) -> None:
    """Rescore ``pairs`` for a new prior: every match weight moves by the change in prior
    log-odds, and the probabilities follow."""
    import math

    shift = math.log2(new / (1 - new)) - math.log2(old / (1 - old))
    con.execute(
        f"""UPDATE {pairs} SET match_weight = match_weight + {shift},
        match_probability = 1 / (1 + pow(2, -(match_weight + {shift})))"""
    )


def present_fields(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> set[str]:
    """The prepared model columns that hold a value in at least one record of ``tables``."""
    out: set[str] = set()
    for table in tables:
        columns = [
            r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] in PRESENT_CHECKED
        ]
        row = con.execute(
            f"SELECT {', '.join(f'count({c})' for c in columns)} FROM {table}"
        ).fetchall()[0]
        out |= {c for c, n in zip(columns, row, strict=True) if n}
    return out


PRESENT_CHECKED = tuple(sorted({f for fs in COMPARISON_FIELDS.values() for f in fs}))


#: Below this many records (on the larger side) the data cannot teach the model much: the
#: reference model's parameters are used instead, with the prior set for the data's size.
MIN_TRAINING_RECORDS = 1000
#: EM samples its blocked pairs (``em_max_pairs``) only from this many records up.
EM_SAMPLING_FROM = 200_000
REFERENCE_MODEL = Path(__file__).with_name("reference_model.json")


def reference_settings(
    link_type: str, sizes: Sequence[int], with_source: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Scoring settings from the shipped reference model (trained on a synthetic region with
    ``python -m joinedup.linkage.reference``), for data too small to train on.

    The prior assumes each record has at most one match: 1 / (records on the larger side).
    """
    data = json.loads(REFERENCE_MODEL.read_text(encoding="utf-8"))
    settings = copy.deepcopy(data["splink_settings"])
    settings["link_type"] = link_type
    if not with_source:
        settings["comparisons"] = [
            c for c in settings["comparisons"] if c["output_column_name"] != "source"
        ]
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": rule} for rule in BLOCKING_RULES
    ]
    prior = 1.0 / max(max(sizes), 2)
    settings["probability_two_random_records_match"] = prior
    record = {
        "reference_model": REFERENCE_MODEL.name,
        "reference_trained_on": data.get("training", {}).get("records"),
        "probability_two_random_records_match": prior,
        "notes": [f"fewer than {MIN_TRAINING_RECORDS} records: reference parameters used"],
    }
    return settings, record


def train_and_score(
    con: duckdb.DuckDBPyConnection,
    table: str,
    options: TrainingOptions,
    progress: Progress,
    *,
    link_type: str = "dedupe_only",
    tables: list[str] | None = None,
    with_source: bool = True,
    loose_blocking: bool = False,
    drop_absent: bool = False,
    lazy_levels: bool = False,
    spark: SparkLinkage | None = None,
) -> tuple[LinkageModel, str, dict[str, float]]:
    """Train on prepared ``table`` (or ``tables`` for a link) and score every blocked pair
    into table ``linkage_pairs``. Returns the model, the pairs table and timings.

    ``loose_blocking`` (the standalone commands) adds the loose blocking rules that fit the
    pair budget (:func:`joinedup.linkage.model.blocking_rules_for`). ``drop_absent`` (the
    standalone commands) leaves out the comparisons of fields no record holds
    (:func:`joinedup.linkage.comparisons.without_absent`); the hub keeps every comparison,
    so that its runs, reviews and updates share one layout. ``lazy_levels`` (the standalone
    commands): Splink's queries without DuckDB's common-subexpression pass
    (:class:`joinedup.linkage.splink_speed.FastDuckDBAPI`). ``spark``: train and score on
    Spark (ADR 0038); the statistics read from the prepared records stay in DuckDB."""
    inputs = tables or [table]
    present = present_fields(con, inputs) if drop_absent else None
    timings: dict[str, float] = {}
    start = time.perf_counter()
    sizes = [int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in inputs]
    if sum(sizes) < EM_SAMPLING_FROM:
        options = replace(options, em_max_pairs=None)  # small data: EM on every blocked pair
    if max(sizes) < MIN_TRAINING_RECORDS:
        progress(0.1, "Too few records to train: using the reference model")
        scoring, record = reference_settings(link_type, sizes, with_source=with_source)
        if present is not None:
            without_absent(scoring, present)
    else:
        settings = settings_dict(link_type, with_source=with_source)
        if present is not None:
            without_absent(settings, present)
        settings = with_exact_u(
            with_identifier_u(settings, identifier_u(con, inputs)), exact_u(con, inputs)
        )
        linker = engine_linker(con, inputs, settings, spark, lazy_levels=lazy_levels)
        # u on Spark too is estimated in DuckDB, where the prepared records are: its sample
        # is bounded (``u_max_pairs``) whatever the data's size (ADR 0046)
        u_linker = make_linker(con, inputs, settings) if spark else None
        record = train(linker, options, lambda f, msg: progress(0.2 * f, msg), u_linker)
        household = household_u(con, inputs)
        scoring, filled = trained_settings(
            linker, 1.0 / options.u_max_pairs, household, settings if spark else None
        )
        record["defaults"] = filled
        record["household_u"] = household
    if loose_blocking:
        rules, pairs = blocking_rules_for(con, inputs, link_type)
        scoring["blocking_rules_to_generate_predictions"] = [{"blocking_rule": r} for r in rules]
        record["blocking"] = {"rules": rules, "pairs": pairs, "budget": LOOSE_PAIR_BUDGET}
    # after training: the level has no parameters of its own, only its lookup
    scoring["comparisons"].append(namesakes.comparison())
    timings["train"] = time.perf_counter() - start
    start = time.perf_counter()
    progress(0.2, "Scoring candidate pairs")
    scorer = engine_linker(con, inputs, scoring, spark, lazy_levels=lazy_levels)
    record["namesakes"] = namesakes.register(
        con, scorer, inputs, spark.handover(con) if spark else None
    )
    predictions = with_memory_to_spare(con, lambda: scorer.inference.predict(warning_mode="never"))
    con.execute("DROP TABLE IF EXISTS linkage_pairs")
    if spark:
        spark.to_duckdb(con, predictions, "linkage_pairs")
        predictions.drop_table_from_database_and_remove_from_cache()
    else:
        # renamed, not copied: a copy of every scored pair (5 million at a million records)
        # cost seconds and a second table's memory
        con.execute(f"ALTER TABLE {predictions.physical_name} RENAME TO linkage_pairs")
        scorer._db_api.remove_splinkdataframe_from_cache(predictions)
        scorer._db_api._created_tables.discard(predictions.physical_name)
    timings["predict"] = time.perf_counter() - start
    record["candidate_pairs"] = int(
        con.execute("SELECT count(*) FROM linkage_pairs").fetchall()[0][0]
    )
    prior = float(scoring["probability_two_random_records_match"])
    total = (
        sizes[0] * (sizes[0] - 1) / 2
        if link_type == "dedupe_only"
        else sum(a * b for i, a in enumerate(sizes) for b in sizes[i + 1 :])
    )
    calibrated = calibrated_prior(
        con, "linkage_pairs", total, prior, floor=float(record.get("prior_found_by_rules", 0.0))
    )
    with_prior(con, "linkage_pairs", prior, calibrated)
    scoring["probability_two_random_records_match"] = calibrated
    record["prior_estimated"] = prior
    record["probability_two_random_records_match"] = calibrated
    model = LinkageModel(settings=scoring, training=record)
    return model, "linkage_pairs", timings
