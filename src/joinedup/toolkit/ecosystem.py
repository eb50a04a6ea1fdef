"""The live data ecosystem map: generated from the hub's own records, never drawn by hand.

* **Nodes** are organisations, with the value they created in the month: flags raised (the
  latest insight run of the month), actions recorded on flags, releases published.
* **Flows** are edges from a provider to a recipient under one agreement: its datasets, their
  field categories, the purposes and the legal basis, and the volume **actually read** in the
  month, from the audit log: every allowed read of personal data (``personal_data.read`` by
  people, ``personal_data.process`` by services) made under that agreement.

The period is one calendar month. Staff see exact counts. The public view shows counts only,
through the publish rules (:class:`joinedup.publish.disclosure.DisclosureRule`, the 10-5
rule): a count under 10 is withheld and the others are rounded to 5, because a handful of
reads between two small organisations in a month could point to a lookup of one resident.
In the public view a filter only chooses which flows are shown: each flow's count is always
its whole month, so comparing filtered maps reveals nothing a single map does not (ADR 0037).
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Agreement,
    AgreementStatus,
    AuditEvent,
    FlagAction,
    InsightRun,
    Organisation,
    PartyRole,
    PublicationRelease,
    ReleaseStatus,
    User,
)
from joinedup.config import Settings
from joinedup.errors import Refused
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.policy import effective_status
from joinedup.publish.disclosure import DisclosureRule, round_to
from joinedup.toolkit.categories import field_categories, share_standards, standard_title

#: The audit actions that read personal data under an agreement.
READS = (AuditAction.PERSONAL_DATA_READ.value, AuditAction.PERSONAL_DATA_PROCESS.value)
PUBLIC_RULE = DisclosureRule()


class Node(BaseModel):
    code: str
    name: str
    type: str
    flags_raised: int | None = Field(
        description="Flags raised from its records (the month's latest insight run); null: withheld"
    )
    actions_recorded: int | None = Field(description="Actions its caseworkers recorded")
    releases_published: int = Field(description="Open data releases its DPOs approved")


class Flow(BaseModel):
    agreement: str
    agreement_title: str
    status: str = Field(description="The agreement's status today")
    provider: str
    recipient: str
    datasets: list[str] = Field(description="The provider's datasets the agreement covers")
    dataset_categories: list[str]
    field_categories: list[str]
    purposes: list[str]
    lawful_basis: str
    reads: int | None = Field(description="Reads in the month (null: fewer than 10, withheld)")
    rows_read: int | None = Field(description="Records read in the month (null: withheld)")
    flags_raised: int | None = Field(description="Flags the recipient raised under these purposes")


class EcosystemMap(BaseModel):
    month: str
    since: datetime
    until: datetime
    public: bool
    disclosure: str | None = Field(description="How the public view protects its counts")
    filters: dict[str, str | None]
    nodes: list[Node]
    flows: list[Flow]


def month_bounds(month: str | None, today: date | None = None) -> tuple[str, datetime, datetime]:
    """``YYYY-MM`` (default: this month) → (month, its first instant, the next month's)."""
    today = today or date.today()
    month = month or f"{today:%Y-%m}"
    try:
        year, number = (int(x) for x in month.split("-"))
        start = datetime(year, number, 1, tzinfo=UTC)
    except ValueError:
        raise Refused(422, "The month must be written YYYY-MM, like 2026-11", "month") from None
    days = calendar.monthrange(year, number)[1]
    end = datetime.fromordinal(start.toordinal() + days).replace(tzinfo=UTC)
    return month, start, end


def _safe(value: int, public: bool) -> int | None:
    if not public or value == 0:
        return value
    return None if value < PUBLIC_RULE.threshold else round_to(value, PUBLIC_RULE.base)


def audited_reads(
    session: Session, since: datetime, until: datetime
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(agreement, provider, recipient) → (reads, records read): the allowed reads of the
    audit log in ``[since, until)`` made under an agreement."""
    codes = dict(session.execute(select(Organisation.id, Organisation.code)).all())
    found: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    events = session.execute(
        select(AuditEvent.organisation_id, AuditEvent.target_id, AuditEvent.details).where(
            AuditEvent.action.in_(READS),
            AuditEvent.decision == "allow",
            AuditEvent.occurred_at >= since,
            AuditEvent.occurred_at < until,
        )
    )
    for org_id, target, details in events:
        agreement = (details or {}).get("agreement")
        if not agreement or not target or org_id not in codes:
            continue  # an organisation reading its own records, as controller
        key = (str(agreement), str(target).split("/")[0], codes[org_id])
        found[key][0] += 1
        found[key][1] += int((details or {}).get("rows") or 0)
    return {k: (v[0], v[1]) for k, v in found.items()}


def _flags_by(session: Session, since: datetime, until: datetime) -> dict[tuple[str, str], int]:
    """(organisation, purpose) → flags raised, from the month's latest insight run."""
    run = session.scalars(
        select(InsightRun)
        .where(InsightRun.created_at >= since, InsightRun.created_at < until)
        .order_by(InsightRun.id.desc())
        .limit(1)
    ).first()
    found: Counter[tuple[str, str]] = Counter()
    for rule in run.rules if run else []:
        for org, count in (rule.get("flags_by_organisation") or {}).items():
            found[(str(org), str(rule.get("purpose")))] += int(count)
    return dict(found)


def _node_values(
    session: Session, since: datetime, until: datetime
) -> tuple[Counter[int], Counter[int]]:
    actions: Counter[int] = Counter(
        dict(
            session.execute(
                select(FlagAction.organisation_id, func.count(FlagAction.id))
                .where(FlagAction.created_at >= since, FlagAction.created_at < until)
                .group_by(FlagAction.organisation_id)
            ).all()
        )
    )
    releases: Counter[int] = Counter(
        dict(
            session.execute(
                select(User.organisation_id, func.count(PublicationRelease.id))
                .join(User, User.id == PublicationRelease.decided_by_id)
                .where(
                    PublicationRelease.status == ReleaseStatus.APPROVED.value,
                    PublicationRelease.decided_at >= since,
                    PublicationRelease.decided_at < until,
                )
                .group_by(User.organisation_id)
            ).all()
        )
    )
    return actions, releases


def _shares(session: Session, agreement: Agreement, provider_id: int) -> tuple[list[str], ...]:
    datasets: set[str] = set()
    titles: set[str] = set()
    categories: set[str] = set()
    for share in agreement.data:
        if share.provider_id != provider_id:
            continue
        for name, standard in share_standards(session, share):
            datasets.add(name)
            titles.add(standard_title(standard))
            categories.update(field_categories(standard, [str(f) for f in share.fields]))
    return sorted(datasets), sorted(titles), sorted(categories)


def ecosystem_map(
    settings: Settings,
    *,
    month: str | None = None,
    purpose: str | None = None,
    dataset: str | None = None,
    organisation: str | None = None,
    public: bool = False,
    today: date | None = None,
) -> EcosystemMap:
    """The map for one month: every agreement in force today or read under in the month."""
    today = today or date.today()
    month, since, until = month_bounds(month, today)
    with session_scope(settings) as session:
        orgs = {o.id: o for o in session.scalars(select(Organisation))}
        by_code = {o.code: o for o in orgs.values()}
        reads = audited_reads(session, since, until)
        flags = _flags_by(session, since, until)
        read_under = {k[0] for k in reads}
        agreements = session.scalars(
            select(Agreement).options(
                selectinload(Agreement.parties),
                selectinload(Agreement.purposes),
                selectinload(Agreement.data),
            )
        ).all()
        flows: dict[tuple[str, str, str], Flow] = {}
        for agreement in agreements:
            status = effective_status(agreement, today)
            if status != AgreementStatus.ACTIVE.value and agreement.reference not in read_under:
                continue
            live = [p for p in agreement.parties if p.withdrawn_at is None]
            providers = {p.organisation_id for p in live if p.role == PartyRole.PROVIDER.value}
            recipients = {p.organisation_id for p in live if p.role == PartyRole.RECIPIENT.value}
            purposes = sorted(p.code for p in agreement.purposes)
            for provider in sorted(providers):
                datasets, titles, categories = _shares(session, agreement, provider)
                for recipient in sorted(recipients - {provider}):
                    key = (agreement.reference, orgs[provider].code, orgs[recipient].code)
                    count, rows = reads.get(key, (0, 0))
                    raised = sum(flags.get((orgs[recipient].code, p), 0) for p in purposes)
                    flows[key] = Flow(
                        agreement=agreement.reference,
                        agreement_title=agreement.title,
                        status=status,
                        provider=key[1],
                        recipient=key[2],
                        datasets=datasets,
                        dataset_categories=titles,
                        field_categories=categories,
                        purposes=purposes,
                        lawful_basis=agreement.lawful_basis,
                        reads=_safe(count, public),
                        rows_read=_safe(rows, public),
                        flags_raised=_safe(raised, public),
                    )
        for key, (count, rows) in reads.items():  # reads under a party that has since left
            if key not in flows and key[1] in by_code and key[2] in by_code:
                flows[key] = _left_flow(key, count, rows, public, agreements, today)
        shown = [
            f
            for f in flows.values()
            if (purpose is None or purpose in f.purposes)
            and (dataset is None or dataset in f.datasets)
            and (organisation is None or organisation in (f.provider, f.recipient))
        ]
        involved = {f.provider for f in shown} | {f.recipient for f in shown}
        actions, releases = _node_values(session, since, until)
        nodes = [
            Node(
                code=o.code,
                name=o.name,
                type=o.type,
                flags_raised=_safe(sum(v for (c, _), v in flags.items() if c == o.code), public),
                actions_recorded=_safe(actions.get(o.id, 0), public),
                releases_published=releases.get(o.id, 0),
            )
            for o in sorted(orgs.values(), key=lambda o: o.name)
            if o.code in involved or (organisation is None and releases.get(o.id))
        ]
    rule = PUBLIC_RULE
    return EcosystemMap(
        month=month,
        since=since,
        until=until,
        public=public,
        disclosure=f"Counts under {rule.threshold} are withheld; others are rounded to the "
        f"nearest {rule.base}."
        if public
        else None,
        filters={"purpose": purpose, "dataset": dataset, "organisation": organisation},
        nodes=nodes,
        flows=sorted(shown, key=lambda f: (f.agreement, f.provider, f.recipient)),
    )


def _left_flow(
    key: tuple[str, str, str],
    count: int,
    rows: int,
    public: bool,
    agreements: Any,
    today: date,
) -> Flow:
    """A flow the audit log shows but the agreement no longer lists (a party left it)."""
    agreement = next(a for a in agreements if a.reference == key[0])
    return Flow(
        agreement=agreement.reference,
        agreement_title=agreement.title,
        status=effective_status(agreement, today),
        provider=key[1],
        recipient=key[2],
        datasets=[],
        dataset_categories=[],
        field_categories=[],
        purposes=sorted(p.code for p in agreement.purposes),
        lawful_basis=agreement.lawful_basis,
        reads=_safe(count, public),
        rows_read=_safe(rows, public),
        flags_raised=None if public else 0,
    )
