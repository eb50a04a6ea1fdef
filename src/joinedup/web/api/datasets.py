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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from joinedup import jobs
from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation, OrganisationType, Role
from joinedup.config import Settings
from joinedup.governance.access import AccessDenied, NotFound, read_records
from joinedup.ingest.errors import IngestError
from joinedup.ingest.jobs import request_from_params
from joinedup.ingest.pipeline import IngestResult, ingest
from joinedup.standards import field_names, list_standards
from joinedup.web.api.standards import shipped_mapping_path, shipped_mappings
from joinedup.web.auth import (
    PERSONAL_DATA,
    PURPOSE_HEADER,
    SIGNED_IN,
    Principal,
    access,
    require_purpose,
    require_roles,
    require_scope,
    role,
    verify_csrf,
)
from joinedup.web.uploads import (
    UploadedFile,
    UploadedForm,
    UploadError,
    UploadLimits,
    UploadTooLarge,
    drain,
    receive_upload,
)

tag = {
    "name": "datasets",
    "description": "The catalogue: datasets, their versions and validation reports. "
    "Upload a file to add a version.",
}
router = APIRouter(prefix="/datasets", tags=[tag["name"]])

API_ROOT = "/api/v1"
DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_DATASET_NAME = 120
PERIOD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 /_.-]*$")
MAX_PERIOD = 20
NO_MAPPING = "none"


# --- response models -------------------------------------------------------------------------


class DatasetSummary(BaseModel):
    organisation: str = Field(description="The organisation's code")
    organisation_name: str
    name: str
    title: str
    standard: str
    latest_version: int | None = Field(description="None until a version is stored")
    accepted_rows: int | None = Field(description="Rows accepted in the latest version")
    rejected_rows: int | None = Field(description="Rows quarantined in the latest version")
    updated_at: datetime = Field(description="When the latest version was stored")
    url: str


class VersionSummary(BaseModel):
    version: int
    source_filename: str
    period: str | None
    mapping: str
    rows: int
    accepted_rows: int
    rejected_rows: int
    warnings: list[str] = Field(description="Reader notes and schema drift since the last version")
    created_at: datetime
    url: str


class DatasetDetail(DatasetSummary):
    description: str
    created_at: datetime
    versions: list[VersionSummary]


class RuleExample(BaseModel):
    row: int | None = Field(description="Row number as seen in the file (header is row 1)")
    shape: str = Field(description="The value's shape: letters as a/A, digits as 9")


class RuleCount(BaseModel):
    field: str
    rule: str
    rows: int
    examples: list[RuleExample]


class SourceDescription(BaseModel):
    file: str = ""
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    columns: list[str] = []
    bytes: int | None = None


class ValidationReport(BaseModel):
    """Counts, row numbers and value shapes only: never a value from the file."""

    rows: int
    accepted: int
    rejected: int
    rules: list[RuleCount]
    source: SourceDescription | None = None
    mapping: str | None = None
    standard: str | None = None
    warnings: list[str] = []


class VersionDetail(VersionSummary):
    organisation: str
    dataset: str
    standard: str
    source_sha256: str
    snapshot_sha256: str
    quarantine_sha256: str | None
    report: ValidationReport | None
    report_url: str


class UploadAccepted(BaseModel):
    job_id: str
    status_url: str = Field(description="Poll this until the job's status is succeeded or failed")
    job_page: str


class IngestOutcome(BaseModel):
    status: str = Field(description="created, or unchanged for a file identical to a version")
    organisation: str
    dataset: str
    version: int
    rows: int
    accepted: int
    rejected: int
    warnings: list[str]
    url: str


class IngestErrorDetail(BaseModel):
    file: str
    row: int | None
    rule: str
    column: str | None = None
    message: str


class IngestRejected(BaseModel):
    error: IngestErrorDetail


class Message(BaseModel):
    detail: str


# --- URLs ------------------------------------------------------------------------------------


def _q(value: str) -> str:
    return quote(value, safe="")


def dataset_path(organisation: str, dataset: str) -> str:
    """``/datasets/{org}/{dataset}``: the page; prefix :data:`API_ROOT` for the API."""
    return f"/datasets/{_q(organisation)}/{_q(dataset)}"


def version_path(organisation: str, dataset: str, version: int) -> str:
    return f"{dataset_path(organisation, dataset)}/versions/{version}"


# --- catalogue reads -------------------------------------------------------------------------


