"""Prepare person records for linkage: one SQL query from standard fields to the columns the
comparisons and blocking rules read.

Input: a DuckDB table or view with ``record_key`` (unique) and any of the ``person`` linkage
fields, already normalised the way ingest normalises them (names upper case without accents,
titles or punctuation other than hyphens; postcodes ``SW1A 1AA``; dates as DATE). Output adds
derived columns computed once per record rather than once per pair:

``given_variants``  names related to the given name in the name-variant dataset (to each
                    part of a double given name: DEBBIE for DEBORAH-CHIAMAKA)
``given_sound``     the given name's sound key (Metaphone; Muhammad and Mohammed share one)
``middle_first``    the first middle name (for given/middle shifts)
``family_compact``  letters only, ``MAC`` prefix written ``MC`` (O'Brien, O Brien, OBrien)
``family_parts``    parts of a hyphenated or spaced family name
``dob_str`` …       the date of birth as ``YYYYMMDD`` and its year, month and day
``postcode_sector`` ``SW1A 1`` and ``postcode_district`` ``SW1A``
``address``         address line 1 without punctuation, for households without a UPRN
``adult_by``        the latest birth date the record's role allows (an adult's role), if any
``listing``         the source listing the record is in, where each person is listed once
                    (64 bits of the md5 of its key: compared on every scored pair, so small)
``full_name_block`` the full name (given and family), where at most
                    :data:`FULL_NAME_BLOCK_MAX` records of the table carry it: a blocking
                    key for people known by name alone, whose pairs stay few however large
                    the file (a name more records carry is left to the other rules)

Identifiers that fail their check (NHS number mod 11, UPN check letter, NI number pattern)
are treated as missing: a failed check digit is a typo, never evidence.
"""

from __future__ import annotations

from joinedup.ingest.compile import FIELD_CHECK_SQL
from joinedup.linkage.names import SOUND_KEY
from joinedup.linkage.names import TABLE as VARIANTS
from joinedup.linkage.namesakes import FULL_NAME_SQL
from joinedup.standards import linkage_fields, primary_key
from joinedup.standards.patterns import NI_NUMBER
from joinedup.store.sql import ident

#: The person-standard fields linkage reads: those the standard marks ``x-joinedup-linkage``,
#: less its key (``record_key`` is added by the caller).
LINKAGE_FIELDS: tuple[str, ...] = tuple(
    name for name in linkage_fields("person") if name not in primary_key("person")
)
#: Linkage fields read to form households, not compared between two records.
HOUSEHOLD_FIELDS = ("household_ref",)
#: Linkage fields the model compares: what an analyst may map with ``--map`` and what an
#: explanation shows.
COMPARED_FIELDS: tuple[str, ...] = tuple(f for f in LINKAGE_FIELDS if f not in HOUSEHOLD_FIELDS)

#: Columns of a prepared table that the model reads (besides ``record_key``).
MODEL_COLUMNS = (
    "given_name",
    "middle_names",
    "middle_first",
    "middle_parts",
    "given_variants",
    "given_sound",
    "family_name",
    "family_compact",
    "family_parts",
    "dob",
    "dob_str",
    "dob_year",
    "dob_month",
    "dob_day",
    "sex",
    "postcode",
    "postcode_sector",
    "postcode_district",
    "uprn",
    "address",
    "town",
    "adult_by",
    "listing",
    "nhs_number",
    "upn",
    "ni_number",
    "other_id",
    "email",
)


#: Most records of one table that may carry a full name for it to be a blocking key
#: (``full_name_block``): a name makes at most 190 pairs, so at most ten pairs a record.
FULL_NAME_BLOCK_MAX = 20


def _text(col: str) -> str:
    return f"nullif(trim(CAST({ident(col)} AS VARCHAR)), '')"


