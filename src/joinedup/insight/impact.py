"""Impact of an intervention: before and after, and a difference-in-differences estimate.

An analyst defines an intervention (``insight_intervention``): the area it covers (a GSS code
at any level), the month it started, the indicator (rule) and the outcome measure —
``flags`` (flagged residents in the area) or ``rate`` (per 1,000 residents the councils hold
a record of) — and the level of the areas compared (``ward`` by default). The units are the
areas of that level from the latest area run (:mod:`joinedup.insight.trends`): those inside
the intervention area are treated, the others (or the listed comparison areas) compare.

**Observations.** Each area-month of the series carries the month of the data it was
computed from (``data_month``: a termly census stands for the months until the next), so
each piece of data is used once: the observation is dated by its data month, and months
with no data for the rule's subject are left out.

**Estimate.** OLS of the outcome on area and data-month fixed effects and the treated×after
indicator (two-way fixed effects), with standard errors clustered by area and a t
distribution with (areas − 1) degrees of freedom (statsmodels); the 95% interval is
reported. With few areas, or few treated ones, the interval is wide: that is the data, and
the page says how many areas and months it rests on. The treatment is assigned to a whole
area, so with one treated borough the clustering by smaller areas is optimistic about
correlation within the borough: read the interval as a lower bound on the uncertainty.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import InsightAreaRun, InsightIntervention
from joinedup.config import Settings
from joinedup.errors import JoinedupError, Missing
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.insight.areas import AreaError, check_level
from joinedup.store import SnapshotStore, duckdb_session

OUTCOMES = {"flags": "flags", "rate": "rate_per_1000"}
OUTCOME_LABELS = {"flags": "flagged residents", "rate": "flagged per 1,000 residents known"}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_GSS = re.compile(r"^[EWSN]\d{8}$")


class ImpactError(JoinedupError, ValueError):
    """An intervention that cannot be defined or estimated (the message says why)."""

    names_field = True


@dataclass(frozen=True)
class InterventionSpec:
    name: str
    area_code: str
    start_month: str
    rule_id: str
    outcome: str = "flags"
    level: str = "ward"
    comparison: tuple[str, ...] = ()
    description: str = ""


@dataclass
class ImpactEstimate:
    intervention: dict[str, Any]
    area_run: int
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    observations: int
    treated_areas: int
    comparison_areas: int
    months_before: list[str]
    months_after: list[str]
    before_after: dict[str, dict[str, float]]
    simple_did: float
    series: list[dict[str, Any]] = field(default_factory=list)
    method: str = (
        "OLS with area and month fixed effects; standard errors clustered by area, "
        "t with (areas - 1) degrees of freedom; 95% interval"
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _intervention_dict(row: InsightIntervention) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "area_code": row.area_code,
        "start_month": row.start_month,
        "rule_id": row.rule_id,
        "outcome": row.outcome,
        "level": row.level,
        "comparison": list(row.comparison or []),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


def _area_run(settings: Settings, run_id: int | None = None) -> InsightAreaRun:
    with session_scope(settings) as session:
        query = select(InsightAreaRun).order_by(InsightAreaRun.id.desc()).limit(1)
        if run_id is not None:
            query = select(InsightAreaRun).where(InsightAreaRun.id == run_id)
        run = session.scalars(query).first()
        if run is None:
            raise ImpactError("no area run yet: run `joinedup insight areas` first")
        session.expunge(run)
        return run


def _units(settings: Settings, run: InsightAreaRun, spec: InterventionSpec) -> pd.DataFrame:
    """The trend rows of the rule at the units' level, with ``treated`` per area."""
    source = SnapshotStore(settings).sql_source(run.trends_sha256)
    with duckdb_session(settings) as con:
        frame: pd.DataFrame = con.execute(
            f"""SELECT area_code, month, data_month, flags, rate_per_1000,
                       coalesce(area_code = $code OR parent_ward = $code
                                OR parent_lad = $code, FALSE) AS treated
                FROM {source} WHERE rule_id = $rule AND level = $level""",
            {"code": spec.area_code, "rule": spec.rule_id, "level": spec.level},
        ).df()
    return frame