class CatalogueNotFound(LookupError):
    """An organisation, dataset or version that does not exist; the message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _summary(org: Organisation, dataset: Dataset, latest: DatasetVersion | None) -> dict[str, Any]:
    return {
        "organisation": org.code,
        "organisation_name": org.name,
        "name": dataset.name,
        "title": dataset.title or dataset.name,
        "standard": dataset.standard,
        "latest_version": latest.version if latest else None,
        "accepted_rows": latest.accepted_rows if latest else None,
        "rejected_rows": latest.rejected_rows if latest else None,
        "updated_at": latest.created_at if latest else dataset.created_at,
        "url": API_ROOT + dataset_path(org.code, dataset.name),
    }


def _report(version: DatasetVersion) -> dict[str, Any] | None:
    report = (version.details or {}).get("report")
    return report if isinstance(report, dict) else None


def _version_summary(org: Organisation, dataset: Dataset, v: DatasetVersion) -> VersionSummary:
    report = _report(v) or {}
    return VersionSummary(
        version=v.version,
        source_filename=v.source_filename,
        period=v.period,
        mapping=v.mapping_name,
        rows=v.accepted_rows + v.rejected_rows,
        accepted_rows=v.accepted_rows,
        rejected_rows=v.rejected_rows,
        warnings=[str(w) for w in report.get("warnings", [])],
        created_at=v.created_at,
        url=API_ROOT + version_path(org.code, dataset.name, v.version),
    )


def list_datasets(
    settings: Settings, organisation: str | None = None, standard: str | None = None
) -> list[DatasetSummary]:
    """Every dataset with its latest version's counts, by organisation then name."""
    latest = (
        select(
            DatasetVersion.dataset_id.label("dataset_id"),
            func.max(DatasetVersion.version).label("version"),
        )
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    query = (
        select(Organisation, Dataset, DatasetVersion)
        .join(Dataset, Dataset.organisation_id == Organisation.id)
        .outerjoin(latest, latest.c.dataset_id == Dataset.id)
        .outerjoin(
            DatasetVersion,
            and_(
                DatasetVersion.dataset_id == Dataset.id,
                DatasetVersion.version == latest.c.version,
            ),
        )
        .order_by(Organisation.code, Dataset.name)
    )
    if organisation:
        query = query.where(Organisation.code == organisation)
    if standard:
        query = query.where(Dataset.standard == standard)
    with session_scope(settings) as session:
        return [
            DatasetSummary(**_summary(org, dataset, version))
            for org, dataset, version in session.execute(query)
        ]


def _find_organisation(session: Session, code: str) -> Organisation:
    org = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if org is None:
        raise CatalogueNotFound(f"No organisation {code!r}")
    return org


def _find_dataset(session: Session, code: str, name: str) -> tuple[Organisation, Dataset]:
    org = _find_organisation(session, code)
    dataset = session.scalars(
        select(Dataset).where(Dataset.organisation_id == org.id, Dataset.name == name)
    ).first()
    if dataset is None:
        raise CatalogueNotFound(f"No dataset {name!r} from organisation {code!r}")
    return org, dataset


def get_dataset(settings: Settings, organisation: str, name: str) -> DatasetDetail:
    """A dataset with all its versions, newest first. Raises :class:`CatalogueNotFound`."""
    with session_scope(settings) as session:
        org, dataset = _find_dataset(session, organisation, name)
        versions = list(
            session.scalars(
                select(DatasetVersion)
                .where(DatasetVersion.dataset_id == dataset.id)
                .order_by(DatasetVersion.version.desc())
            )
        )
        return DatasetDetail(
            **_summary(org, dataset, versions[0] if versions else None),
            description=dataset.description,
            created_at=dataset.created_at,
            versions=[_version_summary(org, dataset, v) for v in versions],
        )


def get_version(settings: Settings, organisation: str, name: str, number: int) -> VersionDetail:
    """One version with its validation report. Raises :class:`CatalogueNotFound`."""
    with session_scope(settings) as session:
        org, dataset = _find_dataset(session, organisation, name)
        version = session.scalars(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == number
            )
        ).first()
        if version is None:
            raise CatalogueNotFound(f"Dataset {organisation}/{name} has no version {number}")
        report = _report(version)
        url = API_ROOT + version_path(org.code, dataset.name, version.version)
        return VersionDetail(
            **_version_summary(org, dataset, version).model_dump(),
            organisation=org.code,
            dataset=dataset.name,
            standard=dataset.standard,
            source_sha256=version.source_sha256,
            snapshot_sha256=version.snapshot_sha256,
            quarantine_sha256=version.quarantine_sha256,
            report=ValidationReport.model_validate(report) if report is not None else None,
            report_url=url + "/report",
        )


