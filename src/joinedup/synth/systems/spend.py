"""Spend over £500 (local government transparency code), one file per council per month, each
council with its own layout. Non-personal: payments to individuals are redacted."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..records import World
from ..render import valid_days
from ..util import day_to_date, month_label, stream
from .base import Output

SERVICES = {
    "Adults' Services": (
        "Residential Care Placements",
        "Home Care",
        "Direct Payments",
        "Day Care Services",
        "Supported Living",
    ),
    "Children and Young People": (
        "Foster Care Payments",
        "Residential Placements",
        "Special Educational Needs Transport",
        "Agency Staff",
    ),
    "Housing": (
        "Temporary Accommodation",
        "Repairs and Maintenance",
        "Building Works",
        "Security Services",
    ),
    "Environment": ("Waste Collection", "Street Cleansing", "Parks Maintenance", "Highways Works"),
    "Resources": (
        "IT Software",
        "IT Hardware",
        "Consultancy",
        "Legal Fees",
        "Insurance",
        "Agency Staff",
    ),
    "Communities": ("Grants to Voluntary Organisations", "Events", "Library Stock"),
}
DIVISIONS = {
    "Adults' Services": "Adult Social Care",
    "Children and Young People": "Children's Services",
    "Housing": "Housing and Regeneration",
    "Environment": "Environment and Streets",
    "Resources": "Corporate Resources",
    "Communities": "Communities and Culture",
}
STEMS = (
    "Acorn",
    "Beacon",
    "Bridge",
    "Capital",
    "Citywide",
    "Crest",
    "Evergreen",
    "Harbour",
    "Horizon",
    "Keystone",
    "Landmark",
    "Meridian",
    "Northgate",
    "Oakleaf",
    "Pinnacle",
    "Riverside",
    "Sterling",
    "Summit",
    "Thames",
    "Unity",
    "Vertex",
    "Waterside",
    "Zenith",
    "Brixton",
    "Peckham",
    "Camberwell",
    "Tooting",
    "Lewisham",
    "Vauxhall",
    "Borough",
)
SECTORS = (
    "Care",
    "Homecare",
    "Facilities",
    "Building Services",
    "IT Solutions",
    "Consulting",
    "Cleaning",
    "Security",
    "Recruitment",
    "Transport",
    "Catering",
    "Supplies",
    "Housing Services",
    "Legal",
    "Community Trust",
)
FORMS = ("Ltd", "Limited", "LLP", "plc", "CIC", "Ltd.")


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    rng = stream(config.seed, "spend")
    n_sup = 400
    sup_names = [
        f"{STEMS[rng.integers(len(STEMS))]} {SECTORS[rng.integers(len(SECTORS))]} "
        f"{FORMS[rng.integers(len(FORMS))]}"
        for _ in range(n_sup)
    ]
    has_company = rng.random(n_sup) < 0.7
    company = [
        f"{int(x):08d}" if h else None
        for x, h in zip(rng.integers(1_000_000, 14_999_999, n_sup), has_company, strict=True)
    ]
    services = list(SERVICES)
    weights = np.array([b.population_weight for b in config.boroughs])
    people_share = config.residents * weights / weights.sum()
    for b, spec in enumerate(config.boroughs):
        layout = out.layout("spend-over-500", spec.code)
        per_month = max(20, int(config.spend_transactions_per_100k * people_share[b] / 100_000))
        tx_no = 500_000 + b * 100_000
        for m in range(config.months):
            n = int(rng.poisson(per_month))
            first, last = int(tl.months[m]), int(tl.months[m + 1])
            days = np.sort(rng.integers(first, last, n)).astype(np.int32)
            svc = rng.integers(0, len(services), n)
            etype = [
                SERVICES[services[s]][int(rng.integers(len(SERVICES[services[s]])))] for s in svc
            ]
            supplier = rng.integers(0, n_sup, n)
            redacted = (rng.random(n) < 0.04) & np.isin(svc, [0, 1])
            names = np.where(
                redacted, "REDACTED PERSONAL DATA", np.array(sup_names, dtype=object)[supplier]
            )
            amount = np.round(500 + np.exp(rng.normal(7.6, 1.3, n)), 2)
            credit = rng.random(n) < 0.015
            amount = np.where(credit, -amount, amount)
            cols = {
                "body_name": pa.array([spec.name] * n),
                "body_code": pa.array([spec.gss_code] * n),
                "payment_date": days,
                "transaction_number": pa.array(np.arange(tx_no, tx_no + n)),
                "amount": amount,
                "irrecoverable_vat": np.where(rng.random(n) < 0.1, np.round(amount * 0.2, 2), 0.0),
                "supplier_name": pa.array(names.tolist(), pa.string()),
                "supplier_id": pa.array([f"S{int(x):05d}" for x in supplier]),
                "supplier_company_number": pa.array(
                    [
                        None if r else company[int(x)]
                        for x, r in zip(supplier, redacted, strict=True)
                    ],
                    pa.string(),
                ),
                "expense_area": pa.array([services[s] for s in svc]),
                "service_division": pa.array([DIVISIONS[services[s]] for s in svc]),
                "expense_type": pa.array(etype),
                "procurement_category": pa.array(etype),
                "purpose": pa.array(etype),
            }
            assert valid_days(days).all()
            tx_no += n
            period = month_label(day_to_date(first))
            out.emit(layout, f"spend-over-500-{period}", period, cols)
