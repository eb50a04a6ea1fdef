"""Children's social care: children in need (CIN) episodes and child protection (CP) plans,
one row per episode, with the UPN and NHS number where the service recorded them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ErrorLog, ErrorModel
from ..records import World, person_columns, ref_strings, unit_draw
from ..util import NO_DAY, years_between
from .base import Output

CATEGORIES = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9")
CATEGORY_WEIGHTS = np.array([0.55, 0.08, 0.04, 0.12, 0.10, 0.02, 0.01, 0.04, 0.04])


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    people = world.people
    pid = np.arange(people.size, dtype=np.int64)
    age_end = years_between(people.dob, tl.end - 1)
    age_start = years_between(people.dob, tl.start)
    child = (age_start < 18) & (age_end >= 0)
    low = tl.ctr_need_at(people.household, tl.start)
    p = config.cin_rate * np.where(low, 2.0, 0.6)
    person = np.flatnonzero(child & (unit_draw(world, pid, "cin") < p))
    u = unit_draw(world, person, "cin-start")
    referral = (tl.start - 200 + u * (tl.end - tl.start + 200)).astype(np.int64)
    referral = np.maximum(referral, people.dob[person].astype(np.int64) + 1)
    ok = (referral < tl.end) & (referral < people.dod[person])
    person, referral = person[ok], referral[ok]
    cin_start = referral + (unit_draw(world, person, "cin-lag") * 20).astype(np.int64)
    cin_end = cin_start + 30 + (unit_draw(world, person, "cin-len") * 570).astype(np.int64)
    cp = unit_draw(world, person, "cp") < config.cp_share_of_cin
    cp_start = np.where(
        cp, cin_start + 10 + (unit_draw(world, person, "cp-lag") * 50).astype(np.int64), NO_DAY
    )
    cp_end = np.where(
        cp, cp_start + 90 + (unit_draw(world, person, "cp-len") * 400).astype(np.int64), NO_DAY
    )
    cin_end = np.where(cp, np.maximum(cin_end, cp_end), cin_end)
    still_open = cin_end >= tl.end
    cin_end = np.where(still_open, NO_DAY, cin_end)
    cp_end = np.where(cp_end >= tl.end, NO_DAY, cp_end)
    cp_start = np.where(cp_start >= tl.end, NO_DAY, cp_start)
    anchor = np.maximum(referral, tl.start)
    asof = np.minimum(np.where(cin_end == NO_DAY, tl.end - 1, cin_end), tl.end - 1).astype(np.int32)
    borough = tl.borough_at(people.household[person], anchor)
    category = np.minimum(
        np.searchsorted(np.cumsum(CATEGORY_WEIGHTS), unit_draw(world, person, "cin-cat")), 8
    )
    for b, spec in enumerate(config.boroughs):
        sel = np.flatnonzero(borough == b)
        layout = out.layout("childrens-social-care-episodes", spec.code)
        model = ErrorModel(config, "childrens-social-care", spec.code)
        log = ErrorLog()
        cols = person_columns(
            world,
            model,
            person[sel],
            asof[sel],
            log,
            want=frozenset({"nhs_number", "upn", "address"}),
        )
        # the service records the NHS number for about 70% and the UPN for about 60% of children
        no_nhs = unit_draw(world, person[sel], "csc-nhs", spec.code) >= 0.7
        no_upn = unit_draw(world, person[sel], "csc-upn", spec.code) >= 0.6
        cols["nhs_number"] = _blank(cols["nhs_number"], no_nhs)
        cols["upn"] = _blank(cols["upn"], no_upn)
        episode = ref_strings("E", world.local_id(person[sel] * 3 + 1, f"cin:{spec.code}", 7), 7)
        cols["episode_id"] = episode
        cols["child_id"] = ref_strings("C", world.local_id(person[sel], f"child:{spec.code}", 6), 6)
        cols["referral_date"] = referral[sel].astype(np.int32)
        cols["cin_start"] = cin_start[sel].astype(np.int32)
        cols["cin_end"] = cin_end[sel].astype(np.int32)
        cols["cp_start"] = cp_start[sel].astype(np.int32)
        cols["cp_end"] = cp_end[sel].astype(np.int32)
        cols["category_of_need"] = pa.array(np.array(CATEGORIES)[category[sel]])
        out.emit(
            layout, "childrens-social-care-episodes", None, cols, episode, person[sel], log=log
        )


def _blank(values: object, mask: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), values)