def list_organisations(settings: Settings) -> list[tuple[str, str]]:
    """``[(code, name)]`` of every organisation, by name."""
    with session_scope(settings) as session:
        rows = session.execute(
            select(Organisation.code, Organisation.name).order_by(Organisation.name)
        )
        return [(code, name) for code, name in rows]


def upload_targets(settings: Settings, principal: Principal) -> list[tuple[str, str]]:
    """``[(code, name)]`` of the organisations ``principal`` may upload files for, by name.

    Files come from councils and partners: the hub's own organisation is not a target (its
    reference data, if any, is loaded with ``joinedup ingest``). A data owner uploads for their
    own organisation only; a hub admin for any other.
    """
    with session_scope(settings) as session:
        query = (
            select(Organisation.code, Organisation.name)
            .where(Organisation.type != OrganisationType.HUB.value)
            .order_by(Organisation.name)
        )
        if principal.role != Role.HUB_ADMIN:
            if principal.role != Role.DATA_OWNER:
                return []
            query = query.where(Organisation.id == principal.organisation_id)
        return [(code, name) for code, name in session.execute(query)]


def organisation_exists(settings: Settings, code: str) -> bool:
    with session_scope(settings) as session:
        found = session.scalar(select(Organisation.id).where(Organisation.code == code))
        return found is not None


# --- uploads: shared by this API and the upload page ----------------------------------------


@dataclass(frozen=True)
class Uploader:
    """Who is uploading, as recorded on the job, the version and the audit entry."""

    actor: str
    user_id: int | None = None


#: Who may add versions: a data owner (of the organisation itself: see :func:`authorise_upload`),
#: or a hub admin loading a file on an organisation's behalf.
UPLOAD_ROLES = (Role.DATA_OWNER, Role.HUB_ADMIN)
require_uploader = require_roles(*UPLOAD_ROLES)


def authorise_upload(request: Request, organisation: str) -> Uploader:
    """The permission check for adding a version to ``organisation``'s datasets.

    The API calls this before reading the body (the organisation is in the path); the upload
    page after reading the form (the organisation is a form field) and before the ingest starts.
    Either way nothing is kept or started for a caller this refuses. Both routes already
    require a signed-in uploader (:data:`UPLOAD_ROLES`) before any body is read. It reads the
    database: call it from a thread.
    """
    principal = require_uploader(request)
    allowed = {code for code, _ in upload_targets(request.app.state.settings, principal)}
    if organisation not in allowed:
        raise HTTPException(403, "You can only upload files for your own organisation")
    return Uploader(actor=principal.username, user_id=principal.user_id)


@dataclass(frozen=True)
class Submission:
    organisation: str
    dataset: str
    mapping: str | None
    standard: str | None
    period: str | None


def check_submission(
    settings: Settings,
    *,
    organisation: str,
    dataset: str,
    mapping: str,
    standard: str,
    period: str,
    upload: UploadedFile | None,
) -> tuple[Submission | None, dict[str, str]]:
    """Check an upload's fields. Returns the submission, or GOV.UK-style messages by field.

    Field names: organisation, dataset, file, mapping, standard, period.
    """
    errors: dict[str, str] = {}
    existing_standard: str | None = None
    with session_scope(settings) as session:
        org = session.scalars(select(Organisation).where(Organisation.code == organisation))
        org_row = org.first() if organisation else None
        if org_row is None:
            errors["organisation"] = "Select the organisation the file comes from"
        elif dataset:
            existing_standard = session.scalar(
                select(Dataset.standard).where(
                    Dataset.organisation_id == org_row.id, Dataset.name == dataset
                )
            )
    if not dataset:
        errors["dataset"] = "Enter a dataset name"
    elif len(dataset) > MAX_DATASET_NAME:
        errors["dataset"] = f"Dataset name must be {MAX_DATASET_NAME} characters or fewer"
    elif existing_standard is None and not DATASET_NAME.match(dataset):
        errors["dataset"] = (
            "Dataset name must start with a lower case letter or number, and only include "
            "lower case letters, numbers, hyphens and underscores"
        )

    if upload is None:
        errors["file"] = "Select a file"
    elif upload.size == 0:
        errors["file"] = "The selected file is empty"

    mapping_name: str | None = mapping if mapping and mapping != NO_MAPPING else None
    mapping_standard: str | None = None
    if mapping_name is not None:
        known = {m.name: m.standard for m in shipped_mappings()}
        if mapping_name not in known:
            errors["mapping"] = "Select a mapping from the list"
        else:
            mapping_standard = known[mapping_name]

    standard_name: str | None = standard or None
    chosen = mapping_standard or standard_name
    if standard_name is not None and standard_name not in list_standards():
        errors["standard"] = "Select a standard from the list"
    elif mapping_standard and standard_name and standard_name != mapping_standard:
        errors["standard"] = (
            f"Standard must be {mapping_standard}, the standard the mapping fills, "
            "or leave it blank"
        )
    elif existing_standard and chosen and chosen != existing_standard:
        field = "mapping" if mapping_standard else "standard"
        errors[field] = (
            f"The dataset holds {existing_standard} records: choose a {field} for "
            f"{existing_standard}"
        )
    elif chosen is None and existing_standard is None and "mapping" not in errors:
        errors["standard"] = "Select the standard the file's columns follow, or a mapping"

    if len(period) > MAX_PERIOD:
        errors["period"] = f"Period must be {MAX_PERIOD} characters or fewer"
    elif period and not PERIOD.match(period):
        errors["period"] = (
            "Period must only include letters, numbers, spaces, hyphens, full stops and "
            "slashes, for example 2026-10"
        )

    if errors:
        return None, errors
    return (
        Submission(
            organisation=organisation,
            dataset=dataset,
            mapping=mapping_name,
            standard=standard_name,
            period=period or None,
        ),
        {},
    )


