"""``/api/v1/linkage``: linkage runs, the clerical review queue, a pair's evidence, reviewers'
decisions, and the explanation of a resident.

Every route is personal data for **analysts acting under the purpose ``linkage``** (resident
index maintenance): the queue and the runs name no one, but a pair and a resident show source
records, read through :func:`joinedup.governance.access.read_records` (policy decision, audit)
by :mod:`joinedup.linkage.explain`. API tokens need the ``read`` scope, and ``review`` to
record a decision. The pages (:mod:`joinedup.web.pages.linkage`) call the same functions.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.linkage import explain
from joinedup.linkage.explain import (
    Evidence,
    PairView,
    Queue,
    RecordView,
    ResidentView,
    RunInfo,
)
from joinedup.linkage.review import (
    MAX_NOTE,
    REVIEW_PURPOSE,
    Decision,
)
from joinedup.web.api.responses import errors
from joinedup.web.auth import PERSONAL_DATA, Principal
from joinedup.web.guards import REVIEW_REFUSAL, guard

tag = {
    "name": "linkage",
    "description": "The resident index: linkage runs, the clerical review queue of uncertain "
    "pairs with their match-weight evidence, reviewers' decisions (which every later build "
    "applies), and why a resident's records were joined. For analysts acting under the "
    "purpose `linkage`.",
}
router = APIRouter(prefix="/linkage", tags=[tag["name"]])
API_ROOT = "/api/v1/linkage"


#: Every route: personal data, for analysts acting under the purpose ``linkage`` (tokens need
#: the ``read`` scope to read and ``review`` to decide).
READER = guard(
    PERSONAL_DATA, (Role.ANALYST,), purpose=REVIEW_PURPOSE, scope="read", refusal=REVIEW_REFUSAL
)
REVIEWER = guard(
    PERSONAL_DATA, (Role.ANALYST,), purpose=REVIEW_PURPOSE, scope="review", refusal=REVIEW_REFUSAL
)
Reader = Annotated[Principal, READER.depends]
Reviewer = Annotated[Principal, REVIEWER.depends]
PairId = Annotated[
    str, Path(description="The pair's id: `p-` and 16 hex digits", min_length=1, max_length=40)
]
ResidentId = Annotated[
    str, Path(description="The resident's id, for example `r-1a2b3c4d5e6f7a8b`", max_length=64)
]


#: How this module's routes word their refusals (the rest: :data:`responses.DESCRIBED`).
_errors = partial(
    errors,
    described={
        403: "Not an analyst, not acting under the purpose linkage, or the token lacks the scope",
        404: "No such run, pair or resident (or the index has not been built)",
    },
)


# --- models ----------------------------------------------------------------------------------


class FromView(BaseModel):
    """Built from the view objects of :mod:`joinedup.linkage.explain` by attribute name."""

    model_config = ConfigDict(from_attributes=True)


class RunOut(FromView):
    id: int
    created_at: datetime
    model_version: int
    threshold: float = Field(description="Match probability at or above which records link")
    review_band: tuple[float, float] = Field(description="Probabilities of the review queue")
    records: int
    residents: int
    households: int
    pairs: int = Field(description="Pairs scored at or above the review band's lower bound")
    review_band_pairs: int
    datasets: int


class QueueItemOut(BaseModel):
    pair: str
    source_l: str = Field(description="organisation/dataset of the first record")
    source_r: str
    match_weight: float
    match_probability: float
    href: str


class QueueOut(BaseModel):
    run: RunOut
    waiting: int = Field(description="Pairs in the review band without a decision")
    decided: int = Field(description="Pairs in the review band with a decision")
    page: int
    page_size: int
    pages: int
    items: list[QueueItemOut]


class StepOut(FromView):
    comparison: str
    title: str
    level: str = Field(description="The comparison level the pair fell into")
    gamma: int
    weight: float = Field(description="The level's match weight, log2(m/u)")
    tf_adjustment: float = Field(description="Term-frequency adjustment added to the weight")
    cumulative: float = Field(
        validation_alias="end", description="The running total after this comparison"
    )


class EvidenceOut(FromView):
    pair: str
    record_key_l: str
    record_key_r: str
    match_weight: float
    match_probability: float
    prior_weight: float = Field(description="log2 of the prior odds: where the waterfall starts")
    links: bool = Field(description="At or above the run's threshold")
    in_review_band: bool
    decision: str | None = Field(description="The reviewer's decision in force, if any")
    steps: list[StepOut]


class RecordOut(FromView):
    record_key: str
    organisation: str
    dataset: str
    version: int
    source_record_id: str
    resident_id: str
    household_id: str
    rows: int
    values: dict[str, str] | None = Field(description="Read through the policy; None if not")
    withheld: str | None = Field(description="Why the values are not shown")
    hidden: bool = Field(
        False, description="Another organisation's record you may not know of: no key or source"
    )


class DecisionOut(FromView):
    id: int
    pair: str
    record_key_l: str
    record_key_r: str
    decision: str
    reviewer: str
    note: str
    run_id: int | None
    match_probability: float | None
    created_at: datetime


class PairOut(BaseModel):
    run_id: int
    evidence: EvidenceOut
    left: RecordOut | None
    right: RecordOut | None
    decisions: list[DecisionOut]


class DecisionIn(BaseModel):
    decision: Literal["match", "non_match"]
    note: str = Field("", max_length=MAX_NOTE)


class DecisionCreated(DecisionOut):
    next_pair: str | None = Field(description="The next pair waiting for review")


class ResidentOut(BaseModel):
    resident_id: str
    household_id: str
    run_id: int
    records: list[RecordOut]
    household: list[str] = Field(description="The other residents of the household")
    links: list[EvidenceOut] = Field(description="Scored pairs among the resident's records")
    decisions: list[DecisionOut]


def run_out(run: RunInfo) -> RunOut:
    return RunOut.model_validate(
        {
            **{name: getattr(run, name) for name in RunOut.model_fields if name != "review_band"},
            "review_band": (run.review_low, run.threshold),
        }
    )


def evidence_out(evidence: Evidence) -> EvidenceOut:
    return EvidenceOut.model_validate(evidence)


def record_out(record: RecordView | None) -> RecordOut | None:
    return None if record is None else RecordOut.model_validate(record)


def decision_out(decision: Decision) -> DecisionOut:
    return DecisionOut.model_validate(decision)


def queue_out(queue: Queue) -> QueueOut:
    return QueueOut(
        run=run_out(queue.run),
        waiting=queue.waiting,
        decided=queue.decided,
        page=queue.page,
        page_size=queue.page_size,
        pages=queue.pages,
        items=[
            QueueItemOut(
                pair=i.pair,
                source_l=i.source_l,
                source_r=i.source_r,
                match_weight=i.match_weight,
                match_probability=i.match_probability,
                href=f"{API_ROOT}/review/{i.pair}",
            )
            for i in queue.items
        ],
    )


def pair_out(view: PairView) -> PairOut:
    return PairOut(
        run_id=view.run.id,
        evidence=evidence_out(view.evidence),
        left=record_out(view.left),
        right=record_out(view.right),
        decisions=[decision_out(d) for d in view.decisions],
    )


def resident_out(view: ResidentView) -> ResidentOut:
    return ResidentOut(
        resident_id=view.resident_id,
        household_id=view.household_id,
        run_id=view.run.id,
        records=[r for r in (record_out(x) for x in view.records) if r is not None],
        household=view.household,
        links=[evidence_out(e) for e in view.links],
        decisions=[decision_out(d) for d in view.decisions],
    )


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- routes ----------------------------------------------------------------------------------


@router.get(
    "/runs",
    response_model=list[RunOut],
    summary="List linkage runs",
    responses=_errors(401, 403),
    **READER.route(),
)
async def api_runs(request: Request, principal: Reader) -> list[RunOut]:
    """The most recent builds of the resident index, newest first."""
    del principal
    runs = await run_in_threadpool(explain.list_runs, _settings(request))
    return [run_out(r) for r in runs]


@router.get(
    "/runs/{run_id}",
    response_model=RunOut,
    summary="One linkage run",
    responses=_errors(401, 403, 404),
    **READER.route(),
)
async def api_run(
    request: Request, principal: Reader, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> RunOut:
    del principal
    return run_out(await run_in_threadpool(explain.get_run, _settings(request), run_id))


@router.get(
    "/review",
    response_model=QueueOut,
    summary="The clerical review queue",
    responses=_errors(401, 403, 404),
    **READER.route(),
)
async def api_queue(
    request: Request,
    principal: Reader,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=explain.MAX_PAGE_SIZE)] = explain.PAGE_SIZE,
) -> QueueOut:
    """Pairs of the latest run's review band that no one has decided yet, most uncertain
    first (match weight nearest 0). No personal values: each pair names its two datasets.
    Only pairs whose two records you may see under your purpose are listed: your own
    organisation's, or those an agreement shares with you for `linkage`."""
    return queue_out(
        await run_in_threadpool(
            partial(
                explain.review_queue, _settings(request), page, page_size, actor=principal.actor()
            )
        )
    )


