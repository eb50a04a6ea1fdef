"""Residents' rights' record in the stage registry (:mod:`joinedup.stages`)."""

from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "rights",
    jobs=("joinedup.rights.jobs",),
    cli="joinedup.rights.cli:register",
    api=("joinedup.web.api.rights",),
    pages=("joinedup.web.pages.rights",),
    demo=(DemoStep("Prepare a residents' rights example", "rights.demo", lambda s, o: {}),),
)
