"""``/api/v1/datasets``: the catalogue (datasets, versions, validation reports) and uploads.

Reading the catalogue shows no personal data: names, counts, and validation reports that hold
only row numbers and value *shapes*. Uploading a file streams it to disk
(:mod:`joinedup.web.uploads`), then ingests it as a job on a background thread (``202``, poll
the job), or inline with ``?wait=true`` (``201`` with the result, or ``422`` naming the file,
row and rule).

The upload page (:mod:`joinedup.web.pages.upload`) shares the checks and the job start here,
so the API and the page behave the same.

Access: the catalogue is for any signed-in user (token scope ``read``). Uploads are for a data
owner of the organisation (or a hub admin loading a file on its behalf; scope ``ingest``).
``/records`` is the one route here that returns personal data: it needs a purpose, and every
read goes through :func:`joinedup.governance.access.read_records` (policy decision + audit).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.governance.access import read_records
from joinedup.ingest.errors import IngestError
from joinedup.ingest.layouts import layout_of_file
from joinedup.ingest.service import (
    API_ROOT,
    MAX_DATASET_NAME,
    MAX_PERIOD,
    PERIOD,
    UPLOAD_ROLES,
    DatasetDetail,
    DatasetSummary,
    IngestErrorDetail,
    IngestOutcome,
    IngestRejected,
    UploadAccepted,
    ValidationReport,
    VersionDetail,
    check_submission,
    dataset_path,
    get_dataset,
    get_version,
    ingest_now,
    ingest_params,
    list_datasets,
    organisation_exists,
    start_ingest,
    version_path,
)
from joinedup.standards import field_names
from joinedup.web.api.layouts import LayoutDriftRefused
from joinedup.web.api.responses import errors, upload_errors
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
)
from joinedup.web.guards import PERSONAL_READER, READER, guard
from joinedup.web.uploads import (
    FILE_PART,
    UploadLimits,
    UploadTooLarge,
    authorise_upload,
    drain,
    form_values,
    multipart_body,
    receive_upload,
    standard_part,
)

tag = {
    "name": "datasets",
    "description": "The catalogue: datasets, their versions and validation reports. "
    "Upload a file to add a version.",
}
router = APIRouter(prefix="/datasets", tags=[tag["name"]])


# --- routes ----------------------------------------------------------------------------------


NOT_FOUND = errors(404, described={404: "No such organisation, dataset or version"})
OrgCode = Annotated[str, Path(description="The organisation's code", max_length=64)]
DatasetName = Annotated[str, Path(description="The dataset's name", max_length=MAX_DATASET_NAME)]


Reader = Annotated[Principal, READER.depends]
PersonalReader = Annotated[Principal, PERSONAL_READER.depends]
#: Adding versions: data owners and hub admins (tokens: ``ingest``); authorise_upload then
#: checks the organisation.
UPLOADERS = guard(SIGNED_IN, UPLOAD_ROLES, scope="ingest")


@router.get(
    "",
    response_model=list[DatasetSummary],
    summary="List datasets",
    **READER.route(),
)
def get_datasets(
    request: Request,
    principal: Reader,
    organisation: Annotated[str | None, Query(description="Only this organisation's")] = None,
    standard: Annotated[str | None, Query(description="Only datasets of this standard")] = None,
) -> list[DatasetSummary]:
    """Every dataset in the catalogue with its latest version's row counts."""
    return list_datasets(request.app.state.settings, organisation, standard)


@router.get(
    "/{organisation}/{dataset}",
    response_model=DatasetDetail,
    summary="One dataset, with its versions",
    responses=NOT_FOUND,
    **READER.route(),
)
def get_dataset_detail(
    request: Request, principal: Reader, organisation: OrgCode, dataset: DatasetName
) -> Any:
    """A dataset and every version of it, newest first."""
    return get_dataset(request.app.state.settings, organisation, dataset)


@router.get(
    "/{organisation}/{dataset}/versions/{version}",
    response_model=VersionDetail,
    summary="One version, with its validation report",
    responses=NOT_FOUND,
    **READER.route(),
)
def get_version_detail(
    request: Request,
    principal: Reader,
    organisation: OrgCode,
    dataset: DatasetName,
    version: Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number, from 1")],
) -> Any:
    """A version's source file, counts and validation report (counts, row numbers and value
    shapes only)."""
    return get_version(request.app.state.settings, organisation, dataset, version)