@router.get(
    "/review/{pair_id}",
    response_model=PairOut,
    summary="A pair with its evidence and both records",
    responses=_errors(401, 403, 404),
    **READER.route(),
)
async def api_pair(request: Request, principal: Reader, pair_id: PairId) -> PairOut:
    """The pair's match-weight waterfall (prior, then each comparison's level and weight),
    both records (read through the policy, audited) and the decisions made on it. A record
    you may not see is shown only as held by another organisation (no key or dataset)."""
    return pair_out(
        await run_in_threadpool(explain.view_pair, _settings(request), principal.actor(), pair_id)
    )


@router.post(
    "/review/{pair_id}/decision",
    response_model=DecisionCreated,
    status_code=201,
    summary="Record a decision on a pair",
    responses=_errors(401, 403, 404, 422),
    **REVIEWER.route(csrf=True),
)
async def api_decide(
    request: Request, principal: Reviewer, pair_id: PairId, body: DecisionIn
) -> DecisionCreated:
    """`match`: the two records are the same person; `non_match`: they are not. The latest
    decision on a pair wins, earlier ones are kept; every later build applies it (a forced
    link or cannot-link). Audited. Only on pairs whose two records you may see (403)."""
    decision, following = await run_in_threadpool(
        explain.decide_pair,
        _settings(request),
        principal.actor(),
        pair_id,
        body.decision,
        body.note,
    )
    return DecisionCreated(**decision_out(decision).model_dump(), next_pair=following)


@router.get(
    "/residents/{resident_id}",
    response_model=ResidentOut,
    summary="Why a resident's records were joined",
    responses=_errors(401, 403, 404),
    **READER.route(),
)
async def api_resident(request: Request, principal: Reader, resident_id: ResidentId) -> ResidentOut:
    """The resident's source records (read through the policy, audited), the other residents
    of their household, the scored pairs among their records with each comparison's level and
    weight, and reviewers' decisions on them. Another organisation's record that no agreement
    shares with you for `linkage` shows only as held by another organisation (`hidden`), with
    no key, dataset or identifier; its links, decisions and household members are left out."""
    return resident_out(
        await run_in_threadpool(
            explain.explain_resident, _settings(request), principal.actor(), resident_id
        )
    )
