"""Social housing (the housing system): tenancies of council and housing association homes,
with lead and joint tenant, and a monthly list of tenancies in rent arrears."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import ErrorLog, ErrorModel
from ..geography import SOCIAL_RENT
from ..records import World, person_columns, ref_strings, unit_draw
from ..util import NO_DAY, day_to_date, month_label
from .base import Output, Segments, occupancy_segments
from .council_tax import _joint_person, adults_at

ACTIONS = (
    "Arrears letter 1",
    "Arrears letter 2",
    "Arrears letter 2",
    "Notice of seeking possession",
    "Notice of seeking possession",
    "Court action",
)


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    gaz = world.gazetteer
    seg = occupancy_segments(world)
    keep = (seg.end > tl.start) & (gaz.tenure[seg.address] == SOCIAL_RENT)
    seg = Segments(
        seg.household[keep], seg.address[keep], seg.start[keep], seg.end[keep], seg.index[keep]
    )
    borough = gaz.borough[seg.address]
    asof = np.minimum(seg.end.astype(np.int64), tl.end - 1).astype(np.int32)
    lead = world.households.first_member[seg.household]
    joint = _joint_person(world, seg.household, asof)
    size = adults_at(world, seg.household, asof) + tl.kids0[seg.household]
    bedrooms = np.clip(
        1 + tl.kids0[seg.household] // 2 + (unit_draw(world, seg.address, "beds") < 0.3), 1, 5
    )
    rent = 105.0 + 22.0 * bedrooms + np.round(unit_draw(world, seg.address, "rent") * 30, 2)
    tenancy_years = (seg.start.astype(np.int64) - tl.start) / 365.25
    ttype = np.where(tenancy_years > -1, "Introductory", "Secure")
    ttype = np.where(unit_draw(world, seg.index, "flexible") < 0.08, "Flexible", ttype)
    months = config.months
    p = np.minimum(0.95, config.rent_arrears_rate * months / config.rent_arrears_mean_months)
    has = unit_draw(world, seg.index, "rent-arrears") < p
    ep_start = (unit_draw(world, seg.index, "rent-arrears-start") * months).astype(np.int64)
    ep_len = 1 + np.floor(
        -np.log1p(-unit_draw(world, seg.index, "rent-arrears-len") * 0.999)
        * config.rent_arrears_mean_months
    ).astype(np.int64)

    for b, spec in enumerate(config.boroughs):
        sel = np.flatnonzero(borough == b)
        layout = out.layout("tenancies", spec.code)
        model = ErrorModel(config, "housing", spec.code)
        log = ErrorLog()
        cols = person_columns(
            world,
            model,
            lead[sel],
            asof[sel],
            log,
            want=frozenset({"ni_number", "address"}),
            address=seg.address[sel],
        )
        j = joint[sel]
        joint_log = ErrorLog()
        cols.update(
            person_columns(world, model, np.maximum(j, 0), asof[sel], joint_log, prefix="joint_")
        )
        log.merge(joint_log, j >= 0)
        cols["joint_present"] = j >= 0
        refs = ref_strings("T", world.local_id(seg.index[sel], f"tenancy:{spec.code}", 7), 7)
        cols["tenancy_ref"] = refs
        cols["property_ref"] = ref_strings(
            "", world.local_id(seg.address[sel], f"hprop:{spec.code}", 6), 6
        )
        cols["tenancy_start"] = seg.start[sel]
        cols["tenancy_end"] = np.where(seg.end[sel] >= tl.end, NO_DAY, seg.end[sel] - 1)
        cols["tenancy_type"] = pa.array(ttype[sel])
        cols["weekly_rent"] = rent[sel]
        cols["bedrooms"] = pa.array(bedrooms[sel].astype(np.int64))
        cols["household_size"] = pa.array(size[sel].astype(np.int64))
        out.emit(layout, "tenancies", None, cols, refs, lead[sel], joint=j, log=log)

        arr_layout = out.layout("rent-arrears", spec.code)
        for m in range(months):
            day_end = int(tl.months[m + 1]) - 1
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
            mrefs = ref_strings("T", world.local_id(seg.index[rows], f"tenancy:{spec.code}", 7), 7)
            n_months = m - ep_start[rows] + 1
            weeks = n_months * 4 + (unit_draw(world, seg.index[rows], "weeks") * 3).astype(np.int64)
            mcols["tenancy_ref"] = mrefs
            mcols["arrears"] = np.round(rent[rows] * weeks * 0.6, 2)
            mcols["weeks_in_arrears"] = pa.array(weeks.astype(np.int64))
            mcols["action_stage"] = pa.array(np.array(ACTIONS)[np.minimum(n_months - 1, 5)])
            period = month_label(day_to_date(int(tl.months[m])))
            mcols["period"] = pa.array(np.full(rows.size, period, dtype=object), pa.string())
            out.emit(
                arr_layout, f"rent-arrears-{period}", period, mcols, mrefs, lead[rows], log=mlog
            )
