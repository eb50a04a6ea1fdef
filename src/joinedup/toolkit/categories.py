"""What an agreement shares, in words fit for the public: the *categories* of its datasets
(the open standards they follow) and of its fields (never the fields' values, and never a
person's data). Shared by the register and the ecosystem map."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import AgreementData, Dataset
from joinedup.standards.registry import (
    field_names,
    list_standards,
    load_schema,
    personal_fields,
    special_category_fields,
)

IDENTITY = "Identity and contact details"
SPECIAL = "Special category data"
SERVICE = "Service records about people"
OTHER = "Data that is not about people"
#: The field categories, in the order they are shown.
FIELD_CATEGORIES = (IDENTITY, SPECIAL, SERVICE, OTHER)


def standard_title(standard: str) -> str:
    return str(load_schema(standard).get("title", standard)) if standard in _known() else standard


def _known() -> set[str]:
    return set(list_standards())


def field_categories(standard: str, fields: Iterable[str]) -> list[str]:
    """The categories of ``fields`` of a dataset following ``standard`` (``*``: all)."""
    if standard not in _known():
        return [SERVICE]
    wanted = set(fields)
    names = set(field_names(standard)) if "*" in wanted else wanted
    person = set(field_names("person"))
    special = set(special_category_fields(standard))
    personal = set(personal_fields(standard))
    found = set()
    for name in names:
        if name in special:
            found.add(SPECIAL)
        elif name in person and name in personal:
            found.add(IDENTITY)
        elif name in personal:
            found.add(SERVICE)
        elif name != "source_record_id":
            found.add(OTHER)
    return [c for c in FIELD_CATEGORIES if c in found]


def share_standards(session: Session, share: AgreementData) -> list[tuple[str, str]]:
    """The (dataset name, standard) pairs one data share covers: its dataset, every dataset
    of its standard, or every dataset of the provider."""
    query = select(Dataset.name, Dataset.standard).where(
        Dataset.organisation_id == share.provider_id
    )
    if share.dataset:
        query = query.where(Dataset.name == share.dataset)
    elif share.standard:
        query = query.where(Dataset.standard == share.standard)
    found = [(str(n), str(s)) for n, s in session.execute(query.order_by(Dataset.name))]
    if not found and share.standard:
        return [(share.dataset or share.standard, share.standard)]
    return found
