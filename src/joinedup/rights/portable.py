"""The portable export: the subject access document as JSON-LD with the W3C Data Privacy
Vocabulary (DPV, https://w3id.org/dpv#), so that a personal data store can import it.
The format is documented in docs/portable-export.md.

One ``dpv:PersonalDataHandling`` node per source record: who holds it (``dpv:hasDataController``),
the personal data it holds (``dpv:hasPersonalData``: DPV personal data categories, and the
values under ``jd:values``), and the purposes, legal bases and recipients that apply to it
(``dpv:hasPurpose``, ``dpv:hasLegalBasis``, ``dpv:hasRecipient``), from the agreements that
cover its dataset and the audit log.
"""

from __future__ import annotations

from typing import Any

CONTEXT: dict[str, Any] = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "jd": "https://joinedup.example/ns/rights#",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "schema": "https://schema.org/",
    "name": "schema:name",
    "description": "dct:description",
    "created": {"@id": "dct:created", "@type": "xsd:dateTime"},
    "hasDataSubject": {"@id": "dpv:hasDataSubject", "@type": "@id"},
    "hasDataController": {"@id": "dpv:hasDataController", "@type": "@id"},
    "hasPersonalData": {"@id": "dpv:hasPersonalData", "@type": "@id"},
    "hasPurpose": {"@id": "dpv:hasPurpose", "@type": "@id"},
    "hasLegalBasis": {"@id": "dpv:hasLegalBasis", "@type": "@id"},
    "hasRecipient": {"@id": "dpv:hasRecipient", "@type": "@id"},
    "hasPersonalDataHandling": {"@id": "dpv:hasPersonalDataHandling", "@type": "@id"},
    "hasContext": {"@id": "dpv:hasContext"},
}

#: Person-standard fields → DPV personal data categories (dpv/pd).
CATEGORIES = {
    "given_name": "pd:Name",
    "middle_names": "pd:Name",
    "family_name": "pd:Name",
    "date_of_birth": "pd:DateOfBirth",
    "sex": "pd:Gender",
    "address_line_1": "pd:HouseNumber",
    "address_line_2": "pd:Address",
    "address_line_3": "pd:Address",
    "town": "pd:Address",
    "postcode": "pd:Address",
    "uprn": "pd:Address",
    "nhs_number": "pd:HealthRecord",
    "upn": "pd:Identifier",
    "ni_number": "pd:NationalIdentificationNumber",
    "other_id": "pd:Identifier",
    "phone": "pd:TelephoneNumber",
    "email": "pd:EmailAddress",
    "household_ref": "pd:Identifier",
    "weekly_income": "pd:Income",
    "annual_income": "pd:Income",
    "balance": "pd:FinancialAccount",
    "weekly_rent": "pd:FinancialAccount",
    "fsm_eligible": "pd:Financial",
    "benefit_type": "pd:Financial",
    "universal_credit": "pd:Financial",
    "legacy_benefit": "pd:Financial",
    "school_urn": "pd:EducationExperience",
    "nc_year_group": "pd:EducationExperience",
    "primary_support_reason": "pd:HealthRecord",
    "category_of_abuse": "dpv:SpecialCategoryPersonalData",
    "reason_code": "dpv:SensitivePersonalData",
}
DEFAULT_CATEGORY = "dpv:PersonalData"
#: UK GDPR Article 6 bases in purposes' and agreements' lawful basis text → DPV GDPR terms.
LEGAL_BASES = {
    "6(1)(a)": "dpv:Consent",
    "6(1)(b)": "dpv:Contract",
    "6(1)(c)": "dpv:LegalObligation",
    "6(1)(d)": "dpv:VitalInterest",
    "6(1)(e)": "dpv:PublicInterest",
    "6(1)(f)": "dpv:LegitimateInterest",
}


def legal_basis(text: str | None) -> str:
    """The DPV legal basis for a lawful basis written like ``UK GDPR Article 6(1)(e): …``."""
    for article, term in LEGAL_BASES.items():
        if text and article in text:
            return term
    return "dpv:LegalBasis"


