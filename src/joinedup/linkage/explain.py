"""What a linkage run says and why: runs, the review queue, a pair's evidence (the match-weight
waterfall), and a resident's records and the links that joined them.

Everything here reads the run's own snapshots (the index and the scored pairs, which hold keys,
levels and weights but no personal values) and the model JSON. Personal values (names, dates
of birth, addresses) are read only through :func:`joinedup.governance.access.read_records`,
as the person asking: decided by the policy, objections honoured, audited. Showing which records
were linked into a resident is itself recorded (``linkage.explain`` and ``linkage.pair_view``).

The waterfall of a pair: the prior's weight (log2 of the prior odds that two random records
match), then each comparison's match weight (its level's log2(m/u), plus the term-frequency
adjustment where the level has one), added up, ending at the pair's match weight.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageRun
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.access import AccessDenied, Actor, NotFound, audit_as, read_records
from joinedup.governance.audit_actions import AuditAction
from joinedup.linkage.chain import pairs_source
from joinedup.linkage.governed import HIDDEN, Visibility, source_of
from joinedup.linkage.model import LinkageModel
from joinedup.linkage.prepare import COMPARED_FIELDS
from joinedup.linkage.review import (
    PAIR_ID,
    Decision,
    ReviewError,
    check_reviewer,
    history,
    latest_decisions,
    pair_history,
    pair_id_sql,
    record_decision,
)
from joinedup.standards import load_schema
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.sql import lit

#: The fields shown for a record, in this order: the ones the model compares (every person
#: standard has them).
DISPLAY_FIELDS = COMPARED_FIELDS
#: Each field's title in the person standard (the address line reads as "Address" here, the
#: one line linkage compares).
FIELD_TITLES = {
    f["name"]: f["title"] for f in load_schema("person")["fields"] if f["name"] in DISPLAY_FIELDS
} | {"address_line_1": "Address"}
COMPARISON_TITLES = {
    **FIELD_TITLES,
    "address": "Address",
    "source": "Source datasets",
    "other_id": "Other identifier",
}
RESIDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
MAX_RESIDENT_RECORDS = 500


class LinkageNotFound(JoinedupError, LookupError):
    """No run, pair or resident by that name (the message names no personal data): 404."""

    status = 404


# --- runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    """One build of the index, as the overview shows it."""

    id: int
    created_at: datetime
    model_version: int
    threshold: float
    review_low: float
    records: int
    residents: int
    households: int
    pairs: int
    review_band_pairs: int
    datasets: int
    index_sha256: str = field(repr=False)
    model_path: str = field(repr=False)


def _run_info(run: LinkageRun) -> RunInfo:
    details = run.details or {}
    band = details.get("review_band") or [0.5, run.threshold]
    return RunInfo(
        id=run.id,
        created_at=run.created_at,
        model_version=run.model_version,
        threshold=float(run.threshold),
        review_low=float(band[0]),
        records=int(run.records),
        residents=int(run.residents),
        households=int(run.households),
        pairs=int(run.pairs),
        review_band_pairs=int(details.get("pairs_in_review_band", 0)),
        datasets=len(run.inputs or []),
        index_sha256=run.index_sha256,
        model_path=run.model_path,
    )


def list_runs(settings: Settings, limit: int = 50) -> list[RunInfo]:
    """The most recent runs, newest first."""
    with session_scope(settings) as session:
        rows = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(limit))
        return [_run_info(r) for r in rows]


def get_run(settings: Settings, run_id: int | None = None) -> RunInfo:
    """Run ``run_id``, or the latest; :class:`LinkageNotFound` when there is none."""
    with session_scope(settings) as session:
        if run_id is None:
            run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc())).first()
        else:
            run = session.get(LinkageRun, run_id)
        if run is None:
            raise LinkageNotFound(
                "The resident index has not been built yet"
                if run_id is None
                else f"There is no linkage run {run_id}"
            )
        return _run_info(run)


def run_pairs(settings: Settings, run_id: int) -> str:
    """A table expression of every scored pair run ``run_id`` stored (its snapshot chain)."""
    with session_scope(settings) as session:
        run = session.get(LinkageRun, run_id)
        if run is None:
            raise LinkageNotFound(f"There is no linkage run {run_id}")
        session.expunge(run)
    return pairs_source(settings, run)


def load_model(settings: Settings, run: RunInfo) -> LinkageModel:
    return LinkageModel.load(settings.home / run.model_path)


# --- the review queue -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """A pair waiting for review. ``source_l``/``source_r``: organisation/dataset only."""

    pair: str
    source_l: str
    source_r: str
    match_weight: float
    match_probability: float


@dataclass(frozen=True)
class Queue:
    run: RunInfo
    waiting: int
    decided: int
    page: int
    page_size: int
    items: list[QueueItem]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.waiting / self.page_size))


def _source(key: str) -> str:
    return source_of(key) or HIDDEN


def _src_sql(column: str) -> str:
    return f"split_part({column}, '/', 1) || '/' || split_part({column}, '/', 2)"


def _visible_filter(con: Any, source: str, run: RunInfo, seen: Visibility | None) -> str:
    """SQL limiting the review band to pairs whose two sources ``seen``'s viewer may know of
    (every pair for the operator at the CLI, ``seen`` None)."""
    if seen is None:
        return "TRUE"
    sources = con.execute(
        f"SELECT DISTINCT s FROM (SELECT {_src_sql('record_key_l')} AS s FROM "
        f"({_band_sql(source, run)}) UNION SELECT {_src_sql('record_key_r')} FROM "
        f"({_band_sql(source, run)})) ORDER BY s"
    ).fetchall()
    allowed = seen.visible_sources([str(r[0]) for r in sources])
    if not allowed:
        return "FALSE"
    listed = ", ".join(lit(a) for a in allowed)
    return f"{_src_sql('record_key_l')} IN ({listed}) AND {_src_sql('record_key_r')} IN ({listed})"


def _decided_table(settings: Settings) -> pa.Table:
    decided = latest_decisions(settings)
    return pa.table(
        {
            "key_l": pa.array([k[0] for k in decided], pa.string()),
            "key_r": pa.array([k[1] for k in decided], pa.string()),
        }
    )


def _band_sql(source: str, run: RunInfo) -> str:
    return (
        f"SELECT *, {pair_id_sql()} AS pair FROM {source} "
        f"WHERE match_probability >= {float(run.review_low)} "
        f"AND match_probability < {float(run.threshold)}"
    )


#: Queue order: most uncertain first (match weight nearest 0, probability nearest 0.5).
QUEUE_ORDER = "abs(match_weight), record_key_l, record_key_r"


def review_queue(
    settings: Settings,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    run_id: int | None = None,
    actor: Actor | None = None,
) -> Queue:
    """Pairs of the run's review band without a decision, most uncertain first; for
    ``actor``, only pairs whose two records they may know of (:mod:`.governed`)."""
    run = get_run(settings, run_id)
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    source = run_pairs(settings, run.id)
    seen = Visibility(settings, actor) if actor is not None else None
    with duckdb_session(settings) as con:
        visible = _visible_filter(con, source, run, seen)
        con.register("__decided", _decided_table(settings))
        con.execute(
            f"""CREATE TEMP TABLE band AS
            SELECT b.*, d.key_l IS NOT NULL AS decided FROM ({_band_sql(source, run)}) b
            LEFT JOIN __decided d ON d.key_l = b.record_key_l AND d.key_r = b.record_key_r
            WHERE {visible}"""
        )
        waiting, decided = con.execute(
            "SELECT count(*) FILTER (WHERE NOT decided), count(*) FILTER (WHERE decided) FROM band"
        ).fetchall()[0]
        rows = con.execute(
            f"""SELECT pair, record_key_l, record_key_r, match_weight, match_probability
            FROM band WHERE NOT decided ORDER BY {QUEUE_ORDER} LIMIT ? OFFSET ?""",
            [page_size, (page - 1) * page_size],
        ).fetchall()
    items = [
        QueueItem(str(p), _source(kl), _source(kr), float(w), float(pr))
        for p, kl, kr, w, pr in rows
    ]
    return Queue(run, int(waiting), int(decided), page, page_size, items)


def next_pair(
    settings: Settings, after: str | None = None, actor: Actor | None = None
) -> str | None:
    """The next pair waiting for review after ``after`` in queue order (wrapping round to the
    start), or None when the queue is empty (for ``actor``: of the pairs they may see)."""
    run = get_run(settings)
    source = run_pairs(settings, run.id)
    seen = Visibility(settings, actor) if actor is not None else None
    with duckdb_session(settings) as con:
        visible = _visible_filter(con, source, run, seen)
        con.register("__decided", _decided_table(settings))
        con.execute(
            f"""CREATE TEMP TABLE waiting AS
            SELECT pair, record_key_l, record_key_r, abs(match_weight) AS u,
                   row_number() OVER (ORDER BY {QUEUE_ORDER}) AS n
            FROM (SELECT * FROM ({_band_sql(source, run)}) WHERE {visible}) b
            ANTI JOIN __decided d ON d.key_l = b.record_key_l AND d.key_r = b.record_key_r"""
        )
        if after is not None and PAIR_ID.match(after):
            current = con.execute("SELECT n FROM waiting WHERE pair = ?", [after]).fetchall()
            if current:
                found = (
                    con.execute(
                        "SELECT pair FROM waiting WHERE n > ? ORDER BY n LIMIT 1", [current[0][0]]
                    ).fetchall()
                    or con.execute(
                        "SELECT pair FROM waiting WHERE pair <> ? ORDER BY n LIMIT 1", [after]
                    ).fetchall()
                )
                return str(found[0][0]) if found else None
        first = con.execute("SELECT pair FROM waiting ORDER BY n LIMIT 1").fetchall()
    return str(first[0][0]) if first else None


# --- evidence: the waterfall ------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One comparison's contribution: its level and weight, and the running total."""

    comparison: str
    title: str
    level: str
    gamma: int
    weight: float
    tf_adjustment: float
    start: float
    end: float


