"""The shared world every system exports from, and how a system sees a person in it.

:class:`World` holds the generated region (people, households, gazetteer, timeline, schools).
:func:`person_columns` renders the person fields of a batch of records as one system holds them:
names, date of birth, sex, identifiers and address on the record's date, with that system's
errors applied (see :mod:`joinedup.synth.errors`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .config import SynthConfig
from .errors import ErrorLog, ErrorModel
from .geography import Gazetteer
from .ids import ni_strings, upn_strings
from .names import NameBank
from .population import Households, People
from .schools import Pupils, Schools
from .timeline import Timeline
from .util import affine_unique, keyed_uniform, stream

NULL_STR = pa.scalar(None, pa.string())


@dataclass
class World:
    config: SynthConfig
    bank: NameBank
    gazetteer: Gazetteer
    people: People
    households: Households
    timeline: Timeline
    schools: Schools
    pupils: Pupils
    names: pa.Array = field(init=False)  # every name string, by bank index
    given_variants: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] = field(init=False)
    family_variants: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] = field(init=False)
    hyphen_a: npt.NDArray[np.int32] = field(init=False)
    hyphen_b: npt.NDArray[np.int32] = field(init=False)
    upn_of_person: npt.NDArray[np.int64] = field(init=False)  # index into pupils, or -1
    _scramble: dict[str, tuple[int, int]] = field(init=False, default_factory=dict)
    _by_borough: dict[int, npt.NDArray[np.int64]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        given = self.bank.variant_table("given")
        family = self.bank.variant_table("family")
        n = len(self.bank.strings)
        self.given_variants = (_pad(given[0], n), given[1])
        self.family_variants = (_pad(family[0], n), family[1])
        self.hyphen_a, self.hyphen_b = self.bank.hyphen_parts()
        self.names = pa.array(self.bank.strings, pa.string())
        self.upn_of_person = np.full(self.people.size, -1, dtype=np.int64)
        self.upn_of_person[self.pupils.person] = np.arange(self.pupils.size)
        self._upn = upn_strings(self.pupils.upn_digits)

    @property
    def seed(self) -> int:
        return self.config.seed

    def local_id(
        self, values: npt.NDArray[np.int64], label: str, digits: int
    ) -> npt.NDArray[np.int64]:
        """A system's own reference numbers: a per-system bijection of internal ids, so that
        references never reveal which records belong to the same person."""
        space = 10**digits
        if label not in self._scramble:
            rng = stream(self.seed, f"local-id:{label}")
            while True:
                a = int(rng.integers(space // 7, space - 1)) | 1
                if a % 5 and np.gcd(a, space) == 1:
                    break
            self._scramble[label] = (a, int(rng.integers(0, space)))
        a, b = self._scramble[label]
        v = np.asarray(values, dtype=np.int64) % space
        a_hi, a_lo = divmod(a, 1 << 20)
        part = ((a_hi * v) % space * (1 << 20)) % space
        return (part + a_lo * v + b) % space

    def addresses_in(self, borough: int) -> npt.NDArray[np.int64]:
        """Every address in one borough (positions in the gazetteer), cached."""
        if borough not in self._by_borough:
            self._by_borough[borough] = np.flatnonzero(self.gazetteer.borough == borough)
        return self._by_borough[borough]

    def upn(self, person: npt.NDArray[np.int64]) -> pa.Array:
        idx = self.upn_of_person[person]
        ok = idx >= 0
        taken = pc.take(self._upn, pa.array(np.where(ok, idx, 0)))
        return pc.if_else(pa.array(ok), taken, NULL_STR)


def _pad(offsets: npt.NDArray[np.int32], n: int) -> npt.NDArray[np.int32]:
    if offsets.size >= n + 1:
        return offsets
    return np.concatenate([offsets, np.full(n + 1 - offsets.size, offsets[-1], dtype=np.int32)])


def ref_strings(prefix: str, numbers: npt.NDArray[np.int64], digits: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, e.g. ``LB00012345``."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), digits, "0")
    if not prefix:
        return text
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def person_columns(
    world: World,
    model: ErrorModel,
    person: npt.NDArray[np.int64],
    asof: npt.NDArray[np.int32] | int,
    log: ErrorLog,
    *,
    want: frozenset[str] = frozenset(),
    address: npt.NDArray[np.int64] | None = None,
    prefix: str = "",
) -> dict[str, object]:
    """Person fields for records of ``person`` dated ``asof``, as this system holds them.

    Returns canonical columns: ``given_name``, ``middle_name``, ``family_name`` (pa strings),
    ``dob`` (day numbers), ``sex`` (0 female / 1 male), and when asked for: ``nhs_number``,
    ``ni_number``, ``upn``, ``address_id`` / ``postcode`` / ``uprn``. ``address`` fixes the
    address (e.g. a council tax account's property) instead of where the person lives.
    ``prefix`` names a second person on the record (``joint_``); their errors are logged under
    prefixed field names.
    """
    people = world.people
    n = person.size
    keys = person
    cols: dict[str, object] = {}

    given = people.given[person].copy()
    family = people.family[person].copy()
    middle = people.middle[person].copy()
    birth = people.birth_family[person]
    # nickname / spelling variant of the given name
    off, flat = world.given_variants
    count = off[given + 1] - off[given]
    nick = (count > 0) & model.hit(keys, "nickname")
    if nick.any():
        pick = off[given[nick]] + model.i(keys[nick], 1 << 30, "nickname_pick") % count[nick]
        given[nick] = flat[pick]
        log.add(nick, prefix + "given_name", "nickname")
    # maiden name, then a hyphenated name recorded in part, then a written variant
    maiden = (birth != family) & model.hit(keys, "maiden_name")
    family[maiden] = birth[maiden]
    log.add(maiden, prefix + "family_name", "maiden_name")
    ha = world.hyphen_a[family]
    part = (ha >= 0) & model.hit(keys, "hyphen_part")
    if part.any():
        first_half = model.u(keys[part], "hyphen_half") < 0.5
        family[part] = np.where(first_half, ha[part], world.hyphen_b[family[part]])
        log.add(part, prefix + "family_name", "hyphen_part")
    foff, fflat = world.family_variants
    fcount = foff[family + 1] - foff[family]
    variant = (fcount > 0) & model.hit(keys, "family_variant")
    if variant.any():
        pick = (
            foff[family[variant]] + model.i(keys[variant], 1 << 30, "family_pick") % fcount[variant]
        )
        family[variant] = fflat[pick]
        log.add(variant, prefix + "family_name", "family_variant")
    drop_middle = (middle >= 0) & model.hit(keys, "missing_middle")
    log.add(drop_middle, prefix + "middle_name", "missing")
    middle[drop_middle] = -1

    g = pc.take(world.names, pa.array(given))
    f = pc.take(world.names, pa.array(family))
    m = pc.take(world.names, pa.array(np.maximum(middle, 0)))
    m = pc.if_else(pa.array(middle >= 0), m, NULL_STR)
    typo_g = model.hit(keys, "typo_given")
    typo_f = model.hit(keys, "typo_family")
    g = model.typo_strings(g, typo_g, keys, "given")
    f = model.typo_strings(f, typo_f, keys, "family")
    log.add(typo_g, prefix + "given_name", "typo")
    log.add(typo_f, prefix + "family_name", "typo")
    double = (middle >= 0) & model.hit(keys, "double_given")
    if double.any():
        # "Mary Ann" / "Mary-Ann": the middle name written into the given name, not on its own
        hyphen = model.u(keys, "double_given_hyphen") < 0.5
        joined = pc.if_else(
            pa.array(hyphen),
            pc.binary_join_element_wise(g, m, "-"),
            pc.binary_join_element_wise(g, m, " "),
        )
        g = pc.if_else(pa.array(double), joined, g)
        m = pc.if_else(pa.array(double), NULL_STR, m)
        log.add(double, prefix + "given_name", "double_given")
    swap = model.hit(keys, "name_swap")
    if swap.any():
        sw = pa.array(swap)
        g, f = pc.if_else(sw, f, g), pc.if_else(sw, g, f)
        log.add(swap, prefix + "given_name", "name_swap")
    cols[prefix + "given_name"] = g
    cols[prefix + "family_name"] = f
    cols[prefix + "middle_name"] = m
    if prefix:
        return cols

    cols["dob"] = model.dob_errors(people.dob[person], keys, log)
    cols["sex"] = people.sex[person]
    if "nhs_number" in want:
        nhs = pc.cast(pa.array(people.nhs[person]), pa.string())
        cols["nhs_number"] = model.identifier_errors(nhs, keys, "nhs_number", log)
    if "ni_number" in want:
        adult = (np.asarray(asof) - people.dob[person]) >= 16 * 365.25
        ni = ni_strings(np.where(adult, people.ni_prefix[person], -1), people.ni_rest[person])
        cols["ni_number"] = model.identifier_errors(ni, keys, "ni_number", log)
    if "upn" in want:
        cols["upn"] = model.identifier_errors(world.upn(person), keys, "upn", log)
    if "address" in want:
        tl = world.timeline
        hh = people.household[person]
        if address is None:
            day = np.broadcast_to(np.asarray(asof, dtype=np.int64), (n,))
            address = tl.address_at(hh, day)
            moved = (day >= tl.move_day[hh]) & (tl.address1[hh] != tl.address0[hh])
            lagging = moved & model.hit(keys, "stale_address")
            if lagging.any():
                mean = model.rates.stale_address_mean_days
                lag = -mean * np.log1p(-model.u(keys, "stale_lag") * 0.999)
                stale = lagging & (day < tl.move_day[hh] + lag)
                address = np.where(stale, tl.address0[hh], address)
                log.add(stale, "address", "stale_address")
            elsewhere = model.hit(keys, "other_address")
            if elsewhere.any():
                address = address.copy()
                address[elsewhere] = _address_elsewhere(
                    world, model, keys[elsewhere], address[elsewhere]
                )
                log.add(elsewhere, "address", "other_address")
        cols["address_id"] = address
        gaz = world.gazetteer
        postcode = pc.take(gaz.postcodes, pa.array(gaz.postcode[address]))
        # postcode typos depend on the person and the address (one mistake per pair)
        pkey = person * 7919 + address
        cols["postcode"] = model.postcode_errors(postcode, pkey, log)
        no_uprn = model.u(address, "missing_uprn") < model.rate("missing_uprn")
        cols["uprn"] = pa.array(gaz.uprn[address], mask=no_uprn)
        log.add(no_uprn, "uprn", "missing")
        disorder = model.hit(keys, "address_disorder")
        if disorder.any():
            cols["address_disorder"] = np.where(
                disorder, 1 + model.i(keys, len(ADDRESS_DISORDERS), "address_disorder_kind"), 0
            )
            log.add(disorder, "address", "address_disorder")
    return cols


# How a disordered address is written (``cols["address_disorder"]`` holds 1 + the index):
ADDRESS_DISORDERS = (
    "all_in_line1",  # the whole address typed into the first line
    "rotated",  # locality first, then the first and second lines, one column along
    "first_line_only",  # street and locality left blank
    "no_first_line",  # house number or flat left blank
)


def _address_elsewhere(
    world: World,
    model: ErrorModel,
    keys: npt.NDArray[np.int64],
    address: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Another address for each person, in another borough for a share of them: an old
    address a system never updated, a relative's, a care home, a temporary placement."""
    gaz = world.gazetteer
    boroughs = len(world.config.boroughs)
    home = gaz.borough[address].astype(np.int64)
    cross = model.u(keys, "other_address_cross") < model.rates.other_address_cross_borough
    shift = 1 + model.i(keys, max(boroughs - 1, 1), "other_address_borough")
    target = np.where(cross & (boroughs > 1), (home + shift) % boroughs, home)
    pick = model.i(keys, 1 << 30, "other_address_pick")
    out = address.copy()
    for b in range(boroughs):
        sel = target == b
        pool = world.addresses_in(b)
        if sel.any() and pool.size:
            out[sel] = pool[pick[sel] % pool.size]
    return out


def household_members(people: People) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """CSR index of people by household: (offsets, person ids sorted by household)."""
    order = np.argsort(people.household, kind="stable")
    counts = np.bincount(people.household, minlength=int(people.household.max()) + 1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return offsets, order.astype(np.int64)


def expand_members(
    offsets: npt.NDArray[np.int64], members: npt.NDArray[np.int64], hh: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each row's household, every member: (row index repeated, person id)."""
    counts = offsets[hh + 1] - offsets[hh]
    row = np.repeat(np.arange(hh.size, dtype=np.int64), counts)
    start = np.repeat(offsets[hh], counts)
    within = np.arange(row.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return row, members[start + within]


def unit_draw(world: World, keys: npt.ArrayLike, *labels: object) -> npt.NDArray[np.float64]:
    return keyed_uniform(keys, world.seed, *labels)


__all__ = [
    "World",
    "affine_unique",
    "expand_members",
    "household_members",
    "person_columns",
    "ref_strings",
    "unit_draw",
]