def _org(code: str | None) -> str:
    return f"jd:organisation/{code}"


def _purpose_node(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "@id": f"jd:purpose/{p['code']}",
        "@type": "dpv:Purpose",
        "name": p["name"],
        "description": p.get("description") or "",
        "hasLegalBasis": legal_basis(p.get("lawful_basis")),
        "jd:lawfulBasisText": p.get("lawful_basis"),
        "jd:objectionAllowed": bool(p.get("objection_allowed")),
    }


def to_jsonld(document: dict[str, Any]) -> dict[str, Any]:
    """The portable JSON-LD form of a (released, redacted) subject access document."""
    subject = f"jd:resident/{document['resident_id']}"
    purposes = {p["code"]: p for p in document["purposes"]}
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for agreement in document["agreements"]:
        for dataset in agreement["datasets"]:
            by_dataset.setdefault(dataset, []).append(agreement)
    recipients: dict[str, set[str]] = {}
    for d in document["disclosures"]:
        if d.get("dataset"):
            key = "/".join(d["dataset"].split("/")[:2])
            recipients.setdefault(key, set()).add(str(d["organisation"]))
    handlings = []
    for record in document["records"]:
        dataset = f"{record['organisation']}/{record['dataset']}"
        agreements = by_dataset.get(dataset, [])
        codes = sorted({c for a in agreements for c in a["purposes"]})
        fields = sorted({f for row in record["rows"] for f, v in row.items() if v is not None})
        handlings.append(
            {
                "@id": f"jd:record/{record['record_key']}",
                "@type": "dpv:PersonalDataHandling",
                "name": f"{record['organisation_name']}: {record['dataset']} "
                f"(version {record['version']})",
                "hasDataSubject": subject,
                "hasDataController": _org(record["organisation"]),
                "hasPersonalData": sorted({CATEGORIES.get(f, DEFAULT_CATEGORY) for f in fields}),
                "hasPurpose": [f"jd:purpose/{c}" for c in codes],
                "hasLegalBasis": sorted(
                    {legal_basis(a["lawful_basis"]) for a in agreements} or {"dpv:LegalBasis"}
                ),
                "hasRecipient": [_org(o) for o in sorted(recipients.get(dataset, set()))],
                "jd:agreements": [a["reference"] for a in agreements],
                "jd:dataset": record["dataset"],
                "jd:version": record["version"],
                "jd:sourceRecordId": record["source_record_id"],
                "jd:values": {"@type": "@json", "@value": record["rows"]},
                "jd:disputes": {"@type": "@json", "@value": record["disputes"]},
            }
        )
    organisations = sorted(
        {r["organisation"]: r["organisation_name"] for r in document["records"]}.items()
    ) + sorted(
        {
            d["organisation"]: d["organisation_name"]
            for d in document["disclosures"]
            if d.get("organisation")
        }.items()
    )
    org_nodes = {
        code: {"@id": _org(code), "@type": "dpv:Organisation", "name": name}
        for code, name in organisations
    }
    return {
        "@context": CONTEXT,
        "@id": f"jd:export/{document['resident_id']}/{document['generated_at']}",
        "@type": "jd:SubjectAccessExport",
        "created": document["generated_at"],
        "jd:format": "joinedup-portable-export/1",
        "hasDataSubject": {"@id": subject, "@type": "dpv:DataSubject"},
        "hasDataController": {"@id": "jd:controller", "name": document.get("controller")},
        "hasPersonalDataHandling": handlings,
        "dpv:hasPurpose": [_purpose_node(p) for p in purposes.values()],
        "jd:organisations": list(org_nodes.values()),
        "jd:flags": {"@type": "@json", "@value": document["flags"]},
        "jd:objections": {"@type": "@json", "@value": document["objections"]},
        "jd:recipients": {"@type": "@json", "@value": document["recipients"]},
        "jd:redactions": {"@type": "@json", "@value": document["redactions"]},
    }
