"""Machine-readable export layouts: what each organisation's system writes, column by column.

Every (dataset, organisation) pair has its own layout, so each gets its own mapping file,
named ``synth/<dataset>-<organisation>.yaml`` (see :func:`mapping_name`). A layout lists its
columns in order, each with the *canonical field* it carries (the vocabulary below), plus the
file format, encoding, delimiter, date format, name style, case, money style and quirks.
``python -m joinedup.synth.layouts`` prints them all as YAML for whoever writes the mappings.

Canonical fields (what a column means, whatever it is called):

* people: ``given_name``, ``middle_name``, ``family_name``, ``full_name`` (see ``name_style``),
  ``dob``, ``sex``, ``nhs_number``, ``ni_number``, ``upn``;
  joint/second person: ``joint_full_name``, ``joint_given_name``, ``joint_family_name``;
* addresses: ``address_line1``, ``address_line2``, ``address_line3`` (locality), ``town``,
  ``address`` (one line: line1, line2, locality), ``postcode``, ``uprn``;
* the rest are dataset-specific and named in ``DATASET_FIELDS``.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field

import yaml

# date formats
DMY = "dd/mm/yyyy"
ISO = "yyyy-mm-dd"
SERIAL = "excel-serial"  # days since 1899-12-30, as an integer
DMONY = "dd-Mon-yyyy"
XLSX_DATE = "xlsx-date"  # a native date cell in an XLSX sheet
# name styles
SEPARATE = "separate"  # given_name / middle_name / family_name columns
SURNAME_FIRST = "SURNAME, Forename Middle"  # one full_name column, surname upper-cased
FORENAME_FIRST = "Forename Middle Surname"  # one full_name column

STYLES = ("title", "snake", "upper", "camel")
FLAG_FORMATS = ("Yes/No", "true/false", "Y/N", "1/0")  # per style
SEX_FORMATS = ("Male/Female", "M/F", "M/F", "1/2")  # per style (1/2: male/female codes)

# The column that identifies a row uniquely within one file, per dataset.
RECORD_ID_FIELD: dict[str, str] = {
    "school-census": "pupil_ref",
    "council-tax-accounts": "account_ref",
    "council-tax-arrears": "account_ref",
    "benefit-claims": "member_ref",
    "tenancies": "tenancy_ref",
    "rent-arrears": "tenancy_ref",
    "adult-social-care-clients": "client_id",
    "childrens-social-care-episodes": "episode_id",
    "electoral-register": "elector_number",
    "foodbank-referrals": "voucher_id",
}

# canonical field -> column label in each style (title, snake, upper, camel)
LABELS: dict[str, tuple[str, str, str, str]] = {
    "given_name": ("Forename", "first_name", "FORENAME", "GivenName"),
    "middle_name": ("Middle Name", "middle_names", "MIDDLE_NAME", "MiddleNames"),
    "family_name": ("Surname", "last_name", "SURNAME", "FamilyName"),
    "full_name": ("Name", "full_name", "NAME", "PersonName"),
    "joint_full_name": ("Joint Name", "joint_name", "JOINT_NAME", "JointName"),
    "dob": ("Date of Birth", "dob", "DOB", "BirthDate"),
    "sex": ("Gender", "sex", "SEX", "Gender"),
    "nhs_number": ("NHS Number", "nhs_no", "NHS_NUMBER", "NHSNumber"),
    "ni_number": ("NI Number", "nino", "NINO", "NationalInsuranceNumber"),
    "upn": ("UPN", "upn", "UPN", "UniquePupilNumber"),
    "address_line1": ("Address 1", "address_1", "ADDR1", "AddressLine1"),
    "address_line2": ("Address 2", "address_2", "ADDR2", "AddressLine2"),
    "address_line3": ("Address 3", "address_3", "ADDR3", "AddressLine3"),
    "town": ("Town", "town", "TOWN", "Town"),
    "address": ("Address", "address", "ADDRESS", "FullAddress"),
    "postcode": ("Postcode", "postcode", "POSTCODE", "PostCode"),
    "uprn": ("UPRN", "uprn", "UPRN", "Uprn"),
    # school census
    "pupil_ref": ("Pupil ID", "pupil_id", "PUPIL_ID", "PupilId"),
    "census_term": ("Census", "census_term", "CENSUS_TERM", "CensusTerm"),
    "census_date": ("Census Date", "census_date", "CENSUS_DATE", "CensusDate"),
    "school_urn": ("URN", "school_urn", "URN", "SchoolURN"),
    "school_name": ("School", "school_name", "SCHOOL_NAME", "SchoolName"),
    "la_number": ("LA", "la_number", "LA_NO", "LANumber"),
    "nc_year": ("NC Year", "nc_year", "NCYEAR", "NCYearActual"),
    "entry_date": ("Entry Date", "entry_date", "ENTRY_DATE", "EntryDate"),
    "fsm_eligible": ("FSM", "fsm_eligible", "FSM_ELIGIBLE", "FSMeligible"),
    # council tax
    "account_ref": ("Account Ref", "account_ref", "ACCOUNT_NO", "AccountReference"),
    "property_ref": ("Property Ref", "property_ref", "PROPERTY_REF", "PropertyReference"),
    "band": ("Band", "band", "BAND", "ValuationBand"),
    "liability_start": ("Liable From", "liable_from", "LIAB_START", "LiabilityStart"),
    "liability_end": ("Liable To", "liable_to", "LIAB_END", "LiabilityEnd"),
    "spd": ("Single Person Discount", "spd", "SPD", "SinglePersonDiscount"),
    "ctr": ("CTR", "ctr_in_payment", "CTR_FLAG", "CouncilTaxReduction"),
    "balance": ("Balance", "balance", "BALANCE", "Balance"),
    "payment_method": ("Payment Method", "payment_method", "PAY_METHOD", "PaymentMethod"),
    "months_in_arrears": (
        "Months In Arrears",
        "months_in_arrears",
        "MTHS_ARREARS",
        "MonthsInArrears",
    ),
    "recovery_stage": ("Recovery Stage", "recovery_stage", "RECOVERY_STAGE", "RecoveryStage"),
    "period": ("Period", "period", "PERIOD", "Period"),
    # benefit claims
    "member_ref": ("Member Ref", "member_ref", "MEMBER_REF", "MemberReference"),
    "claim_ref": ("Claim Ref", "claim_ref", "CLAIM_NO", "ClaimReference"),
    "member_role": ("Relationship", "role", "RELATIONSHIP", "MemberRole"),
    "claim_start": ("Claim Start", "claim_start", "CLAIM_START", "ClaimStartDate"),
    "claim_end": ("Claim End", "claim_end", "CLAIM_END", "ClaimEndDate"),
    "assessment_start": ("Assessment From", "assessment_from", "ASSESS_FROM", "AssessmentStart"),
    "assessment_end": ("Assessment To", "assessment_to", "ASSESS_TO", "AssessmentEnd"),
    "benefit_type": ("Benefit", "benefit_type", "BENEFIT_TYPE", "BenefitType"),
    "passport_benefit": ("Passport Benefit", "passport_benefit", "PASSPORT", "PassportBenefit"),
    "weekly_earned_income": (
        "Weekly Earnings",
        "weekly_earnings",
        "WEEKLY_EARNED",
        "WeeklyEarnedIncome",
    ),
    "dependants": ("Dependants", "dependants", "NO_DEPENDANTS", "DependantCount"),
    "household_size": ("Household Size", "household_size", "HH_SIZE", "HouseholdSize"),
    # tenancies and rent arrears
    "tenancy_ref": ("Tenancy Ref", "tenancy_ref", "TENANCY_REF", "TenancyReference"),
    "tenancy_start": ("Tenancy Start", "tenancy_start", "TENANCY_START", "TenancyStartDate"),
    "tenancy_end": ("Tenancy End", "tenancy_end", "TENANCY_END", "TenancyEndDate"),
    "tenancy_type": ("Tenancy Type", "tenancy_type", "TENANCY_TYPE", "TenancyType"),
    "weekly_rent": ("Weekly Rent", "weekly_rent", "WEEKLY_RENT", "WeeklyRent"),
    "bedrooms": ("Bedrooms", "bedrooms", "BEDROOMS", "Bedrooms"),
    "arrears": ("Arrears", "arrears", "ARREARS_BAL", "ArrearsBalance"),
    "weeks_in_arrears": ("Weeks In Arrears", "weeks_in_arrears", "WKS_ARREARS", "WeeksInArrears"),
    "action_stage": ("Action Stage", "action_stage", "ACTION_STAGE", "ActionStage"),
    # adult social care
    "client_id": ("Client ID", "client_id", "CLIENT_ID", "ClientId"),
    "support_reason": (
        "Primary Support Reason",
        "primary_support_reason",
        "PSR",
        "PrimarySupportReason",
    ),
    "service_type": ("Service Type", "service_type", "SERVICE_TYPE", "ServiceType"),
    "service_start": ("Service Start", "service_start", "SERVICE_START", "ServiceStartDate"),
    "service_end": ("Service End", "service_end", "SERVICE_END", "ServiceEndDate"),
    "date_of_death": ("Date of Death", "date_of_death", "DOD", "DateOfDeath"),
    # children's social care
    "episode_id": ("Episode ID", "episode_id", "EPISODE_ID", "EpisodeId"),
    "child_id": ("Child ID", "child_id", "CHILD_ID", "LAChildId"),
    "referral_date": ("Referral Date", "referral_date", "REFERRAL_DATE", "ReferralDate"),
    "cin_start": ("CIN Start", "cin_start", "CIN_START", "CINStartDate"),
    "cin_end": ("CIN End", "cin_end", "CIN_CLOSED", "CINClosureDate"),
    "cp_start": ("CP Plan Start", "cp_start", "CPP_START", "CPPStartDate"),
    "cp_end": ("CP Plan End", "cp_end", "CPP_END", "CPPEndDate"),
    "category_of_need": ("Category of Need", "category_of_need", "CIN_CATEGORY", "PrimaryNeedCode"),
    # electoral register
    "elector_number": ("Elector Number", "elector_number", "ELECTOR_NO", "ElectorNumber"),
    "polling_district": ("Polling District", "polling_district", "PD", "PollingDistrict"),
    "attainment_date": ("Attainment Date", "attainment_date", "DOA", "AttainmentDate"),
    "franchise_marker": ("Franchise", "franchise_marker", "FRANCHISE", "FranchiseMarker"),
    "postal_voter": ("Postal Voter", "postal_voter", "POSTAL", "PostalVoter"),
    # food bank referrals
    "voucher_id": ("Voucher", "voucher_id", "VOUCHER_ID", "voucherId"),
    "referral_agency": ("Referral Agency", "referral_agency", "AGENCY", "referringAgency"),
    "referral_reason": ("Reason", "reason", "REASON", "referralReason"),
    "adults": ("Adults", "adults", "ADULTS", "adults"),
    "children": ("Children", "children", "CHILDREN", "children"),
}


@dataclass(frozen=True)
class Column:
    name: str  # the column label in the file
    field: str  # the canonical field it carries


@dataclass(frozen=True)
class Layout:
    dataset: str
    organisation: str
    system: str
    standard: str
    format: str  # csv | xlsx | json
    encoding: str  # utf-8 | utf-8-sig (BOM) | cp1252
    delimiter: str | None
    date_format: str
    name_style: str
    upper_case: bool  # text values upper-cased
    money_format: str  # plain "1234.56" | pound "£1,234.56" | pence (integer)
    nhs_format: str  # plain "9434765919" | spaced "943 476 5919"
    flag_format: str  # how yes/no values are written, e.g. "Y/N"
    sex_format: str  # how sex is written, e.g. "M/F"
    columns: tuple[Column, ...]
    period: str | None  # term | month | year | None (current records)
    quirks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def mapping(self) -> str:
        return mapping_name(self.dataset, self.organisation)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["columns"] = [{"name": c.name, "field": c.field} for c in self.columns]
        data["mapping"] = self.mapping
        data["quirks"] = list(self.quirks)
        return data


def mapping_name(dataset: str, organisation: str) -> str:
    """The mapping file the ingest stage uses for this export layout."""
    return f"synth/{dataset}-{organisation}.yaml"


# Datasets: system, standard, period, and their canonical fields in export order.
DATASETS: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "school-census": (
        "school-census",
        "school_census",
        "term",
        (
            "pupil_ref",
            "upn",
            "NAME",
            "dob",
            "sex",
            "school_urn",
            "school_name",
            "la_number",
            "nc_year",
            "entry_date",
            "fsm_eligible",
            "ADDRESS",
            "postcode",
            "uprn",
            "census_term",
            "census_date",
        ),
    ),
    "council-tax-accounts": (
        "revenues",
        "council_tax",
        None,
        (
            "account_ref",
            "NAME",
            "joint_full_name",
            "property_ref",
            "uprn",
            "ADDRESS",
            "postcode",
            "band",
            "liability_start",
            "liability_end",
            "spd",
            "ctr",
            "balance",
            "payment_method",
        ),
    ),
    "council-tax-arrears": (
        "revenues",
        "council_tax",
        "month",
        (
            "account_ref",
            "NAME",
            "ADDRESS",
            "postcode",
            "balance",
            "months_in_arrears",
            "recovery_stage",
            "period",
        ),
    ),
    "benefit-claims": (
        "benefits",
        "benefit_claim",
        None,
        (
            "member_ref",
            "claim_ref",
            "member_role",
            "NAME",
            "dob",
            "sex",
            "ni_number",
            "ADDRESS",
            "postcode",
            "uprn",
            "claim_start",
            "claim_end",
            "assessment_start",
            "assessment_end",
            "benefit_type",
            "passport_benefit",
            "weekly_earned_income",
            "dependants",
            "household_size",
        ),
    ),
    "tenancies": (
        "housing",
        "tenancy",
        None,
        (
            "tenancy_ref",
            "NAME",
            "dob",
            "ni_number",
            "joint_full_name",
            "property_ref",
            "uprn",
            "ADDRESS",
            "postcode",
            "tenancy_start",
            "tenancy_end",
            "tenancy_type",
            "weekly_rent",
            "bedrooms",
            "household_size",
        ),
    ),
    "rent-arrears": (
        "housing",
        "tenancy",
        "month",
        (
            "tenancy_ref",
            "NAME",
            "ADDRESS",
            "postcode",
            "arrears",
            "weeks_in_arrears",
            "action_stage",
            "period",
        ),
    ),
    "adult-social-care-clients": (
        "adult-social-care",
        "adult_social_care",
        None,
        (
            "client_id",
            "NAME",
            "dob",
            "sex",
            "nhs_number",
            "ADDRESS",
            "postcode",
            "uprn",
            "support_reason",
            "service_type",
            "service_start",
            "service_end",
            "date_of_death",
        ),
    ),
    "childrens-social-care-episodes": (
        "childrens-social-care",
        "childrens_social_care",
        None,
        (
            "episode_id",
            "child_id",
            "NAME",
            "dob",
            "sex",
            "upn",
            "nhs_number",
            "ADDRESS",
            "postcode",
            "referral_date",
            "cin_start",
            "cin_end",
            "cp_start",
            "cp_end",
            "category_of_need",
        ),
    ),
    "electoral-register": (
        "electoral",
        "electoral_register",
        "year",
        (
            "elector_number",
            "polling_district",
            "NAME",
            "ADDRESS",
            "postcode",
            "uprn",
            "attainment_date",
            "franchise_marker",
            "postal_voter",
        ),
    ),
    "foodbank-referrals": (
        "foodbank",
        "referral",
        None,
        (
            "voucher_id",
            "referral_date",
            "NAME",
            "dob",
            "ADDRESS",
            "postcode",
            "adults",
            "children",
            "referral_agency",
            "referral_reason",
        ),
    ),
}

COUNCILS = ("lambeth", "lewisham", "southwark", "wandsworth")


@dataclass(frozen=True)
class Quirks:
    style: int  # index into STYLES
    fmt: str = "csv"
    encoding: str = "utf-8"
    delimiter: str | None = ","
    date_format: str = DMY
    name_style: str = SEPARATE
    upper_case: bool = False
    money: str = "plain"
    nhs: str = "plain"
    address: str = "lines"  # lines (address_line1..3, town) or single (address)
    drop: tuple[str, ...] = ()  # canonical fields this organisation's export lacks
    notes: tuple[str, ...] = ()


C, X, J = "csv", "xlsx", "json"
QUIRKS: dict[tuple[str, str], Quirks] = {
    # school census: collated by each council from its schools' returns
    ("school-census", "lambeth"): Quirks(0, date_format=DMY, drop=("uprn",)),
    ("school-census", "lewisham"): Quirks(
        3, encoding="utf-8-sig", date_format=ISO, address="single", notes=("UTF-8 with a BOM",)
    ),
    ("school-census", "southwark"): Quirks(
        2, date_format=DMY, name_style=SURNAME_FIRST, upper_case=True, drop=("entry_date",)
    ),
    ("school-census", "wandsworth"): Quirks(1, date_format=ISO, drop=("uprn",)),
    # revenues: council tax accounts and the monthly arrears list share a system
    ("council-tax-accounts", "lambeth"): Quirks(
        2,
        encoding="cp1252",
        name_style=SURNAME_FIRST,
        upper_case=True,
        money="pound",
        notes=("Windows-1252 with £ amounts",),
    ),
    ("council-tax-accounts", "lewisham"): Quirks(0, date_format=ISO, name_style=FORENAME_FIRST),
    ("council-tax-accounts", "southwark"): Quirks(
        1,
        encoding="utf-8-sig",
        date_format=SERIAL,
        name_style=FORENAME_FIRST,
        address="single",
        notes=("dates as Excel serial numbers",),
    ),
    ("council-tax-accounts", "wandsworth"): Quirks(
        3, delimiter="|", name_style=SURNAME_FIRST, drop=("uprn",), notes=("pipe-delimited",)
    ),
    ("council-tax-arrears", "lambeth"): Quirks(
        2, encoding="cp1252", name_style=SURNAME_FIRST, upper_case=True, money="pound"
    ),
    ("council-tax-arrears", "lewisham"): Quirks(
        0, date_format=ISO, name_style=FORENAME_FIRST, fmt=C
    ),
    ("council-tax-arrears", "southwark"): Quirks(
        1, encoding="utf-8-sig", date_format=SERIAL, name_style=FORENAME_FIRST, address="single"
    ),
    ("council-tax-arrears", "wandsworth"): Quirks(3, delimiter="|", name_style=SURNAME_FIRST),
    # housing benefit and council tax reduction
    ("benefit-claims", "lambeth"): Quirks(2, upper_case=True, date_format=DMY),
    ("benefit-claims", "lewisham"): Quirks(
        0, encoding="cp1252", money="pound", notes=("Windows-1252 with £ amounts",)
    ),
    ("benefit-claims", "southwark"): Quirks(1, date_format=ISO, address="single"),
    ("benefit-claims", "wandsworth"): Quirks(
        3, encoding="utf-8-sig", date_format=SERIAL, name_style=SURNAME_FIRST, drop=("uprn",)
    ),
    # housing: tenancies and the monthly rent arrears list
    ("tenancies", "lambeth"): Quirks(0, name_style=SURNAME_FIRST),
    ("tenancies", "lewisham"): Quirks(1, delimiter="\t", date_format=ISO, notes=("tab-separated",)),
    ("tenancies", "southwark"): Quirks(
        2,
        encoding="cp1252",
        upper_case=True,
        money="pound",
        name_style=SURNAME_FIRST,
        address="single",
    ),
    ("tenancies", "wandsworth"): Quirks(
        3, date_format=SERIAL, name_style=FORENAME_FIRST, drop=("ni_number",)
    ),
    ("rent-arrears", "lambeth"): Quirks(0, name_style=SURNAME_FIRST),
    ("rent-arrears", "lewisham"): Quirks(1, delimiter="\t", date_format=ISO),
    ("rent-arrears", "southwark"): Quirks(
        2,
        encoding="cp1252",
        upper_case=True,
        money="pound",
        name_style=SURNAME_FIRST,
        address="single",
    ),
    ("rent-arrears", "wandsworth"): Quirks(3, date_format=SERIAL, name_style=FORENAME_FIRST),
    # adult social care: small, exported as spreadsheets
    ("adult-social-care-clients", "lambeth"): Quirks(0, fmt=X, date_format=XLSX_DATE),
    ("adult-social-care-clients", "lewisham"): Quirks(
        2,
        fmt=X,
        date_format=DMY,
        upper_case=True,
        name_style=SURNAME_FIRST,
        notes=("dates stored as text",),
    ),
    ("adult-social-care-clients", "southwark"): Quirks(
        1, fmt=X, date_format=SERIAL, address="single", notes=("dates as unformatted numbers",)
    ),
    ("adult-social-care-clients", "wandsworth"): Quirks(
        3, fmt=X, date_format=XLSX_DATE, nhs="spaced", drop=("uprn",)
    ),
    # children's social care
    ("childrens-social-care-episodes", "lambeth"): Quirks(0, encoding="utf-8-sig", date_format=ISO),
    ("childrens-social-care-episodes", "lewisham"): Quirks(
        1, date_format=DMY, name_style=SURNAME_FIRST
    ),
    ("childrens-social-care-episodes", "southwark"): Quirks(
        3, fmt=X, date_format=XLSX_DATE, address="single"
    ),
    ("childrens-social-care-episodes", "wandsworth"): Quirks(
        2, fmt=X, date_format=DMY, upper_case=True, nhs="spaced"
    ),
    # electoral register (published each December)
    ("electoral-register", "lambeth"): Quirks(0, drop=("uprn",)),
    ("electoral-register", "lewisham"): Quirks(
        2, upper_case=True, name_style=SURNAME_FIRST, date_format=DMY
    ),
    ("electoral-register", "southwark"): Quirks(1, date_format=ISO, address="single"),
    ("electoral-register", "wandsworth"): Quirks(
        3, encoding="utf-8-sig", date_format=ISO, name_style=FORENAME_FIRST
    ),
    # the food bank network: a web form export
    ("foodbank-referrals", "foodbank"): Quirks(
        3,
        fmt=J,
        delimiter=None,
        date_format=DMY,
        name_style=FORENAME_FIRST,
        address="single",
        drop=("uprn",),
        notes=(
            "JSON array of objects",
            "dates typed by volunteers as dd/mm/yyyy",
            "often only a postcode",
        ),
    ),
}


def _label(field_name: str, style: int) -> str:
    return LABELS[field_name][style]


def build_layout(dataset: str, organisation: str) -> Layout:
    system, standard, period, fields = DATASETS[dataset]
    q = QUIRKS[(dataset, organisation)]
    columns: list[Column] = []
    for f in fields:
        if f in q.drop:
            continue
        if f == "NAME":
            if q.name_style == SEPARATE:
                names = ["given_name", "middle_name", "family_name"]
            else:
                names = ["full_name"]
            columns += [Column(_label(n, q.style), n) for n in names if n not in q.drop]
        elif f == "ADDRESS":
            parts = (
                ["address"]
                if q.address == "single"
                else ["address_line1", "address_line2", "address_line3", "town"]
            )
            columns += [Column(_label(n, q.style), n) for n in parts]
        else:
            columns.append(Column(_label(f, q.style), f))
    quirks = list(q.notes)
    if q.upper_case:
        quirks.append("text upper-cased")
    if q.name_style != SEPARATE:
        quirks.append(f"names in one field: {q.name_style}")
    return Layout(
        dataset=dataset,
        organisation=organisation,
        system=system,
        standard=standard,
        format=q.fmt,
        encoding=q.encoding if q.fmt != "xlsx" else "binary",
        delimiter=q.delimiter if q.fmt == "csv" else None,
        date_format=q.date_format,
        name_style=q.name_style,
        upper_case=q.upper_case,
        money_format=q.money,
        nhs_format=q.nhs,
        flag_format=FLAG_FORMATS[q.style],
        sex_format=SEX_FORMATS[q.style],
        columns=tuple(columns),
        period=period,
        quirks=tuple(quirks),
    )


def _spend_layout(organisation: str) -> Layout:
    spec = SPEND_LAYOUTS[organisation]
    return Layout(
        dataset="spend-over-500",
        organisation=organisation,
        system="finance",
        standard="spend",
        format=spec["format"],  # type: ignore[arg-type]
        encoding=spec["encoding"],  # type: ignore[arg-type]
        delimiter=spec["delimiter"],  # type: ignore[arg-type]
        date_format=spec["date_format"],  # type: ignore[arg-type]
        name_style=SEPARATE,
        upper_case=bool(spec["upper_case"]),
        money_format=spec["money"],  # type: ignore[arg-type]
        nhs_format="plain",
        flag_format="Y/N",
        sex_format="M/F",
        columns=tuple(Column(name, f) for name, f in spec["columns"]),  # type: ignore[attr-defined]
        period="month",
        quirks=tuple(spec["notes"]),  # type: ignore[arg-type]
    )


# Spend over £500 (local government transparency code): each council publishes its own way.
SPEND_LAYOUTS: dict[str, dict[str, object]] = {
    "lambeth": {
        "format": "csv",
        "encoding": "cp1252",
        "delimiter": ",",
        "date_format": DMY,
        "upper_case": False,
        "money": "pound",
        "columns": (
            ("Body Name", "body_name"),
            ("Body", "body_code"),
            ("Service Area", "expense_area"),
            ("Expenditure Category", "expense_type"),
            ("Date", "payment_date"),
            ("Transaction Number", "transaction_number"),
            ("Amount", "amount"),
            ("Supplier Name", "supplier_name"),
            ("Supplier ID", "supplier_id"),
            ("Purpose", "purpose"),
        ),
        "notes": ("Windows-1252 with £ amounts",),
    },
    "lewisham": {
        "format": "xlsx",
        "encoding": "binary",
        "delimiter": None,
        "date_format": XLSX_DATE,
        "upper_case": False,
        "money": "plain",
        "columns": (
            ("Organisation Name", "body_name"),
            ("Organisation Code", "body_code"),
            ("Effective Date", "payment_date"),
            ("Directorate", "service_division"),
            ("Service", "expense_area"),
            ("Expense Type", "expense_type"),
            ("Supplier", "supplier_name"),
            ("Supplier Reference", "supplier_id"),
            ("Payment Ref", "transaction_number"),
            ("Net Amount", "amount"),
            ("Irrecoverable VAT", "irrecoverable_vat"),
        ),
        "notes": ("XLSX, one sheet per month",),
    },
    "southwark": {
        "format": "csv",
        "encoding": "utf-8-sig",
        "delimiter": ",",
        "date_format": ISO,
        "upper_case": False,
        "money": "plain",
        "columns": (
            ("body", "body_code"),
            ("body_name", "body_name"),
            ("date", "payment_date"),
            ("transaction_id", "transaction_number"),
            ("expense_area", "expense_area"),
            ("expense_type", "expense_type"),
            ("supplier_name", "supplier_name"),
            ("supplier_company_number", "supplier_company_number"),
            ("amount_gbp", "amount"),
            ("procurement_category", "procurement_category"),
        ),
        "notes": ("UTF-8 with a BOM",),
    },
    "wandsworth": {
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ",",
        "date_format": DMONY,
        "upper_case": True,
        "money": "plain",
        "columns": (
            ("BODY", "body_name"),
            ("DEPARTMENT", "service_division"),
            ("COST CENTRE", "expense_area"),
            ("EXPENSE TYPE", "expense_type"),
            ("TRANS DATE", "payment_date"),
            ("VOUCHER NO", "transaction_number"),
            ("SUPPLIER", "supplier_name"),
            ("AMOUNT", "amount"),
        ),
        "notes": ("upper case", "dates like 02-Apr-2025", "credit notes as negative amounts"),
    },
}

GAZETTEER_LAYOUT = Layout(
    dataset="address-gazetteer",
    organisation="hub",
    system="gazetteer",
    standard="address",
    format="csv",
    encoding="utf-8",
    delimiter=",",
    date_format=ISO,
    name_style=SEPARATE,
    upper_case=False,
    money_format="plain",
    nhs_format="plain",
    flag_format="Y/N",
    sex_format="M/F",
    columns=tuple(
        Column(c, c.lower())
        for c in (
            "UPRN",
            "USRN",
            "SAO_TEXT",
            "PAO_TEXT",
            "STREET_DESCRIPTION",
            "LOCALITY",
            "TOWN_NAME",
            "POSTCODE",
            "LA_GSS_CODE",
            "LA_NAME",
            "WARD_GSS_CODE",
            "WARD_NAME",
            "LSOA_GSS_CODE",
            "LSOA_NAME",
            "CLASSIFICATION_CODE",
            "COUNCIL_TAX_BAND",
        )
    ),
    period=None,
    quirks=("SYNTHETIC addresses: UPRNs 9xxxxxxxxxxx, ward/LSOA codes E059…/E019…",),
)


def all_layouts() -> dict[tuple[str, str], Layout]:
    out: dict[tuple[str, str], Layout] = {}
    for dataset, org in QUIRKS:
        out[(dataset, org)] = build_layout(dataset, org)
    for org in SPEND_LAYOUTS:
        out[("spend-over-500", org)] = _spend_layout(org)
    out[("address-gazetteer", "hub")] = GAZETTEER_LAYOUT
    return out


def layouts_yaml() -> str:
    return yaml.safe_dump(
        [layout.as_dict() for layout in all_layouts().values()],
        sort_keys=False,
        allow_unicode=True,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(layouts_yaml())