@dataclass(frozen=True)
class Evidence:
    """A scored pair with its waterfall (no personal values)."""

    pair: str
    record_key_l: str
    record_key_r: str
    match_weight: float
    match_probability: float
    prior_weight: float
    steps: list[Step]
    in_review_band: bool
    links: bool  # at or above the run's threshold
    decision: str | None = None  # the reviewer's decision in force, if any

    @property
    def source_l(self) -> str:
        return _source(self.record_key_l)

    @property
    def source_r(self) -> str:
        return _source(self.record_key_r)


def level_labels(comparison: dict[str, Any]) -> dict[int, str]:
    """Level label by ``gamma_`` value: -1 for the null level, then n-1 down to 0."""
    levels = comparison["comparison_levels"]
    labels: dict[int, str] = {}
    others = [lv for lv in levels if not lv.get("is_null_level")]
    for lv in levels:
        if lv.get("is_null_level"):
            labels[-1] = str(lv.get("label_for_charts", "missing"))
    for index, lv in enumerate(others):
        labels[len(others) - 1 - index] = str(lv.get("label_for_charts", f"level {index}"))
    return labels


def prior_weight(model: LinkageModel) -> float:
    prior = float(model.settings.get("probability_two_random_records_match") or 1e-4)
    prior = min(max(prior, 1e-12), 1 - 1e-12)
    return math.log2(prior / (1 - prior))


