"""Value patterns shared by the shipped schemas, in one place.

Table Schema ``pattern`` constraints use XML Schema regular-expression syntax and are
**implicitly anchored**: the whole value must match, so there is no ``^``/``$``. Every pattern
here also stays inside the common subset of XML Schema, Python ``re`` and RE2 (DuckDB's
``regexp_full_match``): no look-around, no back-references, no flags. The tests check that each
pattern agrees with the matching function in :mod:`joinedup.standards.identifiers` and compiles
in DuckDB.

Patterns describe the **canonical** stored form (upper case, single space in a postcode, no
spaces in an NHS or NI number): mapping and normalisation produce that form before validation.
"""

from __future__ import annotations

import re

#: UK postcode, canonical ``SW1A 1AA`` form (outward code, one space, inward code).
POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}"

#: NHS number: ten digits, no spaces (the check digit is the ``nhs_mod11`` check).
NHS_NUMBER = r"[0-9]{10}"

#: Permanent Unique Pupil Number: check letter (no I, O, S) then 12 digits
#: (the letter itself is the ``upn_check_letter`` check).
UPN = r"[A-HJ-NP-RT-Z][0-9]{12}"

#: National Insurance number without look-ahead (so RE2 can run it): the prefix letters
#: D, F, I, Q, U, V never appear, O never second, and BG GB NK KN TN NT ZZ are not issued.
NI_NUMBER = (
    r"([ACEHJLMOPRSWXY][A-CEGHJ-NPR-TW-Z]"
    r"|B[A-CEHJ-NPR-TW-Z]"
    r"|G[ACEGHJ-NPR-TW-Z]"
    r"|[KT][A-CEGHJ-MPR-TW-Z]"
    r"|N[A-CEGHJLMNPRSW-Z]"
    r"|Z[A-CEGHJ-NPR-TW-Y])"
    r"[0-9]{6}[A-D]"
)

#: Any ONS GSS code: entity prefix letter for the country and 8 digits.
GSS_ANY = r"[ENSWK][0-9]{8}"
#: A local (billing) authority in England or Wales: E06 unitary, E07 non-metropolitan
#: district, E08 metropolitan district, E09 London borough, W06 Welsh unitary authority.
GSS_LOCAL_AUTHORITY = r"(E0[6-9]|W06)[0-9]{6}"
#: A local authority responsible for schools in England: E06, E08, E09, or E10 county.
GSS_EDUCATION_AUTHORITY = r"(E0[689]|E10)[0-9]{6}"
#: Electoral ward (England E05, Wales W05).
GSS_WARD = r"[EW]05[0-9]{6}"
#: Lower layer super output area (England E01, Wales W01).
GSS_LSOA = r"[EW]01[0-9]{6}"
#: Middle layer super output area (England E02, Wales W02).
GSS_MSOA = r"[EW]02[0-9]{6}"

#: School unique reference number (URN), 6 digits.
SCHOOL_URN = r"[0-9]{6}"

#: A month, ``YYYY-MM``: the reporting period of a balance snapshot.
PERIOD = r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])"

#: Telephone number in E.164 form, e.g. ``+442079460000``.
PHONE_E164 = r"\+[1-9][0-9]{6,14}"

#: A deliberately loose email shape (the ``email`` format does the real check).
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"

#: Companies House number: 8 digits, or a 2-letter prefix (SC, NI, OC, ...) or R0 (old
#: Northern Ireland companies) and 6 digits.
COMPANY_NUMBER = r"([0-9]{2}|[A-Z]{2}|R0)[0-9]{6}"

#: UK VAT registration number, optional GB prefix: 9 or 12 digits, or GD/HA (government
#: departments, health authorities) and 3 digits.
VAT_NUMBER = r"(GB)?([0-9]{9}([0-9]{3})?|GD[0-4][0-9]{2}|HA[5-9][0-9]{2})"

#: Polling district code, e.g. ``AA``, ``LA1``.
POLLING_DISTRICT = r"[A-Z][A-Z0-9]{0,5}"

#: A register franchise marker: one capital letter.
FRANCHISE_MARKER = r"[A-Z]"

#: Elector number within its polling district, optionally with a ``/n`` suffix.
ELECTOR_NUMBER = r"[0-9]{1,6}(/[0-9]{1,3})?"

#: Every named pattern, for tests and documentation.
ALL: dict[str, str] = {
    name: value
    for name, value in globals().items()
    if name.isupper() and name != "ALL" and isinstance(value, str)
}


def full_match(pattern: str, value: str) -> bool:
    """Table Schema semantics: the whole value matches the (implicitly anchored) pattern."""
    return re.fullmatch(pattern, value) is not None
