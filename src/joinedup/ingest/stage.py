"""Ingest's record in the stage registry (:mod:`joinedup.stages`). Its commands (``ingest``,
``mapping``) are the command line's own, in :mod:`joinedup.cli`."""

from joinedup.demo import source_dir
from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "ingest",
    jobs=("joinedup.ingest.jobs", "joinedup.ingest.region"),
    api=(
        "joinedup.web.api.datasets",
        "joinedup.web.api.standards",
        "joinedup.web.api.mapping_suggest",
        "joinedup.web.api.layouts",
    ),
    pages=(
        "joinedup.web.pages.datasets",
        "joinedup.web.pages.upload",
        "joinedup.web.pages.mappings",
        "joinedup.web.pages.onboard",
    ),
    demo=(
        DemoStep(
            "Ingest every file through its mapping",
            "ingest.region",
            lambda s, o: {"manifest": str(source_dir(s) / "manifest.json")},
        ),
    ),
)