def waterfall(model: LinkageModel, row: dict[str, Any]) -> tuple[float, list[Step]]:
    """The prior's weight and each comparison's step for one row of the pairs snapshot."""
    start = prior_weight(model)
    total = start
    steps: list[Step] = []
    for comparison in model.settings["comparisons"]:
        name = str(comparison["output_column_name"])
        gamma = row.get(f"gamma_{name}")
        if gamma is None:
            continue
        weight = float(row.get(f"mw_{name}") or 0.0)
        tf = float(row.get(f"mw_tf_adj_{name}") or 0.0)
        before = total
        total += weight + tf
        steps.append(
            Step(
                comparison=name,
                title=COMPARISON_TITLES.get(name, name.replace("_", " ").capitalize()),
                level=level_labels(comparison).get(int(gamma), f"level {gamma}"),
                gamma=int(gamma),
                weight=weight,
                tf_adjustment=tf,
                start=before,
                end=total,
            )
        )
    return start, steps


def _evidence(
    model: LinkageModel, run: RunInfo, row: dict[str, Any], decisions: dict[tuple[str, str], str]
) -> Evidence:
    prior, steps = waterfall(model, row)
    probability = float(row["match_probability"])
    key_l, key_r = str(row["record_key_l"]), str(row["record_key_r"])
    return Evidence(
        pair=str(row["pair"]),
        record_key_l=key_l,
        record_key_r=key_r,
        match_weight=float(row["match_weight"]),
        match_probability=probability,
        prior_weight=prior,
        steps=steps,
        in_review_band=run.review_low <= probability < run.threshold,
        links=probability >= run.threshold,
        decision=decisions.get((key_l, key_r)),
    )


