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
