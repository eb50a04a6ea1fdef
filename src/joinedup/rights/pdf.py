"""The subject access export as a PDF (fpdf2, its built-in Helvetica: no system fonts)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from joinedup.rights.readable import record_fields
from joinedup.standards.readable import date_text


def _latin(text: Any) -> str:
    """Helvetica covers Latin-1; anything else is replaced, never dropped silently."""
    return str(text if text is not None else "").encode("latin-1", "replace").decode("latin-1")


class _Doc:
    def __init__(self, title: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_title(title)
        self.pdf.set_creator("joinedup")
        self.pdf.add_page()
        self.pdf.set_font("helvetica", "B", 18)
        self.pdf.multi_cell(0, 9, _latin(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("helvetica", "B", 13)
        self.pdf.multi_cell(0, 7, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def subheading(self, text: str) -> None:
        self.pdf.set_font("helvetica", "B", 10)
        self.pdf.multi_cell(0, 5.5, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def line(self, text: str) -> None:
        self.pdf.set_font("helvetica", "", 9)
        self.pdf.multi_cell(0, 4.8, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pairs(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if value not in (None, ""):
                self.line(f"{key.replace('_', ' ')}: {value}")


def render_pdf(document: dict[str, Any], export_id: int | None = None) -> bytes:
    """A printable PDF of the released document (the same sections as the HTML page)."""
    doc = _Doc("Subject access export")
    doc.pairs(
        {
            "Resident": document["resident_id"],
            "Export": export_id,
            "Produced": document["generated_at"],
            "Controller": document.get("controller"),
        }
    )
    doc.heading(f"Records held ({len(document['records'])})")
    for record in document["records"]:
        doc.subheading(
            f"{record['organisation_name']}: {record['dataset'].replace('-', ' ')} "
            f"(version {record['version']}),"
            f" record {record['source_record_id']}"
        )
        if record.get("withheld"):
            doc.line(f"Not available: {record['withheld']}")
        for dispute in record["disputes"]:
            doc.line(
                f"DISPUTED ({dispute['status']}): {', '.join(dispute['fields'])}. "
                f"Statement: {dispute['statement']}"
            )
        rows = record_fields(record)
        for number, row in enumerate(rows, start=1):
            if len(rows) > 1:
                doc.line(f"Row {number}")
            for label, text in row:
                doc.line(f"{label}: {text}")
    doc.heading("Purposes and legal bases")
    for p in document["purposes"]:
        doc.subheading(p["name"])
        doc.pairs(
            {
                "Lawful basis": p["lawful_basis"],
                "Special category condition": p.get("special_category_condition"),
                "You may object": "yes" if p["objection_allowed"] else "no",
                "Agreements": ", ".join(p["agreements"]),
            }
        )
    doc.heading("Sharing agreements")
    for a in document["agreements"]:
        doc.subheading(f"{a['reference']}: {a['title']}")
        doc.pairs(
            {
                "Status": a["status"],
                "Lawful basis": a["lawful_basis"],
                "From": a["start_date"],
                "Until": a["expiry_date"],
                "Recipients": ", ".join(a["recipients"]),
                "Your datasets it covers": ", ".join(a["datasets"]),
                "Retention": a["retention"],
            }
        )
    doc.heading("Who has seen your data")
    for r in document["recipients"]:
        doc.line(
            f"{r['organisation_name']}, for {r['purpose']}: {r['times']} time(s), "
            f"{r['first'][:10]} to {r['last'][:10]}"
        )
    doc.heading(f"Flags ({len(document['flags'])})")
    for f in document["flags"]:
        raised_by = f.get("organisation_name") or f["organisation"]
        when = date_text(f["as_at"]) if f["as_at"] else "an unknown date"
        doc.subheading(f"{f['rule_name']} ({raised_by}, {when})")
        if f.get("reason"):
            doc.line(f["reason"])
        for v in f["values"]:
            doc.line(f"{v.get('label') or v['field']}: {v.get('text') or v['value']}")
        for a in f["actions"]:
            outcome = a["outcome"].replace("_", " ").capitalize()
            note = f" ({a['note']})" if a["note"] else ""
            doc.line(f"Action on {date_text(a['at'])}: {outcome}{note}")
    if document["flags_about_others_using_your_records"]:
        doc.heading("Your records used in flags about other people")
        for u in document["flags_about_others_using_your_records"]:
            used = ", ".join(u["your_records"])
            doc.line(f"{u['rule_name']} ({u['organisation']}, {u['purpose']}): {used}")
    doc.heading("Objections")
    if not document["objections"]:
        doc.line("None recorded.")
    for o in document["objections"]:
        doc.subheading(f"{o['purpose_name']} (recorded {o['recorded_at'][:10]})")
        withdrawn = o["effect"]["flags_withdrawn"]
        if o["effect"]["next_run"] is None:
            doc.line("Takes effect on the next run of the indicator rules.")
        elif withdrawn:
            for w in withdrawn:
                doc.line(
                    f"Flag withdrawn because of this objection: {w['rule_name']} "
                    f"({w['organisation']}), from run {w['withdrawn_in_run']}"
                )
        else:
            doc.line("No flags of yours were affected.")
    doc.heading("Redactions")
    if not document["redactions"]:
        doc.line("Nothing was redacted.")
    for item in document["redactions"]:
        doc.line(f"{item['section']}: {item['item']} ({item['reason']})")
    return bytes(doc.pdf.output())
