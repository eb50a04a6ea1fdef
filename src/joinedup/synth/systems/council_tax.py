"""Council tax (revenues system): the accounts file (current and closed accounts with liability
dates, single person discount, CTR flag and balance) and a monthly list of accounts in arrears.

The single person discount is right when one adult (not a student) lives at the property;
``spd_fraud_rate`` of multi-adult households claim it anyway, and children who turn 18 are not
always reported (the discount stays on). Truth: truth/council_tax_accounts.parquet.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from ..errors import ErrorLog, ErrorModel
from ..population import SHARER
from ..records import (
    World,
    expand_members,
    household_members,
    person_columns,
    ref_strings,
    unit_draw,
)
from ..util import NO_DAY, day_number, day_to_date, month_label, years_between
from .base import Output, Segments, occupancy_segments

COUNCIL_TAX_BEGAN = day_number(date(1993, 4, 1))

# Band D annual charge by borough (approximate 2025/26, £); bands are ninths of band D.
BAND_D = {"lambeth": 1900.0, "lewisham": 2050.0, "southwark": 1800.0, "wandsworth": 1050.0}
BAND_RATIO = np.array([6, 7, 8, 9, 11, 13, 15, 18]) / 9.0
STAGES = ("Reminder", "Final notice", "Summons", "Liability order", "Enforcement agent")
PAYMENT = ("Direct Debit", "Cash", "Card", "Standing Order")


def _joint_person(world: World, hh: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The partner, or for sharers the second adult, alive on ``day`` (-1 if none)."""
    people = world.people
    partner = world.households.partner[hh]
    first = world.households.first_member[hh]
    second = first + 1
    valid_second = (second < people.size) & (
        people.household[np.minimum(second, people.size - 1)] == hh
    )
    second = np.where(valid_second, second, -1)
    is_sharer = (second >= 0) & (people.role[np.maximum(second, 0)] == SHARER)
    joint = np.where(partner >= 0, partner, np.where(is_sharer, second, -1))
    alive = (joint >= 0) & (people.dod[np.maximum(joint, 0)] > day)
    return np.where(alive, joint, -1)


