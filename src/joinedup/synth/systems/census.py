"""School census: one file per council per term (October, January, May), for the council's
schools, listing every pupil on roll with UPN, FSM flag and home address."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ErrorLog, ErrorModel
from ..records import World, person_columns, ref_strings
from ..schools import pupils_on
from ..util import add_months, day_number
from .base import Output

TERMS = {10: "Autumn", 1: "Spring", 5: "Summer"}


def census_days(world: World) -> list[tuple[int, str, str]]:
    """(day, term label, period YYYY-MM) of each census in the window: the third Thursday."""
    out = []
    start = world.config.start_date
    for m in range(world.config.months):
        first = add_months(start, m)
        if first.month not in TERMS:
            continue
        thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 14)
        out.append(
            (
                day_number(thursday),
                f"{TERMS[first.month]} {first.year}",
                f"{first.year:04d}-{first.month:02d}",
            )
        )
    return out


def export(world: World, out: Output) -> None:
    config = world.config
    schools = world.schools
    pupils = world.pupils
    for day, term, period in census_days(world):
        state = pupils_on(config, world.people, world.timeline, schools, pupils, day)
        for b, spec in enumerate(config.boroughs):
            sel = np.flatnonzero(state.on_roll & (schools.borough[state.school] == b))
            sel = sel[np.argsort(state.school[sel] * 10**8 + pupils.person[sel], kind="stable")]
            person = pupils.person[sel]
            layout = out.layout("school-census", spec.code)
            model = ErrorModel(config, "school-census", spec.code)
            log = ErrorLog()
            cols = person_columns(
                world, model, person, day, log, want=frozenset({"upn", "address"})
            )
            school = state.school[sel]
            ref = ref_strings("", world.local_id(person, f"pupil:{spec.code}", 7), 7)
            cols["pupil_ref"] = ref
            cols["school_urn"] = pa.array(schools.urn[school])
            cols["school_name"] = pc.take(pa.array(schools.names), pa.array(school))
            cols["la_number"] = pa.array(np.full(sel.size, spec.la_number, dtype=np.int64))
            cols["nc_year"] = pa.array(state.nc[sel].astype(np.int64))
            moved = day >= world.timeline.move_day[world.people.household[person]]
            switched = moved & (pupils.school_after[sel, 0] != pupils.school_before[sel, 0])
            entry = np.where(
                state.nc[sel] >= 7,
                np.maximum(pupils.entry_day[sel], _sept(state.nc[sel], day, 7)),
                pupils.entry_day[sel],
            )
            entry = np.where(
                switched,
                np.maximum(entry, world.timeline.move_day[world.people.household[person]]),
                entry,
            )
            cols["entry_date"] = entry.astype(np.int32)
            cols["fsm_eligible"] = state.registered[sel]
            cols["census_term"] = pa.array(np.full(sel.size, term, dtype=object), pa.string())
            cols["census_date"] = np.full(sel.size, day, dtype=np.int32)
            stem = f"school-census-{period}"
            out.emit(layout, stem, period, cols, ref, person, log=log)


def _sept(nc: np.ndarray, day: int, year: int) -> np.ndarray:
    """Day number of the September a pupil in ``nc`` started Year ``year`` (or Reception)."""
    d = date.fromordinal(day + date(1970, 1, 1).toordinal())
    academic = d.year if d.month >= 9 else d.year - 1
    years = academic - (nc - year)
    return (
        ((years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 8)
        .astype("datetime64[D]")
        .astype(np.int64)
    )
