"""The ODI toolkit's record in the stage registry (:mod:`joinedup.stages`): ethics records,
the public register of data sharing, the ecosystem map and business cases."""

from joinedup.stages import Stage

STAGE = Stage(
    "toolkit",
    cli="joinedup.toolkit.cli:register",
    api=(
        "joinedup.web.api.ethics",
        "joinedup.web.api.transparency",
        "joinedup.web.api.business_cases",
    ),
    pages=(
        "joinedup.web.pages.ethics",
        "joinedup.web.pages.transparency",
        "joinedup.web.pages.business_cases",
    ),
)