@router.get(
    "/{organisation}/{dataset}/versions/{version}/report",
    response_model=ValidationReport,
    summary="Download a version's validation report",
    responses=NOT_FOUND,
    **READER.route(),
)
def get_version_report(
    request: Request,
    principal: Reader,
    organisation: OrgCode,
    dataset: DatasetName,
    version: Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number, from 1")],
) -> Any:
    """The validation report alone, as a JSON file to download."""
    found = get_version(request.app.state.settings, organisation, dataset, version)
    if found.report is None:
        raise HTTPException(404, f"Version {version} of {organisation}/{dataset} has no report")
    filename = f"{organisation}-{dataset}-v{version}-report.json"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return JSONResponse(
        found.report.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


UPLOAD_BODY = multipart_body(
    {
        "file": FILE_PART,
        "mapping": {
            "type": "string",
            "description": "A shipped mapping's name (GET /api/v1/mappings); omit it, or give "
            "`none`, when the columns already follow the standard",
        },
        "standard": standard_part(
            "The standard the columns follow (GET /api/v1/standards): needed without a mapping "
            "for a new dataset",
            blank=True,
        ),
        "period": {
            "type": "string",
            "maxLength": MAX_PERIOD,
            # the rule ingest checks, around the white space a form field may carry
            "pattern": r"^\s*(" + PERIOD.pattern[1:-1] + r")?\s*$",
            "description": "Reporting period, for example 2026-10: letters, digits, spaces and "
            "/ _ . - (a letter or digit first)",
        },
        "confirm_layout": {
            "type": "string",
            "description": "`true` (or `yes`, `1`): with no mapping, ingest a layout that "
            "drifted from the one last accepted for this dataset, with the mapping carried "
            "over (the 409 answer, or POST …/layouts/match, says when)",
        },
    },
    required=["file"],
)


def _field_errors(errors: dict[str, str]) -> JSONResponse:
    detail = [
        {"type": "value_error", "loc": ["body", field], "msg": message, "input": None}
        for field, message in errors.items()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


@router.post(
    "/{organisation}/{dataset}/versions",
    summary="Upload a file as a new version",
    status_code=202,
    response_model=UploadAccepted,
    **UPLOADERS.route(csrf=True, openapi={"requestBody": UPLOAD_BODY}),
    responses={
        200: {"model": IngestOutcome, "description": "wait=true: identical to a stored version"},
        201: {"model": IngestOutcome, "description": "wait=true: the new version"},
        202: {"model": UploadAccepted, "description": "The ingest job has started"},
        **upload_errors(),
        409: {
            "model": LayoutDriftRefused,
            "description": "No mapping was given and the file's columns drifted from the "
            "layout last accepted for this dataset: the column diff and the mapping carried "
            "over; send the file again with confirm_layout=true to confirm once",
        },
        422: {
            "model": IngestRejected,
            "description": "wait=true: the file was rejected (file, row and rule); or a field "
            "is missing or invalid (FastAPI's `detail` list)",
        },
    },
)
async def upload_version(
    request: Request,
    organisation: OrgCode,
    dataset: DatasetName,
    wait: Annotated[
        bool, Query(description="Ingest before answering instead of starting a job")
    ] = False,
) -> Any:
    """Stream the file to disk (never whole in memory), then ingest it into the dataset.

    By default the ingest runs as a job: the answer is ``202`` with the job to poll. With
    ``wait=true`` the answer waits for the ingest: ``201`` with the new version, ``200`` when
    the file is identical to a stored version, or ``422`` naming the file, row and rule.
    Given no mapping, a file whose columns drifted from the layout last accepted for the
    dataset is answered ``409`` with the column diff and the mapping carried over, until sent
    again with ``confirm_layout=true`` (then it is ingested and the new layout remembered).
    """
    settings: Settings = request.app.state.settings
    if not await run_in_threadpool(organisation_exists, settings, organisation):
        raise HTTPException(404, f"No organisation {organisation!r}")
    uploader = await run_in_threadpool(authorise_upload, request, organisation)
    limits = UploadLimits.for_settings(settings)
    try:
        form = await receive_upload(request, settings, limits=limits)
    except UploadTooLarge:
        await drain(request)
        raise
    handed_off = False  # once the ingest owns the file, it deletes it
    try:
        upload = form.files.get("file")
        values = form_values(form)
        submission, errors = await run_in_threadpool(
            lambda: check_submission(
                settings, organisation=organisation, dataset=dataset, upload=upload, **values
            )
        )
        if submission is None or upload is None:
            return _field_errors(errors)
        params = ingest_params(submission, upload, uploader)
        params["confirm_layout"] = form.field("confirm_layout").lower() in ("true", "yes", "1")
        if submission.mapping is None and not params["confirm_layout"]:
            drift = await run_in_threadpool(
                layout_of_file, settings, organisation, dataset, upload.path, upload.filename
            )
            if drift is not None and drift.status == "drifted":
                refused = LayoutDriftRefused.of(drift, upload.filename)
                return JSONResponse(refused.model_dump(), status_code=409)
        handed_off = True
        if not wait:
            job_id = await run_in_threadpool(start_ingest, settings, params)
            accepted = UploadAccepted(
                job_id=job_id,
                status_url=f"{API_ROOT}/jobs/{job_id}",
                job_page=f"/jobs/{job_id}",
            )
            return JSONResponse(
                accepted.model_dump(), status_code=202, headers={"Location": accepted.status_url}
            )
        try:
            result = await run_in_threadpool(ingest_now, settings, params)
        except IngestError as exc:
            rejected = IngestRejected(error=IngestErrorDetail(**exc.as_dict()))
            return JSONResponse(rejected.model_dump(), status_code=422)
    finally:
        if not handed_off:
            form.discard()
    url = API_ROOT + version_path(organisation, dataset, result.version)
    outcome = IngestOutcome(**result.as_dict(), url=url)
    created = result.status == "created"
    return JSONResponse(
        outcome.model_dump(),
        status_code=201 if created else 200,
        headers={"Location": url} if created else {},
    )


# --- personal data: records, through the policy decision -------------------------------------

MAX_PAGE = 1000
MAX_OFFSET = 100_000


class RecordsPage(BaseModel):
    """One page of a version's records: only the fields asked for, only if the policy allows."""

    organisation: str
    dataset: str
    version: int
    purpose: str = Field(description="The purpose the records were read under (audited)")
    fields: list[str]
    offset: int
    limit: int
    records: list[dict[str, Any]]
    next: str | None = Field(description="The next page, while there may be more records")


def _requested_fields(raw: str, standard: str) -> list[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise HTTPException(422, "Name at least one field in `fields`")
    known = set(field_names(standard))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise HTTPException(
            422, f"The {standard} standard has no field(s) {', '.join(sorted(set(unknown)))}"
        )
    return list(dict.fromkeys(names))


def read_records_page(
    settings: Settings,
    principal: Principal,
    *,
    organisation: str,
    dataset: str,
    fields_param: str,
    version: int | None,
    offset: int,
    limit: int,
) -> RecordsPage:
    found = get_dataset(settings, organisation, dataset)
    if version is None:
        if found.latest_version is None:
            raise HTTPException(404, f"Dataset {organisation}/{dataset} has no versions yet")
        version = found.latest_version
    fields = _requested_fields(fields_param, found.standard)
    # read_records has no offset: it reads (and audits) the rows before the page too.
    table = read_records(
        settings,
        principal.actor(),
        organisation=organisation,
        dataset=dataset,
        fields=fields,
        version=version,
        limit=offset + limit,
    )
    rows = table.to_pylist()
    page = rows[offset:]
    url = API_ROOT + dataset_path(organisation, dataset) + "/records"
    more = len(rows) == offset + limit and offset + limit < MAX_OFFSET
    query = f"?fields={quote(','.join(fields), safe=',')}&version={version}"
    return RecordsPage(
        organisation=organisation,
        dataset=dataset,
        version=version,
        purpose=principal.purpose or "",
        fields=fields,
        offset=offset,
        limit=limit,
        records=page,
        next=f"{url}{query}&offset={offset + limit}&limit={limit}" if more else None,
    )


@router.get(
    "/{organisation}/{dataset}/records",
    response_model=RecordsPage,
    summary="Read records (personal data) under your purpose",
    **PERSONAL_READER.route(),
    responses=errors(
        401,
        403,
        404,
        422,
        described={
            403: "No purpose given, or the policy denied the read (the reason says which "
            "agreement or condition is missing)",
            404: NOT_FOUND[404]["description"],
            422: "A field the dataset's standard does not have",
        },
    ),
)
def get_records(
    request: Request,
    principal: PersonalReader,
    organisation: OrgCode,
    dataset: DatasetName,
    fields: Annotated[
        str,
        Query(
            description="Comma-separated fields of the dataset's standard, for example "
            "`source_record_id,given_name,fsm_eligible`. Ask only for what the purpose needs: "
            "the sharing agreement must cover every one.",
            max_length=2000,
        ),
    ],
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Version number (default: the latest)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Records per page")] = 100,
) -> RecordsPage:
    """Fields of a dataset version's records, if the policy decision allows them for your
    organisation and purpose (send it as `X-Joinedup-Purpose` with an API token). The
    decision and the records read are written to the audit log, allowed or not. Residents who
    objected to the purpose are left out."""
    return read_records_page(
        request.app.state.settings,
        principal,
        organisation=organisation,
        dataset=dataset,
        fields_param=fields,
        version=version,
        offset=offset,
        limit=limit,
    )
