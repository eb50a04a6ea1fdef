"""The synthetic region generator's record in the stage registry (:mod:`joinedup.stages`)."""

from joinedup.demo import source_dir, timeline
from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "synth",
    jobs=("joinedup.synth.jobs",),
    cli="joinedup.synth.cli:register",
    demo=(
        DemoStep(
            "Generate the synthetic region",
            "synth",
            lambda s, o: {
                "out": str(source_dir(s)),
                "residents": o.residents,
                "seed": o.seed,
                "months": o.months,
                "profile": o.profile,
                **timeline(o),
            },
        ),
    ),
)
