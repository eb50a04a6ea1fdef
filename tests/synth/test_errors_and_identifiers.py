"""The error model: measured per-field rates, an honest error log, valid identifiers."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from joinedup.standards.identifiers import (
    is_valid_nhs_number,
    is_valid_ni_number,
    is_valid_upn,
    upn_check_letter,
)
from joinedup.synth.errors import digit_typo, postcode_typo, typo
from joinedup.synth.ids import nhs_numbers, ni_strings, upn_check_letters
from joinedup.synth.layouts import all_layouts

from .helpers import read_source

LAYOUTS = all_layouts()


def _entity_rates(out, manifest, field: str, error: str) -> tuple[float, float]:
    """Observed share of source entities (system, organisation, person) with ``error`` in
    ``field``, and the expected share from the configured rates, over exports showing it."""
    con = duckdb.connect()
    files = [
        (f.path, f.system, f.organisation)
        for f in manifest.files
        if f.dataset
        in {
            "school-census",
            "council-tax-accounts",
            "benefit-claims",
            "tenancies",
            "adult-social-care-clients",
            "childrens-social-care-episodes",
            "electoral-register",
            "foodbank-referrals",
        }
    ]
    con.execute("CREATE TABLE files(path VARCHAR, system VARCHAR, org VARCHAR)")
    con.executemany("INSERT INTO files VALUES (?, ?, ?)", files)
    truth = (out / "truth").as_posix()
    entities = con.execute(f"""
        SELECT f.system, count(DISTINCT (f.org, r.person_id))
        FROM read_parquet('{truth}/records.parquet') r JOIN files f ON f.path = r.file
        GROUP BY 1""").fetchall()
    hits = con.execute(f"""
        SELECT count(DISTINCT (f.system, f.org, r.person_id))
        FROM read_parquet('{truth}/errors.parquet') e
        JOIN read_parquet('{truth}/records.parquet') r USING (file, record_id)
        JOIN files f ON f.path = e.file
        WHERE e.field = '{field}' AND e.error = '{error}'""").fetchone()[0]
    return hits, sum(n for _, n in entities), dict(entities)


@pytest.mark.parametrize(
    ("field", "error", "rate_name"),
    [
        ("family_name", "typo", "typo_family"),
        ("given_name", "typo", "typo_given"),
        ("dob", "missing", "missing_dob"),
    ],
)
def test_per_field_error_rates_match_configuration(region, field, error, rate_name):
    out, manifest, config = region
    hits, total, by_system = _entity_rates(out, manifest, field, error)
    base = getattr(config.errors, rate_name) * config.error_rate
    shows_dob = {
        "school-census",
        "benefits",
        "housing",
        "adult-social-care",
        "childrens-social-care",
        "foodbank",
    }
    expected = sum(
        n * base * config.system_error_scale[s]
        for s, n in by_system.items()
        if field != "dob" or s in shows_dob
    )
    assert total > 20000
    assert abs(hits - expected) < 0.15 * expected + 10, (hits, expected)


def test_conditional_errors_occur(region):
    out, _, _ = region
    errors = pq.read_table(out / "truth" / "errors.parquet")
    kinds = set(
        zip(errors.column("field").to_pylist(), errors.column("error").to_pylist(), strict=True)
    )
    for expected in [
        ("given_name", "nickname"),
        ("family_name", "maiden_name"),
        ("family_name", "hyphen_part"),
        ("family_name", "family_variant"),
        ("given_name", "name_swap"),
        ("dob", "day_month_swap"),
        ("dob", "dob_digit"),
        ("address", "stale_address"),
        ("postcode", "postcode_typo"),
        ("postcode", "missing"),
        ("uprn", "missing"),
        ("upn", "identifier_typo"),
        ("ni_number", "missing"),
        ("middle_name", "missing"),
        ("joint_family_name", "typo"),
    ]:
        assert expected in kinds, expected


def test_error_log_is_honest(region):
    """Rows with no logged name or dob error show the true values; logged typos differ."""
    out, manifest, _ = region
    people = pq.read_table(out / "truth" / "people.parquet").to_pydict()
    records = pq.read_table(out / "truth" / "records.parquet")
    errors = pq.read_table(out / "truth" / "errors.parquet")
    entry = manifest.files_for("school-census", "lambeth")[0]
    table = read_source(out, entry).to_pydict()
    sub = records.filter(pc.equal(records.column("file"), entry.path)).to_pydict()
    person = dict(zip(sub["record_id"], sub["person_id"], strict=True))
    logged: dict[tuple[str, str], set[str]] = {}
    esub = errors.filter(pc.equal(errors.column("file"), entry.path)).to_pydict()
    for rid, f, e in zip(esub["record_id"], esub["field"], esub["error"], strict=True):
        logged.setdefault((rid, f), set()).add(e)
    checked = typos = 0
    for rid, surname, dob in zip(
        table["Pupil ID"], table["Surname"], table["Date of Birth"], strict=True
    ):
        p = person[rid]
        if (rid, "family_name") not in logged and (rid, "given_name") not in logged:
            assert surname == people["family_name"][p], (rid, surname)
            checked += 1
        elif logged.get((rid, "family_name")) == {"typo"}:
            assert surname != people["family_name"][p]
            typos += 1
        if (rid, "dob") not in logged:
            d, m, y = (int(x) for x in dob.split("/"))
            assert date(y, m, d) == people["dob"][p]
    assert checked > 500 and typos > 0


def test_identifiers_valid_except_deliberate_corruptions(region):
    out, manifest, _ = region
    errors = pq.read_table(out / "truth" / "errors.parquet")
    corrupted = set(
        zip(
            errors.column("file").to_pylist(),
            errors.column("record_id").to_pylist(),
            errors.column("field").to_pylist(),
            strict=True,
        )
    )
    n_upn = bad_upn = 0
    for entry in manifest.files_for("school-census"):
        layout = LAYOUTS[(entry.dataset, entry.organisation)]
        upn_col = next(c.name for c in layout.columns if c.field == "upn")
        rid_col = next(c.name for c in layout.columns if c.field == "pupil_ref")
        t = read_source(out, entry).to_pydict()
        for rid, upn in zip(t[rid_col], t[upn_col], strict=True):
            if upn is None:
                continue
            n_upn += 1
            if (entry.path, rid, "upn") in corrupted:
                bad_upn += not is_valid_upn(upn)
            else:
                assert is_valid_upn(upn), upn
    assert n_upn > 10000 and bad_upn > 0
    for org in ("lambeth", "wandsworth"):  # plain and "943 476 5919" formats
        entry = manifest.files_for("adult-social-care-clients", org)[0]
        column = next(
            c.name for c in LAYOUTS[(entry.dataset, org)].columns if c.field == "nhs_number"
        )
        id_column = next(
            c.name for c in LAYOUTS[(entry.dataset, org)].columns if c.field == "client_id"
        )
        t = read_source(out, entry).to_pydict()
        for rid, nhs in zip(t[id_column], t[column], strict=True):
            if nhs is not None and (entry.path, rid, "nhs_number") not in corrupted:
                assert is_valid_nhs_number(nhs), nhs
    entry = manifest.files_for("benefit-claims", "southwark")[0]
    nis = [v for v in read_source(out, entry).column("nino").to_pylist() if v]
    assert len(nis) > 500 and all(is_valid_ni_number(v) for v in nis)


def test_vectorised_identifiers_agree_with_scalar_rules():
    nhs = nhs_numbers(3000, seed=3)
    assert len(set(nhs.tolist())) == 3000
    assert all(is_valid_nhs_number(str(n)) and str(n).startswith("9") for n in nhs)
    rng = np.random.default_rng(1)
    twelve = rng.integers(0, 10**12, 2000)
    letters = upn_check_letters(twelve)
    from joinedup.standards.identifiers import UPN_LETTERS

    assert all(
        UPN_LETTERS[letter] == upn_check_letter(f"{t:012d}")
        for t, letter in zip(twelve.tolist(), letters.tolist(), strict=True)
    )
    prefix = rng.integers(0, 300, 500).astype(np.int32)
    rest = rng.integers(0, 4_000_000, 500).astype(np.int32)
    assert all(is_valid_ni_number(v) for v in ni_strings(prefix, rest).to_pylist())


def test_error_primitives():
    assert typo("Smith", 0, 1, 0) != "Smith"
    assert len(typo("Smith", 1, 2, 0)) == 4
    assert sorted(typo("Jones", 3, 1, 0)) == sorted("Jones")
    changed = digit_typo("9434765919", 1, 3, 4)
    assert changed != "9434765919" and not is_valid_nhs_number(changed)
    assert not is_valid_nhs_number(digit_typo("9434765919", 0, 0, 0))
    assert postcode_typo("SE15 4TB", 1, 0) == "SE15 4BT"
