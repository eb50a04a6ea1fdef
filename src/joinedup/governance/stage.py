"""Governance's record in the stage registry (:mod:`joinedup.stages`)."""

from joinedup.stages import DemoStep, Stage

STAGE = Stage(
    "governance",
    jobs=("joinedup.governance.demo",),
    cli="joinedup.governance.cli:register",
    api=("joinedup.web.api.governance",),
    pages=(
        "joinedup.web.pages.agreements",
        "joinedup.web.pages.grants",
        "joinedup.web.pages.audit",
        "joinedup.web.pages.objections",
        "joinedup.web.pages.admin",
    ),
    demo=(
        DemoStep(
            "Register purposes, users and sharing agreements", "governance.demo", lambda s, o: {}
        ),
    ),
)