def _pair_rows(
    settings: Settings, run: RunInfo, where: str, tables: dict[str, pa.Table]
) -> list[dict[str, Any]]:
    source = run_pairs(settings, run.id)
    with duckdb_session(settings) as con:
        for name, table in tables.items():
            con.register(name, table)
        cursor = con.execute(
            f"SELECT *, {pair_id_sql()} AS pair FROM {source} WHERE {where} "
            "ORDER BY match_weight DESC, record_key_l, record_key_r"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def pair_evidence(settings: Settings, pair: str, run_id: int | None = None) -> Evidence:
    """A pair of the run's pairs snapshot with its waterfall."""
    if not isinstance(pair, str) or not PAIR_ID.match(pair):
        raise LinkageNotFound("There is no such pair (a pair id is p- and 16 hex digits)")
    run = get_run(settings, run_id)
    wanted = pa.table({"pair": pa.array([pair], pa.string())})
    rows = _pair_rows(
        settings,
        run,
        f"{pair_id_sql()} IN (SELECT pair FROM __wanted)",
        {"__wanted": wanted},
    )
    if not rows:
        raise LinkageNotFound("There is no such pair in the latest linkage run")
    return _evidence(load_model(settings, run), run, rows[0], latest_decisions(settings))


# --- records, read through the gateway --------------------------------------------------------


@dataclass
class RecordView:
    """A linkage record, and its values if the policy let the reader see them."""

    record_key: str
    organisation: str
    dataset: str
    version: int
    source_record_id: str
    resident_id: str
    household_id: str
    rows: int
    values: dict[str, str] | None = None
    withheld: str | None = None
    hidden: bool = False  # another organisation's record the viewer may not know of

    @property
    def source(self) -> str:
        return HIDDEN if self.hidden else f"{self.organisation}/{self.dataset}"

    def hide(self) -> None:
        """Show only that the record exists elsewhere (:mod:`joinedup.linkage.governed`)."""
        self.record_key = self.organisation = self.dataset = self.source_record_id = ""
        self.resident_id = self.household_id = ""
        self.version, self.values, self.withheld, self.hidden = 0, None, HIDDEN, True


def _hidden_record() -> RecordView:
    record = RecordView("", "", "", 0, "", "", "", 0)
    record.hide()
    return record


def _index_rows(
    settings: Settings, run: RunInfo, column: str, values: list[str]
) -> list[dict[str, Any]]:
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        con.register("__wanted", pa.table({"v": pa.array(values, pa.string())}))
        cursor = con.execute(
            f"SELECT * FROM {source} WHERE {column} IN (SELECT v FROM __wanted) "
            f"ORDER BY organisation, dataset, record_key LIMIT {MAX_RESIDENT_RECORDS}"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _record_views(rows: list[dict[str, Any]]) -> list[RecordView]:
    return [
        RecordView(
            record_key=str(r["record_key"]),
            organisation=str(r["organisation"]),
            dataset=str(r["dataset"]),
            version=int(r["version"]),
            source_record_id=str(r["source_record_id"]),
            resident_id=str(r["resident_id"]),
            household_id=str(r["household_id"]),
            rows=int(r["rows"] or 1),
        )
        for r in rows
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def fill_values(settings: Settings, actor: Actor, records: list[RecordView]) -> None:
    """Read each record's values through the gateway (one decided, audited read per dataset
    version); a refused read leaves the record withheld, with the reason."""
    groups: dict[tuple[str, str, int], list[RecordView]] = {}
    for record in records:
        groups.setdefault((record.organisation, record.dataset, record.version), []).append(record)
    for (organisation, dataset, version), members in groups.items():
        try:
            table = read_records(
                settings,
                actor,
                organisation=organisation,
                dataset=dataset,
                version=version,
                fields=["source_record_id", *DISPLAY_FIELDS],
                record_ids=sorted({m.source_record_id for m in members}),
            )
        except AccessDenied as exc:
            for member in members:
                member.withheld = f"Not shown: {exc.decision.reason}"
            continue
        except NotFound:
            for member in members:
                member.withheld = "Not shown: the dataset version is no longer held"
            continue
        latest: dict[str, dict[str, str]] = {}
        for row in table.to_pylist():  # rows in file order: the last one is the latest
            latest[str(row["source_record_id"])] = {f: _text(row.get(f)) for f in DISPLAY_FIELDS}
        for member in members:
            member.values = latest.get(member.source_record_id)
            if member.values is None:
                member.withheld = "Not shown: the record is not available to you"


def _audit_view(
    settings: Settings, actor: Actor, action: str, target_type: str, target: str, keys: list[str]
) -> None:
    with session_scope(settings) as session:
        audit_as(
            session,
            actor,
            action,
            decision="allow",
            reason="an analyst reviewing the resident index",
            target_type=target_type,
            target_id=target,
            records=keys[:1000],
            details={"records": len(keys)},
        )


@dataclass
class PairView:
    """A pair for review: the evidence, both records (values through the gateway), history."""

    evidence: Evidence
    left: RecordView | None
    right: RecordView | None
    decisions: list[Decision]
    run: RunInfo


def view_pair(settings: Settings, actor: Actor, pair: str) -> PairView:
    """Everything the review page shows for ``pair`` (audited). A record the reviewer may not
    know of shows as :data:`~joinedup.linkage.governed.HIDDEN`, and a pair of two such
    records is not found."""
    check_reviewer(actor)
    evidence = pair_evidence(settings, pair)
    run = get_run(settings)
    seen = Visibility(settings, actor)
    key_l, key_r = evidence.record_key_l, evidence.record_key_r
    shows = {key_l: seen.sees(key_l), key_r: seen.sees(key_r)}
    keys = [k for k in (key_l, key_r) if shows[k]]
    if not keys:
        raise LinkageNotFound("There is no such pair in the latest linkage run")
    records = {
        r.record_key: r for r in _record_views(_index_rows(settings, run, "record_key", keys))
    }
    _audit_view(settings, actor, AuditAction.LINKAGE_PAIR_VIEW, "record_pair", pair, keys)
    fill_values(settings, actor, list(records.values()))
    both = len(keys) == 2
    return PairView(
        evidence=replace(
            evidence,
            record_key_l=key_l if shows[key_l] else "",
            record_key_r=key_r if shows[key_r] else "",
            decision=evidence.decision if both else None,
        ),
        left=records.get(key_l) if shows[key_l] else _hidden_record(),
        right=records.get(key_r) if shows[key_r] else _hidden_record(),
        decisions=pair_history(settings, key_l, key_r) if both else [],
        run=run,
    )


# --- a resident -------------------------------------------------------------------------------


@dataclass
class ResidentView:
    """A resident: their records, their household, the pairs that joined them, decisions."""

    resident_id: str
    household_id: str
    run: RunInfo
    records: list[RecordView]
    household: list[str]  # the other residents of the household
    links: list[Evidence]
    decisions: list[Decision]

    @property
    def by_source(self) -> dict[str, list[RecordView]]:
        out: dict[str, list[RecordView]] = {}
        for record in self.records:
            out.setdefault(record.source, []).append(record)
        return out


def check_resident_id(resident_id: str) -> str:
    if not isinstance(resident_id, str) or not RESIDENT_ID.match(resident_id):
        raise LinkageNotFound("There is no such resident (a resident id looks like r-1a2b…)")
    return resident_id


def explain_resident(settings: Settings, actor: Actor, resident_id: str) -> ResidentView:
    """Why ``resident_id`` is one person: their records and the evidence (audited)."""
    check_reviewer(actor)
    check_resident_id(resident_id)
    run = get_run(settings)
    rows = _index_rows(settings, run, "resident_id", [resident_id])
    if not rows:
        raise LinkageNotFound("There is no such resident in the latest linkage run")
    seen = Visibility(settings, actor)
    records = _record_views(rows)
    visible = [r for r in records if seen.sees(r.record_key)]
    if not visible:  # every record is another organisation's: not theirs to know of
        raise LinkageNotFound("There is no such resident in the latest linkage run")
    household_id = records[0].household_id
    members = sorted(
        {
            r["resident_id"]
            for r in _index_rows(settings, run, "household_id", [household_id])
            if r["resident_id"] != resident_id and seen.sees(str(r["record_key"]))
        }
    )
    keys = [r.record_key for r in visible]
    wanted = pa.table({"k": pa.array(keys, pa.string())})
    pair_rows = _pair_rows(
        settings,
        run,
        "record_key_l IN (SELECT k FROM __keys) AND record_key_r IN (SELECT k FROM __keys)",
        {"__keys": wanted},
    )
    model = load_model(settings, run)
    decided = latest_decisions(settings)
    links = [_evidence(model, run, row, decided) for row in pair_rows]
    _audit_view(settings, actor, AuditAction.LINKAGE_EXPLAIN, "resident", resident_id, keys)
    fill_values(settings, actor, visible)
    hidden = [r for r in records if not seen.sees(r.record_key)]
    for record in hidden:
        record.hide()
    return ResidentView(
        resident_id=resident_id,
        household_id=household_id,
        run=run,
        records=visible + hidden,
        household=members,
        links=links,
        decisions=[
            d
            for d in history(settings, keys)
            if seen.sees(d.record_key_l) and seen.sees(d.record_key_r)
        ],
    )


def find_resident(settings: Settings, actor: Actor, resident_id: str) -> bool:
    """Whether the latest run has ``resident_id`` with a record ``actor`` may know of (audited
    either way). A resident held only by other organisations gets the answer of one that does
    not exist: a search must not tell which residents other councils hold."""
    check_reviewer(actor)
    well_formed = isinstance(resident_id, str) and bool(RESIDENT_ID.match(resident_id))
    keys: list[str] = []
    if well_formed:
        try:
            run = get_run(settings)
        except LinkageNotFound:
            run = None
        if run is not None:
            seen = Visibility(settings, actor)
            rows = _index_rows(settings, run, "resident_id", [resident_id])
            keys = [str(r["record_key"]) for r in rows if seen.sees(str(r["record_key"]))]
    with session_scope(settings) as session:
        audit_as(
            session,
            actor,
            AuditAction.LINKAGE_FIND,
            decision="allow" if keys else "deny",
            reason="an analyst looking a resident up in the resident index"
            if keys
            else "no resident with that id whose records the analyst may know of",
            target_type="resident",
            target_id=resident_id if well_formed else None,
            records=keys[:1000],
            details={"records": len(keys)},
        )
    return bool(keys)


# --- deciding -----------------------------------------------------------------------------


def decide_pair(
    settings: Settings, actor: Actor, pair: str, decision: str, note: str | None = None
) -> tuple[Decision, str | None]:
    """Record a decision on a pair of the latest run (audited); returns it and the next pair
    waiting for review."""
    check_reviewer(actor)
    evidence = pair_evidence(settings, pair)
    seen = Visibility(settings, actor)
    if not (seen.sees(evidence.record_key_l) and seen.sees(evidence.record_key_r)):
        raise ReviewError(
            "You may decide only pairs whose two records you may see under your purpose", 403
        )
    run = get_run(settings)
    recorded = record_decision(
        settings,
        actor,
        evidence.record_key_l,
        evidence.record_key_r,
        decision,
        note,
        run_id=run.id,
        match_probability=evidence.match_probability,
    )
    return recorded, next_pair(settings, after=pair, actor=actor)


def record_exists(settings: Settings, record_key: str) -> bool:
    """Whether the latest run's index has ``record_key``."""
    run = get_run(settings)
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        found = con.execute(
            f"SELECT 1 FROM {source} WHERE record_key = ? LIMIT 1", [record_key]
        ).fetchall()
    return bool(found)