def prepare_sql(table: str, columns: list[str], extra: tuple[str, ...] = ()) -> str:
    """SELECT preparing ``table`` (whose columns are ``columns``) for the model.

    Missing linkage fields are NULL. ``extra`` columns of the table are carried through. A
    table with ``organisation``, ``dataset`` and ``standard`` also gets ``dataset_key`` (for
    the same-source comparison). ``rid`` numbers the records in ``record_key`` order.
    """
    have = set(columns)

    def col(name: str) -> str:
        return _text(name) if name in have else "CAST(NULL AS VARCHAR)"

    nhs = col("nhs_number")
    upn = col("upn")
    ni = col("ni_number")
    dob = (
        f"TRY_CAST({ident('date_of_birth')} AS DATE)"
        if "date_of_birth" in have
        else "CAST(NULL AS DATE)"
    )
    uprn = (
        f"CAST(TRY_CAST({ident('uprn')} AS BIGINT) AS VARCHAR)"
        if "uprn" in have
        else "CAST(NULL AS VARCHAR)"
    )
    adult_by = (
        f"TRY_CAST({ident('adult_by')} AS DATE)" if "adult_by" in have else "CAST(NULL AS DATE)"
    )
    source = ""
    if {"organisation", "dataset", "standard"} <= have:
        source = ", s.organisation || '/' || s.dataset AS dataset_key, s.standard AS standard"
        extra = tuple(dict.fromkeys([*extra, "organisation", "dataset", "standard"]))
    carried = "".join(f", s.{ident(c)}" for c in extra)
    family_compact = (
        "nullif(regexp_replace(regexp_replace(s_family, '[^A-Z]', '', 'g'), '^MAC', 'MC'), '')"
    )
    return f"""
    WITH s AS (
        SELECT
            CAST(record_key AS VARCHAR) AS record_key,
            {col("given_name")} AS s_given,
            {col("middle_names")} AS s_middle,
            {col("family_name")} AS s_family,
            {dob} AS s_dob,
            {col("sex")} AS s_sex,
            {col("postcode")} AS s_postcode,
            {uprn} AS s_uprn,
            {col("address_line_1")} AS s_line1,
            {col("town")} AS s_town,
            {adult_by} AS s_adult_by,
            {col("listing")} AS s_listing,
            {nhs} AS s_nhs,
            {upn} AS s_upn,
            {ni} AS s_ni,
            {col("other_id")} AS s_other,
            {col("email")} AS s_email
            {"".join(f", {ident(c)}" for c in extra)}
        FROM {table}
    ),
    sounds AS (
        SELECT g, {SOUND_KEY}(g) AS k FROM (SELECT DISTINCT s_given AS g FROM s) WHERE g IS NOT NULL
    ),
    given_parts AS (
        SELECT g, unnest(string_split_regex(g, '[- ]+')) AS part FROM sounds
    ),
    variants AS (
        SELECT p.g, list_sort(list_distinct(flatten(list(v.variants)))) AS variants
        FROM given_parts p JOIN {VARIANTS} v ON v.name = p.part
        GROUP BY p.g
    )
    SELECT
        (row_number() OVER (ORDER BY s.record_key) - 1)::BIGINT AS rid,
        s.record_key,
        s_given AS given_name,
        s_middle AS middle_names,
        nullif(split_part(s_middle, ' ', 1), '') AS middle_first,
        string_split(s_middle, ' ') AS middle_parts,
        coalesce(v.variants, CAST([] AS VARCHAR[])) AS given_variants,
        snd.k AS given_sound,
        s_family AS family_name,
        {FULL_NAME_SQL} AS full_name,
        CASE WHEN count(*) OVER (PARTITION BY s_given, s_family) <= {FULL_NAME_BLOCK_MAX}
             THEN {FULL_NAME_SQL} END AS full_name_block,
        {family_compact} AS family_compact,
        CASE WHEN s_family IS NOT NULL
             THEN list_filter(string_split_regex(s_family, '[- ]+'), lambda p: length(p) > 1)
        END AS family_parts,
        s_dob AS dob,
        strftime(s_dob, '%Y%m%d') AS dob_str,
        year(s_dob) AS dob_year,
        month(s_dob) AS dob_month,
        day(s_dob) AS dob_day,
        CASE WHEN upper(s_sex) IN ('M', 'F') THEN upper(s_sex) END AS sex,
        s_postcode AS postcode,
        CASE WHEN contains(s_postcode, ' ') THEN left(s_postcode, length(s_postcode) - 2) END
            AS postcode_sector,
        CASE WHEN contains(s_postcode, ' ') THEN split_part(s_postcode, ' ', 1) END
            AS postcode_district,
        s_uprn AS uprn,
        nullif(trim(regexp_replace(regexp_replace(upper(s_line1), '[^A-Z0-9 ]', ' ', 'g'),
            '\\s+', ' ', 'g')), '') AS address,
        s_adult_by AS adult_by,
        md5_number_upper(s_listing) AS listing,
        nullif(trim(regexp_replace(upper(s_town), '[^A-Z ]', '', 'g')), '') AS town,
        CASE WHEN {FIELD_CHECK_SQL["nhs_mod11"]("s_nhs", "", "")} THEN s_nhs END AS nhs_number,
        CASE WHEN {FIELD_CHECK_SQL["upn_check_letter"]("s_upn", "", "")} THEN s_upn END AS upn,
        CASE WHEN regexp_full_match(s_ni, '{NI_NUMBER}') THEN s_ni END AS ni_number,
        upper(s_other) AS other_id,
        CASE WHEN contains(s_email, '@') THEN lower(s_email) END AS email
        {source}
        {carried}
    FROM s
    LEFT JOIN variants v ON v.g = s.s_given
    LEFT JOIN sounds snd ON snd.g = s.s_given
    """