def adults_at(world: World, hh: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Adults (18+, alive, not students) in each household on ``day``."""
    people = world.people
    offsets, members = household_members(people)
    row, person = expand_members(offsets, members, hh)
    d = day[row]
    age = years_between(people.dob[person], d)
    counts = (
        (age >= 18)
        & (people.dod[person] > d)
        & (people.dob[person] <= d)
        & ~(people.student[person] & (age < 24))
    )
    return np.bincount(row, weights=counts, minlength=hh.size).astype(np.int64)


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    gaz = world.gazetteer
    seg = occupancy_segments(world)
    active = seg.end > tl.start
    seg = Segments(
        seg.household[active],
        seg.address[active],
        seg.start[active],
        seg.end[active],
        seg.index[active],
    )
    borough = gaz.borough[seg.address]
    asof = np.minimum(seg.end.astype(np.int64), tl.end - 1).astype(np.int32)
    first_day = np.maximum(seg.start, tl.start).astype(np.int32)
    adults_start = adults_at(world, seg.household, first_day)
    adults_end = adults_at(world, seg.household, asof)
    spd = (adults_start <= 1) | tl.spd_fraud[seg.household]
    lead = world.households.first_member[seg.household]
    joint = _joint_person(world, seg.household, asof)
    ctr = tl.ctr_claim_at(seg.household, asof)
    band = gaz.band[seg.address]
    charge = (
        np.array([BAND_D.get(config.boroughs[b].code, 1600.0) for b in borough])
        * (BAND_RATIO[band])
        * np.where(spd, 0.75, 1.0)
    )

    # arrears episodes: start month and length; low-income households more often
    months = config.months
    u = unit_draw(world, seg.index, "ct-arrears")
    low = tl.ctr_need_at(seg.household, first_day)
    p = np.minimum(
        0.95,
        config.ct_arrears_rate * months / config.ct_arrears_mean_months * np.where(low, 1.6, 0.8),
    )
    has = u < p
    ep_start = (unit_draw(world, seg.index, "ct-arrears-start") * months).astype(np.int64)
    ep_len = 1 + np.floor(
        -np.log1p(-unit_draw(world, seg.index, "ct-arrears-len") * 0.999)
        * config.ct_arrears_mean_months
    ).astype(np.int64)
    month_days = tl.months

    truth_rows = []
    for b, spec in enumerate(config.boroughs):
        sel = np.flatnonzero(borough == b)
        layout = out.layout("council-tax-accounts", spec.code)
        model = ErrorModel(config, "revenues", spec.code)
        log = ErrorLog()
        cols = person_columns(
            world,
            model,
            lead[sel],
            asof[sel],
            log,
            want=frozenset({"address"}),
            address=seg.address[sel],
        )
        j = joint[sel]
        joint_log = ErrorLog()
        cols.update(
            person_columns(world, model, np.maximum(j, 0), asof[sel], joint_log, prefix="joint_")
        )
        log.merge(joint_log, j >= 0)
        cols["joint_present"] = j >= 0
        ref_num = world.local_id(seg.index[sel], f"ctax:{spec.code}", 8)
        refs = ref_strings("", ref_num, 8)
        cols["account_ref"] = refs
        cols["property_ref"] = ref_strings(
            "P", world.local_id(seg.address[sel], f"ctprop:{spec.code}", 7), 7
        )
        cols["band"] = pa.array(np.array(list("ABCDEFGH"))[band[sel]])
        # council tax began on 1993-04-01: longer-standing households are liable from then
        cols["liability_start"] = np.maximum(seg.start[sel], COUNCIL_TAX_BEGAN)
        cols["liability_end"] = np.where(seg.end[sel] >= tl.end, NO_DAY, seg.end[sel] - 1)
        cols["spd"] = spd[sel]
        cols["ctr"] = ctr[sel]
        last_month = np.searchsorted(month_days, asof[sel], side="right") - 1
        in_arrears_now = (
            has[sel]
            & (ep_start[sel] <= last_month)
            & (last_month < ep_start[sel] + ep_len[sel])
            & (seg.end[sel] >= tl.end)
        )
        owed = np.minimum(last_month - ep_start[sel] + 1, ep_len[sel])
        cols["balance"] = np.where(in_arrears_now, charge[sel] / 12 * owed, 0.0).round(2)
        pay = (unit_draw(world, seg.index[sel], "ct-pay") * 10).astype(np.int64)
        cols["payment_method"] = pa.array(
            np.array(PAYMENT)[np.select([pay < 6, pay < 8, pay < 9], [0, 1, 2], 3)]
        )
        out.emit(layout, "council-tax-accounts", None, cols, refs, lead[sel], joint=j, log=log)
        truth_rows.append((sel, refs))

        # monthly arrears lists
        arr_layout = out.layout("council-tax-arrears", spec.code)
        for m in range(months):
            day_end = int(month_days[m + 1]) - 1
            live = (seg.start[sel] <= day_end) & (seg.end[sel] > day_end)
            on = live & has[sel] & (ep_start[sel] <= m) & (m < ep_start[sel] + ep_len[sel])
            rows = sel[on]
            mlog = ErrorLog()
            mcols = person_columns(
                world,
                model,
                lead[rows],
                day_end,
                mlog,
                want=frozenset({"address"}),
                address=seg.address[rows],
            )
            mrefs = ref_strings("", world.local_id(seg.index[rows], f"ctax:{spec.code}", 8), 8)
            n_months = m - ep_start[rows] + 1
            mcols["account_ref"] = mrefs
            mcols["balance"] = (charge[rows] / 12 * n_months).round(2)
            mcols["months_in_arrears"] = pa.array(n_months)
            mcols["recovery_stage"] = pa.array(np.array(STAGES)[np.minimum(n_months - 1, 4)])
            period = month_label(day_to_date(int(month_days[m])))
            mcols["period"] = pa.array(np.full(rows.size, period, dtype=object), pa.string())
            out.emit(
                arr_layout,
                f"council-tax-arrears-{period}",
                period,
                mcols,
                mrefs,
                lead[rows],
                log=mlog,
            )

    def stack(values: list[np.ndarray]) -> pa.Array:
        return pa.array(np.concatenate(values))

    out.truth.table(
        "council_tax_accounts",
        pa.table(
            {
                "organisation": pa.array(
                    np.concatenate(
                        [
                            np.full(s.size, config.boroughs[b].code, dtype=object)
                            for b, (s, _) in enumerate(truth_rows)
                        ]
                    ),
                    pa.string(),
                ),
                "account_ref": pa.concat_arrays([r for _, r in truth_rows]),
                "household_id": stack([seg.household[s] for s, _ in truth_rows]),
                "uprn": stack([gaz.uprn[seg.address[s]] for s, _ in truth_rows]),
                "spd_claimed": stack([spd[s] for s, _ in truth_rows]),
                "spd_wrongly_claimed": stack(
                    [spd[s] & (adults_start[s] > 1) for s, _ in truth_rows]
                ),
                "adults_at_start": stack([adults_start[s] for s, _ in truth_rows]),
                "adults_at_end": stack([adults_end[s] for s, _ in truth_rows]),
            }
        ),
    )
