"""Comparisons on hand-made pairs: each lands in the level meant for it, and the full model
keeps twins and a junior and senior at one address apart."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest

from joinedup.linkage import comparisons as c
from joinedup.linkage import model as m
from joinedup.linkage import u_from_values
from joinedup.linkage.names import are_variants, register_variants
from joinedup.linkage.prepare import prepare_sql

FIELDS = (
    "record_key",
    "given_name",
    "middle_names",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "uprn",
    "address_line_1",
    "town",
    "nhs_number",
    "ni_number",
    "adult_by",
)


def _prepared(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], name: str) -> str:
    data = {f: [r.get(f) for r in rows] for f in FIELDS}
    con.register(f"{name}_raw", pa.table(data))
    con.execute(f"CREATE OR REPLACE TABLE {name}_in AS SELECT * FROM {name}_raw")
    con.execute(f"CREATE OR REPLACE TABLE {name} AS {prepare_sql(f'{name}_in', list(FIELDS))}")
    return name


def _level(con: duckdb.DuckDBPyConnection, comparison: dict[str, Any], table: str) -> str:
    """The label of the level the pair (rid 0, rid 1) falls into."""
    whens = " ".join(
        f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts'].replace(chr(39), chr(39) * 2)}'"
        for lv in comparison["comparison_levels"]
        if lv["sql_condition"] != "ELSE"
    )
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    select = ", ".join([f"l.{x} AS {x}_l" for x in cols] + [f"r.{x} AS {x}_r" for x in cols])
    sql = (
        f"SELECT CASE {whens} ELSE 'different' END FROM "
        f"(SELECT {select} FROM {table} l, {table} r WHERE l.rid = 0 AND r.rid = 1)"
    )
    return str(con.execute(sql).fetchall()[0][0])


BASE = {
    "given_name": "ROBERT",
    "family_name": "SMITH",
    "date_of_birth": "1980-02-01",
    "sex": "M",
    "postcode": "SW1A 1AA",
}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    register_variants(connection)
    return connection


def pair(con: duckdb.DuckDBPyConnection, a: dict[str, Any], b: dict[str, Any]) -> str:
    return _prepared(con, [{"record_key": "a", **a}, {"record_key": "b", **b}], "p")


@pytest.mark.parametrize(
    ("left", "right", "comparison", "label"),
    [
        (
            {"given_name": "ROBERT"},
            {"given_name": "BOB"},
            c.given_name(),
            "name variant (nickname or diminutive)",
        ),
        (
            {"given_name": "ELIZABETH"},
            {"given_name": "LIZ"},
            c.given_name(),
            "name variant (nickname or diminutive)",
        ),
        ({"given_name": "MOHAMMED"}, {"given_name": "MOHAMED"}, c.given_name(), "typo"),
        (
            {"given_name": "MUHAMMAD"},
            {"given_name": "MOHAMMED"},
            c.given_name(),
            "sounds alike (another spelling)",
        ),
        (
            {"given_name": "PIOTR"},
            {"given_name": "PETER"},
            c.given_name(),
            "sounds alike (another spelling)",
        ),
        (
            {"given_name": "RAJ"},
            {"given_name": "RAJESH"},
            c.given_name(),
            "short form (start or end of the other)",
        ),
        (
            {"given_name": "OLUWAKEMI"},
            {"given_name": "KEMI"},
            c.given_name(),
            "short form (start or end of the other)",
        ),
        # one-letter sound keys (JOAO, JAY: "J") and two-letter ends (JOSE, ZE) say too little
        ({"given_name": "JOAO"}, {"given_name": "JAY"}, c.given_name(), "different"),
        ({"given_name": "JOSE"}, {"given_name": "ZE"}, c.given_name(), "different"),
        (
            {"given_name": "ANNE", "middle_names": "MARIE"},
            {"given_name": "MARIE"},
            c.given_name(),
            "given/middle name shift",
        ),
        (
            {"given_name": "SMITH", "family_name": "ROBERT"},
            {"given_name": "ROBERT", "family_name": "SMITH"},
            c.given_name(),
            "given and family names swapped",
        ),
        (
            {"given_name": "SMITH", "family_name": "ROBERT"},
            {"given_name": "ROBERT", "family_name": "SMITH"},
            c.family_name(),
            "given and family names swapped",
        ),
        (
            {"given_name": "HANNAH", "family_name": "MIHAL"},
            {"given_name": "MIHAL", "family_name": "HANNSH"},
            c.given_name(),
            "swapped, with a typo",
        ),
        (  # twins share a family name: a swap on one twin's record is no evidence
            {"given_name": "KEISHA", "family_name": "FRANCIS"},
            {"given_name": "FRANCIS", "family_name": "KERRY-ANN"},
            c.given_name(),
            "different",
        ),
        (
            {"given_name": "HANNAH", "family_name": "MIHAL"},
            {"given_name": "MIHAL", "family_name": "HANNSH"},
            c.family_name(),
            "given and family names swapped",
        ),
        (
            {"ni_number": "JG103759A"},
            {"ni_number": "JG103795A"},
            c.identifier("ni_number", "NI number"),
            "two characters transposed",
        ),
        # the post town is part of the one address comparison: a move counts once
        (
            {"town": "FRANKSTON", "postcode": "SE1 2AB"},
            {"town": "FRANKS GON", "postcode": "CR0 1AA"},
            c.address(),
            "post town mistyped",
        ),
        (
            {"town": "LONDON", "postcode": None},
            {"town": "CROYDON", "postcode": None},
            c.address(),
            "different",
        ),
        (
            {"postcode": "SE1 2AB", "town": "LONDON"},
            {"postcode": "SE1 2XY", "town": "LONDON"},
            c.address(),
            "same postcode sector",
        ),
        (  # moved to another borough: postcode, line and town all differ, one level
            {"postcode": "SE1 2AB", "address_line_1": "1 HIGH ST", "town": "LONDON"},
            {"postcode": "CR0 1AA", "address_line_1": "9 PARK RD", "town": "CROYDON"},
            c.address(),
            "different",
        ),
        (  # the parts of an address in another order, or a locality run into the line
            {"postcode": "SE22 9GE", "address_line_1": "Flat 9 Acre Point, Peckham"},
            {"postcode": "SE22 9GE", "address_line_1": "PECKHAM FLAT 9 ACRE POINT"},
            c.address(),
            "same postcode, the address line in other words",
        ),
        (
            {"postcode": "SE23 3FZ", "address_line_1": "FLAT 8 COBDEN HOUSE"},
            {"postcode": "SE23 3FZ", "address_line_1": "FLAT 8 COBDEN HOUSE HANOVER MEWS"},
            c.address(),
            "same postcode, the address line in other words",
        ),
        (  # spaces keyed differently
            {"postcode": "4227", "address_line_1": "15 GOODWINSTREET"},
            {"postcode": "4227", "address_line_1": "15 GOODWIN STREET"},
            c.address(),
            "same postcode, the address line in other words",
        ),
        (  # FLAT 8 alone says nothing about which building
            {"postcode": "SE23 3FZ", "address_line_1": "FLAT 8"},
            {"postcode": "SE23 3FZ", "address_line_1": "FLAT 8 COBDEN HOUSE"},
            c.address(),
            "same postcode",
        ),
        (  # a line without a number (a street or locality alone) cannot tell neighbours apart
            {"postcode": "SW8 1GB", "address_line_1": "CLAPHAM"},
            {"postcode": "SW8 1GB", "address_line_1": "30 UNION HILL"},
            c.address(),
            "same postcode, no address line to compare",
        ),
        (  # the same line where one record has no postcode
            {"postcode": None, "address_line_1": "13 BARRINGTON CRESCENT"},
            {"postcode": "SW15 7GG", "address_line_1": "13 BARRINGTON CRESCENT BATTERSEA"},
            c.address(),
            "same address line, no postcode to compare",
        ),
        (
            {"postcode": None, "address_line_1": "13 BARRINGTON CRESCENT"},
            {"postcode": "SW15 7GG", "address_line_1": "2 PARK ROAD"},
            c.address(),
            "missing",
        ),
        (  # a nickname of one part of a double given name
            {"given_name": "DEBORAH-CHIAMAKA"},
            {"given_name": "DEBBIE"},
            c.given_name(),
            "name variant (nickname or diminutive)",
        ),
        (  # one character different: sequential ids of two people, not a slip
            {"ni_number": "JG103759A"},
            {"ni_number": "JG103758A"},
            c.identifier("ni_number", "NI number"),
            "different",
        ),
        (
            {"family_name": "SMITH-JONES"},
            {"family_name": "JONES"},
            c.family_name(),
            "part of a double name",
        ),
        (
            {"family_name": "O BRIEN"},
            {"family_name": "OBRIEN"},
            c.family_name(),
            "same letters (spacing, Mc/Mac)",
        ),
        (
            {"family_name": "MACDONALD"},
            {"family_name": "MCDONALD"},
            c.family_name(),
            "same letters (spacing, Mc/Mac)",
        ),
        (
            {"date_of_birth": "1980-02-01"},
            {"date_of_birth": "1980-01-02"},
            c.date_of_birth(),
            "day and month transposed",
        ),
        (
            {"date_of_birth": "1980-02-01"},
            {"date_of_birth": "1980-02-07"},
            c.date_of_birth(),
            "one digit, one day, a year or ten years out",
        ),
        (
            {"date_of_birth": "1980-02-01"},
            {"date_of_birth": "1990-02-01"},
            c.date_of_birth(),
            "one digit, one day, a year or ten years out",
        ),
        (
            {"date_of_birth": "1980-02-01"},
            {"date_of_birth": "1955-07-19"},
            c.date_of_birth(),
            "different",
        ),
        (
            {"date_of_birth": None, "adult_by": "2008-10-01"},
            {"date_of_birth": "2017-09-01"},
            c.date_of_birth(),
            c.TOO_YOUNG,
        ),
    ],
)
def test_levels(con, left, right, comparison, label) -> None:
    table = pair(con, {**BASE, **left}, {**BASE, **right})
    assert _level(con, comparison, table) == label


def test_letters_unicode_does_not_decompose_are_spelled_plainly() -> None:
    from joinedup.ingest.normalise import name_sql

    sql = name_sql("'Małgorzata Søren-Straße Œuvre'")
    assert duckdb.sql(f"SELECT {sql}").fetchall()[0][0] == "MALGORZATA SOREN-STRASSE OEUVRE"
    # a letter lost in an encoding conversion (PAWEŁ written PAWE?) leaves the name one word
    sql = name_sql("'Bart?omiej Ma\ufffdgorzata'")
    assert duckdb.sql(f"SELECT {sql}").fetchall()[0][0] == "BARTOMIEJ MAGORZATA"


def test_variants_come_from_the_package_dataset() -> None:
    assert are_variants("Robert", "Bob") and are_variants("harry", "HENRY")
    assert not are_variants("James", "Benjamin")  # both related to Jamie: one hop only


def test_household_evidence_does_not_count_for_conflicting_people(con) -> None:
    twin = {**BASE, "given_name": "ANTHONY", "uprn": 100}
    other = {**BASE, "given_name": "JONATHAN", "uprn": 100}
    address = next(
        x
        for x in c.with_household_conflict(m.settings_dict())["comparisons"]
        if x["output_column_name"] == "address"
    )
    assert _level(con, address, pair(con, twin, other)) == c.CONFLICT_LABEL
    same = pair(con, {**BASE, "uprn": 100}, {**BASE, "given_name": "BOB", "uprn": 100})
    assert _level(con, address, same) == "same UPRN"


def _probabilities(con, rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    table = _prepared(con, rows, "people")
    settings, _ = m.reference_settings("dedupe_only", [50_000], with_source=False)
    linker = m.make_linker(con, [table], settings)
    out = linker.inference.predict(warning_mode="never")
    result = con.execute(
        f"SELECT a.record_key, b.record_key, p.match_probability FROM {out.physical_name} p "
        f"JOIN {table} a ON a.rid = p.rid_l JOIN {table} b ON b.rid = p.rid_r"
    ).fetchall()
    return {(a, b): float(prob) for a, b, prob in result}


def test_twins_at_one_address_stay_apart_and_the_same_child_links(con) -> None:
    home = {
        "family_name": "EVANS",
        "date_of_birth": "2014-02-06",
        "sex": "M",
        "postcode": "SE1 7PB",
        "uprn": 900001,
    }
    probabilities = _probabilities(
        con,
        [
            {"record_key": "census/anthony", "given_name": "ANTHONY", **home},
            {"record_key": "census/jonathan", "given_name": "JONATHAN", **home},
            {"record_key": "benefits/jon", "given_name": "JON", **home},
        ],
    )
    assert probabilities[("census/anthony", "census/jonathan")] < 0.5
    assert probabilities[("benefits/jon", "census/jonathan")] > 0.9


def test_junior_and_senior_at_one_address_stay_apart(con) -> None:
    home = {
        "given_name": "SEAN",
        "family_name": "OBRIEN",
        "sex": "M",
        "postcode": "SE13 7AU",
        "uprn": 900002,
    }
    probabilities = _probabilities(
        con,
        [
            {"record_key": "benefits/senior", "date_of_birth": "1983-07-19", **home},
            {"record_key": "benefits/junior", "date_of_birth": "2020-01-21", **home},
            {
                "record_key": "council-tax/senior",
                "date_of_birth": None,
                "adult_by": "2008-10-01",
                **home,
            },
        ],
    )
    assert probabilities[("benefits/junior", "benefits/senior")] < 0.5
    assert probabilities.get(("benefits/junior", "council-tax/senior"), 0.0) < 0.5
    assert probabilities[("benefits/senior", "council-tax/senior")] > 0.9


def test_identifier_u_counts_transpositions_from_the_values(con) -> None:
    ids = ["1234567", "1234576", "7654321", "1111111"]  # one transposed pair of four values
    con.register("ids_raw", pa.table({c: ids for c in u_from_values.EXACT_IDS}))
    con.execute("CREATE TABLE ids AS SELECT * FROM ids_raw")
    u = u_from_values.identifier_u(con, ["ids"])["nhs_number"]
    assert u[m.SAME] == pytest.approx(4 / 16)
    assert u[m.TRANSPOSED] == pytest.approx(2 / 16)  # each of the pair, in either order


def test_one_edit_guard_agrees_with_the_distance() -> None:
    """The cheap test in front of the Damerau-Levenshtein distance never changes its answer."""
    names = [
        "ANN",
        "ANNE",
        "NAN",
        "AN",
        "A",
        "JON",
        "JOHN",
        "JHON",
        "OJHN",
        "JOHNS",
        "SMITH",
        "SMTIH",
        "MSITH",
        "SMITHS",
        "MITH",
        "SMYTH",
        "SE13 4NT",
        "SE13 4TN",
        "SE1 34NT",
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE v AS SELECT unnest(?) AS a", [names])
    rows = con.execute(
        f"""SELECT l.a, r.a, damerau_levenshtein(l.a, r.a) <= 1, {c.one_edit("l.a", "r.a")},
        damerau_levenshtein(l.a, r.a) = 1 AND levenshtein(l.a, r.a) = 2,
        {c.transposed("l.a", "r.a")} FROM v l, v r"""
    ).fetchall()
    assert any(r[2] for r in rows if r[0] != r[1]) and any(r[4] for r in rows)
    assert [r[:2] for r in rows if r[2] != r[3] or r[4] != r[5]] == []


def test_a_full_name_is_a_blocking_key_only_while_few_records_carry_it(con) -> None:
    # a mover known by name alone (no date of birth, another postcode) is blocked with their
    # other record; a name more than FULL_NAME_BLOCK_MAX records carry makes no pairs by it
    from joinedup.linkage.prepare import FULL_NAME_BLOCK_MAX

    rare = [
        {**BASE, "record_key": "a", "given_name": "ANDREI", "family_name": "MORRIS"},
        {
            **BASE,
            "record_key": "b",
            "given_name": "ANDREI",
            "family_name": "MORRIS",
            "date_of_birth": None,
            "postcode": "SE4 1AA",
        },
    ]
    common = [
        {**BASE, "record_key": f"c{i:03d}", "given_name": "JOHN", "date_of_birth": None}
        for i in range(FULL_NAME_BLOCK_MAX + 1)
    ]
    table = _prepared(con, rare + common, "names")
    rule = next(r for r in m.BLOCKING_RULES if "full_name_block" in r)
    pairs = con.execute(
        f"SELECT l.record_key, r.record_key FROM {table} l JOIN {table} r "
        f"ON l.rid < r.rid AND {rule}"
    ).fetchall()
    assert pairs == [("a", "b")]
