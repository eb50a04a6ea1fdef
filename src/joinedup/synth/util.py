"""Small shared helpers: seeded random streams, keyed hashing, days and months.

Two kinds of randomness are used, both derived from the seed only:

* ``stream(seed, name)`` — a numpy Generator per component, so adding draws in one component
  never shifts another component's numbers.
* ``keyed_uniform(keys, seed, *labels)`` — a uniform number per key (a person, an address)
  from a SplitMix64 hash. Errors use it so the same source system makes the same mistake about
  the same person in every export, as a real database would.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

EPOCH = date(1970, 1, 1)
NO_DAY = np.int32(2**31 - 1)  # "never" (no death, no move) in day-number arrays
MISSING_DAY = np.int32(-(2**31))  # a missing date in a record

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def label_hash(*labels: object) -> int:
    """A stable 32-bit number for a tuple of labels (independent of PYTHONHASHSEED)."""
    return zlib.crc32("\x1f".join(str(label) for label in labels).encode())


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent, reproducible random stream for one named component."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, label_hash(name)])


def splitmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def keyed_bits(keys: npt.ArrayLike, seed: int, *labels: object) -> npt.NDArray[np.uint64]:
    """64 pseudo-random bits per key, fixed by (seed, labels, key)."""
    salt = np.uint64((int(seed) & 0xFFFFFFFF) << 32 | label_hash(*labels))
    with np.errstate(over="ignore"):
        k = np.asarray(keys).astype(np.int64).view(np.uint64)
        return splitmix64(splitmix64(k ^ salt) + salt)


def keyed_uniform(keys: npt.ArrayLike, seed: int, *labels: object) -> npt.NDArray[np.float64]:
    """A uniform [0, 1) number per key, fixed by (seed, labels, key)."""
    bits = keyed_bits(keys, seed, *labels)
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def keyed_int(keys: npt.ArrayLike, high: int, seed: int, *labels: object) -> npt.NDArray[np.int64]:
    """An integer in [0, high) per key."""
    bits = keyed_bits(keys, seed, *labels)
    return (bits % np.uint64(max(high, 1))).astype(np.int64)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def day_to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_label(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_starts(start: date, months: int) -> npt.NDArray[np.int32]:
    """Day numbers of the first day of each month, plus the day after the window ends."""
    return np.array([day_number(add_months(start, m)) for m in range(months + 1)], dtype=np.int32)


def years_between(
    born: npt.NDArray[np.int32], on: npt.NDArray[np.int32] | int
) -> npt.NDArray[np.int32]:
    """Whole years of age (close enough: 365.25-day years)."""
    return ((np.asarray(on, dtype=np.int64) - born) // 365.25).astype(np.int32)


def group_rank(groups: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, 2, ... within runs of equal values of a *sorted* array."""
    n = groups.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    run_lengths = np.diff(np.r_[starts, n])
    return np.arange(n, dtype=np.int64) - np.repeat(starts, run_lengths)


def affine_unique(count: int, space: int, seed: int, name: str) -> npt.NDArray[np.int64]:
    """``count`` distinct pseudo-random numbers in [0, space) (an affine bijection mod space)."""
    rng = stream(seed, name)
    while True:
        a = int(rng.integers(space // 3, space - 1)) | 1
        if np.gcd(a, space) == 1:
            break
    b = int(rng.integers(0, space))
    i = np.arange(count, dtype=np.int64)
    # (a * i + b) mod space without overflow: space <= 1e12 and i < 1e8 keep this in range
    # only if a * i fits; use Python ints through object arithmetic for safety when large.
    a_hi, a_lo = divmod(a, 1 << 20)
    part = ((a_hi * i) % space * (1 << 20)) % space
    return ((part + a_lo * i + b) % space).astype(np.int64)
