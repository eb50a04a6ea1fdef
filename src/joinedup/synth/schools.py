"""Schools, pupils, UPNs and free school meals (eligibility, registration, the intervention).

* Each borough has primary schools (Reception to Year 6) and secondary schools (Years 7 to 13),
  numbered by population; each has a synthetic 6-digit URN (9xxxxx) and a 4-digit DfE
  establishment number.
* Brothers and sisters go to the same school. About ``cross_borough_school_rate`` of pupils go
  to a school in another borough of the region. A family that moves borough keeps its school
  with probability ``stay_at_school_after_move``.
* Some families use independent schools (not in the state census); some 16-18 year olds go to
  colleges rather than school sixth forms (not in the census either).
* A UPN is allocated when the child first enters a state school: check letter, the LA number of
  that school, its establishment number, the year of entry and a serial number.
* FSM registration: eligible children are registered unless their family under-claims (about
  1 in 10). From the intervention month, the intervention borough auto-enrols under-claiming
  children who live in the borough, go to one of its schools and whose family has a council tax
  reduction claim with it (the data a council actually holds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from .config import SynthConfig
from .geography import STREET_STEMS
from .ids import upn_check_letters
from .population import People
from .timeline import Timeline
from .util import day_to_date, group_rank, stream

PRIMARY, SECONDARY = 0, 1
SAINTS = (
    "Mary",
    "John",
    "Saviour",
    "Joseph",
    "Anne",
    "Luke",
    "George",
    "Thomas More",
    "Michael",
    "Francis",
    "Gabriel",
    "Jude",
    "Stephen",
    "Mark",
    "Matthew",
    "Paul",
)
SIXTH_FORM_STAY = 0.6  # share of Year 12-13 students in school sixth forms (not FE colleges)


@dataclass
class Schools:
    urn: npt.NDArray[np.int64]
    estab: npt.NDArray[np.int64]  # 4-digit DfE establishment number
    borough: npt.NDArray[np.int8]
    phase: npt.NDArray[np.int8]
    names: list[str]

    @property
    def size(self) -> int:
        return int(self.urn.size)

    def table(self, config: SynthConfig) -> pa.Table:
        la = np.array([b.la_number for b in config.boroughs])[self.borough]
        return pa.table(
            {
                "urn": pa.array(self.urn),
                "name": pa.array(self.names),
                "phase": pa.array(["primary" if p == PRIMARY else "secondary" for p in self.phase]),
                "la_number": pa.array(la),
                "establishment_number": pa.array(self.estab),
                "organisation": pa.array([config.boroughs[b].code for b in self.borough]),
            }
        )


@dataclass
class Pupils:
    """Children who are on a state school roll at some point in the window."""

    person: npt.NDArray[np.int64]
    cohort: npt.NDArray[np.int32]  # academic year (starting September) of birth
    school_before: npt.NDArray[np.int64]  # per phase: [n, 2] school index (-1 none)
    school_after: npt.NDArray[np.int64]  # after the household's move
    sixth_form: npt.NDArray[np.bool_]
    upn_digits: npt.NDArray[np.int64]
    upn_letter: npt.NDArray[np.int64]
    entry_day: npt.NDArray[np.int32]  # day the child joined their current school (approx.)

    @property
    def size(self) -> int:
        return int(self.person.size)


def build_schools(config: SynthConfig, people_per_borough: npt.NDArray[np.float64]) -> Schools:
    rng = stream(config.seed, "schools")
    urn: list[int] = []
    estab: list[int] = []
    borough: list[int] = []
    phase: list[int] = []
    names: list[str] = []
    for b, spec in enumerate(config.boroughs):
        pop = float(people_per_borough[b])
        n_primary = max(2, round(pop / config.residents_per_primary))
        n_secondary = max(1, round(pop / config.residents_per_secondary))
        for p, count in ((PRIMARY, n_primary), (SECONDARY, n_secondary)):
            for i in range(count):
                borough.append(b)
                phase.append(p)
                estab.append((2000 if p == PRIMARY else 4000) + i + 1)
                area = spec.areas[i % len(spec.areas)]
                stem = STREET_STEMS[int(rng.integers(0, len(STREET_STEMS)))]
                style = int(rng.integers(0, 4))
                if p == PRIMARY:
                    name = (
                        f"{stem} Primary School",
                        f"St {SAINTS[i % len(SAINTS)]}'s C of E Primary School",
                        f"{area} Primary Academy",
                        f"{stem} Infant and Junior School",
                    )[style]
                else:
                    name = (
                        f"{area} Academy",
                        f"{stem} School",
                        f"St {SAINTS[i % len(SAINTS)]}'s Catholic College",
                        f"{area} High School",
                    )[style]
                names.append(name)
    n = len(names)
    urn_values = 900000 + rng.permutation(99999)[:n] + 1
    urn = [int(x) for x in urn_values]
    return Schools(
        urn=np.array(urn, dtype=np.int64),
        estab=np.array(estab, dtype=np.int64),
        borough=np.array(borough, dtype=np.int8),
        phase=np.array(phase, dtype=np.int8),
        names=names,
    )


def cohort_of(dob: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Academic year of birth: born 1 Sep Y .. 31 Aug Y+1 -> Y (Reception starts Sep Y+5)."""
    dates = dob.astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (dates.astype("datetime64[M]").astype(np.int64) % 12) + 1
    return (year - (month < 9)).astype(np.int32)