def ingest_params(
    submission: Submission, upload: UploadedFile, uploader: Uploader
) -> dict[str, Any]:
    """Parameters of the ``ingest`` job for an uploaded file (removed when the job ends)."""
    return {
        "organisation": submission.organisation,
        "dataset": submission.dataset,
        "path": str(upload.path),
        "filename": upload.filename,
        # The shipped file itself: a bare name would be looked up relative to the working
        # directory first (resolve_mapping_path accepts paths, for the CLI).
        "mapping": str(shipped_mapping_path(submission.mapping)) if submission.mapping else None,
        "standard": submission.standard,
        "period": submission.period,
        "actor": uploader.actor,
        "user_id": uploader.user_id,
        "delete_after": True,
    }


def start_ingest(settings: Settings, params: dict[str, Any]) -> str:
    """Start the ingest job on a background thread; the job deletes the upload when it ends."""
    try:
        return jobs.run_in_thread(settings, "ingest", params, user_id=params.get("user_id"))
    except BaseException:
        FilePath(params["path"]).unlink(missing_ok=True)
        raise


def ingest_now(settings: Settings, params: dict[str, Any]) -> IngestResult:
    """Ingest in this thread (raises :class:`IngestError`); the upload is deleted either way."""
    try:
        return ingest(settings, request_from_params(params))
    finally:
        FilePath(params["path"]).unlink(missing_ok=True)


def form_values(form: UploadedForm) -> dict[str, str]:
    """The text fields :func:`check_submission` reads (stripped)."""
    return {name: form.field(name) for name in ("mapping", "standard", "period")}


# --- routes ----------------------------------------------------------------------------------


def _not_found(exc: CatalogueNotFound) -> HTTPException:
    return HTTPException(404, exc.message)


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Message, "description": "No such organisation, dataset or version"}
}
OrgCode = Annotated[str, Path(description="The organisation's code", max_length=64)]
DatasetName = Annotated[str, Path(description="The dataset's name", max_length=MAX_DATASET_NAME)]


Reader = Annotated[Principal, Depends(require_scope("read"))]
SIGNED_IN_ONLY = access(SIGNED_IN)


@router.get(
    "",
    response_model=list[DatasetSummary],
    summary="List datasets",
    openapi_extra=SIGNED_IN_ONLY,
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
    openapi_extra=SIGNED_IN_ONLY,
)
def get_dataset_detail(
    request: Request, principal: Reader, organisation: OrgCode, dataset: DatasetName
) -> Any:
    """A dataset and every version of it, newest first."""
    try:
        return get_dataset(request.app.state.settings, organisation, dataset)
    except CatalogueNotFound as exc:
        raise _not_found(exc) from None


@router.get(
    "/{organisation}/{dataset}/versions/{version}",
    response_model=VersionDetail,
    summary="One version, with its validation report",
    responses=NOT_FOUND,
    openapi_extra=SIGNED_IN_ONLY,
)
def get_version_detail(
    request: Request,
    principal: Reader,
    organisation: OrgCode,
    dataset: DatasetName,
    version: Annotated[int, Path(ge=1, description="Version number, from 1")],
) -> Any:
    """A version's source file, counts and validation report (counts, row numbers and value
    shapes only)."""
    try:
        return get_version(request.app.state.settings, organisation, dataset, version)
    except CatalogueNotFound as exc:
        raise _not_found(exc) from None


