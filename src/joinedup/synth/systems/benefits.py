"""Housing benefit and council tax reduction claims (the benefits system).

A claim runs while the household needs and claims support and lives in the council's area. It
is reassessed when income changes, when the household moves within the borough, at each April
uprating and every ``claim_reassessment_months`` on benefit notifications, so a claim has
several assessments. The export has one row per person per
assessment: claimant, partner, dependant children and non-dependants, with the claimant's
weekly earned income and passport benefit (Universal Credit, legacy benefit, Pension Credit).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ErrorLog, ErrorModel
from ..population import CHILD, GRANDPARENT, HEAD, PARTNER
from ..records import (
    World,
    expand_members,
    household_members,
    person_columns,
    ref_strings,
    unit_draw,
)
from ..util import NO_DAY, add_months, day_number, years_between
from .base import Output

ROLE_LABELS = ("Claimant", "Partner", "Dependant", "Non-dependant")


def assessments(world: World) -> dict[str, np.ndarray]:
    """Claim assessments: household, start, end, claim number and assessment number."""
    tl = world.timeline
    start, end = tl.start, tl.end
    n_h = world.households.size
    aprils = []
    d = world.config.start_date
    for m in range(1, world.config.months):
        month = add_months(d, m)
        if month.month == 4:
            aprils.append(day_number(month))
    cols = [np.full(n_h, start), tl.change_day.astype(np.int64), tl.move_day.astype(np.int64)]
    cols += [np.full(n_h, a) for a in aprils]
    # periodic reassessment on benefit notifications, each household on its own cycle
    every = max(1, world.config.claim_reassessment_months)
    phase = (unit_draw(world, np.arange(n_h), "reassess-phase") * every).astype(np.int64)
    for m in range(1, world.config.months):
        cols.append(np.where((m + phase) % every == 0, tl.months[m], end).astype(np.int64))
    cols.append(np.full(n_h, end))
    points = np.stack(cols, axis=1).astype(np.int64)
    points = np.where((points < start) | (points > end), end, points)
    points.sort(axis=1)
    s = points[:, :-1].ravel()
    e = points[:, 1:].ravel()
    hh = np.repeat(np.arange(n_h, dtype=np.int64), points.shape[1] - 1)
    keep = e > s
    s, e, hh = s[keep], e[keep], hh[keep]
    claiming = tl.ctr_claim_at(hh, s)
    borough = tl.borough_at(hh, s)
    s, e, hh, borough = s[claiming], e[claiming], hh[claiming], borough[claiming]
    continues = np.r_[
        False, (hh[1:] == hh[:-1]) & (borough[1:] == borough[:-1]) & (s[1:] == e[:-1])
    ]
    claim = np.cumsum(~continues) - 1
    first = np.flatnonzero(~continues)
    assess_no = np.arange(s.size) - first[claim] + 1
    # claims that started before the window: a start date some years earlier
    pre = s[first] == start
    years_ago = -np.log1p(-unit_draw(world, claim[first] * 0 + hh[first], "claim-age") * 0.99)
    claim_start = np.where(
        pre,
        start - 1 - (years_ago * 900).astype(np.int64),
        s[first] + (unit_draw(world, hh[first], "claim-lag") * 21).astype(np.int64),
    )
    last = np.r_[first[1:] - 1, s.size - 1]
    claim_end = np.where(e[last] >= end, NO_DAY, e[last] - 1)
    # a claim that ends within its own start lag ends on its start day, never before it
    claim_end = np.where(claim_end == NO_DAY, NO_DAY, np.maximum(claim_end, claim_start))
    a_start = np.maximum(s, claim_start[claim])
    return {
        "household": hh,
        "start": s,
        "end": e,
        "assess_start": a_start,
        "claim": claim,
        "assess_no": assess_no,
        "borough": borough,
        "claim_start": claim_start[claim],
        "claim_end": claim_end[claim],
    }


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    people = world.people
    a = assessments(world)
    offsets, members = household_members(people)
    row, person = expand_members(offsets, members, a["household"])
    day = a["start"][row]
    age = years_between(people.dob[person], day)
    alive = (people.dob[person] <= day) & (people.dod[person] > day)
    role = people.role[person]
    is_sharer_hh = np.isin(world.households.kind[a["household"][row]], [4])
    member_role = np.select(
        [role == HEAD, role == PARTNER, (role == CHILD) & (age < 18)],
        [0, 1, 2],
        default=3,
    )
    keep = alive & ~(is_sharer_hh & (role != HEAD)) & ((role != GRANDPARENT) | (age >= 18))
    row, person, member_role = row[keep], person[keep], member_role[keep]
    order = np.lexsort((member_role, row))
    row, person, member_role = row[order], person[order], member_role[order]
    member_no = np.arange(row.size) - np.searchsorted(row, row, side="left") + 1
    dependants = np.bincount(row, weights=member_role == 2, minlength=a["start"].size)
    size = np.bincount(row, minlength=a["start"].size)
    hh = a["household"][row]
    s = a["start"][row]
    uc = tl.uc_at(hh, s)
    legacy = tl.legacy_at(hh, s)
    pension = tl.pension_credit[hh]
    passport = np.select([uc, legacy, pension], [0, 1, 2], default=3)
    renting = tl.renting[hh]
    btype = np.where(renting & (legacy | pension), "HB/CTR", "CTR")
    income = np.where(member_role == 0, tl.income_at(hh, s) / 52.0, np.nan)

    for b, spec in enumerate(config.boroughs):
        sel = np.flatnonzero(a["borough"][row] == b)
        layout = out.layout("benefit-claims", spec.code)
        model = ErrorModel(config, "benefits", spec.code)
        log = ErrorLog()
        asof = a["assess_start"][row[sel]].astype(np.int32)
        cols = person_columns(
            world, model, person[sel], asof, log, want=frozenset({"ni_number", "address"})
        )
        claim_ref = ref_strings(
            "HB", world.local_id(a["claim"][row[sel]], f"claim:{spec.code}", 7), 7
        )
        assess = pc.utf8_lpad(pc.cast(pa.array(a["assess_no"][row[sel]]), pa.string()), 2, "0")
        mem = pc.utf8_lpad(pc.cast(pa.array(member_no[sel]), pa.string()), 2, "0")
        member_ref = pc.binary_join_element_wise(claim_ref, assess, mem, "/")
        cols["member_ref"] = member_ref
        cols["claim_ref"] = claim_ref
        cols["member_role"] = pa.array(np.array(ROLE_LABELS)[member_role[sel]])
        cols["claim_start"] = a["claim_start"][row[sel]].astype(np.int32)
        cols["claim_end"] = a["claim_end"][row[sel]].astype(np.int32)
        cols["assessment_start"] = asof
        ae = a["end"][row[sel]]
        cols["assessment_end"] = np.where(ae >= tl.end, NO_DAY, ae - 1).astype(np.int32)
        cols["benefit_type"] = pa.array(btype[sel])
        cols["passport_benefit"] = pa.array(
            np.array(["Universal Credit", "Legacy benefit", "Pension Credit", "None"])[
                passport[sel]
            ]
        )
        cols["weekly_earned_income"] = np.round(income[sel], 2)
        cols["dependants"] = pa.array(dependants[row[sel]].astype(np.int64))
        cols["household_size"] = pa.array(size[row[sel]].astype(np.int64))
        out.emit(layout, "benefit-claims", None, cols, member_ref, person[sel], log=log)