def _month_name(month: str) -> str:
    return f"{datetime.strptime(month, '%Y-%m'):%B %Y}"


def validate_spec(settings: Settings, spec: InterventionSpec) -> InterventionSpec:
    """Check an intervention against the latest area run; errors name the field."""
    check_level(spec.level)
    if not spec.name.strip() or len(spec.name) > 200:
        raise ImpactError("give a name of up to 200 characters", field="name")
    if not _MONTH.match(spec.start_month):
        raise ImpactError(
            f"{spec.start_month!r} is not a month written YYYY-MM", field="start_month"
        )
    if spec.outcome not in OUTCOMES:
        raise ImpactError(f"one of {', '.join(OUTCOMES)}, not {spec.outcome!r}", field="outcome")
    for code in (spec.area_code, *spec.comparison):
        if not _GSS.match(code):
            raise ImpactError(f"{code!r} is not a GSS code such as E09000023", field="area")
    run = _area_run(settings)
    if spec.rule_id not in {r["id"] for r in run.rules}:
        raise ImpactError(f"the latest area run has no rule {spec.rule_id!r}", field="rule_id")
    frame = _units(settings, run, spec)
    if not frame["treated"].any():
        raise ImpactError(
            f"no {spec.level} of the latest area run lies in {spec.area_code}", field="area_code"
        )
    known = set(frame["area_code"])
    missing = [c for c in spec.comparison if c not in known]
    if missing:
        raise ImpactError(
            f"no {spec.level} {', '.join(missing)} in the area run", field="comparison"
        )
    if spec.start_month <= run.first_month or spec.start_month > run.last_month:
        raise ImpactError(
            f"the figures run from {_month_name(run.first_month)} to "
            f"{_month_name(run.last_month)}: the intervention must start after the first "
            "month and by the last",
            field="start_month",
        )
    return spec


