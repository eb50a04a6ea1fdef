"""The demo's governance: purposes and their grants, synthetic users with printed logins, and
the sharing agreements the free-school-meals scenario needs, each approved by every provider
once each of its purposes has an ethics record the hub's DPO signed off."""

from __future__ import annotations

import json
import os
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, OrganisationType, Purpose, Role, User
from joinedup.config import Settings
from joinedup.governance.accounts import create_user
from joinedup.governance.agreements import (
    AgreementDraft,
    DataShare,
    approve,
    create_draft,
    propose,
)
from joinedup.governance.ethics import draft_record, sign_off
from joinedup.governance.grants import grant_purpose
from joinedup.governance.purposes import PUBLIC_TASK, ensure_default_purposes
from joinedup.jobs.registry import JobContext, job

LOGINS_FILE = "demo-logins.json"
PERSON_CORE = (
    "source_record_id",
    "given_name",
    "middle_names",
    "family_name",
    "date_of_birth",
    "sex",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "town",
    "postcode",
    "uprn",
    "nhs_number",
    "upn",
    "ni_number",
    "other_id",
    "household_ref",
)
CENSUS_FSM_FIELDS = (
    "source_record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "upn",
    "postcode",
    "school_urn",
    "school_la_code",
    "census_date",
    "census_term",
    "nc_year_group",
    "fsm_eligible",
    "fsm_start_date",
)
FRAUD = "fraud-prevention"
COUNCIL_ROLES = (Role.DATA_OWNER, Role.ANALYST, Role.CASEWORKER)


def _users_for(org: Organisation) -> list[Role]:
    if org.type == OrganisationType.COUNCIL.value:
        return list(COUNCIL_ROLES)
    if org.type == OrganisationType.HUB.value:
        return [Role.HUB_ADMIN, Role.ANALYST, Role.DPO]
    return [Role.DATA_OWNER, Role.CASEWORKER]


def _agreements(
    councils: list[str], partners: list[str], hub: str, today: date
) -> list[AgreementDraft]:
    start, expiry = today - timedelta(days=365), today + timedelta(days=730)
    common: dict[str, Any] = {
        "lawful_basis": PUBLIC_TASK,
        "start_date": start,
        "expiry_date": expiry,
    }
    return [
        AgreementDraft(
            reference="DSA-FSM-2026",
            title="Free school meals: school census FSM fields shared between boroughs",
            description="Each borough's school census FSM fields, shared with the other "
            "boroughs so the home borough can see children at school elsewhere.",
            providers=tuple(councils),
            recipients=tuple(councils),
            data=tuple(
                DataShare(provider=c, dataset="school-census", fields=CENSUS_FSM_FIELDS)
                for c in councils
            ),
            purposes=("fsm",),
            dpia_reference="DPIA-FSM-2026-01",
            retention="Until the end of the school year after the child leaves the school",
            **common,
        ),
        AgreementDraft(
            reference="DSA-HUB-2026",
            title="Regional resident index and statistics",
            description="Every organisation's person records shared with the regional hub, "
            "to link them into one view of each resident and to produce safe statistics.",
            providers=tuple([*councils, *partners]),
            recipients=(hub,),
            data=tuple(DataShare(provider=o, fields=("*",)) for o in [*councils, *partners]),
            purposes=("linkage", "statistics", "subject-access"),
            dpia_reference="DPIA-HUB-2026-02",
            retention="Linked index rebuilt monthly; superseded versions deleted after 13 months",
            **common,
        ),
        AgreementDraft(
            reference="DSA-EARLYHELP-2026",
            title="Early help: food bank referrals shared with the home borough",
            description="Food bank referrals shared with councils, and councils' benefit "
            "claims shared with each other, to offer early help.",
            providers=tuple([*partners, *councils]),
            recipients=tuple(councils),
            data=tuple(
                [DataShare(provider=p, dataset="foodbank-referrals") for p in partners]
                + [DataShare(provider=c, dataset="benefit-claims") for c in councils]
            ),
            purposes=("early-help",),
            special_category_condition=(
                "UK GDPR Article 9(2)(g); DPA 2018 Schedule 1 paragraph 18"
            ),
            dpia_reference="DPIA-EH-2026-03",
            retention="Two years after the last contact",
            **common,
        ),
    ]


