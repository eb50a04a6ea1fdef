"""The electoral register, published each December: adults (and attainers about to turn 18)
who are eligible and registered, at the address they gave at the autumn canvass."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ErrorLog, ErrorModel
from ..records import World, person_columns, unit_draw
from ..util import NO_DAY, add_months, day_number, years_between
from .base import Output

CANVASS_LAG_DAYS = 60  # the register reflects the canvass, some weeks before publication


def publication_days(world: World) -> list[date]:
    out = []
    for m in range(world.config.months):
        d = add_months(world.config.start_date, m)
        if d.month == 12:
            out.append(d)
    return out


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    people = world.people
    pid = np.arange(people.size, dtype=np.int64)
    eligible = unit_draw(world, pid, "franchise") < config.elector_eligible_rate
    eu_only = unit_draw(world, pid, "eu") < 0.12
    postal = unit_draw(world, pid, "postal") < 0.22
    for published in publication_days(world):
        day = day_number(published)
        canvass = day - CANVASS_LAG_DAYS
        age = years_between(people.dob, day)
        alive = (people.dod > day) & (people.dob <= canvass)
        attainer = (age == 17) | (age == 16) & (years_between(people.dob, day + 365) >= 18)
        registered = unit_draw(world, pid, "registered", published.year) < (
            config.elector_registered_rate
        )
        on = alive & eligible & registered & ((age >= 18) | attainer)
        person = np.flatnonzero(on)
        hh = people.household[person]
        address = tl.address_at(hh, canvass)
        borough = tl.borough_of_address[address]
        for b, spec in enumerate(config.boroughs):
            sel = np.flatnonzero(borough == b)
            gaz = world.gazetteer
            # polling districts follow wards; electors numbered in address order
            ward = gaz.ward[address[sel]]
            order = np.lexsort((person[sel], address[sel], ward))
            sel = sel[order]
            ward = ward[order]
            first_ward = int(np.flatnonzero(gaz.ward_borough == b)[0])
            district_no = ward - first_ward
            pd_code = pc.binary_join_element_wise(
                pa.scalar(spec.code[:2].upper()),
                pc.utf8_lpad(pc.cast(pa.array(district_no + 1), pa.string()), 2, "0"),
                "",
            )
            starts = np.searchsorted(ward, ward, side="left")
            number = np.arange(sel.size) - starts + 1
            elector = pc.binary_join_element_wise(
                pd_code, pc.cast(pa.array(number), pa.string()), "-"
            )
            layout = out.layout("electoral-register", spec.code)
            model = ErrorModel(config, "electoral", spec.code)
            log = ErrorLog()
            cols = person_columns(
                world, model, person[sel], canvass, log, want=frozenset({"address"})
            )
            cols["elector_number"] = elector
            cols["polling_district"] = pd_code
            dob18 = people.dob[person[sel]].astype(np.int64) + np.round(18 * 365.25).astype(int)
            cols["attainment_date"] = np.where(attainer[person[sel]], dob18, NO_DAY).astype(
                np.int32
            )
            cols["franchise_marker"] = pa.array(np.where(eu_only[person[sel]], "G", ""))
            cols["postal_voter"] = postal[person[sel]]
            period = f"{published.year:04d}-{published.month:02d}"
            out.emit(
                layout, f"electoral-register-{period}", period, cols, elector, person[sel], log=log
            )
