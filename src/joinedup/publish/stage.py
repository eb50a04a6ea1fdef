"""Open data's record in the stage registry (:mod:`joinedup.stages`)."""

from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "publish",
    jobs=("joinedup.publish.jobs",),
    cli="joinedup.publish.cli:register",
    api=("joinedup.web.api.publish",),
    pages=(
        "joinedup.web.pages.open_data_developers",  # before open_data: /open-data/developers
        "joinedup.web.pages.open_data",
        "joinedup.web.pages.publications",
    ),
    demo=(DemoStep("Publish open data", "publish.demo", lambda s, o: {}),),
)
