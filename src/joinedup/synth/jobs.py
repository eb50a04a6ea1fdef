"""The ``synth`` job kind: generate a synthetic region with progress (used by the demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joinedup.jobs.registry import JobContext, job
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_region
from joinedup.synth.profiles import apply_profile


@job("synth")
def synth_job(ctx: JobContext) -> dict[str, Any]:
    """Generate a region into ``params['out']`` from residents, seed, months, error rate and
    scenario profile."""
    params = ctx.params
    optional = {k: str(params[k]) for k in ("start_month", "intervention_month") if k in params}
    config = SynthConfig(
        residents=int(params.get("residents", 50_000)),
        seed=int(params.get("seed", 1)),
        months=int(params.get("months", 24)),
        error_rate=float(params.get("error_rate", 1.0)),
        **optional,  # type: ignore[arg-type]
    )
    config = apply_profile(config, str(params.get("profile", "default")))
    config.validate()
    manifest = generate_region(
        config, Path(params["out"]), lambda message, fraction: ctx.progress(fraction, message)
    )
    return {
        "out": str(params["out"]),
        "residents": manifest.residents,
        "profile": config.profile,
        "organisations": len(manifest.organisations),
        "files": len(manifest.files),
        "source_rows": sum(f.rows for f in manifest.files),
    }