def demo_ethics_answers(purpose: Purpose) -> dict[str, str]:
    """The demo's Data Ethics Canvas answers for a purpose (a starting point a real hub's
    analysts would rewrite: the demo region is synthetic)."""
    objection = (
        "Residents may object at any council office or through the hub's DPO; an objection "
        "takes effect at once and the register at /transparency says how."
        if purpose.objection_allowed
        else "The lawful basis does not allow objection; residents are told in the privacy "
        "notice and can ask the DPO for a review, and the register at /transparency says so."
    )
    return {
        "data_sources": f"The records the sharing agreements under ‘{purpose.name}’ name, as "
        "each organisation exports them. Limits: addresses and names are entered by hand and "
        "vary; people who moved recently may be missing; linkage can join or split people "
        "wrongly (the linkage review queue and its measured accuracy show how often).",
        "benefits": f"Residents who are missed today: {purpose.description} Services save "
        "the time spent matching lists by hand.",
        "harms": "A wrong match could attach another person's circumstances to a resident; a "
        "flag could feel intrusive or stigmatising; data shared beyond need erodes trust.",
        "excluded_groups": "People without a fixed address, recent arrivals and people whose "
        "names are recorded inconsistently are the most likely to be missed or mislinked. The "
        "fairness check compares flag rates by sex, age band and area every month.",
        "transparency": "The councils' privacy notices describe this sharing; the public "
        "register at /transparency lists each agreement. " + objection,
        "review": "The DPO reviews this record every year, and at once if the fairness check "
        "marks a group, objections rise, or the linkage accuracy falls. Any party can stop "
        "sharing by withdrawing from the agreement.",
    }


def _demo_ethics(
    session: Session, purposes: set[str], drafter: User, dpo: User, today: date
) -> None:
    """Drafted by the hub's analyst and signed off by its DPO, reviewed within a year."""
    for code in sorted(purposes):
        purpose = session.scalars(select(Purpose).where(Purpose.code == code)).one()
        record = draft_record(
            session,
            "purpose",
            code,
            demo_ethics_answers(purpose),
            today + timedelta(days=365),
            drafter,
            today,
        )
        sign_off(session, record, dpo, "Demo region: reviewed and signed off", today)


def set_up_demo_governance(settings: Settings, today: date | None = None) -> dict[str, Any]:
    """Purposes, users (logins written to the home, mode 0600) and active agreements."""
    today = today or date.today()
    logins: list[dict[str, str]] = []
    with session_scope(settings) as session:
        ensure_default_purposes(session, actor="demo")
        orgs = list(session.scalars(select(Organisation).order_by(Organisation.id)))
        owners: dict[str, User] = {}
        hub_users: dict[Role, User] = {}
        for org in orgs:
            for role in _users_for(org):
                username = f"{org.code}.{role.value.replace('_', '-')}"
                password = secrets.token_urlsafe(12)
                user = create_user(
                    session,
                    username=username,
                    display_name=f"{org.name} {role.value.replace('_', ' ')}",
                    organisation=org.code,
                    role=role.value,
                    password=password,
                    actor="demo",
                )
                if role == Role.DATA_OWNER:
                    owners[org.code] = user
                if org.type == OrganisationType.HUB.value:
                    hub_users[role] = user
                logins.append(
                    {
                        "username": username,
                        "password": password,
                        "role": role.value,
                        "organisation": org.code,
                    }
                )
        councils = [o.code for o in orgs if o.type == OrganisationType.COUNCIL.value]
        # One council's counter-fraud work: its data owner grants its caseworkers the purpose
        # (nobody else acts under it; see joinedup.governance.grants).
        if councils:
            first = min(councils)
            grant_purpose(session, FRAUD, Role.CASEWORKER.value, first, owners[first])
        partners = [o.code for o in orgs if o.type == OrganisationType.VOLUNTARY.value]
        hub = next(o.code for o in orgs if o.type == OrganisationType.HUB.value)
        references = []
        drafts = _agreements(councils, partners, hub, today)
        purposes = {code for draft in drafts for code in draft.purposes}
        _demo_ethics(session, purposes, hub_users[Role.ANALYST], hub_users[Role.DPO], today)
        for draft in drafts:
            proposer = owners[draft.providers[0]]
            agreement = create_draft(session, draft, proposer)
            propose(session, agreement, proposer)
            for provider in dict.fromkeys(draft.providers):
                approve(session, agreement, owners[provider], today)
            references.append(agreement.reference)
    path = settings.home / LOGINS_FILE
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(json.dumps(logins, indent=2))
    return {"users": len(logins), "agreements": references, "logins_file": str(Path(path))}


@job("governance.demo")
def demo_governance_job(ctx: JobContext) -> dict[str, Any]:
    """Set up the demo's purposes, users and sharing agreements."""
    ctx.progress(0.1, "Registering purposes, users and agreements")
    return set_up_demo_governance(ctx.settings)
