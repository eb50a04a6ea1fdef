"""Job kinds of the linkage stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joinedup.jobs.registry import JobContext, job
from joinedup.linkage.build import BuildOptions, build_index
from joinedup.linkage.evaluate import evaluate_run


@job("linkage.build")
def linkage_build_job(ctx: JobContext) -> dict[str, Any]:
    """Build the resident index; with ``params['truth']`` also evaluate it against the truth.

    Params: ``threshold`` (match probability to link, default 0.9), ``truth`` (a synthetic
    region's ``truth/records.parquet``), ``organisation`` (the organisation the linkage service
    acts for; default the hub). Reviewers' decisions in force are applied to the clustering.
    """
    organisation = ctx.params.get("organisation")
    options = BuildOptions(
        threshold=float(ctx.params.get("threshold", 0.9)),
        organisation=str(organisation) if organisation else None,
    )

    def progress(fraction: float, message: str) -> None:
        ctx.progress(fraction * (0.95 if ctx.params.get("truth") else 1.0), message)

    result = build_index(ctx.settings, options, progress, job_id=ctx.job_id)
    truth = ctx.params.get("truth")
    if truth:
        ctx.progress(0.96, "Evaluating against the truth")
        evaluation = evaluate_run(ctx.settings, Path(truth), run_id=result["run"])
        result.update(evaluation.summary())
        result["evaluation"] = evaluation.to_dict()
    return result


@job("linkage.update")
def linkage_update_job(ctx: JobContext) -> dict[str, Any]:
    """Score new and changed records against the latest index (ids kept); with
    ``params['truth']`` also evaluate the result."""
    from joinedup.linkage.update import update_index

    result = update_index(ctx.settings, ctx.progress, job_id=ctx.job_id)
    truth = ctx.params.get("truth")
    if truth and result.get("kind") == "incremental":
        evaluation = evaluate_run(ctx.settings, Path(truth), run_id=result["run"])
        result.update(evaluation.summary())
    return result
