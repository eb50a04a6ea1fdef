"""Linkage's record in the stage registry (:mod:`joinedup.stages`)."""

from joinedup.demo import source_dir
from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "linkage",
    jobs=("joinedup.linkage.jobs",),
    cli="joinedup.linkage.cli:register",
    api=("joinedup.web.api.linkage",),
    pages=("joinedup.web.pages.linkage",),
    demo=(
        DemoStep(
            "Link residents",
            "linkage.build",
            lambda s, o: {"truth": str(source_dir(s) / "truth" / "records.parquet")},
        ),
    ),
)
