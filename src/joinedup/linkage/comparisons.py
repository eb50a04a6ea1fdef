"""Comparisons tuned for UK council person records, as Splink 5 settings (plain dicts).

Each comparison is a list of levels, tried in order; the first whose SQL holds for a pair is
that pair's level (its ``gamma_`` value), and the level's match weight (``mw_``) is
log2(m/u). The SQL reads the prepared columns (:mod:`joinedup.linkage.prepare`) with ``_l`` and
``_r`` suffixes. Models are data: these dicts go into the saved model JSON unchanged.

Design (docs/linkage.md explains it with examples):

* **Given name**: exact (with term-frequency adjustment: a shared *Mohammed* says less than a
  shared *Oisín*), a variant in the name-variant dataset (Bob/Robert, Liz/Elizabeth), a typo
  (Jaro-Winkler >= 0.92 or one edit), a given/middle shift (Anne Marie / Marie), given and
  family swapped, a weak similarity, else.
* **Family name**: exact (term-frequency adjusted), the same letters (O'Brien / O Brien,
  McX / MacX), one part of a hyphenated or spaced name (Smith-Jones / Jones), a typo, swapped,
  weak, else.
* **Date of birth**: exact, day and month transposed, one digit or one day out (or a year or
  ten years out with day and month equal), else; and, when one record has no date of birth but
  holds an adult's role (council tax payer, elector, tenant), "too young for that role" when
  the other record's date of birth is after the latest the role allows.
* **Sex**, **NHS number**, **NI number**, **UPN**: equal or different (NULL, U and X are
  missing). A different national identifier is strong evidence against: they are unique.
* **Address** is household evidence. Its agreement levels (UPRN, address and postcode,
  postcode, sector, district) only count when the personal details do not conflict. A pair at
  the same address whose given names or dates of birth conflict (twins, a junior and senior,
  parent and child) gets the level "same address, conflicting person", whose weight is fixed
  at zero: living together is not evidence of being the same person.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

GIVEN_FUZZY = 0.92
TOO_YOUNG = "too young for the other record's adult role"
SAME_LISTING = "two people of one listing (cannot link)"
#: m and u of :data:`SAME_LISTING`, set rather than learned: a source lists each person once,
#: so among matches the level is all but impossible (m), while two random records share a
#: listing about as often as two members of a claim are drawn (u). The pair is a hard
#: cannot-link whatever else agrees (:func:`joinedup.linkage.cluster.cannot_link_sql`); the
#: weight only shows it in the waterfall.
SAME_LISTING_M, SAME_LISTING_U = 1e-6, 1e-4
WEAK = 0.80


def one_edit(a: str, b: str) -> str:
    """``a`` and ``b`` are at most one edit apart (Damerau-Levenshtein <= 1). The distance is
    slow to compute (about 1.4 s a million pairs), and random pairs of names almost never pass,
    so it is computed only where a cheap test allows it: lengths at most one apart, and (for
    three letters or more) the same first or the same last letter, as one edit always leaves.
    A CASE, because DuckDB evaluates both sides of AND and OR inside a function call."""
    return (
        f"(CASE WHEN abs(length({a}) - length({b})) <= 1 AND (left({a}, 1) = left({b}, 1) "
        f"OR right({a}, 1) = right({b}, 1) OR least(length({a}), length({b})) <= 2) "
        f"THEN damerau_levenshtein({a}, {b}) <= 1 ELSE FALSE END)"
    )


def transposed(a: str, b: str) -> str:
    """``a`` and ``b`` differ by two neighbouring characters swapped (one Damerau edit, two
    Levenshtein edits), with the cheap test of :func:`one_edit` first (equal lengths)."""
    return (
        f"(CASE WHEN length({a}) = length({b}) AND (left({a}, 1) = left({b}, 1) "
        f"OR right({a}, 1) = right({b}, 1) OR length({a}) <= 2) "
        f"THEN damerau_levenshtein({a}, {b}) = 1 AND levenshtein({a}, {b}) = 2 ELSE FALSE END)"
    )


def _level(
    sql: str,
    label: str,
    *,
    null: bool = False,
    tf: str | None = None,
    m: float | None = None,
    u: float | None = None,
) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": " ".join(sql.split()), "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    if m is not None and u is not None:
        level.update(
            m_probability=m, u_probability=u, fix_m_probability=True, fix_u_probability=True
        )
    return level


def _comparison(name: str, description: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "output_column_name": name,
        "comparison_description": description,
        "comparison_levels": levels,
    }


# --- conditions shared by comparisons (pairs of prepared records, _l and _r) -----------------
# Each is wrapped in coalesce(..., FALSE): a comparison with a missing value is unknown in SQL,
# and an unknown must never count as agreement (nor, negated, as conflict).


def _c(expr: str) -> str:
    return f"coalesce({expr}, FALSE)"


GIVEN_VARIANT = _c(
    "list_contains(given_variants_l, given_name_r) OR list_contains(given_variants_r, given_name_l)"
)
GIVEN_TYPO = _c(
    f"jaro_winkler_similarity(given_name_l, given_name_r) >= {GIVEN_FUZZY} "
    f"OR {one_edit('given_name_l', 'given_name_r')}"
)
#: The given names sound alike (one Metaphone key: Muhammad/Mohammed, Piotr/Peter), a spelling
#: the nickname data does not list.
GIVEN_SOUND = _c("given_sound_l = given_sound_r")
#: One given name is the start (3 letters or more) or the end (4 or more) of the other: a short
#: form (Raj/Rajesh, Alex/Alexander; Kemi/Oluwakemi, Emeka/Chukwuemeka).
GIVEN_SHORT = _c(
    "(length(given_name_l) >= 3 AND length(given_name_r) > length(given_name_l) "
    "AND (prefix(given_name_r, given_name_l) "
    "OR (length(given_name_l) >= 4 AND suffix(given_name_r, given_name_l)))) "
    "OR (length(given_name_r) >= 3 AND length(given_name_l) > length(given_name_r) "
    "AND (prefix(given_name_l, given_name_r) "
    "OR (length(given_name_r) >= 4 AND suffix(given_name_l, given_name_r))))"
)
GIVEN_SHIFT = (
    f"({_c('given_name_l = middle_first_r')} OR {_c('middle_first_l = given_name_r')} "
    f"OR {_c('list_contains(given_variants_l, middle_first_r)')} "
    f"OR {_c('list_contains(given_variants_r, middle_first_l)')})"
)
NAMES_SWAPPED = _c("given_name_l = family_name_r AND family_name_l = given_name_r")


def _near(a: str, b: str) -> str:
    """``a`` and ``b`` are one typo apart (the test of :data:`GIVEN_TYPO`)."""
    return f"(jaro_winkler_similarity({a}, {b}) >= {GIVEN_FUZZY} OR {one_edit(a, b)})"


#: Swapped, and one or both of the names then mistyped (HANNAH MIHAL / MIHAL HANNSH).
NAMES_SWAPPED_TYPO = _c(
    f"{_near('given_name_l', 'family_name_r')} AND {_near('family_name_l', 'given_name_r')}"
)
# Not a level: "one record's given name is the other's family name" (HERON ALICIA / BROOKE
# HERON) finds FEBRL's swap-then-replace links, but twins share a family name, so a swap on one
# twin's record (KEISHA FRANCIS / FRANCIS KERRY-ANN) looks exactly the same.

#: The given names of the pair do not conflict: missing, equal, variants, a typo, sounding
#: alike, a short form, a shift, or swapped with the family name.
GIVEN_COMPATIBLE = (
    "(given_name_l IS NULL OR given_name_r IS NULL OR given_name_l = given_name_r "
    f"OR {GIVEN_VARIANT} OR {GIVEN_TYPO} OR {GIVEN_SOUND} OR {GIVEN_SHORT} OR {GIVEN_SHIFT} "
    f"OR {NAMES_SWAPPED} OR {NAMES_SWAPPED_TYPO})"
)
DOB_TRANSPOSED = _c(
    "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r"
)
DOB_NEAR = _c(
    # one slip in a date leaves the year, or the day and month, equal (or, across the year and
    # month, moves the year by one): the cheap test before the slow distance
    "(CASE WHEN dob_year_l = dob_year_r OR abs(dob_year_l - dob_year_r) = 1 "
    "OR (dob_month_l = dob_month_r AND dob_day_l = dob_day_r) "
    "THEN damerau_levenshtein(dob_str_l, dob_str_r) <= 1 ELSE FALSE END) "
    "OR abs(date_diff('day', dob_l, dob_r)) <= 1 "
    "OR (dob_month_l = dob_month_r AND dob_day_l = dob_day_r "
    "AND abs(dob_year_l - dob_year_r) IN (1, 10))"
)
#: The dates of birth do not conflict: missing, equal, transposed or one slip apart.
DOB_COMPATIBLE = (
    f"(dob_l IS NULL OR dob_r IS NULL OR dob_l = dob_r OR {DOB_TRANSPOSED} OR {DOB_NEAR})"
)
#: One record has no date of birth but holds a role only an adult can (a council tax payer, an
#: elector, a tenant: ``adult_by`` is the latest birth date the role allows) and the other
#: record's date of birth is later: a father and his namesake son at one address.
AGE_CONFLICT = _c(
    "(dob_l IS NULL AND dob_r > adult_by_l) OR (dob_r IS NULL AND dob_l > adult_by_r)"
)
MIDDLE_AGREE = _c("list_has_any(middle_parts_l, middle_parts_r)")
MIDDLE_INITIAL = _c(
    "(length(middle_first_l) = 1 OR length(middle_first_r) = 1) "
    "AND left(middle_first_l, 1) = left(middle_first_r, 1)"
)
MIDDLE_TYPO = _c(f"jaro_winkler_similarity(middle_first_l, middle_first_r) >= {GIVEN_FUZZY}")
#: Middle names do not conflict: missing, sharing a name, an initial, a typo, or shifted into
#: the given name.
MIDDLE_COMPATIBLE = (
    f"(middle_first_l IS NULL OR middle_first_r IS NULL OR {MIDDLE_AGREE} OR {MIDDLE_INITIAL} "
    f"OR {MIDDLE_TYPO} OR {GIVEN_SHIFT})"
)
SEX_CONFLICT = _c("sex_l <> sex_r")
PERSON_CONFLICT = (
    f"(NOT ({GIVEN_COMPATIBLE} AND {DOB_COMPATIBLE} AND {MIDDLE_COMPATIBLE}) "
    f"OR {AGE_CONFLICT} OR {SEX_CONFLICT})"
)


def given_name() -> dict[str, Any]:
    return _comparison(
        "given_name",
        "Given name: exact, name variant, typo, given/middle shift, swapped with family name",
        [
            _level("given_name_l IS NULL OR given_name_r IS NULL", "missing", null=True),
            _level("given_name_l = given_name_r", "exact", tf="given_name"),
            _level(GIVEN_VARIANT, "name variant (nickname or diminutive)"),
            _level(GIVEN_TYPO, "typo"),
            _level(GIVEN_SOUND, "sounds alike (another spelling)"),
            _level(GIVEN_SHORT, "short form (start or end of the other)"),
            _level(GIVEN_SHIFT, "given/middle name shift"),
            _level(NAMES_SWAPPED, "given and family names swapped"),
            _level(NAMES_SWAPPED_TYPO, "swapped, with a typo"),
            _level(f"jaro_winkler_similarity(given_name_l, given_name_r) >= {WEAK}", "similar"),
            _level("ELSE", "different"),
        ],
    )


def family_name() -> dict[str, Any]:
    return _comparison(
        "family_name",
        "Family name: exact, same letters, hyphenated part, typo, swapped with given name",
        [
            _level("family_name_l IS NULL OR family_name_r IS NULL", "missing", null=True),
            _level("family_name_l = family_name_r", "exact", tf="family_name"),
            _level("family_compact_l = family_compact_r", "same letters (spacing, Mc/Mac)"),
            _level("list_has_any(family_parts_l, family_parts_r)", "part of a double name"),
            _level(
                f"jaro_winkler_similarity(family_compact_l, family_compact_r) >= {GIVEN_FUZZY} "
                f"OR {one_edit('family_compact_l', 'family_compact_r')}",
                "typo",
            ),
            # counted once, in the given-name comparison: no weight here
            _level(
                f"{NAMES_SWAPPED} OR {NAMES_SWAPPED_TYPO}",
                "given and family names swapped",
                m=NEUTRAL,
                u=NEUTRAL,
            ),
            _level(
                f"jaro_winkler_similarity(family_compact_l, family_compact_r) >= {WEAK}",
                "similar",
            ),
            _level("ELSE", "different"),
        ],
    )


def middle_names() -> dict[str, Any]:
    return _comparison(
        "middle_names",
        "Middle names: a shared name, an initial, a typo, shifted into the given name",
        [
            _level("middle_first_l IS NULL OR middle_first_r IS NULL", "missing", null=True),
            _level("middle_names_l = middle_names_r", "exact"),
            _level(MIDDLE_AGREE, "a middle name in common"),
            _level(f"{MIDDLE_INITIAL} OR {MIDDLE_TYPO}", "initial or typo"),
            _level(GIVEN_SHIFT, "given/middle name shift"),
            _level("ELSE", "different"),
        ],
    )


def date_of_birth() -> dict[str, Any]:
    return _comparison(
        "date_of_birth",
        "Date of birth: exact, day and month transposed, one digit or day out",
        [
            _level(AGE_CONFLICT, TOO_YOUNG),
            _level("dob_l IS NULL OR dob_r IS NULL", "missing", null=True),
            _level("dob_l = dob_r", "exact"),
            _level(DOB_TRANSPOSED, "day and month transposed"),
            _level(DOB_NEAR, "one digit, one day, a year or ten years out"),
            _level("ELSE", "different"),
        ],
    )


def sex() -> dict[str, Any]:
    return _comparison(
        "sex",
        "Sex (M or F; U and X are missing)",
        [
            _level("sex_l IS NULL OR sex_r IS NULL", "missing", null=True),
            _level("sex_l = sex_r", "same"),
            _level("ELSE", "different"),
        ],
    )


def identifier(column: str, title: str) -> dict[str, Any]:
    return _comparison(
        column,
        f"{title}, where both records have one",
        [
            _level(f"{column}_l IS NULL OR {column}_r IS NULL", "missing", null=True),
            _level(f"{column}_l = {column}_r", "same"),
            # two neighbouring characters swapped in keying (a substitution is not counted:
            # sequential account numbers differ by one character and belong to different people)
            _level(transposed(f"{column}_l", f"{column}_r"), "two characters transposed"),
            _level("ELSE", "different"),
        ],
    )


def email() -> dict[str, Any]:
    """E-mail address: one person may keep one for years, but a household may share one and
    people change them, so "different" is learned like any other level."""
    local = "split_part(email_{side}, '@', 1)"
    l_local, r_local = local.format(side="l"), local.format(side="r")
    return _comparison(
        "email",
        "E-mail address: exact, one slip or the same name at another domain, similar",
        [
            _level("email_l IS NULL OR email_r IS NULL", "missing", null=True),
            _level("email_l = email_r", "exact"),
            _level(
                f"{one_edit('email_l', 'email_r')} OR {l_local} = {r_local}",
                "one slip, or the same name at another domain",
            ),
            _level(f"jaro_winkler_similarity({l_local}, {r_local}) >= {WEAK}", "similar"),
            _level("ELSE", "different"),
        ],
    )


#: m = u: the level carries no weight (fixed, never trained).
NEUTRAL = 0.5


CONFLICT_LABEL = "same address, conflicting person (no weight)"
#: One address line, and postcodes one keying slip apart.
POSTCODE_TYPO = _c(
    f"address_l = address_r AND postcode_l <> postcode_r AND {one_edit('postcode_l', 'postcode_r')}"
)
#: Postcodes with two neighbouring characters swapped (SE13 4NT / SE13 4TN).
POSTCODE_TRANSPOSED = _c(transposed("postcode_l", "postcode_r"))
#: The address lines hold the same letters with other spacing (15 GOODWINSTREET / 15 GOODWIN
#: STREET), or the same words, in another order or with more words on one side
#: (a locality or the second line run into the first: FLAT 8 COBDEN HOUSE / FLAT 8 COBDEN
#: HOUSE HANOVER MEWS CATFORD; PECKHAM 9 ACRE POINT / 9 ACRE POINT PECKHAM). The shorter line
#: must hold a number and three words or more, so that FLAT 8 alone says nothing.
ADDRESS_WORDS = _c(
    "address_l <> address_r AND (replace(address_l, ' ', '') = replace(address_r, ' ', '') "
    "OR (regexp_matches(address_l, '[0-9]') AND regexp_matches(address_r, '[0-9]') "
    "AND least(length(string_split(address_l, ' ')), length(string_split(address_r, ' '))) >= 3 "
    "AND (list_has_all(string_split(address_r, ' '), string_split(address_l, ' ')) "
    "OR list_has_all(string_split(address_l, ' '), string_split(address_r, ' ')))))"
)
#: One record has no address line to compare: none, or one without a number (a street or a
#: locality alone, as when the parts of an address land in the wrong fields), which cannot
#: tell one house of a postcode from another.
NO_LINE = _c(
    "address_l IS NULL OR address_r IS NULL "
    "OR NOT regexp_matches(address_l, '[0-9]') OR NOT regexp_matches(address_r, '[0-9]')"
)
#: One record has no postcode, and the address lines agree (exactly or in other words).
LINE_WITHOUT_POSTCODE = _c(
    f"(postcode_l IS NULL OR postcode_r IS NULL) AND (address_l = address_r OR {ADDRESS_WORDS})"
)
#: The pair's addresses are one household's, allowing for a slip in the postcode.
SAME_ADDRESS = (
    f"(uprn_l = uprn_r OR postcode_l = postcode_r OR {POSTCODE_TYPO} OR {POSTCODE_TRANSPOSED} "
    f"OR {LINE_WITHOUT_POSTCODE})"
)


def household_conflict_level() -> dict[str, Any]:
    """The address level for pairs at one address whose personal details conflict: m = u, so
    no weight. Added after training (see :func:`with_household_conflict`): its SQL reads the
    personal columns, and Splink's EM does not train a comparison that reads a column of the
    session's blocking rule, so the address comparison is trained without it."""
    return _level(
        f"{SAME_ADDRESS} AND {PERSON_CONFLICT}",
        CONFLICT_LABEL,
        m=NEUTRAL,
        u=NEUTRAL,
    )


