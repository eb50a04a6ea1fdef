"""Ready mappings for the synthetic region, derived from the export layouts.

Every export layout in :mod:`joinedup.synth.layouts` gets one mapping, shipped as
``src/joinedup/ingest/mappings/synth/<dataset>-<organisation>.yaml`` (the name the manifest
gives). The YAML is generated from the layouts so the two cannot drift apart; a test checks that
the committed files equal this module's output. To change a mapping, change the rules here and
regenerate::

    python -m joinedup.synth.mappings            # rewrite the shipped files
    python -m joinedup.synth.mappings --check    # exit 1 if any file is out of date

Each column of a layout carries a *canonical field* (``given_name``, ``dob``, ``claim_start``,
…). The rules below say which standard field(s) each canonical field fills and with which
transforms, given the layout's date format, name style, flag and sex codes and money style.
A canonical field with no standard field is listed in the file's header with the reason, so a
reader sees what the hub does not keep. A layout column whose canonical field the rules do not
know is an error: a new column needs a decision.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from joinedup.synth.config import DEFAULT_BOROUGHS
from joinedup.synth.layouts import (
    DMONY,
    DMY,
    FORENAME_FIRST,
    ISO,
    SEPARATE,
    SERIAL,
    SURNAME_FIRST,
    XLSX_DATE,
    Layout,
    all_layouts,
)

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "ingest" / "mappings"
"""Where shipped mappings live; a layout's ``mapping`` name is relative to this folder."""

PERIOD = "{period}"

DATE_FORMATS: dict[str, list[str]] = {
    DMY: ["%d/%m/%Y"],
    ISO: ["iso"],
    SERIAL: ["excel_serial"],
    DMONY: ["%d-%b-%Y"],
    XLSX_DATE: ["iso"],  # the XLSX reader writes date cells as ISO 8601 text
}
DATE_WORDS = {
    DMY: "dd/mm/yyyy",
    ISO: "ISO yyyy-mm-dd",
    SERIAL: "Excel serial day numbers",
    DMONY: "dd-Mon-yyyy (02-Apr-2025)",
    XLSX_DATE: "XLSX date cells",
}
SEX_CODES: dict[str, dict[str, str]] = {
    "Male/Female": {"Male": "M", "Female": "F"},
    "M/F": {"M": "M", "F": "F"},
    "1/2": {"1": "M", "2": "F"},  # ISO/IEC 5218
}
SPLIT_STYLE = {SURNAME_FIRST: "surname_comma_forenames", FORENAME_FIRST: "forenames_surname"}
LA_CODES = {str(b.la_number): b.gss_code for b in DEFAULT_BOROUGHS}
BODY_CODES = {b.code: b.gss_code for b in DEFAULT_BOROUGHS}

ROLE_CODES = {
    "Claimant": "claimant",
    "Partner": "partner",
    "Dependant": "dependant",
    "Non-dependant": "non_dependant",
}
BENEFIT_TYPE_CODES = {
    "HB": "housing_benefit",
    "CTR": "council_tax_reduction",
    # A joint HB and CTR claim is one row in the export; the standard has a row per benefit.
    # Every claim includes CTR, so the row is kept as the CTR claim (see the file's notes).
    "HB/CTR": "council_tax_reduction",
}
PASSPORT_UC = {"true": ["Universal Credit"], "false": ["Legacy benefit", "Pension Credit", "None"]}
LEGACY_CODES: dict[str, str | None] = {
    "Universal Credit": "none",
    "Pension Credit": "pension_credit_guarantee",
    "None": "none",
    "Legacy benefit": None,  # which legacy benefit is not exported
}
SUPPORT_REASON_CODES: dict[str, str | None] = {
    "Physical support: personal care": "physical_personal_care",
    "Physical support: access and mobility only": "physical_access_mobility",
    "Memory and cognition support": "memory_cognition",
    "Learning disability support": "learning_disability",
    "Mental health support": "mental_health",
    "Sensory support": None,  # visual, hearing or dual: the export does not say which
    "Social support: isolation": "social_isolation_other",
}
SERVICE_CODES = {
    "Home care": "home_care",
    "Residential care": "residential",
    "Nursing care": "nursing",
    "Direct payment": "direct_payment",
    "Day care": "day_care",
    "Supported living": "supported_living",
    "Reablement": "reablement",
}
AGENCY_TYPE_CODES = {
    "Citizens Advice": "voluntary_sector",
    "Jobcentre Plus": "dwp",
    "School": "school",
    "Health visitor": "health",
    "Social worker": "council",
    "Housing association": "housing_association",
    "GP surgery": "health",
    "Council welfare team": "council",
    "Children's centre": "council",
}
REFERRAL_REASON_CODES = {
    "Benefit delays": "benefit_delay",
    "Benefit changes": "benefit_change",
    "Low income": "low_income",
    "Debt": "debt",
    "Sickness": "ill_health",
    "Domestic abuse": "domestic_abuse",
    "Homeless": "homelessness",
    "Child holiday meals": "child_holiday_hunger",
    "No recourse to public funds": "no_recourse",
}
FRANCHISE_CODES = {
    "F": "parliamentary_only",
    "G": "local_only",
    "L": "local_only",
    "M": "local_only",
}