def nc_year(cohort: npt.NDArray[np.int32], day: int) -> npt.NDArray[np.int32]:
    """National Curriculum year on ``day`` (Reception = 0)."""
    d = day_to_date(day)
    academic_year = d.year if d.month >= 9 else d.year - 1
    return (academic_year - cohort - 5).astype(np.int32)


def _pick_school(
    rng: np.random.Generator,
    schools: Schools,
    borough: npt.NDArray[np.int8],
    phase: int,
    config: SynthConfig,
    cross_rate: float,
) -> npt.NDArray[np.int64]:
    nb = len(config.boroughs)
    weights = np.array([b.population_weight for b in config.boroughs], dtype=np.float64)
    target = borough.astype(np.int64).copy()
    cross = rng.random(borough.size) < cross_rate
    for b in range(nb):
        sel = np.flatnonzero(cross & (borough == b))
        w = weights.copy()
        w[b] = 0.0
        target[sel] = rng.choice(nb, size=sel.size, p=w / w.sum())
    out = np.empty(borough.size, dtype=np.int64)
    for b in range(nb):
        pool = np.flatnonzero((schools.borough == b) & (schools.phase == phase))
        sel = np.flatnonzero(target == b)
        out[sel] = pool[rng.integers(0, pool.size, sel.size)]
    return out


