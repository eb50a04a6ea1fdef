"""Month-by-month change over the window: deaths, births, moves, income changes, benefits.

Each household has at most one move and at most one income change in the window (a simplifying
assumption, documented in docs/synthetic-data.md), so its state is piecewise constant with
known breakpoints and every question "what was true on day d" is a vectorised look-up.

Free school meals eligibility uses date-effective rule versions (``SynthConfig.fsm_rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .config import FsmRule, SynthConfig
from .geography import OWNER, PRIVATE_RENT, SOCIAL_RENT, Gazetteer
from .names import NameBank
from .population import CHILD, FEMALE, GRANDPARENT, HEAD, PARTNER, Households, People, SpareIds
from .util import NO_DAY, day_number, month_starts, stream, years_between

PENSION_AGE = 66
LEGACY_CTC_LIMIT = 16190.0  # Child Tax Credit without WTC: FSM income limit (uk-facts.md)


@dataclass
class Timeline:
    start: int  # first day of the window
    end: int  # first day after the window
    months: npt.NDArray[np.int32]  # first day of each month, plus ``end``
    move_day: npt.NDArray[np.int32]  # per household, NO_DAY if it does not move
    address1: npt.NDArray[np.int64]  # address after the move (= address0 if no move)
    change_day: npt.NDArray[np.int32]  # income change, NO_DAY if none
    income0: npt.NDArray[np.float64]  # annual net earned income before the change
    income1: npt.NDArray[np.float64]
    kids0: npt.NDArray[np.int64]  # children under 16 at the start
    adults0: npt.NDArray[np.int64]
    working_age: npt.NDArray[np.bool_]
    renting: npt.NDArray[np.bool_]
    benefit_draw: npt.NDArray[np.float64]  # take-up draw for UC / legacy benefits
    legacy: npt.NDArray[np.bool_]  # on legacy benefits rather than Universal Credit
    asylum: npt.NDArray[np.bool_]
    pension_credit: npt.NDArray[np.bool_]
    ctr_claimant: npt.NDArray[np.bool_]  # claims council tax reduction when eligible
    fsm_underclaim: npt.NDArray[np.bool_]  # never registers for FSM unless auto-enrolled
    spd_fraud: npt.NDArray[np.bool_]  # claims single person discount wrongly
    address0: npt.NDArray[np.int64]
    borough_of_address: npt.NDArray[np.int8]
    uc_takeup: float
    fsm_rules: tuple[FsmRule, ...]

    # --- state on a day, vectorised over households ---
    def address_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.int64]:
        return np.where(np.asarray(day) >= self.move_day[hh], self.address1[hh], self.address0[hh])

    def borough_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.int8]:
        return self.borough_of_address[self.address_at(hh, day)]

    def income_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.where(np.asarray(day) >= self.change_day[hh], self.income1[hh], self.income0[hh])

    def benefit_need_at(
        self, hh: npt.NDArray[np.int64], day: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        income = self.income_at(hh, day)
        # a simplified Universal Credit means test: earnings below a needs-based threshold
        threshold = 4500.0 + 4000.0 * self.kids0[hh] + np.where(self.renting[hh], 2500.0, 0.0)
        threshold += 1500.0 * np.maximum(self.adults0[hh] - 1, 0)
        return self.working_age[hh] & (income < threshold) & ~self.asylum[hh]

    def uc_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        claims = self.benefit_draw[hh] < self.uc_takeup
        return self.benefit_need_at(hh, day) & claims & ~self.legacy[hh]

    def legacy_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        claims = self.benefit_draw[hh] < self.uc_takeup
        return self.benefit_need_at(hh, day) & claims & self.legacy[hh]

    def ctr_need_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        income = self.income_at(hh, day)
        low = income < 6000.0 + 3000.0 * self.kids0[hh]
        return (
            self.uc_at(hh, day)
            | self.legacy_at(hh, day)
            | self.pension_credit[hh]
            | (low & ~self.asylum[hh])
        )

    def ctr_claim_at(self, hh: npt.NDArray[np.int64], day: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        return self.ctr_need_at(hh, day) & self.ctr_claimant[hh]

    def rule_at(self, day: int) -> FsmRule:
        active = self.fsm_rules[0]
        for rule in self.fsm_rules:
            if day_number(rule.effective_from) <= day:
                active = rule
        return active

    def fsm_eligible_at(self, hh: npt.NDArray[np.int64], day: int) -> npt.NDArray[np.bool_]:
        """Benefits-related FSM eligibility of a household's children on ``day``."""
        rule = self.rule_at(day)
        uc = self.uc_at(hh, day)
        if rule.uc_income_threshold is not None:
            uc &= self.income_at(hh, day) <= rule.uc_income_threshold
        legacy = self.legacy_at(hh, day) & (self.income_at(hh, day) <= LEGACY_CTC_LIMIT)
        return uc | legacy | self.asylum[hh]