def with_household_conflict(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings with the household-conflict level first in the address comparison."""
    for comparison in settings["comparisons"]:
        if comparison["output_column_name"] != "address":
            continue
        levels = comparison["comparison_levels"]
        if any(lv.get("label_for_charts") == CONFLICT_LABEL for lv in levels):
            continue
        at = next(i for i, lv in enumerate(levels) if not lv.get("is_null_level"))
        levels.insert(at, household_conflict_level())
    return settings


SAME_HOUSEHOLD = _c(
    "(uprn_l = uprn_r OR postcode_l = postcode_r) AND family_compact_l = family_compact_r"
)
HOUSEHOLD_LABEL = "exact, same address and family name"


HOUSEHOLD_COLUMNS = {
    "given_name": "given_name",
    "middle_names": "middle_names",
    "date_of_birth": "dob",
}


def with_household_context(settings: dict[str, Any], u: dict[str, float]) -> dict[str, Any]:
    """Settings where an exact given name, middle names or date of birth *within a household*
    (same address and family name) has its own level (``u`` by comparison name). m is the
    trained m of "exact" (recording a name or a date right does not depend on where one
    lives); u is the chance that two different people
    of one household share it (a junior and senior, twins), estimated from the data by
    :func:`joinedup.linkage.u_from_values.household_u`, not from random pairs. Random pairs make a
    shared date of birth look like overwhelming evidence; within a household it is not."""
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        if name not in HOUSEHOLD_COLUMNS or name not in u:
            continue
        levels = comparison["comparison_levels"]
        if any(lv.get("label_for_charts") == HOUSEHOLD_LABEL for lv in levels):
            continue
        exact = next(lv for lv in levels if lv.get("label_for_charts") == "exact")
        column = HOUSEHOLD_COLUMNS[name]
        level = _level(
            f"{column}_l = {column}_r AND {SAME_HOUSEHOLD}",
            HOUSEHOLD_LABEL,
            m=float(exact["m_probability"]),
            u=u[name],
        )
        at = next(i for i, lv in enumerate(levels) if not lv.get("is_null_level"))
        levels.insert(at, level)
    return settings


def address() -> dict[str, Any]:
    """Address levels as trained (the household-conflict level is added for scoring).

    One comparison for every part of the address, the post town included: UPRN, address
    line, postcode and town all disagree at once when someone moves, and as separate
    comparisons they would count one move several times over as independent evidence
    against a person whose name and date of birth agree. Here a move is one level,
    "different", whose weight EM learns from the data (people move)."""
    return _comparison(
        "address",
        "Address (household evidence): counts only when the personal details do not conflict",
        [
            _level(
                "(postcode_l IS NULL OR postcode_r IS NULL) AND (uprn_l IS NULL OR uprn_r IS NULL) "
                f"AND (town_l IS NULL OR town_r IS NULL) AND NOT {LINE_WITHOUT_POSTCODE}",
                "missing",
                null=True,
            ),
            _level("uprn_l = uprn_r", "same UPRN"),
            _level("postcode_l = postcode_r AND address_l = address_r", "same address line"),
            _level(
                f"postcode_l = postcode_r AND {ADDRESS_WORDS}",
                "same postcode, the address line in other words",
            ),
            _level(POSTCODE_TYPO, "same address line, postcode mistyped"),
            _level(POSTCODE_TRANSPOSED, "postcode with two characters transposed"),
            # one record has no address line: the postcode is all there is to compare, and is
            # not the neighbour's "same postcode, another line" below (a postcode alone is
            # what a person gives when asked, and what many files hold)
            _level(
                f"postcode_l = postcode_r AND {NO_LINE}",
                "same postcode, no address line to compare",
            ),
            _level("postcode_l = postcode_r", "same postcode"),
            # a file without postcodes (or a record missing one): the address line is all
            # there is, and agreeing it is the same address
            _level(LINE_WITHOUT_POSTCODE, "same address line, no postcode to compare"),
            _level("postcode_sector_l = postcode_sector_r", "same postcode sector"),
            _level("postcode_district_l = postcode_district_r", "same postcode district"),
            _level("town_l = town_r", "same post town"),
            _level(_c(_near("town_l", "town_r")), "post town mistyped"),
            _level("ELSE", "different"),
        ],
    )


#: Person standards, for the "same source" comparison.
SOURCE_STANDARDS = (
    "school_census",
    "electoral_register",
    "council_tax",
    "tenancy",
    "benefit_claim",
    "adult_social_care",
    "childrens_social_care",
    "referral",
    "person",
)


def source() -> dict[str, Any]:
    """Two records from one dataset of one organisation. Some systems list a person once (a
    school census, an electoral register), others many times (one row per claim
    assessment): the weight of "same dataset" is learned per standard. Two records of one
    listing (one assessment of a claim) are two people: :data:`SAME_LISTING`."""
    levels = [
        _level(
            f"dataset_key_l = dataset_key_r AND standard_l = '{standard}'",
            f"same dataset ({standard})",
        )
        for standard in SOURCE_STANDARDS
    ]
    return _comparison(
        "source",
        "Source: both records from the same dataset (by standard), or from different ones",
        [
            _level("dataset_key_l IS NULL OR dataset_key_r IS NULL", "missing", null=True),
            _level(
                "listing_l = listing_r",
                SAME_LISTING,
                m=SAME_LISTING_M,
                u=SAME_LISTING_U,
            ),
            *levels,
            _level("ELSE", "different datasets"),
        ],
    )


def gamma(comparison: dict[str, Any], label: str) -> int:
    """The comparison vector value (``gamma_``) Splink gives the level labelled ``label``."""
    levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
    labels = [lv["label_for_charts"] for lv in levels]
    return len(levels) - 1 - labels.index(label)


def conflict_from_gammas(present: Collection[str] | None = None) -> str:
    """SQL over a predictions table: the pair's personal details conflict (the test of
    :data:`PERSON_CONFLICT`, read from the comparison levels the pair fell into, except that
    given names that are only "similar" conflict where both records hold a date of birth).
    ``present``:
    the table's columns, when a model left out comparisons of absent fields
    (:func:`without_absent`)."""
    given, middle, dob = given_name(), middle_names(), date_of_birth()
    similar, different = gamma(given, "similar"), gamma(given, "different")
    # "similar" given names (no rule relates them: JACK/JAKE, AISHA/AYESHA) conflict only
    # where both records hold a date of birth: twins are told apart by it, and without one a
    # spelling the variant data lacks looks exactly the same
    similar_sql = (
        f"(gamma_given_name = {similar} AND gamma_date_of_birth <> -1)"
        if present is None or "gamma_date_of_birth" in present
        else "FALSE"
    )
    terms = {
        "gamma_given_name": f"(gamma_given_name = {different} OR {similar_sql})",
        "gamma_sex": f"gamma_sex = {gamma(sex(), 'different')}",
        "gamma_middle_names": f"gamma_middle_names = {gamma(middle, 'different')}",
        "gamma_date_of_birth": f"gamma_date_of_birth IN ({gamma(dob, 'different')}, "
        f"{gamma(dob, TOO_YOUNG)})",
    }
    used = [sql for column, sql in terms.items() if present is None or column in present]
    return f"({' OR '.join(used) or 'FALSE'})"


#: The prepared columns each comparison reads values from (one present is enough).
COMPARISON_FIELDS = {
    "given_name": ("given_name",),
    "middle_names": ("middle_first",),
    "family_name": ("family_name",),
    "date_of_birth": ("dob", "adult_by"),
    "sex": ("sex",),
    "address": ("postcode", "uprn", "town"),
    "nhs_number": ("nhs_number",),
    "ni_number": ("ni_number",),
    "upn": ("upn",),
    "other_id": ("other_id",),
    "email": ("email",),
    "source": ("dataset_key",),
}


def without_absent(settings: dict[str, Any], present: Collection[str]) -> dict[str, Any]:
    """Settings without the comparisons none of whose fields (:data:`COMPARISON_FIELDS`) hold
    a value in the data: every pair would fall in their "missing" level, and each costs the
    sampling, EM and scoring of every pair (an analyst's file without an NHS number, sex,
    middle names or e-mail)."""
    settings["comparisons"] = [
        c
        for c in settings["comparisons"]
        if any(f in present for f in COMPARISON_FIELDS.get(c["output_column_name"], ("",)))
        or c["output_column_name"] not in COMPARISON_FIELDS
    ]
    return settings


def same_listing_from_gammas() -> str:
    """SQL over a predictions table with the source comparison: the two records are two
    people of one source listing."""
    return f"gamma_source = {gamma(source(), SAME_LISTING)}"


def comparisons(with_source: bool = True) -> list[dict[str, Any]]:
    """The comparisons of the joinedup person model, in order. ``with_source`` adds the
    same-dataset comparison (records carry ``dataset_key`` and ``standard``)."""
    return [
        given_name(),
        middle_names(),
        family_name(),
        date_of_birth(),
        sex(),
        address(),
        identifier("nhs_number", "NHS number"),
        identifier("ni_number", "National Insurance number"),
        identifier("upn", "Unique Pupil Number"),
        identifier("other_id", "Other identifier (a source's own id, compared for equality)"),
        email(),
        *([source()] if with_source else []),
    ]