# Comments beside source codes whose translation is a judgement call.
CODE_NOTES = {
    "HB/CTR": "one row for both benefits: kept as the CTR claim",
    "Legacy benefit": "which legacy benefit is not exported",
    "Sensory support": "visual, hearing or dual: the export does not say",
    "Children's centre": "usually run by the council",
}

# Canonical fields the standards have no place for, with the reason given in the file.
NOT_MAPPED: dict[str, str] = {
    "joint_full_name": "joint holder: a standard row is about one person",
    "property_ref": "the system's property number; property_uprn identifies the property",
    "school_name": "school_urn identifies the school",
    "entry_date": "no school_census field for the date of entry",
    "ctr": "no council_tax field for council tax reduction (see benefit-claims)",
    "payment_method": "no council_tax field",
    "months_in_arrears": "no council_tax field",
    "recovery_stage": "no council_tax field",
    "dependants": "no benefit_claim field (dependants have their own rows)",
    "household_size": "no field",
    "bedrooms": "no tenancy field",
    "weeks_in_arrears": "no tenancy field",
    "action_stage": "no tenancy field",
    "date_of_death": "no adult_social_care field",
    "referral_date": "no childrens_social_care field for the referral",
    "cp_start": "a CP plan is its own episode in the standard; one row maps to one row",
    "cp_end": "as cp_start",
    "postal_voter": "no electoral_register field",
    "adults": "no referral field for household size",
    "children": "no referral field for household size",
    # gazetteer
    "la_name": "the GSS code is kept",
    "ward_name": "the GSS code is kept",
    "lsoa_name": "the GSS code is kept",
    "classification_code": "no address field",
    "council_tax_band": "no address field (council_tax.band holds it)",
}


@dataclass(frozen=True)
class Target:
    """One standard field filled from one or more columns (or a constant)."""

    field: str
    spec: str | dict[str, Any]
    comment: str = ""


class LayoutRuleError(ValueError):
    """A layout column whose canonical field no rule knows."""


def _dates(layout: Layout) -> dict[str, Any]:
    return {"date_formats": DATE_FORMATS[layout.date_format]}


def _flag(layout: Layout) -> dict[str, Any]:
    yes, no = layout.flag_format.split("/")
    return {"boolean": {"true": [yes], "false": [no]}}


def _money(layout: Layout) -> dict[str, Any]:
    return {"number": {"currency": True}} if layout.money_format == "pound" else {}


def _col(column: str, **options: Any) -> str | dict[str, Any]:
    return {"column": column, **options} if options else column


def _person(layout: Layout, field: str, column: str) -> list[Target] | None:
    """Person fields, the same in every person standard."""
    if field in ("given_name", "middle_name", "family_name"):
        target = "middle_names" if field == "middle_name" else field
        return [Target(target, column)]
    if field == "full_name":
        style = SPLIT_STYLE[layout.name_style]
        return [
            Target(target, {"column": column, "split_name": style, "part": part})
            for target, part in (
                ("given_name", "given"),
                ("middle_names", "middle"),
                ("family_name", "family"),
            )
        ]
    if field == "dob":
        return [Target("date_of_birth", _col(column, **_dates(layout)))]
    if field == "sex":
        return [Target("sex", {"column": column, "codes": SEX_CODES[layout.sex_format]})]
    if field in ("nhs_number", "ni_number", "upn", "postcode", "town"):
        return [Target(field, column)]
    if field in ("address_line1", "address_line2", "address_line3"):
        return [Target(f"address_line_{field[-1]}", column)]
    if field == "address":
        return [
            Target(f"address_line_{n}", {"column": column, "address_part": f"line_{n}"})
            for n in (1, 2, 3)
        ]
    if field == "uprn":
        targets = [Target("uprn", column)]
        if layout.standard in ("council_tax", "tenancy"):
            targets.append(Target("property_uprn", column))
        return targets
    return None


