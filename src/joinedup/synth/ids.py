"""Vectorised synthetic identifiers with valid check characters.

The scalar rules live in :mod:`joinedup.standards.identifiers`; tests check these vectorised
versions against them. Ranges are chosen so no synthetic identifier can be a real one:

* NHS numbers start with 9 (the 999 range and other 9xx numbers are not issued to patients).
* UPRNs are 12 digits starting with 9 (beyond the ranges councils allocate).
* UPNs use the real DfE LA number of the first school, then a synthetic establishment number.
* NI numbers use issued-format prefixes with random digits; they carry no real person's data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from joinedup.standards.identifiers import UPN_LETTERS

from .util import affine_unique

# Prefix letters allowed by the NI format (see uk-facts.md).
_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_BANNED = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
NI_PREFIXES = tuple(a + b for a in _FIRST for b in _SECOND if a + b not in _BANNED)


def nhs_numbers(count: int, seed: int) -> npt.NDArray[np.int64]:
    """``count`` distinct valid 10-digit NHS numbers in the 9xx range."""
    candidates = affine_unique(int(count * 1.2) + 100, 10**8, seed, "nhs") + 900_000_000
    digits = np.stack([(candidates // 10**k) % 10 for k in range(8, -1, -1)], axis=1)
    weights = np.arange(10, 1, -1, dtype=np.int64)
    check = 11 - (digits * weights).sum(axis=1) % 11
    check = np.where(check == 11, 0, check)
    ok = check != 10
    valid = candidates[ok] * 10 + check[ok]
    if valid.size < count:
        raise RuntimeError("not enough NHS number candidates")
    return valid[:count]


def upn_check_letters(twelve: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index into UPN_LETTERS of the check letter for 12-digit numbers."""
    total = np.zeros(twelve.shape, dtype=np.int64)
    for position in range(12):  # position 0 is the leftmost digit, weight 2
        digit = (twelve // 10 ** (11 - position)) % 10
        total += digit * (position + 2)
    return total % 23


def upn_strings(twelve: npt.NDArray[np.int64]) -> pa.Array:
    letters = pa.array(list(UPN_LETTERS))
    letter = pc.take(letters, pa.array(upn_check_letters(twelve)))
    digits = pc.utf8_lpad(pc.cast(pa.array(twelve), pa.string()), 12, "0")
    return pc.binary_join_element_wise(letter, digits, "")


def ni_numbers(count: int, seed: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Distinct NI numbers as (prefix index, 6 digits * 4 + suffix index)."""
    codes = affine_unique(count, len(NI_PREFIXES) * 10**6 * 4, seed, "ni")
    prefix = (codes // (10**6 * 4)).astype(np.int32)
    rest = (codes % (10**6 * 4)).astype(np.int32)
    return prefix, rest


def ni_strings(prefix: npt.NDArray[np.int32], rest: npt.NDArray[np.int32]) -> pa.Array:
    """Render NI numbers (rows with prefix < 0 become null)."""
    ok = prefix >= 0
    p = pc.take(pa.array(NI_PREFIXES), pa.array(np.where(ok, prefix, 0)))
    digits = pc.utf8_lpad(pc.cast(pa.array(rest // 4), pa.string()), 6, "0")
    suffix = pc.take(pa.array(list("ABCD")), pa.array(rest % 4))
    joined = pc.binary_join_element_wise(p, digits, suffix, "")
    return pc.if_else(pa.array(ok), joined, pa.scalar(None, pa.string()))
