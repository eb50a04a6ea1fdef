"""Households and the people in them, generated column-wise (one numpy array per attribute).

Household types: single adult, couple, couple with children, lone parent, sharers (unrelated
adults) and multigenerational (couple, children and a grandparent). Children's ages are spaced
by sibling gaps; twins share a date of birth and family name; some sons share their father's
given name (junior/senior pairs); partners may keep, take or hyphenate surnames, so birth
("maiden") and current family names differ. Each person has a synthetic NHS number and NI
number; pupils get UPNs from :mod:`joinedup.synth.schools`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from .config import SynthConfig
from .geography import Gazetteer
from .ids import nhs_numbers, ni_numbers
from .names import NameBank
from .util import NO_DAY, day_number, group_rank, stream

SINGLE, COUPLE, COUPLE_KIDS, LONE_PARENT, SHARERS, MULTIGEN = range(6)
HOUSEHOLD_TYPES = (
    "single",
    "couple",
    "couple with children",
    "lone parent",
    "sharers",
    "multigenerational",
)
HEAD, PARTNER, CHILD, SHARER, GRANDPARENT = range(5)
ROLES = ("head", "partner", "child", "sharer", "grandparent")
FEMALE, MALE = 0, 1

# (low, high, weight) age bands for adults living without children
SINGLE_AGE_BANDS = (
    (18, 25, 0.12),
    (25, 35, 0.28),
    (35, 50, 0.22),
    (50, 65, 0.18),
    (65, 80, 0.13),
    (80, 96, 0.07),
)
COUPLE_AGE_BANDS = ((20, 35, 0.35), (35, 50, 0.20), (50, 65, 0.22), (65, 80, 0.16), (80, 93, 0.07))
SHARER_AGE_BANDS = ((19, 26, 0.40), (26, 35, 0.45), (35, 55, 0.15))


@dataclass
class People:
    """One row per person ever present in the window (initial residents, then births)."""

    household: npt.NDArray[np.int64]
    role: npt.NDArray[np.int8]
    sex: npt.NDArray[np.int8]
    dob: npt.NDArray[np.int32]
    dod: npt.NDArray[np.int32]  # NO_DAY if alive at the end of the window
    origin: npt.NDArray[np.int8]
    given: npt.NDArray[np.int32]
    middle: npt.NDArray[np.int32]  # -1: none
    family: npt.NDArray[np.int32]  # current family name
    birth_family: npt.NDArray[np.int32]
    nhs: npt.NDArray[np.int64]
    ni_prefix: npt.NDArray[np.int32]
    ni_rest: npt.NDArray[np.int32]
    twin_of: npt.NDArray[np.int64]  # -1, or the person id of the elder twin
    junior_of: npt.NDArray[np.int64]  # -1, or the father's person id
    student: npt.NDArray[np.bool_]
    born_in_window: npt.NDArray[np.bool_]

    @property
    def size(self) -> int:
        return int(self.household.size)

    def extend(self, other: People) -> People:
        return People(
            **{
                f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                for f in fields(self)
            }
        )


@dataclass
class Households:
    kind: npt.NDArray[np.int8]
    origin: npt.NDArray[np.int8]
    borough0: npt.NDArray[np.int8]
    address0: npt.NDArray[np.int64]
    first_member: npt.NDArray[np.int64]  # person id of the head
    partner: npt.NDArray[np.int64]  # person id of the partner, or -1
    occupied_since: npt.NDArray[np.int32]  # day the household moved into address0

    @property
    def size(self) -> int:
        return int(self.kind.size)


@dataclass
class SpareIds:
    """Identifiers reserved for people born during the window."""

    nhs: npt.NDArray[np.int64]
    ni_prefix: npt.NDArray[np.int32]
    ni_rest: npt.NDArray[np.int32]


def _band_ages(
    rng: np.random.Generator, n: int, bands: tuple[tuple[int, int, float], ...]
) -> npt.NDArray[np.float64]:
    weights = np.array([b[2] for b in bands])
    pick = rng.choice(len(bands), size=n, p=weights / weights.sum())
    low = np.array([b[0] for b in bands])[pick]
    high = np.array([b[1] for b in bands])[pick]
    return low + rng.random(n) * (high - low)


def household_plan(
    config: SynthConfig,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Household types, sizes and number of children summing to exactly ``residents``."""
    rng = stream(config.seed, "households")
    n_target = config.residents
    estimate = int(n_target / 2.2) + 16
    tw = np.array(config.household_type_weights, dtype=np.float64)
    kind = rng.choice(6, size=estimate, p=tw / tw.sum()).astype(np.int8)
    kw = np.array(config.children_count_weights, dtype=np.float64)
    kids = rng.choice(len(kw), size=estimate, p=kw / kw.sum()) + 1
    sharers = rng.choice(4, size=estimate, p=[0.5, 0.3, 0.15, 0.05]) + 2
    size = np.select(
        [kind == SINGLE, kind == COUPLE, kind == COUPLE_KIDS, kind == LONE_PARENT, kind == SHARERS],
        [1, 2, 2 + kids, 1 + kids, sharers],
        default=3 + kids,
    )
    kids = np.where((kind == COUPLE_KIDS) | (kind == LONE_PARENT) | (kind == MULTIGEN), kids, 0)
    total = np.cumsum(size)
    h = int(np.searchsorted(total, n_target)) + 1
    kind, size, kids = kind[:h].copy(), size[:h].copy(), kids[:h].copy()
    before = int(total[h - 2]) if h > 1 else 0
    remaining = n_target - before
    # the last household takes exactly the residents left over
    kind[-1] = SINGLE if remaining == 1 else COUPLE if remaining == 2 else SHARERS
    size[-1] = remaining
    kids[-1] = 0
    return kind, size.astype(np.int64), kids.astype(np.int64)