def _domain(layout: Layout, field: str, column: str) -> list[Target] | None:
    """Dataset fields: which field of the layout's standard each canonical field fills."""
    std = layout.standard
    dates = _dates(layout)
    rules: dict[str, list[Target]] = {}
    if std == "school_census":
        rules = {
            "pupil_ref": [Target("source_record_id", column, "the MIS pupil id")],
            "school_urn": [Target("school_urn", column)],
            "la_number": [Target("school_la_code", {"column": column, "codes": LA_CODES})],
            "nc_year": [Target("nc_year_group", {"column": column, "codes": {"0": "R"}})],
            "fsm_eligible": [Target("fsm_eligible", {"column": column, **_flag(layout)})],
            "census_term": [
                Target(
                    "census_term",
                    {"column": column, "extract": "^[A-Za-z]+", "case": "lower"},
                    "'Summer 2025' -> summer",
                )
            ],
            "census_date": [Target("census_date", _col(column, **dates))],
        }
    elif std == "council_tax":
        rules = {
            "account_ref": [
                Target("source_record_id", column, "no person number is exported"),
                Target("account_ref", column),
                Target("household_ref", column),
            ],
            "band": [Target("band", column)],
            "liability_start": [Target("liability_start_date", _col(column, **dates))],
            "liability_end": [Target("liability_end_date", _col(column, **dates))],
            "spd": [Target("single_person_discount", {"column": column, **_flag(layout)})],
            "balance": [Target("balance", _col(column, **_money(layout)))],
            "period": [Target("period", column)],
        }
    elif std == "benefit_claim":
        rules = {
            "member_ref": [
                Target(
                    "source_record_id",
                    column,
                    "claim/assessment/member: unique per row, as the key needs",
                )
            ],
            "claim_ref": [Target("claim_ref", column), Target("household_ref", column)],
            "member_role": [Target("role", {"column": column, "codes": ROLE_CODES})],
            "claim_start": [Target("claim_start_date", _col(column, **dates))],
            "claim_end": [Target("claim_end_date", _col(column, **dates))],
            "assessment_start": [Target("assessment_start_date", _col(column, **dates))],
            "assessment_end": [Target("assessment_end_date", _col(column, **dates))],
            "benefit_type": [
                Target("benefit_type", {"column": column, "codes": BENEFIT_TYPE_CODES})
            ],
            "passport_benefit": [
                Target("universal_credit", {"column": column, "boolean": PASSPORT_UC}),
                Target("legacy_benefit", {"column": column, "codes": LEGACY_CODES}),
            ],
            "weekly_earned_income": [
                Target(
                    "weekly_income",
                    _col(column, **_money(layout)),
                    "the claimant's earnings; blank on other members' rows",
                )
            ],
        }
    elif std == "tenancy":
        rules = {
            "tenancy_ref": [
                Target("source_record_id", column, "no person number is exported"),
                Target("tenancy_ref", column),
                Target("household_ref", column),
            ],
            "tenancy_start": [Target("tenancy_start_date", _col(column, **dates))],
            "tenancy_end": [Target("tenancy_end_date", _col(column, **dates))],
            "tenancy_type": [Target("tenure_type", {"column": column, "case": "lower"})],
            "weekly_rent": [Target("weekly_rent", _col(column, **_money(layout)))],
            "arrears": [Target("balance", _col(column, **_money(layout)))],
            "period": [Target("period", column)],
        }
    elif std == "adult_social_care":
        rules = {
            "client_id": [Target("source_record_id", column, "the client reference")],
            "support_reason": [
                Target("primary_support_reason", {"column": column, "codes": SUPPORT_REASON_CODES})
            ],
            "service_type": [Target("service_type", {"column": column, "codes": SERVICE_CODES})],
            "service_start": [Target("service_start_date", _col(column, **dates))],
            "service_end": [Target("service_end_date", _col(column, **dates))],
        }
    elif std == "childrens_social_care":
        rules = {
            "episode_id": [Target("episode_ref", column)],
            "child_id": [Target("source_record_id", column, "the child reference")],
            "cin_start": [Target("episode_start_date", _col(column, **dates))],
            "cin_end": [Target("episode_end_date", _col(column, **dates))],
            "category_of_need": [Target("reason_code", column)],
        }
    elif std == "electoral_register":
        rules = {
            "elector_number": [
                Target("source_record_id", column, "district-number: unique in a register"),
                Target(
                    "elector_number",
                    {"column": column, "extract": "-([0-9]+(?:/[0-9]+)?)$"},
                    "'LA01-12' -> 12",
                ),
            ],
            "polling_district": [Target("polling_district", column)],
            "attainment_date": [Target("attainer_date", _col(column, **dates))],
            "franchise_marker": [
                Target("franchise_marker", column),
                Target(
                    "franchise",
                    {"column": column, "codes": FRANCHISE_CODES, "default": "all"},
                    "no marker: all elections",
                ),
            ],
        }
    elif std == "referral":
        rules = {
            "voucher_id": [
                Target("source_record_id", column, "no client number is exported"),
                Target("referral_ref", column),
            ],
            "referral_date": [Target("referral_date", _col(column, **dates))],
            "referral_agency": [
                Target("referring_agency", column),
                Target("referring_agency_type", {"column": column, "codes": AGENCY_TYPE_CODES}),
            ],
            "referral_reason": [
                Target("reason_code", {"column": column, "codes": REFERRAL_REASON_CODES})
            ],
        }
    elif std == "spend":
        same = (
            "body_name",
            "body_code",
            "service_division",
            "expense_type",
            "transaction_number",
            "supplier_name",
            "supplier_id",
            "supplier_company_number",
            "purpose",
            "procurement_category",
        )
        rules = {f: [Target(f, column)] for f in same}
        rules |= {
            "expense_area": [Target("service_area", column)],
            "payment_date": [Target("payment_date", _col(column, **dates))],
            "amount": [Target("net_amount", _col(column, **_money(layout)))],
            "irrecoverable_vat": [Target("irrecoverable_vat", _col(column, **_money(layout)))],
        }
    elif std == "address":
        rules = {
            "uprn": [Target("uprn", column)],
            "usrn": [Target("usrn", column)],
            "town_name": [Target("town", column)],
            "postcode": [Target("postcode", column)],
            "la_gss_code": [Target("local_authority_code", column)],
            "ward_gss_code": [Target("ward_code", column)],
            "lsoa_gss_code": [Target("lsoa_code", column)],
        }
    return rules.get(field)


