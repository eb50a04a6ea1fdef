"""Job kinds of the insight stage."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from joinedup.insight.run import RunOptions, run_insight
from joinedup.jobs.registry import JobContext, job


@job("insight.run")
def insight_run_job(ctx: JobContext) -> dict[str, Any]:
    """Evaluate the indicator rules over the latest resident index and write the flags.

    Params: ``run_date`` (ISO date, default today), ``rules`` (rule files or folders; default
    the shipped starter set), ``rule_ids`` (run only these), ``truth`` (a synthetic region's
    truth folder: also check the FSM flags against it).
    """
    params = ctx.params
    options = RunOptions(
        run_date=date.fromisoformat(params["run_date"]) if params.get("run_date") else None,
        rule_paths=tuple(Path(p) for p in params.get("rules") or ()),
        rule_ids=tuple(params.get("rule_ids") or ()),
    )
    result = run_insight(ctx.settings, options, ctx.progress, job_id=ctx.job_id)
    if params.get("truth"):
        from joinedup.insight.evaluate import evaluate_fsm

        evaluation = evaluate_fsm(ctx.settings, Path(params["truth"]), result["run"])
        result.update(evaluation.summary())
        result["fsm_evaluation"] = evaluation.to_dict()
    return result


@job("areas.boundaries")
def area_boundaries_job(ctx: JobContext) -> dict[str, Any]:
    """Load area boundaries: ``file`` and ``level`` (one GeoJSON file), or ``manifest`` (a
    synthetic region's generated boundaries, every level)."""
    from joinedup.insight.boundaries import load_boundaries, load_region_boundaries

    params = ctx.params
    actor = params.get("actor") or "service:areas"
    if params.get("manifest"):
        return load_region_boundaries(ctx.settings, Path(params["manifest"]), actor)
    return load_boundaries(
        ctx.settings, Path(params["file"]), params["level"], actor, params.get("code_property")
    )


@job("insight.areas")
def insight_areas_job(ctx: JobContext) -> dict[str, Any]:
    """Evaluate the rules as at each month's end and count the flags by LSOA, ward and local
    authority (trends) and by sex, age band and area (fairness).

    Params: ``rules``, ``rule_ids``, ``months`` (how many latest months, default 24) and
    ``truth`` (a synthetic region's truth folder: define its intervention, estimate the
    effect and compare it with the effect the generator put in).
    """
    from joinedup.insight.trends import AreaOptions, run_areas

    params = ctx.params
    options = AreaOptions(
        rule_paths=tuple(Path(p) for p in params.get("rules") or ()),
        rule_ids=tuple(params.get("rule_ids") or ()),
        months=int(params.get("months") or 24),
    )
    result = run_areas(ctx.settings, options, ctx.progress, job_id=ctx.job_id)
    if params.get("truth"):
        result["impact"] = demo_impact(ctx.settings, Path(params["truth"]))
    return result


def demo_impact(settings: Any, truth: Path) -> dict[str, Any] | None:
    """The synthetic region's intervention: defined, estimated, and checked against the truth."""
    from joinedup.insight.impact import (
        ImpactError,
        define_from_truth,
        estimate_impact,
        true_effect,
    )

    intervention = define_from_truth(settings, truth, "service:demo")
    if intervention is None:
        return None
    try:
        estimate = estimate_impact(settings, intervention["id"], "service:demo")
        truth_side = true_effect(settings, truth, intervention["id"])
    except ImpactError as exc:
        return {"intervention": intervention["name"], "error": str(exc)}
    return {
        "intervention": intervention["name"],
        "id": intervention["id"],
        "estimate": round(estimate.estimate, 3),
        "ci": [round(estimate.ci_low, 3), round(estimate.ci_high, 3)],
        "true_effect": round(truth_side["true_effect"], 3),
        "true_effect_in_ci": estimate.ci_low <= truth_side["true_effect"] <= estimate.ci_high,
        "treated_areas": estimate.treated_areas,
        "comparison_areas": estimate.comparison_areas,
        "months_before": estimate.months_before,
        "months_after": estimate.months_after,
    }
