"""The public register of data sharing (``/transparency``, no sign-in): each active
agreement's parties, purposes, legal basis, dataset and field categories, dates, the summary
of its purposes' ethics records, and how to object. Only what the agreements and ethics
records say in words: no personal data, and no counts of people.

Open data as CSV, JSON and DCAT (:func:`register_dcat`, a small function of its own so that
it follows the portal's DCAT-AP 3 profile, :mod:`joinedup.publish.dcat`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, AgreementStatus, Organisation, PartyRole, Purpose
from joinedup.config import Settings
from joinedup.governance import ethics as core
from joinedup.governance.policy import effective_status
from joinedup.insight.dashboard import to_csv
from joinedup.publish.dcat import CONTEXT, FILE_TYPES, IANA, agent, contact_point, dated, typed
from joinedup.publish.formats import OGL
from joinedup.toolkit.categories import (
    FIELD_CATEGORIES,
    field_categories,
    share_standards,
    standard_title,
)

ICO = "https://ico.org.uk/make-a-complaint/"
#: The columns of the register's CSV, one row per agreement.
CSV_COLUMNS = (
    "reference",
    "title",
    "providers",
    "recipients",
    "purposes",
    "lawful_basis",
    "special_category_condition",
    "dataset_categories",
    "field_categories",
    "start_date",
    "expiry_date",
    "ethics_records",
    "how_to_object",
)


class EthicsSummary(BaseModel):
    purpose: str
    version: int | None = Field(description="The signed-off version in force, if any")
    signed_off: date | None
    review_date: date | None
    answers: dict[str, str] = Field(description="The record's answers, by question")


class RegisterPurpose(BaseModel):
    code: str
    name: str
    description: str
    lawful_basis: str
    objection_allowed: bool


class RegisterEntry(BaseModel):
    reference: str
    title: str
    description: str
    providers: list[str]
    recipients: list[str]
    purposes: list[RegisterPurpose]
    lawful_basis: str
    special_category_condition: str | None
    dataset_categories: list[str]
    field_categories: list[str]
    start_date: date
    expiry_date: date
    ethics: list[EthicsSummary]
    how_to_object: str


def how_to_object(purposes: list[Purpose], parties: list[str]) -> str:
    """What a resident can do, purpose by purpose (the lawful basis decides)."""
    open_ = [p.name for p in purposes if p.objection_allowed]
    closed = [p.name for p in purposes if not p.objection_allowed]
    text = []
    if open_:
        text.append(
            f"You can object to the use of your data for {', '.join(open_)}: tell the data "
            f"protection officer of any of {', '.join(parties)}. Your objection takes effect "
            "at once across the hub."
        )
    if closed:
        text.append(
            f"The lawful basis for {', '.join(closed)} does not give a right to object, but you "
            "can ask any party's data protection officer to review how your data is used."
        )
    text.append(f"You can also complain to the Information Commissioner's Office: {ICO}")
    return " ".join(text)


def _ethics(session: Session, purpose: Purpose, today: date) -> EthicsSummary:
    record = core.in_force(session, "purpose", purpose.code, today)
    if record is None:
        return EthicsSummary(
            purpose=purpose.code, version=None, signed_off=None, review_date=None, answers={}
        )
    return EthicsSummary(
        purpose=purpose.code,
        version=record.version,
        signed_off=record.signed_off_at.date() if record.signed_off_at else None,
        review_date=record.review_date,
        answers={q.question: str(record.answers.get(q.key, "")) for q in core.QUESTIONS},
    )


def _entry(
    session: Session, agreement: Agreement, orgs: dict[int, Organisation], today: date
) -> RegisterEntry:
    def parties(role: PartyRole) -> list[str]:
        return sorted(
            orgs[p.organisation_id].name
            for p in agreement.parties
            if p.role == role.value and p.withdrawn_at is None
        )

    datasets: set[str] = set()
    fields: set[str] = set()
    for share in agreement.data:
        for _name, standard in share_standards(session, share):
            datasets.add(standard_title(standard))
            fields.update(field_categories(standard, [str(f) for f in share.fields]))
    purposes = sorted(agreement.purposes, key=lambda p: p.code)
    providers, recipients = parties(PartyRole.PROVIDER), parties(PartyRole.RECIPIENT)
    return RegisterEntry(
        reference=agreement.reference,
        title=agreement.title,
        description=agreement.description,
        providers=providers,
        recipients=recipients,
        purposes=[
            RegisterPurpose(
                code=p.code,
                name=p.name,
                description=p.description,
                lawful_basis=p.lawful_basis,
                objection_allowed=p.objection_allowed,
            )
            for p in purposes
        ],
        lawful_basis=agreement.lawful_basis,
        special_category_condition=agreement.special_category_condition,
        dataset_categories=sorted(datasets),
        field_categories=[c for c in FIELD_CATEGORIES if c in fields],
        start_date=agreement.start_date,
        expiry_date=agreement.expiry_date,
        ethics=[_ethics(session, p, today) for p in purposes],
        how_to_object=how_to_object(purposes, sorted({*providers, *recipients})),
    )


def register(settings: Settings, today: date | None = None) -> list[RegisterEntry]:
    """Every agreement in force today, by reference."""
    today = today or date.today()
    with session_scope(settings) as session:
        orgs = {o.id: o for o in session.scalars(select(Organisation))}
        agreements = session.scalars(
            select(Agreement)
            .options(
                selectinload(Agreement.parties),
                selectinload(Agreement.purposes),
                selectinload(Agreement.data),
            )
            .where(Agreement.status == AgreementStatus.ACTIVE.value)
            .order_by(Agreement.reference)
        ).all()
        return [
            _entry(session, a, orgs, today)
            for a in agreements
            if effective_status(a, today) == AgreementStatus.ACTIVE.value
        ]


def register_json(entries: list[RegisterEntry]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in entries]


def register_csv(entries: list[RegisterEntry]) -> str:
    """One formula-safe row per agreement; lists joined with ``; ``."""
    rows = []
    for e in entries:
        rows.append(
            {
                "reference": e.reference,
                "title": e.title,
                "providers": "; ".join(e.providers),
                "recipients": "; ".join(e.recipients),
                "purposes": "; ".join(p.name for p in e.purposes),
                "lawful_basis": e.lawful_basis,
                "special_category_condition": e.special_category_condition or "",
                "dataset_categories": "; ".join(e.dataset_categories),
                "field_categories": "; ".join(e.field_categories),
                "start_date": e.start_date.isoformat(),
                "expiry_date": e.expiry_date.isoformat(),
                "ethics_records": "; ".join(
                    f"{s.purpose} v{s.version} (review by {s.review_date})"
                    if s.version
                    else f"{s.purpose}: none in force"
                    for s in e.ethics
                ),
                "how_to_object": e.how_to_object,
            }
        )
    return to_csv(rows, CSV_COLUMNS)


def register_dcat(
    base_url: str, entries: list[RegisterEntry], modified: datetime
) -> dict[str, Any]:
    """The register as a DCAT-AP 3 catalogue (JSON-LD): one dataset, its CSV and JSON
    distributions, built from the portal's catalogue's parts (:mod:`joinedup.publish.dcat`)."""
    page = f"{base_url}/transparency"
    licence = typed(OGL["path"], "dct:LicenseDocument")

    def distribution(path: str, file_type: str, media: str) -> dict[str, Any]:
        return {
            "@id": base_url + path,
            "@type": "dcat:Distribution",
            "dct:title": file_type,
            "dcat:accessURL": {"@id": page},
            "dcat:downloadURL": {"@id": base_url + path},
            "dct:format": typed(FILE_TYPES + file_type, "dct:MediaTypeOrExtent"),
            "dcat:mediaType": typed(IANA + media, "dct:MediaType"),
            "dct:license": licence,
        }

    return {
        "@context": CONTEXT,
        "@id": f"{base_url}/transparency/register.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": "Register of data sharing",
        "dct:description": "The data sharing agreements in force at the hub.",
        "dct:publisher": agent(),
        "dct:modified": dated(modified.isoformat()),
        "dcat:dataset": [
            {
                "@id": page,
                "@type": "dcat:Dataset",
                "dct:identifier": "register-of-data-sharing",
                "dct:title": "Register of data sharing",
                "dct:description": "Every data sharing agreement in force: its parties, "
                "purposes, legal basis, the categories of data shared, its dates, the summary "
                "of its ethics records and how to object. "
                f"{len(entries)} agreements.",
                "dcat:keyword": ["data sharing", "transparency", "data ethics"],
                "dct:modified": dated(modified.isoformat()),
                "dcat:landingPage": typed(page, "foaf:Document"),
                "dct:publisher": agent(),
                "dcat:contactPoint": contact_point(page),
                "dcat:distribution": [
                    distribution("/transparency/register.csv", "CSV", "text/csv"),
                    distribution("/transparency/register.json", "JSON", "application/json"),
                ],
            }
        ],
    }