# Gazetteer columns that together make the address lines (SAO, PAO, street, locality).
GAZETTEER_LINE_FIELDS = ("sao_text", "pao_text", "street_description", "locality")


def mapping_targets(layout: Layout) -> tuple[list[Target], list[tuple[str, str]]]:
    """The fields a layout's mapping fills, in column order, and the columns it leaves out."""
    targets: list[Target] = []
    skipped: list[tuple[str, str]] = []
    line_columns = [c.name for c in layout.columns if c.field in GAZETTEER_LINE_FIELDS]
    for col in layout.columns:
        if col.field in GAZETTEER_LINE_FIELDS:
            if col.field == GAZETTEER_LINE_FIELDS[0]:
                targets += [
                    Target(
                        f"address_line_{n}",
                        {"columns": line_columns, "join": ", ", "address_part": f"line_{n}"},
                        "lines as the exports write them" if n == 1 else "",
                    )
                    for n in (1, 2, 3)
                ]
            continue
        found = None
        if layout.standard not in ("spend", "address"):
            found = _person(layout, col.field, col.name)
        if found is None:
            found = _domain(layout, col.field, col.name)
        if found is not None:
            targets += found
        elif col.field in NOT_MAPPED:
            skipped.append((col.name, NOT_MAPPED[col.field]))
        else:
            raise LayoutRuleError(
                f"{layout.mapping}: no rule for column {col.name!r} ({col.field})"
            )
    filled = {t.field for t in targets}
    if layout.standard in ("council_tax", "tenancy") and "period" not in filled:
        targets.append(
            Target("period", {"constant": PERIOD}, "no period column: filled in at ingest")
        )
    if layout.standard == "electoral_register":
        targets.append(
            Target("register_date", {"constant": f"{PERIOD}-01"}, "published on the 1st")
        )
    if layout.standard == "childrens_social_care":
        targets.append(Target("episode_type", {"constant": "CIN"}, "each row is a CIN episode"))
    if layout.standard == "spend" and "body_code" not in filled:
        targets.append(
            Target("body_code", {"constant": BODY_CODES[layout.organisation]}, "the publisher")
        )
    if layout.standard == "address":
        targets.append(Target("synthetic", {"constant": "true"}, "every address is invented"))
    fields = [t.field for t in targets]
    duplicates = sorted({f for f in fields if fields.count(f) > 1})
    if duplicates:
        raise LayoutRuleError(f"{layout.mapping}: fields filled twice: {duplicates}")
    return targets, skipped