def define_intervention(settings: Settings, spec: InterventionSpec, actor: str) -> dict[str, Any]:
    """Record an intervention (validated, audited); a name is unique."""
    validate_spec(settings, spec)
    with session_scope(settings) as session:
        if session.scalars(
            select(InsightIntervention).where(InsightIntervention.name == spec.name)
        ).first():
            raise ImpactError(f"an intervention called {spec.name!r} exists", field="name")
        row = InsightIntervention(
            name=spec.name,
            description=spec.description,
            area_code=spec.area_code,
            start_month=spec.start_month,
            rule_id=spec.rule_id,
            outcome=spec.outcome,
            level=spec.level,
            comparison=list(spec.comparison),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        append_event(
            session,
            actor=actor,
            action=AuditAction.INTERVENTION_DEFINE,
            target_type="insight_intervention",
            target_id=str(row.id),
            details={"area": spec.area_code, "rule": spec.rule_id, "start": spec.start_month},
        )
        session.commit()
        return _intervention_dict(row)


def list_interventions(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        rows = session.scalars(select(InsightIntervention).order_by(InsightIntervention.id))
        return [_intervention_dict(r) for r in rows]


def get_intervention(settings: Settings, ident: int | str) -> dict[str, Any]:
    with session_scope(settings) as session:
        query = select(InsightIntervention)
        query = (
            query.where(InsightIntervention.id == int(ident))
            if str(ident).isdigit()
            else query.where(InsightIntervention.name == str(ident))
        )
        row = session.scalars(query).first()
        if row is None:
            raise Missing(f"no intervention {ident}")
        return _intervention_dict(row)


def _spec(data: dict[str, Any]) -> InterventionSpec:
    return InterventionSpec(
        name=data["name"],
        area_code=data["area_code"],
        start_month=data["start_month"],
        rule_id=data["rule_id"],
        outcome=data["outcome"],
        level=data["level"],
        comparison=tuple(data.get("comparison") or ()),
        description=data.get("description") or "",
    )


def observations(frame: pd.DataFrame, spec: InterventionSpec, column: str) -> pd.DataFrame:
    """One observation per area and data month (the first month showing that data)."""
    data = frame[frame["data_month"].notna()].copy()
    if spec.comparison:
        data = data[data["treated"] | data["area_code"].isin(spec.comparison)]
    data = data.sort_values(["area_code", "month"]).drop_duplicates(["area_code", "data_month"])
    data = data.rename(columns={"data_month": "time", column: "y"})
    data["y"] = data["y"].astype(float)
    data["post"] = data["time"] >= spec.start_month
    data["d"] = (data["treated"] & data["post"]).astype(float)
    return data[["area_code", "time", "y", "treated", "post", "d"]].dropna(subset=["y"])


def did(data: pd.DataFrame, spec: InterventionSpec) -> dict[str, Any]:
    """The two-way fixed-effects estimate with area-clustered errors, and the means."""
    import statsmodels.formula.api as smf

    if data.empty:
        raise ImpactError("no observations: the rule's data has no months in the series")
    before = sorted(data.loc[~data["post"], "time"].unique())
    after = sorted(data.loc[data["post"], "time"].unique())
    if not before or not after:
        raise ImpactError(
            f"the data for the rule covers {', '.join(sorted(data['time'].unique()))}: an "
            "estimate needs data both before and from the start month"
        )
    treated_units = data.loc[data["treated"], "area_code"].nunique()
    comparison_units = data.loc[~data["treated"], "area_code"].nunique()
    if not treated_units or not comparison_units:
        raise ImpactError("an estimate needs both treated and comparison areas with data")
    groups = pd.factorize(data["area_code"])[0]
    fit = smf.ols("y ~ d + C(area_code) + C(time)", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    low, high = (float(x) for x in fit.conf_int(alpha=0.05).loc["d"])
    means = data.groupby(["treated", "post"])["y"].mean()

    def mean(t: bool, p: bool) -> float:
        return float(means.get((t, p), float("nan")))

    series = data.groupby(["time", "treated"])["y"].mean().reset_index().sort_values(["time"])
    return {
        "estimate": float(fit.params["d"]),
        "std_error": float(fit.bse["d"]),
        "ci_low": low,
        "ci_high": high,
        "p_value": float(fit.pvalues["d"]),
        "observations": int(fit.nobs),
        "treated_areas": int(treated_units),
        "comparison_areas": int(comparison_units),
        "months_before": [str(m) for m in before],
        "months_after": [str(m) for m in after],
        "before_after": {
            "treated": {"before": mean(True, False), "after": mean(True, True)},
            "comparison": {"before": mean(False, False), "after": mean(False, True)},
        },
        "simple_did": (mean(True, True) - mean(True, False))
        - (mean(False, True) - mean(False, False)),
        "series": [
            {
                "month": str(r.time),
                "group": "intervention area" if r.treated else "comparison areas",
                "mean": round(float(r.y), 4),
            }
            for r in series.itertuples()
        ],
    }


def estimate_impact(
    settings: Settings, ident: int | str, actor: str, area_run: int | None = None
) -> ImpactEstimate:
    """Estimate an intervention's effect from the latest (or given) area run; audited."""
    intervention = get_intervention(settings, ident)
    spec = _spec(intervention)
    run = _area_run(settings, area_run)
    data = observations(_units(settings, run, spec), spec, OUTCOMES[spec.outcome])
    result = did(data, spec)
    with session_scope(settings) as session:
        append_event(
            session,
            actor=actor,
            action=AuditAction.IMPACT_ESTIMATE,
            target_type="insight_intervention",
            target_id=str(intervention["id"]),
            details={"area_run": run.id, "estimate": round(result["estimate"], 4)},
        )
        session.commit()
    return ImpactEstimate(intervention=intervention, area_run=int(run.id), **result)


def true_effect(
    settings: Settings, truth_dir: Path, ident: int | str, area_run: int | None = None
) -> dict[str, Any]:
    """The effect the synthetic generator put in, measured the same way on its truth.

    From ``fsm_eligibility.parquet`` (per pupil per month: eligible, registered) the children
    eligible and not registered are counted per area of the intervention's level, placed by
    their household's address that month (``households.parquet``: start and end address,
    move date) and the hub's gazetteer, at the same data months; the same estimator then
    gives the true effect on the count. Only the ``flags`` outcome of the FSM rule has a
    counterpart in the truth.
    """
    truth_dir = Path(truth_dir)
    intervention = get_intervention(settings, ident)
    spec = _spec(intervention)
    if spec.outcome != "flags" or spec.rule_id != "fsm-eligible-not-registered":
        raise ImpactError("the truth measures the FSM rule's flags outcome only")
    run = _area_run(settings, area_run)
    hub = observations(_units(settings, run, spec), spec, OUTCOMES[spec.outcome])
    months = sorted(hub["time"].unique())
    units = hub[["area_code", "treated"]].drop_duplicates()
    from joinedup.insight.areas import load_gazetteer

    elig = str(truth_dir / "fsm_eligibility.parquet").replace("'", "''")
    households = str(truth_dir / "households.parquet").replace("'", "''")
    column = {"lsoa": "lsoa", "ward": "ward", "lad": "lad"}[spec.level]
    with duckdb_session(settings) as con:
        load_gazetteer(settings, con, "__gazetteer")
        con.register("__units", units)
        counts: pd.DataFrame = con.execute(
            f"""WITH e AS (
                SELECT e.month, e.person_id, h.uprn_start, h.uprn_end, h.move_date
                FROM read_parquet('{elig}') e
                JOIN read_parquet('{households}') h USING (household_id)
                WHERE e.eligible AND NOT e.registered AND list_contains($months, e.month)
            ), placed AS (
                SELECT month, CAST(CASE WHEN move_date IS NOT NULL AND move_date <=
                       strptime(month || '-15', '%Y-%m-%d')::DATE THEN uprn_end
                       ELSE uprn_start END AS VARCHAR) AS uprn
                FROM e
            ), n AS (
                SELECT g.{column} AS area_code, month, count(*) AS y
                FROM placed JOIN __gazetteer g USING (uprn) GROUP BY ALL
            )
            SELECT u.area_code, m.month AS time, coalesce(n.y, 0)::DOUBLE AS y, u.treated
            FROM __units u CROSS JOIN (SELECT unnest($months) AS month) m
            LEFT JOIN n ON n.area_code = u.area_code AND n.month = m.month""",
            {"months": months},
        ).df()
    counts["post"] = counts["time"] >= spec.start_month
    counts["d"] = (counts["treated"] & counts["post"]).astype(float)
    result = did(counts, spec)
    intervention_truth = truth_dir / "intervention.json"
    generator = json.loads(intervention_truth.read_text()) if intervention_truth.is_file() else {}
    return {
        "true_effect": result["estimate"],
        "true_before_after": result["before_after"],
        "generator": {k: generator.get(k) for k in ("organisation", "start_month", "mechanism")},
    }


def define_from_truth(settings: Settings, truth_dir: Path, actor: str) -> dict[str, Any] | None:
    """The synthetic region's own intervention (``truth/intervention.json``) as an analyst
    would define it: the borough, its start month, the FSM rule, flags by ward."""
    data = json.loads((Path(truth_dir) / "intervention.json").read_text())
    if not data.get("organisation"):
        return None
    spec = InterventionSpec(
        name=f"Auto-enrolment for free school meals ({data['name']})",
        area_code=data["gss_code"],
        start_month=data["start_month"],
        rule_id="fsm-eligible-not-registered",
        outcome="flags",
        level="ward",
        description=data.get("mechanism", ""),
    )
    try:
        return get_intervention(settings, spec.name)
    except LookupError:
        return define_intervention(settings, spec, actor)


__all__ = [
    "AreaError",
    "ImpactError",
    "ImpactEstimate",
    "InterventionSpec",
    "define_from_truth",
    "define_intervention",
    "estimate_impact",
    "get_intervention",
    "list_interventions",
    "true_effect",
]