@router.get(
    "/{organisation}/{dataset}/versions/{version}/report",
    response_model=ValidationReport,
    summary="Download a version's validation report",
    responses={**NOT_FOUND},
    openapi_extra=SIGNED_IN_ONLY,
)
def get_version_report(
    request: Request,
    principal: Reader,
    organisation: OrgCode,
    dataset: DatasetName,
    version: Annotated[int, Path(ge=1, description="Version number, from 1")],
) -> Any:
    """The validation report alone, as a JSON file to download."""
    try:
        found = get_version(request.app.state.settings, organisation, dataset, version)
    except CatalogueNotFound as exc:
        raise _not_found(exc) from None
    if found.report is None:
        raise HTTPException(404, f"Version {version} of {organisation}/{dataset} has no report")
    filename = f"{organisation}-{dataset}-v{version}-report.json"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return JSONResponse(
        found.report.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "CSV, XLSX, JSON, NDJSON or Parquet. The file name's "
                        "extension says which; the size limit is the hub's max_upload_bytes.",
                    },
                    "mapping": {
                        "type": "string",
                        "description": "A shipped mapping's name (GET /api/v1/mappings); "
                        "omit it, or give `none`, when the columns already follow the standard",
                    },
                    "standard": {
                        "type": "string",
                        "description": "The standard the columns follow (GET /api/v1/standards): "
                        "needed without a mapping for a new dataset",
                    },
                    "period": {
                        "type": "string",
                        "maxLength": MAX_PERIOD,
                        "description": "Reporting period, for example 2026-10",
                    },
                },
            }
        }
    },
}


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
    openapi_extra={"requestBody": UPLOAD_BODY, **access(role(*UPLOAD_ROLES))},
    dependencies=[
        Depends(require_scope("ingest")),
        Depends(require_uploader),
        Depends(verify_csrf),
    ],
    responses={
        200: {"model": IngestOutcome, "description": "wait=true: identical to a stored version"},
        201: {"model": IngestOutcome, "description": "wait=true: the new version"},
        202: {"model": UploadAccepted, "description": "The ingest job has started"},
        400: {"model": Message, "description": "A malformed multipart body"},
        401: {"model": Message, "description": "Not signed in, or the API token is not valid"},
        403: {"model": Message, "description": "Not a data owner of this organisation"},
        404: {"model": Message, "description": "No such organisation"},
        413: {"model": Message, "description": "The file is larger than the limit"},
        415: {"model": Message, "description": "The body is not multipart/form-data"},
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
    """
    settings: Settings = request.app.state.settings
    if not await run_in_threadpool(organisation_exists, settings, organisation):
        raise HTTPException(404, f"No organisation {organisation!r}")
    uploader = await run_in_threadpool(authorise_upload, request, organisation)
    limits = UploadLimits.for_settings(settings)
    try:
        form = await receive_upload(request, settings, limits=limits)
    except UploadError as exc:
        if isinstance(exc, UploadTooLarge):
            await drain(request)
        raise HTTPException(exc.status_code, exc.message) from None
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
    try:
        found = get_dataset(settings, organisation, dataset)
    except CatalogueNotFound as exc:
        raise _not_found(exc) from None
    if version is None:
        if found.latest_version is None:
            raise HTTPException(404, f"Dataset {organisation}/{dataset} has no versions yet")
        version = found.latest_version
    fields = _requested_fields(fields_param, found.standard)
    try:
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
    except AccessDenied as exc:
        raise HTTPException(403, f"Access denied: {exc.decision.reason}") from None
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
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
    openapi_extra=access(PERSONAL_DATA),
    responses={
        401: {"model": Message, "description": "Not signed in, or the API token is not valid"},
        403: {
            "model": Message,
            "description": "No purpose given, or the policy denied the read (the reason says "
            "which agreement or condition is missing)",
        },
        **NOT_FOUND,
        422: {"model": Message, "description": "A field the dataset's standard does not have"},
    },
)
def get_records(
    request: Request,
    principal: Annotated[Principal, Depends(require_purpose)],
    _reader: Reader,
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
        int | None, Query(ge=1, description="Version number (default: the latest)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Records per page")] = 100,
    purpose_header: Annotated[
        str | None,
        Header(
            alias=PURPOSE_HEADER,
            description="With an API token: the code of the purpose you act under (from "
            "GET /api/v1/purposes). A browser session uses the purpose chosen on /purpose.",
        ),
    ] = None,
) -> RecordsPage:
    """Fields of a dataset version's records, if the policy decision allows them for your
    organisation and purpose (send it as `X-Joinedup-Purpose` with an API token). The
    decision and the records read are written to the audit log, allowed or not. Residents who
    objected to the purpose are left out."""
    del purpose_header  # read by require_purpose; declared here to be documented
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