# --- rendering: readable YAML, one field a line where it fits ---------------------------------

_PLAIN = re.compile(r"[A-Za-z_%][A-Za-z0-9_ .'/%:-]*")
WIDTH = 100


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = (
        _PLAIN.fullmatch(text) is not None
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and not text.startswith("%")
        and yaml.safe_load(text) == text
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    return _scalar(value)


def _key(key: Any) -> str:
    return "true" if key == "true" else "false" if key == "false" else _scalar(key)


def _noted(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k in CODE_NOTES for k in value)


def _block(name: str, spec: dict[str, Any], indent: str) -> list[str]:
    lines = [f"{indent}{_key(name)}:"]
    inner = indent + "  "
    for key, value in spec.items():
        flow = f"{inner}{_key(key)}: {_flow(value)}"
        if isinstance(value, dict) and (len(flow) > WIDTH or _noted(value)):
            lines += _block(key, value, inner)
        else:
            note = CODE_NOTES.get(key) if isinstance(key, str) else None
            lines.append(f"{flow}  # {note}" if note else flow)
    return lines


def _field_lines(target: Target) -> list[str]:
    comment = f"  # {target.comment}" if target.comment else ""
    line = f"  {target.field}: {_flow(target.spec)}"
    if not isinstance(target.spec, dict) or (
        len(line) + len(comment) <= WIDTH and not any(_noted(v) for v in target.spec.values())
    ):
        return [line + comment]
    lines = _block(target.field, target.spec, "  ")
    lines[0] += comment
    return lines


def _describe(layout: Layout) -> list[str]:
    fmt = layout.format.upper()
    if layout.format == "csv":
        delimiter = {",": "comma", "|": "pipe", "\t": "tab"}.get(layout.delimiter or ",", "")
        encoding = {"utf-8-sig": "UTF-8 with a BOM", "cp1252": "Windows-1252"}.get(
            layout.encoding, "UTF-8"
        )
        fmt = f"CSV, {encoding}, {delimiter}-separated"
    elif layout.format == "json":
        fmt = "JSON array of records"
    columns = {c.field for c in layout.columns}
    facts = [fmt]
    if layout.standard != "address":
        facts.append(f"dates {DATE_WORDS[layout.date_format]}")
    if layout.standard not in ("spend", "address"):
        names = {
            SEPARATE: "names in separate columns",
            SURNAME_FIRST: "names as 'SURNAME, Forename Middle'",
            FORENAME_FIRST: "names as 'Forename Middle Surname'",
        }[layout.name_style]
        facts.append(names)
        if "sex" in columns:
            facts.append(f"sex {layout.sex_format}")
    if columns & {"fsm_eligible", "spd", "ctr", "postal_voter"}:
        facts.append(f"flags {layout.flag_format}")
    if layout.money_format == "pound":
        facts.append("money as £1,234.56")
    if layout.upper_case:
        facts.append("text upper-cased")
    if layout.nhs_format == "spaced" and "nhs_number" in columns:
        facts.append("NHS numbers spaced 943 476 5919")
    if "address" in columns:
        facts.append("one-line address")
    return facts


# Layout quirks the "Source:" line already states in its own words.
SAID_QUIRKS = (
    "text upper-cased",
    "names in one field",
    "upper case",
    "Windows-1252",
    "UTF-8 with a BOM",
    "pipe-delimited",
    "tab-separated",
    "dates ",
    "JSON array",
)
ORGANISATION_NAMES = {"foodbank": "the food bank network", "hub": "the hub"}
NOTES: dict[str, str] = {
    "council_tax": "Rows are accounts: the export has no person number, so the account "
    "reference is the source_record_id (a person with two accounts has two ids). The joint "
    "holder's name has no place in a one-person row.",
    "tenancy": "Rows are tenancies: the export has no person number, so the tenancy reference "
    "is the source_record_id (a tenant with two tenancies has two ids). The joint tenant's "
    "name has no place in a one-person row.",
    "benefit_claim": "The export has one row per person per assessment. The standard's key "
    "(person, claim, benefit type) has no assessment, so the member reference "
    "(claim/assessment/member) is the source_record_id; the assessment's dates say when it "
    "was in force. A joint HB/CTR claim is one row here and is kept as the "
    "council_tax_reduction claim.",
    "childrens_social_care": "Each row is a CIN episode; a CP plan inside it (CP start and "
    "end) has no row of its own.",
    "referral": "The export has no client number: the voucher id is the source_record_id.",
}


def _comment(text: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent="# ", subsequent_indent="#   ", break_on_hyphens=False
    )


def render_mapping(layout: Layout) -> str:
    """The YAML text of a layout's mapping, with a comment header."""
    targets, skipped = mapping_targets(layout)
    title = layout.dataset.replace("-", " ").replace("over 500", "over £500")
    title = title.replace("childrens", "children's")
    org = ORGANISATION_NAMES.get(layout.organisation, layout.organisation.title())
    description = f"Synthetic region: {title} exported by {org}"
    system = layout.system.replace("-", " ").replace("childrens", "children's")
    head = [
        *_comment(f"{layout.mapping}: {title} from {org} ({layout.system} system)."),
        "# Generated from joinedup.synth.layouts by `python -m joinedup.synth.mappings`:",
        "# change the rules there and regenerate (a test checks that the two agree).",
        "#",
    ]
    facts = _describe(layout)
    facts += [q for q in layout.quirks if not q.startswith(SAID_QUIRKS)]
    paragraphs = [f"Source: {'; '.join(facts)}."]
    if layout.period:
        paragraphs.append(f"One file per {layout.period}.")
    if any(PERIOD in str(t.spec) for t in targets):
        paragraphs.append(
            "{period} is filled in at ingest with the file's period (YYYY-MM, from the manifest)."
            if layout.period
            else "{period} is filled in at ingest with the month the extract was taken (YYYY-MM)."
        )
    if layout.standard in NOTES:
        paragraphs.append(NOTES[layout.standard])
    for paragraph in paragraphs:
        head += _comment(paragraph)
    if skipped:
        head.append("# Columns not mapped:")
        head += [f"#   {name}: {why}" for name, why in skipped]
    body = [
        "format: joinedup-mapping/1",
        f"standard: {layout.standard}",
        f"description: {_scalar(description)}",
        f"organisation: {layout.organisation}",
        f"title: {_scalar(f'{title[:1].upper()}{title[1:]} ({system} system)')}",
        "fields:",
    ]
    for target in targets:
        body += _field_lines(target)
    text = "\n".join([*head, *body]) + "\n"
    _check_round_trip(layout, text, targets)
    return text


def _check_round_trip(layout: Layout, text: str, targets: list[Target]) -> None:
    """The YAML must read back as exactly the intended specification."""
    data = yaml.safe_load(text)
    want: dict[str, Any] = {t.field: t.spec for t in targets}
    got = data["fields"]
    for spec in got.values():
        if isinstance(spec, dict) and "boolean" in spec:
            spec["boolean"] = {str(k).lower(): v for k, v in spec["boolean"].items()}
    if got != want or data["standard"] != layout.standard:
        raise LayoutRuleError(f"{layout.mapping}: the rendered YAML does not read back")


def render_all() -> dict[str, str]:
    """Every layout's mapping: {mapping name (``synth/….yaml``): YAML text}."""
    return {layout.mapping: render_mapping(layout) for layout in all_layouts().values()}


def write_all(root: Path = MAPPINGS_DIR) -> list[Path]:
    """Write every mapping under ``root`` and remove stale generated files; returns the paths."""
    rendered = render_all()
    written = []
    for name, text in rendered.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in (root / "synth").glob("*.yaml"):
        if f"synth/{stale.name}" not in rendered:
            stale.unlink()
    return written


def out_of_date(root: Path = MAPPINGS_DIR) -> list[str]:
    """Mapping names whose shipped file differs from the generated text (or is extra)."""
    rendered = render_all()
    stale = [
        name
        for name, text in rendered.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    ]
    extra = [
        f"synth/{p.name}"
        for p in sorted((root / "synth").glob("*.yaml"))
        if f"synth/{p.name}" not in rendered
    ]
    return sorted(stale + extra)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        stale = out_of_date()
        for name in stale:
            sys.stderr.write(f"out of date: {name}\n")
        return 1 if stale else 0
    paths = write_all()
    sys.stdout.write(f"wrote {len(paths)} mappings under {MAPPINGS_DIR}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
