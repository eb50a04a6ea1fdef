"""The ingest stage's use cases, shared by the JSON API and the pages: the open standards and
the shipped mappings as people see them, the catalogue (datasets, versions, validation
reports: no personal data, only names, counts, row numbers and value shapes), and uploads
(who may add a version for which organisation, the checks on the upload's fields, and the
ingest job that takes the file)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from joinedup import jobs
from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation, OrganisationType, Role
from joinedup.config import Settings
from joinedup.errors import Missing, Refused
from joinedup.governance.access import Caller
from joinedup.ingest import mapping as mappings
from joinedup.ingest.jobs import request_from_params
from joinedup.ingest.layouts import remembered_standard
from joinedup.ingest.pipeline import IngestResult, ingest
from joinedup.standards import extends, list_standards, load_schema, primary_key

log = logging.getLogger(__name__)


MAPPING_SUFFIXES = (".yaml", ".yml")


class FieldOut(BaseModel):
    name: str
    type: str = Field(description="Table Schema type: string, integer, number, date, boolean")
    title: str
    description: str
    required: bool
    personal: bool = Field(description="Personal data (x-joinedup-personal)")


class StandardOut(BaseModel):
    name: str
    title: str
    description: str
    version: str
    extends: str | None = Field(description="The standard this one extends (usually person)")
    primary_key: list[str]
    fields: list[FieldOut]


class MappingOut(BaseModel):
    name: str = Field(description="Give this as `mapping` when uploading a file")
    standard: str
    description: str
    organisation: str | None = Field(
        default=None, description="The organisation whose export it reads (none: anyone's)"
    )
    title: str = Field(default="", description="A short name for people")


def standard_out(name: str) -> StandardOut:
    schema = load_schema(name)
    return StandardOut(
        name=name,
        title=str(schema.get("title", name)),
        description=str(schema.get("description", "")),
        version=str(schema.get("x-joinedup-version", "")),
        extends=extends(name),
        primary_key=primary_key(name),
        fields=[
            FieldOut(
                name=f["name"],
                type=f.get("type", "string"),
                title=str(f.get("title", f["name"])),
                description=str(f.get("description", "")),
                required=bool(f.get("constraints", {}).get("required")),
                personal=f.get("x-joinedup-personal") is True,
            )
            for f in schema["fields"]
        ],
    )


def standard_titles() -> dict[str, str]:
    """``{name: title}`` of every shipped standard, in name order."""
    return {name: str(load_schema(name).get("title", name)) for name in list_standards()}


def shipped_mappings() -> list[MappingOut]:
    """The mappings shipped in :data:`joinedup.ingest.mapping.MAPPINGS_DIR`, by name.

    A mapping's name is its path below that folder (``synth/council_tax-lambeth.yaml``), the
    name :func:`~joinedup.ingest.mapping.resolve_mapping_path` accepts. A shipped mapping that
    does not load is logged and left out. Parsed mappings are cached until a file changes.
    """
    folder: Path = mappings.MAPPINGS_DIR
    if not folder.is_dir():
        return []
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in MAPPING_SUFFIXES and path.is_file()
    )
    key = (str(folder), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    cached = _cache.get("mappings")
    if cached is not None and cached[0] == key:
        return list(cached[1])
    found = []
    for path in files:
        name = path.relative_to(folder).as_posix()
        try:
            loaded = mappings.load_mapping(path)
        except mappings.MappingError as exc:
            log.warning("shipped mapping %s does not load: %s", name, exc)
            continue
        found.append(
            MappingOut(
                name=name,
                standard=loaded.standard,
                description=loaded.description,
                organisation=loaded.organisation,
                title=loaded.title or loaded.description or name,
            )
        )
    _cache["mappings"] = (key, found)
    return list(found)


_cache: dict[str, tuple[Any, list[MappingOut]]] = {}


def shipped_mapping_path(name: str) -> Path:
    """The file of a shipped mapping (one :func:`shipped_mappings` lists), as an absolute path;
    :class:`~joinedup.errors.Missing` (404) for any other name."""
    if name not in {m.name for m in shipped_mappings()}:
        raise Missing("No shipped mapping of that name")
    return (mappings.MAPPINGS_DIR / name).resolve()


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
    redacted: dict[str, int] = Field(
        default={},
        description="Rows per redactable field lawfully redacted (accepted, published as Redacted)",
    )
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


# --- URLs ------------------------------------------------------------------------------------


def _q(value: str) -> str:
    return quote(value, safe="")


def dataset_path(organisation: str, dataset: str) -> str:
    """``/datasets/{org}/{dataset}``: the page; prefix :data:`API_ROOT` for the API."""
    return f"/datasets/{_q(organisation)}/{_q(dataset)}"


def version_path(organisation: str, dataset: str, version: int) -> str:
    return f"{dataset_path(organisation, dataset)}/versions/{version}"


# --- catalogue reads -------------------------------------------------------------------------


class CatalogueNotFound(Missing):
    """An organisation, dataset or version that does not exist (404); the message says which."""


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


def upload_targets(settings: Settings, principal: Caller) -> list[tuple[str, str]]:
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


@dataclass(frozen=True)
class MappingChoice:
    """A shipped mapping as a person chooses it: its name for the form, and its label
    (organisation, dataset, layout: ``Lambeth: Tenancies (housing system)``)."""

    name: str
    label: str
    standard: str
    description: str


def mappings_for(settings: Settings, principal: Caller) -> list[MappingChoice]:
    """The shipped mappings ``principal`` would use, by label: a hub admin every one; anyone
    else those of their own organisation and those that belong to no organisation."""
    names = dict(list_organisations(settings))
    own = None
    if principal.role != Role.HUB_ADMIN:
        with session_scope(settings) as session:
            org = session.get(Organisation, principal.organisation_id)
            own = org.code if org is not None else ""
    out = [
        MappingChoice(
            name=m.name,
            label=f"{names.get(m.organisation, m.organisation)}: {m.title}"
            if m.organisation
            else m.title,
            standard=m.standard,
            description=m.description,
        )
        for m in shipped_mappings()
        if own is None or m.organisation in (None, own)
    ]
    return sorted(out, key=lambda c: c.label.lower())


def organisation_exists(settings: Settings, code: str) -> bool:
    with session_scope(settings) as session:
        found = session.scalar(select(Organisation.id).where(Organisation.code == code))
        return found is not None


# --- uploads: shared by this API and the upload page ----------------------------------------


class Upload(Protocol):
    """An uploaded file on disk (:class:`joinedup.web.uploads.UploadedFile` is one)."""

    @property
    def path(self) -> Path: ...

    @property
    def filename(self) -> str: ...

    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class Uploader:
    """Who is uploading, as recorded on the job, the version and the audit entry."""

    actor: str
    user_id: int | None = None


#: Who may add versions: a data owner (of the organisation itself: see :func:`authorise_upload`),
#: or a hub admin loading a file on an organisation's behalf.
UPLOAD_ROLES = (Role.DATA_OWNER, Role.HUB_ADMIN)


def authorise_upload_for(settings: Settings, caller: Caller, organisation: str) -> Uploader:
    """The permission check for adding a version to ``organisation``'s datasets (403
    otherwise): :func:`upload_targets` must include it. It reads the database: call it from a
    thread."""
    allowed = {code for code, _ in upload_targets(settings, caller)}
    if organisation not in allowed:
        raise Refused(403, "You can only upload files for your own organisation")
    return Uploader(actor=caller.username, user_id=caller.user_id)


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
    upload: Upload | None,
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
            ) or remembered_standard(session, org_row.id, dataset)
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
            f"Standard must be {standard_titles().get(mapping_standard, mapping_standard)}, "
            "the standard the mapping fills, or leave it blank"
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


def ingest_params(submission: Submission, upload: Upload, uploader: Uploader) -> dict[str, Any]:
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
        Path(params["path"]).unlink(missing_ok=True)
        raise


def ingest_now(settings: Settings, params: dict[str, Any]) -> IngestResult:
    """Ingest in this thread (raises :class:`IngestError`); the upload is deleted either way."""
    try:
        return ingest(settings, request_from_params(params))
    finally:
        Path(params["path"]).unlink(missing_ok=True)
