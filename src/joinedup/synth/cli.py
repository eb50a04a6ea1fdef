"""``joinedup synth``: generate a synthetic region (the main CLI calls :func:`register`)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .config import SynthConfig
from .profiles import apply_profile, profile_names


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to the main ``joinedup`` Typer app."""

    @app.command("synth")
    def synth(
        residents: int = typer.Option(
            50_000, "--residents", "-n", min=200, help="Residents at the start of the timeline."
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            help="Output folder (empty or a previous synthetic region, which is replaced).",
        ),
        seed: int = typer.Option(
            1, "--seed", help="Random seed; the same seed gives byte-identical files."
        ),
        months: int = typer.Option(
            24, "--months", min=1, max=120, help="Length of the timeline in months."
        ),
        start_month: str = typer.Option(
            "2025-04", "--start-month", help="First month of the timeline (YYYY-MM)."
        ),
        error_rate: float = typer.Option(
            1.0,
            "--error-rate",
            min=0.0,
            help="Multiplier on every record-level error rate "
            "(0 = clean records, 1 = the documented defaults).",
        ),
        profile: str = typer.Option(
            "default",
            "--profile",
            help="Scenario profile: "
            + ", ".join(profile_names())
            + " (see docs/synthetic-data.md; default = the documented rates).",
        ),
    ) -> None:
        """Generate a synthetic region: four London boroughs, a food bank network and a data
        hub, with each organisation's source files, an address gazetteer, a manifest and
        ground truth (never to be ingested). Every person and address is invented."""
        from rich.console import Console

        from joinedup.clikit import progress_bar

        from .generate import generate_region

        config = SynthConfig(
            residents=residents,
            seed=seed,
            months=months,
            start_month=start_month,
            error_rate=error_rate,
        )
        try:
            config = apply_profile(config, profile)
            config.validate()
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        console = Console(stderr=True)
        started = time.perf_counter()
        with progress_bar("synth") as listener:
            try:
                manifest = generate_region(config, out, lambda stage, f: listener(f, stage))
            except FileExistsError as exc:
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
        elapsed = time.perf_counter() - started
        console.print(
            f"Wrote {len(manifest.files)} files, {manifest.total_rows:,} rows "
            f"({manifest.total_rows / residents:.1f} per resident) to {out} in {elapsed:.1f}s. "
            f"Ground truth is in {out / 'truth'}: never ingest it."
        )
