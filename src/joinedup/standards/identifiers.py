"""UK identifier formats and check digits (see docs/standards.md for sources).

Pure functions shared by the synthetic generator, the validators and linkage. The same rules
are expressed as DuckDB SQL in ``joinedup.ingest`` for vectorised validation; tests keep the two
in step.
"""

from __future__ import annotations

import re

NHS_WEIGHTS = tuple(range(10, 1, -1))  # 10, 9, ..., 2 for the first nine digits
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # DfE: 23 letters, no I, O or S
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
NI_RE = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")
GSS_RE = re.compile(r"^[ENSWK][0-9]{8}$")


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or ``None`` when no valid digit exists."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NHS number check digit needs exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, NHS_WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    """True for a 10-digit NHS number whose last digit is the modulus-11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


def upn_check_letter(twelve_digits: str) -> str:
    """DfE UPN check letter for the 12 characters after it (weights 2..13, mod 23)."""
    if len(twelve_digits) != 12 or not twelve_digits.isdigit():
        raise ValueError("a UPN check letter needs exactly twelve digits")
    total = sum(int(d) * w for d, w in zip(twelve_digits, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23]


def is_valid_upn(value: str) -> bool:
    """True for a permanent UPN: a correct check letter followed by 12 digits."""
    upn = value.strip().upper()
    if len(upn) != 13 or not upn[1:].isdigit():
        return False
    return upn[0] == upn_check_letter(upn[1:])


def is_valid_ni_number(value: str) -> bool:
    """True for a National Insurance number in an issued format (spaces ignored)."""
    return bool(NI_RE.match(value.replace(" ", "").upper()))


def normalise_postcode(value: str) -> str | None:
    """Canonical ``SW1A 1AA`` form, or ``None`` when the value is not a UK postcode."""
    compact = re.sub(r"\s+", "", value.upper())
    match = POSTCODE_RE.match(compact)
    if not match:
        return None
    return f"{match.group(1)} {match.group(2)}"


def is_valid_uprn(value: str | int) -> bool:
    """True for a positive integer of at most 12 digits."""
    text = str(value).strip()
    return text.isdigit() and 0 < len(text) <= 12 and int(text) > 0


def is_valid_gss_code(value: str, prefix: str | None = None) -> bool:
    """True for a 9-character ONS GSS code, optionally with a given entity prefix (e.g. E09)."""
    if not GSS_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix)