def _age(people: People, day: int) -> npt.NDArray[np.int32]:
    return years_between(people.dob, day)


def apply_deaths(config: SynthConfig, people: People, start: int, end: int) -> None:
    rng = stream(config.seed, "deaths")
    years = (end - start) / 365.25
    age = _age(people, start).astype(np.float64)
    q = np.minimum(0.6, np.exp(config.mortality_a + config.mortality_b * age))
    dies = rng.random(people.size) < 1.0 - (1.0 - q) ** years
    day = rng.integers(start, end, people.size).astype(np.int32)
    people.dod[:] = np.where(dies, day, NO_DAY)


def add_births(
    config: SynthConfig, bank: NameBank, people: People, spare: SpareIds, start: int, end: int
) -> People:
    """Babies born to women in family households; twins at half the sibling twin rate."""
    rng = stream(config.seed, "births")
    years = (end - start) / 365.25
    age = _age(people, start)
    mothers_mask = (
        (people.sex == FEMALE) & np.isin(people.role, [HEAD, PARTNER]) & (age >= 18) & (age <= 44)
    )
    shape = np.where(age < 25, 0.6, np.where(age < 37, 1.3, 0.45))
    p = 1.0 - (1.0 - config.fertility_rate * shape) ** years
    mothers = np.flatnonzero(mothers_mask & (rng.random(people.size) < p))
    day = rng.integers(start, end, mothers.size).astype(np.int32)
    alive = day < people.dod[mothers]
    mothers, day = mothers[alive], day[alive]
    twins = rng.random(mothers.size) < config.twin_rate / 2
    mother = np.concatenate([mothers, mothers[twins]])
    born = np.concatenate([day, day[twins]])
    order = np.argsort(mother * 100000 + np.arange(mother.size) % 100000, kind="stable")
    mother, born = mother[order], born[order]
    n = mother.size
    first_id = people.size
    hh = people.household[mother]
    # the baby takes the family name of an existing child, else the head's family name
    child_rows = np.flatnonzero(people.role == CHILD)
    child_name = np.full(int(people.household.max()) + 1, -1, dtype=np.int64)
    child_name[people.household[child_rows]] = people.family[child_rows]
    head_name = np.full(child_name.size, -1, dtype=np.int64)
    heads = np.flatnonzero(people.role == HEAD)
    head_name[people.household[heads]] = people.family[heads]
    family = np.where(child_name[hh] >= 0, child_name[hh], head_name[hh]).astype(np.int32)
    sex = (rng.random(n) < 0.512).astype(np.int8)
    origin = people.origin[mother]
    given = bank.sample_given(rng, origin, sex)
    middle = np.where(
        rng.random(n) < config.middle_name_rate, bank.sample_given(rng, origin, sex), -1
    )
    middle = np.where(middle == given, -1, middle).astype(np.int32)
    twin_of = np.full(n, -1, dtype=np.int64)
    # (no births at all in a small region's short timeline: ``same`` must be empty too)
    same = np.r_[False, (mother[1:] == mother[:-1]) & (born[1:] == born[:-1])][:n]
    twin_of[same] = first_id + np.flatnonzero(same) - 1
    for _ in range(10):  # twins never share a given name
        redo = same & (given == np.r_[-1, given[:-1]])
        if not redo.any():
            break
        given[redo] = bank.sample_given(rng, origin[redo], sex[redo])
    if n > spare.nhs.size:
        raise RuntimeError("not enough spare identifiers for births")
    babies = People(
        household=hh,
        role=np.full(n, CHILD, dtype=np.int8),
        sex=sex,
        dob=born,
        dod=np.full(n, NO_DAY, dtype=np.int32),
        origin=origin,
        given=given,
        middle=middle,
        family=family,
        birth_family=family.copy(),
        nhs=spare.nhs[:n],
        ni_prefix=spare.ni_prefix[:n],
        ni_rest=spare.ni_rest[:n],
        twin_of=twin_of,
        junior_of=np.full(n, -1, dtype=np.int64),
        student=np.zeros(n, dtype=np.bool_),
        born_in_window=np.ones(n, dtype=np.bool_),
    )
    return people.extend(babies)


