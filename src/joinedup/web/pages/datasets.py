"""Datasets: the catalogue, one dataset with its versions, and a version's validation report.

These pages show no personal data (see :mod:`joinedup.ingest.service`), so they need no
policy decision; they are for signed-in users of any role.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from joinedup.ingest.errors import READ_RULES
from joinedup.ingest.report import EXAMPLES_PER_RULE
from joinedup.ingest.service import (
    API_ROOT,
    dataset_path,
    get_dataset,
    get_version,
    list_datasets,
    standard_titles,
    version_path,
)
from joinedup.web.guards import SIGNED_IN_USER
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
#: Every page here: any signed-in user (the catalogue and reports hold no personal data).
section = PageSection(router=router, nav=NavItem(key="datasets", text="Datasets", href="/datasets"))

#: What each validation rule means, for people reading a report (rules from ingest/compile.py).
VALIDATION_RULES: dict[str, str] = {
    "required": "A required value is missing",
    "invalid_date": "Not a date in a format the mapping accepts",
    "invalid_integer": "Not a whole number",
    "invalid_number": "Not a number",
    "invalid_boolean": "Not a yes or no value the mapping accepts",
    "pattern": "Does not match the standard's format",
    "enum": "Not one of the standard's allowed values",
    "min_length": "Shorter than the standard allows",
    "max_length": "Longer than the standard allows",
    "minimum": "Below the standard's minimum",
    "maximum": "Above the standard's maximum",
    "nhs_mod11": "The NHS number's check digit is wrong",
    "upn_check_letter": "The Unique Pupil Number's check letter is wrong",
    "not_in_future": "A date in the future",
    "date_order": "An end date before its start date",
    "only_when": "A value given where the standard does not allow one",
    "duplicate_key": "Another row has the same key",
    "unique": "Another row has the same value",
    **{rule: text[:1].upper() + text[1:] for rule, text in READ_RULES.items()},
}


def rule_description(rule: str) -> str:
    return VALIDATION_RULES.get(rule, "")


@router.get("/datasets", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def catalogue(request: Request) -> HTMLResponse:
    datasets = await run_in_threadpool(list_datasets, request.app.state.settings)
    return render(
        request,
        "pages/datasets.html",
        {
            "datasets": datasets,
            "titles": standard_titles(),
            "dataset_path": dataset_path,
            "version_path": version_path,
        },
    )


@router.get(
    "/datasets/{organisation}/{dataset}", response_class=HTMLResponse, **SIGNED_IN_USER.route()
)
async def dataset_page(request: Request, organisation: str, dataset: str) -> HTMLResponse:
    settings = request.app.state.settings
    found = await run_in_threadpool(get_dataset, settings, organisation, dataset)
    return render(
        request,
        "pages/dataset.html",
        {
            "dataset": found,
            "titles": standard_titles(),
            "version_path": version_path,
            "api_url": API_ROOT + dataset_path(found.organisation, found.name),
        },
    )


@router.get(
    "/datasets/{organisation}/{dataset}/versions/{version}",
    response_class=HTMLResponse,
    **SIGNED_IN_USER.route(),
)
async def version_page(
    request: Request,
    organisation: str,
    dataset: str,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> HTMLResponse:
    settings = request.app.state.settings
    found = await run_in_threadpool(get_version, settings, organisation, dataset, version)
    return render(
        request,
        "pages/dataset_version.html",
        {
            "report_version": found,
            "titles": standard_titles(),
            "dataset_url": dataset_path(found.organisation, found.dataset),
            "rule_description": rule_description,
            "examples_per_rule": EXAMPLES_PER_RULE,
        },
    )
