"""Normalisation of linkage fields, as DuckDB SQL over text (ISO dates are done by typing).

Names: upper case, accents stripped, titles removed, apostrophes dropped, other punctuation
(except hyphens) to spaces, whitespace collapsed. Postcodes: canonical ``SW1A 1AA`` when the
value is a postcode (otherwise left upper-cased so validation reports it). Phone numbers:
E.164 (``+44`` and the number without its leading 0). Identifiers: spaces removed, upper case.
"""

from __future__ import annotations

from collections.abc import Callable

TITLES = ("MR", "MRS", "MS", "MISS", "MX", "DR", "PROF", "REV", "SIR", "DAME", "LADY", "LORD")
TITLE_PATTERN = r"^(" + "|".join(TITLES) + r")\.?\s+"


#: Letters that Unicode does not decompose, so ``strip_accents`` keeps them (Polish Ł, Danish
#: Ø, Croatian Đ, Icelandic Þ, German ß, Æ, Œ): spelled in plain letters, as a form that does
#: not take them would (MAŁGORZATA → MALGORZATA, not MA GORZATA).
UNDECOMPOSED = {"Ł": "L", "Ø": "O", "Đ": "D", "Ħ": "H", "Ŀ": "L", "Þ": "TH", "ẞ": "SS",
                "ß": "SS", "Æ": "AE", "Œ": "OE", "Ð": "D", "İ": "I", "ı": "I"}  # fmt: skip


def name_sql(expr: str, strip_titles: bool = False) -> str:
    s = f"upper(strip_accents({expr}))"
    for letter, plain in UNDECOMPOSED.items():
        s = f"replace({s}, '{letter}', '{plain}')"
    # apostrophes, and the "?" or U+FFFD a failed encoding conversion leaves for a letter it
    # could not write (PAWE? for PAWEŁ): dropped, so the name stays one word
    s = f"regexp_replace({s}, '[''’`?\ufffd]', '', 'g')"
    s = f"regexp_replace({s}, '[^A-Z0-9\\- ]', ' ', 'g')"
    s = f"regexp_replace({s}, '\\s*-\\s*', '-', 'g')"
    if strip_titles:
        s = f"regexp_replace({s}, '{TITLE_PATTERN}', '')"
    return f"nullif(trim(regexp_replace({s}, '\\s+', ' ', 'g')), '')"


def postcode_sql(expr: str) -> str:
    compact = f"regexp_replace(upper({expr}), '\\s+', '', 'g')"
    pattern = "^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$"
    return (
        f"CASE WHEN regexp_full_match({compact}, '{pattern}') "
        f"THEN regexp_replace({compact}, '{pattern}', '\\1 \\2') "
        f"ELSE nullif(trim(upper({expr})), '') END"
    )


def phone_sql(expr: str) -> str:
    """UK numbers to E.164: ``020 7946 0000`` → ``+442079460000``; ``00`` → ``+``."""
    digits = f"regexp_replace({expr}, '[^0-9+]', '', 'g')"
    intl = f"regexp_replace({digits}, '^00', '+')"
    return (
        f"nullif(CASE WHEN starts_with({intl}, '+') THEN {intl} "
        f"WHEN starts_with({intl}, '0') THEN '+44' || substr({intl}, 2) "
        f"ELSE {intl} END, '')"
    )


def compact_upper_sql(expr: str) -> str:
    return f"nullif(upper(regexp_replace({expr}, '\\s+', '', 'g')), '')"


def lower_sql(expr: str) -> str:
    return f"nullif(lower(trim({expr})), '')"


NORMALISERS: dict[str, Callable[[str], str]] = {
    "given_name": lambda e: name_sql(e, strip_titles=True),
    "middle_names": name_sql,
    "family_name": name_sql,
    "postcode": postcode_sql,
    "phone": phone_sql,
    "email": lower_sql,
    "nhs_number": compact_upper_sql,
    "upn": compact_upper_sql,
    "ni_number": compact_upper_sql,
}


def normalise_sql(field_name: str, expr: str) -> str:
    """The normalised form of a field's text, or the text unchanged for other fields."""
    normaliser = NORMALISERS.get(field_name)
    return normaliser(expr) if normaliser else expr
