"""Insight's record in the stage registry (:mod:`joinedup.stages`): indicator rules and
worklists, and areas, trends and impact."""

from joinedup.demo import source_dir
from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "insight",
    jobs=("joinedup.insight.jobs",),
    cli="joinedup.insight.cli:register",
    api=("joinedup.web.api.insight", "joinedup.web.api.areas"),
    pages=("joinedup.web.pages.worklist", "joinedup.web.pages.insight_areas"),
    demo=(
        DemoStep(
            "Run the indicator rules",
            "insight.run",
            lambda s, o: {"truth": str(source_dir(s) / "truth")},
        ),
        DemoStep(
            "Load the area boundaries",
            "areas.boundaries",
            lambda s, o: {"manifest": str(source_dir(s) / "manifest.json"), "actor": "demo"},
        ),
        DemoStep(
            "Count flags by area and month, and estimate the intervention's impact",
            "insight.areas",
            lambda s, o: {"truth": str(source_dir(s) / "truth"), "months": o.months},
        ),
    ),
)