def assign_pupils(
    config: SynthConfig, people: People, timeline: Timeline, schools: Schools
) -> Pupils:
    rng = stream(config.seed, "pupils")
    cohort_all = cohort_of(people.dob)
    first_nc = nc_year(cohort_all, timeline.start)
    last_nc = nc_year(cohort_all, timeline.end - 1)
    candidate = (last_nc >= 0) & (first_nc <= 13)
    person = np.flatnonzero(candidate)
    hh = people.household[person]
    n_h = int(people.household.max()) + 1
    independent_hh = stream(config.seed, "independent").random(n_h) < config.independent_school_rate
    person = person[~independent_hh[hh]]
    hh = people.household[person]
    cohort = cohort_all[person]
    # household-level choices so siblings share schools
    hh_borough0 = timeline.borough_of_address[timeline.address0]
    hh_borough1 = timeline.borough_of_address[timeline.address1]
    school_before = np.empty((person.size, 2), dtype=np.int64)
    school_after = np.empty((person.size, 2), dtype=np.int64)
    switch = (hh_borough0 != hh_borough1) & (rng.random(n_h) >= config.stay_at_school_after_move)
    for phase in (PRIMARY, SECONDARY):
        before = _pick_school(
            rng, schools, hh_borough0, phase, config, config.cross_borough_school_rate
        )
        after = _pick_school(
            rng, schools, hh_borough1, phase, config, config.cross_borough_school_rate / 3
        )
        after = np.where(switch, after, before)
        school_before[:, phase] = before[hh]
        school_after[:, phase] = after[hh]
    sixth_form = rng.random(person.size) < SIXTH_FORM_STAY

    # UPN: LA number of the first school + establishment + year of entry + serial
    entry_year = cohort + 5
    first_phase = np.where(nc_year(cohort, timeline.start) >= 7, SECONDARY, PRIMARY)
    first_school = school_before[np.arange(person.size), first_phase]
    la = np.array([b.la_number for b in config.boroughs], dtype=np.int64)[
        schools.borough[first_school]
    ]
    key = first_school * 10000 + entry_year
    order = np.lexsort((person, key))
    serial = np.empty(person.size, dtype=np.int64)
    serial[order] = group_rank(key[order])
    digits = (
        la * 10**9
        + schools.estab[first_school] * 10**5
        + (entry_year % 100) * 10**3
        + serial % 1000
    )
    letter = upn_check_letters(digits)
    # entry to the current school: September of Reception or of Year 7 (or an in-year move)
    entry_nc = np.where(first_phase == SECONDARY, 7, 0)
    entry_day = _september_days(cohort.astype(np.int64) + 5 + entry_nc)
    return Pupils(
        person=person,
        cohort=cohort,
        school_before=school_before,
        school_after=school_after,
        sixth_form=sixth_form,
        upn_digits=digits,
        upn_letter=letter,
        entry_day=entry_day,
    )


def _september_days(years: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
    y = (years - 1970).astype("datetime64[Y]")
    return (y.astype("datetime64[M]") + 8).astype("datetime64[D]").astype(np.int64).astype(np.int32)


@dataclass
class PupilMonth:
    """Who is on roll on a given day, where, and their FSM status."""

    on_roll: npt.NDArray[np.bool_]
    school: npt.NDArray[np.int64]
    nc: npt.NDArray[np.int32]
    home_borough: npt.NDArray[np.int8]
    eligible: npt.NDArray[np.bool_]
    registered: npt.NDArray[np.bool_]
    auto_enrolled: npt.NDArray[np.bool_]
    rule: str


def pupils_on(
    config: SynthConfig,
    people: People,
    timeline: Timeline,
    schools: Schools,
    pupils: Pupils,
    day: int,
) -> PupilMonth:
    """The state of every pupil on ``day`` (vectorised)."""
    person = pupils.person
    hh = people.household[person]
    nc = nc_year(pupils.cohort, day)
    alive = (people.dob[person] <= day) & (day < people.dod[person])
    in_school = (nc >= 0) & ((nc <= 11) | ((nc <= 13) & pupils.sixth_form))
    on_roll = alive & in_school
    phase = np.where(nc >= 7, SECONDARY, PRIMARY)
    moved = day >= timeline.move_day[hh]
    idx = np.arange(person.size)
    school = np.where(moved, pupils.school_after[idx, phase], pupils.school_before[idx, phase])
    home = timeline.borough_at(hh, day)
    eligible = on_roll & timeline.fsm_eligible_at(hh, day)
    auto = np.zeros(person.size, dtype=np.bool_)
    month_day = day_to_date(day)
    if config.intervention_borough is not None:
        target = config.borough_codes().index(config.intervention_borough)
        iy, im = (int(x) for x in config.intervention_month.split("-"))
        if (month_day.year, month_day.month) >= (iy, im):
            reach = home == target
            if not config.intervention_reaches_other_boroughs_schools:
                reach &= schools.borough[school] == target
            auto = eligible & timeline.fsm_underclaim[hh] & reach & timeline.ctr_claim_at(hh, day)
    registered = eligible & (~timeline.fsm_underclaim[hh] | auto)
    return PupilMonth(
        on_roll=on_roll,
        school=school,
        nc=nc,
        home_borough=home,
        eligible=eligible,
        registered=registered,
        auto_enrolled=auto,
        rule=timeline.rule_at(day).version,
    )
