"""``/api/v1/insight``: indicator rules, the latest run, and caseworkers' flags and actions.

Rules and run summaries hold no personal data (signed-in users). Flags are personal data:
every flag route needs a purpose and goes through :mod:`joinedup.insight.flags`, which applies
the policy decision (the person's organisation raised the flag, the purpose is the flag's, and
other organisations' values only as the agreement shares them) and audits the read. Recording
an action needs the ``casework`` scope with a token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.insight.flags import (
    OUTCOME_LABELS,
    FlagFilter,
    get_flag,
    list_flags,
    record_action,
)
from joinedup.insight.rules import load_rules
from joinedup.insight.run import latest_insight_run
from joinedup.web.api.responses import errors
from joinedup.web.auth import (
    PERSONAL_DATA,
    Principal,
)
from joinedup.web.guards import PERSONAL_READER, READER, guard

tag = {
    "name": "insight",
    "description": "Indicator rules, insight runs and flags with reasons (personal data, under "
    "your purpose), and caseworkers' actions on flags.",
}
router = APIRouter(prefix="/insight", tags=[tag["name"]])

FlagId = Annotated[str, Path(pattern=r"^f-[0-9a-f]{16}$", description="A flag id")]
HouseholdId = Annotated[str, Path(pattern=r"^h-[0-9a-f]{16}$", description="A household id")]
Reader = Annotated[Principal, READER.depends]
#: Flags are personal data, read under the purpose the caller acts under (tokens: ``read``);
#: recording an action with a token needs the ``casework`` scope.
CASEWORK = guard(PERSONAL_DATA, scope="casework")
FlagReader = Annotated[Principal, PERSONAL_READER.depends]
Caseworker = Annotated[Principal, CASEWORK.depends]


class FlagsPage(BaseModel):
    run: int | None = Field(description="The insight run the flags come from")
    run_date: str | None
    total: int = Field(description="Flags matching the filters")
    counts: dict[str, int] = Field(description="Open and quiet flags for your purpose")
    page: int
    page_size: int
    flags: list[dict[str, Any]]


class ActionIn(BaseModel):
    outcome: Literal["contacted", "enrolled", "declined", "no_action_needed", "wrong_match"]
    note: str = Field("", max_length=500, description="A short case note (kept, never logged)")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get(
    "/rules",
    summary="The indicator rules (validated)",
    **READER.route(),
    responses=errors(401),
)
def get_rules(_reader: Reader) -> list[dict[str, Any]]:
    """The shipped indicator rules: purpose, severity, sources and date-effective versions."""
    return [r.describe() for r in load_rules()]


@router.get(
    "/runs/latest",
    summary="The latest insight run: flags per rule and organisation (counts only)",
    **READER.route(),
    responses=errors(401, 404),
)
def get_latest_run(request: Request, _reader: Reader) -> dict[str, Any]:
    run = latest_insight_run(_settings(request))
    if run is None:
        raise HTTPException(404, "No insight run yet")
    return {
        "run": run.id,
        "run_date": run.run_date.isoformat(),
        "linkage_run": run.linkage_run_id,
        "flags": run.flags,
        "rules": run.rules,
        "created_at": run.created_at.isoformat(),
    }


def _page(settings: Settings, principal: Principal, filters: FlagFilter) -> FlagsPage:
    page = list_flags(settings, principal.actor(), filters)
    return FlagsPage(
        run=page.run_id,
        run_date=page.run_date.isoformat() if page.run_date else None,
        total=page.total,
        counts=page.counts,
        page=page.page,
        page_size=page.page_size,
        flags=[f.to_dict() for f in page.flags],
    )


@router.get(
    "/flags",
    response_model=FlagsPage,
    summary="Your worklist: flags for your organisation's residents under your purpose",
    **PERSONAL_READER.route(),
    responses=errors(401, 403),
)
async def get_flags(
    request: Request,
    principal: FlagReader,
    rule: Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9-]+$")] = None,
    severity: Annotated[Literal["high", "medium", "low"] | None, Query()] = None,
    status: Annotated[Literal["open", "quiet", "all"], Query()] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FlagsPage:
    """Flags ordered by severity and recency. Open flags by default; a flag acted on is
    *quiet* until its data changes. Other organisations' values appear only where the
    agreement shares them (``shown: false`` otherwise). The read is audited."""
    filters = FlagFilter(
        rule=rule, severity=severity, status=status, page=page, page_size=page_size
    )
    return await run_in_threadpool(_page, _settings(request), principal, filters)


@router.get(
    "/households/{household_id}/flags",
    response_model=FlagsPage,
    summary="Every flag of one household (open and quiet)",
    **PERSONAL_READER.route(),
    responses=errors(401, 403),
)
async def get_household_flags(
    request: Request,
    principal: FlagReader,
    household_id: HouseholdId,
) -> FlagsPage:
    filters = FlagFilter(household_id=household_id, status="all", page_size=500)
    return await run_in_threadpool(_page, _settings(request), principal, filters)


@router.get(
    "/flags/{flag_id}",
    summary="One flag with its reasons, source records and actions",
    **PERSONAL_READER.route(),
    responses=errors(401, 403, 404),
)
async def get_one_flag(
    request: Request,
    principal: FlagReader,
    flag_id: FlagId,
) -> dict[str, Any]:
    """Which rule fired (and its version), on which records (dataset, organisation, version,
    date), with the values that mattered. Audited."""
    flag = await run_in_threadpool(get_flag, _settings(request), principal.actor(), flag_id)
    return flag.to_dict(detail=True)


@router.post(
    "/flags/{flag_id}/actions",
    summary="Record an action and outcome on a flag",
    **CASEWORK.route(csrf=True),
    status_code=201,
    responses=errors(401, 403, 404, 422),
)
async def post_action(
    request: Request,
    principal: Caseworker,
    flag_id: FlagId,
    body: ActionIn,
) -> dict[str, Any]:
    """Outcomes: contacted, enrolled, declined, no_action_needed, wrong_match (which is
    reported to linkage review). The flag is quiet until its data changes. Audited."""
    flag = await run_in_threadpool(
        record_action, _settings(request), principal.actor(), flag_id, body.outcome, body.note
    )
    return flag.to_dict(detail=True)


__all__ = ["OUTCOME_LABELS", "router", "tag"]
