"""Food bank referrals (the regional voluntary-sector partner): vouchers issued by referral
agencies, typed up from paper by volunteers, exported from a web system as JSON."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..errors import ErrorLog, ErrorModel
from ..population import CHILD
from ..records import World, person_columns, ref_strings, unit_draw
from ..util import stream
from .base import Output

AGENCIES = (
    "Citizens Advice",
    "Jobcentre Plus",
    "School",
    "Health visitor",
    "Social worker",
    "Housing association",
    "GP surgery",
    "Council welfare team",
    "Children's centre",
)
REASONS = (
    "Benefit delays",
    "Benefit changes",
    "Low income",
    "Debt",
    "Sickness",
    "Domestic abuse",
    "Homeless",
    "Child holiday meals",
    "No recourse to public funds",
)


def export(world: World, out: Output) -> None:
    config = world.config
    tl = world.timeline
    people = world.people
    rng = stream(config.seed, "foodbank")
    n_h = world.households.size
    hh_all = np.arange(n_h, dtype=np.int64)
    low = tl.ctr_need_at(hh_all, tl.start) | tl.ctr_need_at(hh_all, tl.end - 1) | tl.asylum
    lam = np.where(low, config.foodbank_referrals_low_income, config.foodbank_referrals_other)
    count = rng.poisson(lam)
    hh = np.repeat(hh_all, count)
    day = rng.integers(tl.start, tl.end, hh.size)
    order = np.lexsort((hh, day))
    hh, day = hh[order], day[order]
    lead = world.households.first_member[hh]
    alive = people.dod[lead] > day
    hh, day, lead = hh[alive], day[alive], lead[alive]
    model = ErrorModel(config, "foodbank", "foodbank")
    log = ErrorLog()
    cols = person_columns(
        world, model, lead, day.astype(np.int32), log, want=frozenset({"address"})
    )
    kids = np.bincount(people.household[people.role == CHILD], minlength=n_h)[hh]
    adults = np.maximum(1, tl.adults0[hh])
    refs = ref_strings("FB", np.arange(hh.size, dtype=np.int64) + 100001, 7)
    cols["voucher_id"] = refs
    cols["referral_date"] = day.astype(np.int32)
    cols["adults"] = pa.array(adults.astype(np.int64))
    cols["children"] = pa.array(kids.astype(np.int64))
    agency = unit_draw(world, np.arange(hh.size), "fb-agency") * len(AGENCIES)
    cols["referral_agency"] = pa.array(np.array(AGENCIES)[np.minimum(agency.astype(int), 8)])
    reason = np.minimum((unit_draw(world, np.arange(hh.size), "fb-reason") * 9).astype(int), 8)
    cols["referral_reason"] = pa.array(np.array(REASONS)[reason])
    layout = out.layout("foodbank-referrals", "foodbank")
    out.emit(layout, "foodbank-referrals", None, cols, refs, lead, log=log)
