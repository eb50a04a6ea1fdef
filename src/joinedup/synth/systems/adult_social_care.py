"""Adult social care clients: people receiving long-term support, with NHS number, primary
support reason, service and dates (including date of death, which care systems record)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import ErrorLog, ErrorModel
from ..records import World, person_columns, ref_strings, unit_draw
from ..util import NO_DAY, years_between
from .base import Output

REASONS = (
    "Physical support: personal care",
    "Physical support: access and mobility only",
    "Memory and cognition support",
    "Learning disability support",
    "Mental health support",
    "Sensory support",
    "Social support: isolation",
)
REASONS_YOUNG = np.array([0.2, 0.08, 0.02, 0.35, 0.28, 0.04, 0.03])
REASONS_OLD = np.array([0.5, 0.15, 0.2, 0.02, 0.05, 0.05, 0.03])
SERVICES = (
    "Home care",
    "Residential care",
    "Nursing care",
    "Direct payment",
    "Day care",
    "Supported living",
    "Reablement",
)


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    people = world.people
    age = years_between(people.dob, tl.start)
    p = np.select(
        [age >= 80, age >= 65, age >= 18],
        [config.asc_rate_80_plus, config.asc_rate_65_79, config.asc_rate_18_64],
        0.0,
    )
    pid = np.arange(people.size, dtype=np.int64)
    client = (unit_draw(world, pid, "asc") < p) & ~people.born_in_window
    person = np.flatnonzero(client)
    u = unit_draw(world, person, "asc-start")
    window = tl.end - tl.start
    long_standing = u < 0.6
    start = np.where(
        long_standing,
        tl.start - 1 - (unit_draw(world, person, "asc-age") * 2500),
        tl.start + (u - 0.6) / 0.4 * window,
    ).astype(np.int64)
    dod = people.dod[person].astype(np.int64)
    ended = unit_draw(world, person, "asc-end") < 0.15
    end_day = start + 30 + (unit_draw(world, person, "asc-len") * 700).astype(np.int64)
    end = np.where(dod < tl.end, dod, np.where(ended & (end_day < tl.end), end_day, NO_DAY))
    alive_at_start = dod > np.maximum(start, tl.start)
    keep = alive_at_start & (start < tl.end)
    person, start, end = person[keep], start[keep], end[keep]
    anchor = np.maximum(start, tl.start)
    asof = np.minimum(np.where(end == NO_DAY, tl.end - 1, end), tl.end - 1).astype(np.int32)
    borough = tl.borough_at(people.household[person], anchor)
    old = years_between(people.dob[person], tl.start) >= 65
    r = unit_draw(world, person, "asc-reason")
    reason = np.where(
        old,
        np.searchsorted(np.cumsum(REASONS_OLD), r),
        np.searchsorted(np.cumsum(REASONS_YOUNG), r),
    )
    reason = np.minimum(reason, len(REASONS) - 1)
    service = np.minimum(
        (unit_draw(world, person, "asc-service") * len(SERVICES)).astype(int), len(SERVICES) - 1
    )
    for b, spec in enumerate(config.boroughs):
        sel = np.flatnonzero(borough == b)
        layout = out.layout("adult-social-care-clients", spec.code)
        model = ErrorModel(config, "adult-social-care", spec.code)
        log = ErrorLog()
        cols = person_columns(
            world, model, person[sel], asof[sel], log, want=frozenset({"nhs_number", "address"})
        )
        refs = ref_strings("", world.local_id(person[sel], f"asc:{spec.code}", 6), 6)
        cols["client_id"] = refs
        cols["support_reason"] = pa.array(np.array(REASONS)[reason[sel]])
        cols["service_type"] = pa.array(np.array(SERVICES)[service[sel]])
        cols["service_start"] = start[sel].astype(np.int32)
        cols["service_end"] = end[sel].astype(np.int32)
        died = people.dod[person[sel]]
        cols["date_of_death"] = np.where(died < tl.end, died, NO_DAY).astype(np.int32)
        out.emit(layout, "adult-social-care-clients", None, cols, refs, person[sel], log=log)