def plan_moves(
    config: SynthConfig, households: Households, gazetteer: Gazetteer, start: int, end: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """At most one move per household; destinations come from a vacancy chain per borough.

    Movers into a borough take, in date order, the spare (vacant) addresses first and then the
    addresses other movers have left, each only after it became free. A move that finds no free
    address is cancelled and the chain is rebuilt.
    """
    rng = stream(config.seed, "moves")
    n_h = households.size
    years = (end - start) / 365.25
    tenure = gazetteer.tenure[households.address0]
    rate = np.select(
        [tenure == OWNER, tenure == PRIVATE_RENT, tenure == SOCIAL_RENT],
        [config.move_rate_owner, config.move_rate_private_rent, config.move_rate_social_rent],
    )
    moves = rng.random(n_h) < 1.0 - (1.0 - rate) ** years
    move_day = np.where(moves, rng.integers(start + 1, end, n_h), NO_DAY).astype(np.int32)
    nb = len(config.boroughs)
    weights = np.array([b.population_weight for b in config.boroughs], dtype=np.float64)
    dest = households.borough0.astype(np.int64).copy()
    away = moves & (rng.random(n_h) >= config.move_within_borough_share)
    for b in range(nb):
        sel = np.flatnonzero(away & (households.borough0 == b))
        w = weights.copy()
        w[b] = 0.0
        dest[sel] = rng.choice(nb, size=sel.size, p=w / w.sum())
    vacant = np.flatnonzero(~gazetteer.occupied)
    vacant = vacant[rng.permutation(vacant.size)]
    address1 = households.address0.copy()
    for _ in range(20):
        movers = np.flatnonzero(move_day != NO_DAY)
        cancelled = np.zeros(0, dtype=np.int64)
        address1 = households.address0.copy()
        for b in range(nb):
            arrivals = movers[dest[movers] == b]
            arrivals = arrivals[np.argsort(move_day[arrivals], kind="stable")]
            spare = vacant[gazetteer.borough[vacant] == b]
            leavers = movers[gazetteer.borough[households.address0[movers]] == b]
            leavers = leavers[np.argsort(move_day[leavers], kind="stable")]
            supply = np.concatenate([spare, households.address0[leavers]])
            free_from = np.concatenate(
                [np.full(spare.size, start, dtype=np.int64), move_day[leavers].astype(np.int64)]
            )
            k = min(arrivals.size, supply.size)
            assigned = np.full(arrivals.size, -1, dtype=np.int64)
            in_time = free_from[:k] <= move_day[arrivals[:k]]
            assigned[:k] = np.where(in_time, supply[:k], -1)
            # nobody moves into the home they are leaving: swap with a neighbour in the queue
            own = np.flatnonzero(assigned == households.address0[arrivals])
            for i in own.tolist():
                j = i + 1 if i + 1 < arrivals.size and assigned[i + 1] >= 0 else i - 1
                if j >= 0 and assigned[j] >= 0 and j != i:
                    assigned[i], assigned[j] = assigned[j], assigned[i]
                else:
                    assigned[i] = -1
            ok = (assigned >= 0) & (assigned != households.address0[arrivals])
            address1[arrivals[ok]] = assigned[ok]
            cancelled = np.concatenate([cancelled, arrivals[~ok]])
        if cancelled.size == 0:
            break
        move_day[cancelled] = NO_DAY
    address1[move_day == NO_DAY] = households.address0[move_day == NO_DAY]
    return move_day, address1


def build_timeline(
    config: SynthConfig, people: People, households: Households, gazetteer: Gazetteer
) -> Timeline:
    rng = stream(config.seed, "income")
    start = day_number(config.start_date)
    months = month_starts(config.start_date, config.months)
    end = int(months[-1])
    n_h = households.size
    hh = people.household
    initial = ~people.born_in_window
    age = _age(people, start)
    adult = initial & (age >= 18)
    kid = initial & (age < 16)
    kids0 = np.bincount(hh[kid], minlength=n_h)
    adults0 = np.bincount(hh[adult], minlength=n_h)
    head_age = age[households.first_member]
    working_age = head_age < PENSION_AGE
    tenure = gazetteer.tenure[households.address0]
    renting = tenure != OWNER
    social = tenure == SOCIAL_RENT

    def draw_income() -> npt.NDArray[np.float64]:
        worker = adult & (age < PENSION_AGE) & ~people.student
        emp_rate = np.where(social[hh], config.employment_rate * 0.72, config.employment_rate)
        emp_rate = np.where(people.role == GRANDPARENT, 0.2, emp_rate)
        employed = worker & (rng.random(people.size) < emp_rate)
        log_mean = config.earnings_log_mean - np.where(social[hh], 0.35, 0.0)
        earnings = np.exp(log_mean + config.earnings_log_sd * rng.standard_normal(people.size))
        part_time = rng.random(people.size) < config.part_time_share
        earnings = np.where(part_time, earnings * 0.4, earnings)
        income = np.bincount(hh, weights=np.where(employed, earnings, 0.0), minlength=n_h)
        return income.astype(np.float64)

    income0 = draw_income()
    income1 = draw_income()
    changes = rng.random(n_h) < 1.0 - (1.0 - config.income_change_rate) ** config.months
    change_day = np.where(changes, rng.integers(start + 1, end, n_h), NO_DAY).astype(np.int32)
    benefit_draw = rng.random(n_h)
    legacy = rng.random(n_h) < config.legacy_share
    asylum = (kids0 > 0) & renting & (rng.random(n_h) < config.asylum_share)
    income0 = np.where(asylum, 0.0, income0)
    income1 = np.where(asylum, 0.0, income1)
    pension_credit = ~working_age & (rng.random(n_h) < 0.2)
    ctr_claimant = rng.random(n_h) < config.ctr_takeup
    fsm_underclaim = rng.random(n_h) < config.fsm_underclaim_rate
    spd_fraud = (adults0 > 1) & (rng.random(n_h) < config.spd_fraud_rate)

    move_day, address1 = plan_moves(config, households, gazetteer, start, end)
    return Timeline(
        start=start,
        end=end,
        months=months,
        move_day=move_day,
        address1=address1,
        change_day=change_day,
        income0=income0,
        income1=income1,
        kids0=kids0,
        adults0=adults0,
        working_age=working_age,
        renting=renting,
        benefit_draw=benefit_draw,
        legacy=legacy,
        asylum=asylum,
        pension_credit=pension_credit,
        ctr_claimant=ctr_claimant,
        fsm_underclaim=fsm_underclaim,
        spd_fraud=spd_fraud,
        address0=households.address0,
        borough_of_address=gazetteer.borough,
        uc_takeup=config.uc_takeup,
        fsm_rules=config.fsm_rules,
    )