def generate_population(
    config: SynthConfig,
    bank: NameBank,
    gazetteer: Gazetteer,
    kind: npt.NDArray[np.int8],
    size: npt.NDArray[np.int64],
    kids: npt.NDArray[np.int64],
    hh_borough: npt.NDArray[np.int8],
) -> tuple[People, Households, SpareIds]:
    rng = stream(config.seed, "population")
    start = day_number(config.start_date)
    n_h = kind.size
    hh = np.repeat(np.arange(n_h, dtype=np.int64), size)
    pos = group_rank(hh)
    n = hh.size
    k = kind[hh]
    first = np.concatenate([[0], np.cumsum(size)[:-1]])

    # roles
    role = np.full(n, HEAD, dtype=np.int8)
    role[(pos == 1) & np.isin(k, [COUPLE, COUPLE_KIDS, MULTIGEN])] = PARTNER
    role[(pos >= 1) & (k == SHARERS)] = SHARER
    role[(pos >= 1) & (k == LONE_PARENT)] = CHILD
    role[(pos >= 2) & (k == COUPLE_KIDS)] = CHILD
    role[(pos == 2) & (k == MULTIGEN)] = GRANDPARENT
    role[(pos >= 3) & (k == MULTIGEN)] = CHILD

    # household origin, partner and sharer origins
    groups = len(bank.group_family)
    gw = bank.group_weights
    origin_h = rng.choice(groups, size=n_h, p=gw).astype(np.int8)
    origin = origin_h[hh].copy()
    mixed = (role == PARTNER) & (rng.random(n) < config.mixed_origin_rate)
    own = (role == SHARER) & (rng.random(n) < 0.4)
    redraw = mixed | own | ((role == HEAD) & (k == SHARERS) & (rng.random(n) < 0.4))
    origin[redraw] = rng.choice(groups, size=int(redraw.sum()), p=gw)

    # sexes
    head_sex = rng.integers(0, 2, n_h).astype(np.int8)
    couple_like = np.isin(kind, [COUPLE, COUPLE_KIDS, MULTIGEN])
    same_sex = rng.random(n_h) < config.same_sex_couple_rate
    head_sex = np.where(couple_like & ~same_sex, (rng.random(n_h) < 0.95).astype(np.int8), head_sex)
    head_sex = np.where(kind == LONE_PARENT, (rng.random(n_h) < 0.1).astype(np.int8), head_sex)
    sex = rng.integers(0, 2, n).astype(np.int8)
    sex[role == HEAD] = head_sex[hh[role == HEAD]]
    partner_rows = role == PARTNER
    sex[partner_rows] = np.where(
        same_sex[hh[partner_rows]], head_sex[hh[partner_rows]], 1 - head_sex[hh[partner_rows]]
    )
    sex[role == GRANDPARENT] = (rng.random(int((role == GRANDPARENT).sum())) < 0.35).astype(np.int8)
    child = role == CHILD
    sex[child] = (rng.random(int(child.sum())) < 0.512).astype(np.int8)

    # ages (years at the start of the window)
    age = np.zeros(n, dtype=np.float64)
    child_rank = np.where(
        child, pos - np.where(k == COUPLE_KIDS, 2, np.where(k == MULTIGEN, 3, 1)), -1
    )
    gaps = np.where(child_rank >= 1, rng.uniform(1.2, 5.0, n), 0.0)
    twin = (child_rank >= 1) & (rng.random(n) < config.twin_rate)
    gaps[twin] = 0.0
    cum_gap = np.cumsum(gaps)
    cum_gap_in_hh = cum_gap - cum_gap[first][hh] + gaps[first][hh]
    total_gap = np.zeros(n_h)
    np.maximum.at(total_gap, hh, np.where(child, cum_gap_in_hh, 0.0))
    scale = np.where(total_gap > 15.0, 15.0 / np.maximum(total_gap, 1e-9), 1.0)
    eldest_age = total_gap * scale + rng.random(n_h) * (17.9 - total_gap * scale)
    age[child] = (eldest_age[hh] - cum_gap_in_hh * scale[hh])[child]
    has_kids = kids > 0
    parent_at_birth = np.clip(rng.normal(30.0, 5.5, n_h), 17.0, 46.0)
    head_age = np.where(has_kids, eldest_age + parent_at_birth, 0.0)
    head_age = np.where(kind == SINGLE, _band_ages(rng, n_h, SINGLE_AGE_BANDS), head_age)
    head_age = np.where(kind == COUPLE, _band_ages(rng, n_h, COUPLE_AGE_BANDS), head_age)
    head_age = np.where(kind == SHARERS, _band_ages(rng, n_h, SHARER_AGE_BANDS), head_age)
    age[role == HEAD] = head_age[hh[role == HEAD]]
    age[partner_rows] = np.maximum(
        18.0, head_age[hh[partner_rows]] + rng.normal(-1.5, 4.0, int(partner_rows.sum()))
    )
    sharer_rows = role == SHARER
    age[sharer_rows] = _band_ages(rng, int(sharer_rows.sum()), SHARER_AGE_BANDS)
    gp = role == GRANDPARENT
    age[gp] = np.minimum(99.0, head_age[hh[gp]] + rng.normal(28.0, 4.0, int(gp.sum())))
    dob = (start - np.floor(age * 365.25) - rng.integers(0, 2, n)).astype(np.int32)
    # twins share the elder twin's date of birth
    twin_of = np.where(twin, np.arange(n) - 1, -1).astype(np.int64)
    # chains of triplets point at the previous child, resolve to the first
    for _ in range(2):
        chained = twin_of >= 0
        chained &= twin_of[np.maximum(twin_of, 0)] >= 0
        twin_of[chained] = twin_of[twin_of[chained]]
    dob[twin] = dob[twin_of[twin]]

    # names
    fam_head = bank.sample_family(rng, origin_h)
    family = fam_head[hh].copy()
    birth_family = family.copy()
    p_birth = bank.sample_family(rng, origin[partner_rows])
    birth_family[partner_rows] = p_birth
    u = rng.random(n_h)
    married = u < config.married_name_rate
    hyphen = (u >= config.married_name_rate) & (
        u < config.married_name_rate + config.hyphenated_name_rate
    )
    partner_h = hh[partner_rows]
    partner_family = np.where(married[partner_h], fam_head[partner_h], p_birth)
    hy_rows = np.flatnonzero(hyphen[partner_h])
    hy_names = bank.hyphenate(p_birth[hy_rows], fam_head[partner_h][hy_rows])
    partner_family[hy_rows] = hy_names
    family[partner_rows] = partner_family
    # children take the household name, or the hyphenated couple name
    hh_child_name = fam_head.copy()
    hh_child_name[partner_h[hy_rows]] = hy_names
    lone_other = (kind == LONE_PARENT) & (rng.random(n_h) < 0.35)
    other_names = bank.sample_family(rng, origin_h)
    hh_child_name = np.where(lone_other, other_names, hh_child_name)
    family[child] = hh_child_name[hh[child]]
    birth_family[child] = family[child]
    sharer_or_gp = sharer_rows | (gp & (rng.random(n) < 0.5))
    own_names = bank.sample_family(rng, origin[sharer_or_gp])
    family[sharer_or_gp] = own_names
    birth_family[sharer_or_gp] = own_names
    # a child's given names come from either parent's origin group
    name_origin = origin.copy()
    partner_origin = np.full(n_h, -1, dtype=np.int16)
    partner_origin[partner_h] = origin[partner_rows]
    from_partner = child & (partner_origin[hh] >= 0) & (rng.random(n) < 0.5)
    name_origin[from_partner] = partner_origin[hh[from_partner]].astype(np.int8)
    given = bank.sample_given(rng, name_origin, sex)
    # twins get a different given name, sometimes with the same first letter
    _name_twins(rng, bank, config, given, twin_of, name_origin, sex)
    # junior/senior: a son named after his father
    head_id = first[hh]
    father_is_head = (sex[head_id] == MALE) & np.isin(k, [COUPLE_KIDS, MULTIGEN])
    junior = child & (sex == MALE) & father_is_head & (rng.random(n) < config.junior_rate)
    has_twin = np.zeros(n, dtype=np.bool_)
    has_twin[twin_of[twin_of >= 0]] = True
    junior &= ~twin & ~has_twin  # twins keep distinct given names
    given[junior] = given[head_id[junior]]
    junior_of = np.where(junior, head_id, -1).astype(np.int64)
    middle = np.full(n, -1, dtype=np.int32)
    has_middle = rng.random(n) < config.middle_name_rate
    middle[has_middle] = bank.sample_given(rng, name_origin[has_middle], sex[has_middle])
    middle[middle == given] = -1

    adult_age = age >= 18
    student = adult_age & (age < 24) & (rng.random(n) < config.student_rate)

    nhs = nhs_numbers(int(n * 1.12) + 200, config.seed)
    ni_prefix, ni_rest = ni_numbers(int(n * 1.12) + 200, config.seed)
    people = People(
        household=hh,
        role=role,
        sex=sex,
        dob=dob,
        dod=np.full(n, NO_DAY, dtype=np.int32),
        origin=origin,
        given=given,
        middle=middle,
        family=family,
        birth_family=birth_family,
        nhs=nhs[:n],
        ni_prefix=ni_prefix[:n],
        ni_rest=ni_rest[:n],
        twin_of=twin_of,
        junior_of=junior_of,
        student=student,
        born_in_window=np.zeros(n, dtype=np.bool_),
    )
    spare = SpareIds(nhs=nhs[n:], ni_prefix=ni_prefix[n:], ni_rest=ni_rest[n:])

    # addresses: each household gets a free address in its borough
    address0 = np.empty(n_h, dtype=np.int64)
    for b in range(len(config.boroughs)):
        members = np.flatnonzero(hh_borough == b)
        pool = np.flatnonzero(gazetteer.borough == b)
        pool = pool[rng.permutation(pool.size)]
        if members.size > pool.size:
            raise RuntimeError("gazetteer too small for the households")
        # social tenants are more often families and lone parents: sort both sides loosely
        address0[members] = pool[: members.size]
    gazetteer.occupied[address0] = True
    since_years = rng.exponential(6.0, n_h)
    since_years = np.minimum(since_years, np.maximum(0.1, head_age - 18.0))
    occupied_since = (start - np.floor(since_years * 365.25) - 1).astype(np.int32)
    partner = np.full(n_h, -1, dtype=np.int64)
    partner[partner_h] = np.flatnonzero(partner_rows)
    households = Households(
        kind=kind,
        origin=origin_h,
        borough0=hh_borough,
        address0=address0,
        first_member=first.astype(np.int64),
        partner=partner,
        occupied_since=occupied_since,
    )
    return people, households, spare


def _name_twins(
    rng: np.random.Generator,
    bank: NameBank,
    config: SynthConfig,
    given: npt.NDArray[np.int32],
    twin_of: npt.NDArray[np.int64],
    origin: npt.NDArray[np.int8],
    sex: npt.NDArray[np.int8],
) -> None:
    twins = np.flatnonzero(twin_of >= 0)
    if twins.size == 0:
        return
    same_initial = rng.random(twins.size) < config.twin_same_initial_rate
    draws = rng.random((twins.size, 8))
    for row, i in enumerate(twins.tolist()):
        elder = int(twin_of[i])
        pool = bank.group_given[int(origin[i])][int(sex[i])]
        elder_name = bank.strings[int(given[elder])]
        taken = {int(given[elder]), int(given[i - 1])}
        candidates = [int(x) for x in pool if int(x) not in taken]
        if same_initial[row]:
            initial = [x for x in candidates if bank.strings[x][0] == elder_name[0]]
            candidates = initial or candidates
        given[i] = candidates[int(draws[row, 0] * len(candidates))]
