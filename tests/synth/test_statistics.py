"""Generated statistics against the configured rates (20,000 residents; tolerances allow for
sampling noise at that size, where households cluster children and moves)."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from joinedup.synth.layouts import all_layouts

from .helpers import read_source


def _fsm(out):
    return pq.read_table(out / "truth" / "fsm_eligibility.parquet")


def test_cross_borough_schooling_rate(region):
    out, _, config = region
    fsm = _fsm(out)
    first = fsm.filter(pc.equal(fsm.column("month"), config.start_month))
    cross = np.mean(
        np.array(first.column("home_borough").to_pylist(), dtype=object)
        != np.array(first.column("school_borough").to_pylist(), dtype=object)
    )
    assert abs(cross - config.cross_borough_school_rate) < 0.03, cross
    # pupils who move borough mostly keep their school, so the share drifts up a little
    months = fsm.column("month").to_numpy(zero_copy_only=False)
    home = fsm.column("home_borough").to_numpy(zero_copy_only=False)
    school = fsm.column("school_borough").to_numpy(zero_copy_only=False)
    overall = np.mean(home != school)
    assert 0.15 <= overall <= 0.23, overall
    assert len(set(months)) == config.months


def test_underclaiming_rate_and_intervention(region):
    out, _, config = region
    fsm = _fsm(out).to_pydict()
    month = np.array(fsm["month"])
    home = np.array(fsm["home_borough"])
    school = np.array(fsm["school_borough"])
    eligible = np.array(fsm["eligible"])
    registered = np.array(fsm["registered"])
    before = month < config.intervention_month
    unregistered = eligible & ~registered
    comparison = home != config.intervention_borough
    rate = unregistered[comparison].sum() / eligible[comparison].sum()
    assert abs(rate - config.fsm_underclaim_rate) < 0.035, rate
    target = (home == config.intervention_borough) & (school == config.intervention_borough)
    pre = unregistered[target & before].sum() / eligible[target & before].sum()
    post = unregistered[target & ~before].sum() / eligible[target & ~before].sum()
    assert abs(pre - config.fsm_underclaim_rate) < 0.05, pre
    assert post < pre * 0.5, (pre, post)
    auto = np.array(fsm["auto_enrolled"])
    assert not auto[before].any() and auto[target & ~before].any()
    assert not auto[~target].any()  # other boroughs' schools are not reached


def test_fsm_rule_versions_change_in_september_2026(region):
    out, _, _ = region
    fsm = _fsm(out).to_pydict()
    month = np.array(fsm["month"])
    rule = np.array(fsm["rule_version"])
    assert set(rule[month < "2026-09"]) == {"fsm-2018"}
    assert set(rule[month >= "2026-09"]) == {"fsm-2026"}
    eligible = np.array(fsm["eligible"])
    before = eligible[(month >= "2026-06") & (month < "2026-09")].mean()
    after = eligible[(month >= "2026-09") & (month < "2026-12")].mean()
    assert 0.12 < before < 0.35 and after > before * 1.2, (before, after)


def test_census_fsm_flag_matches_truth(region):
    out, manifest, _ = region
    records = pq.read_table(out / "truth" / "records.parquet")
    fsm = _fsm(out)
    truth_reg = {}
    for p, m, r in zip(
        fsm.column("person_id").to_pylist(),
        fsm.column("month").to_pylist(),
        fsm.column("registered").to_pylist(),
        strict=True,
    ):
        truth_reg[(p, m)] = r
    agree = total = 0
    for entry in manifest.files_for("school-census", "lambeth"):
        table = read_source(out, entry)
        sub = records.filter(pc.equal(records.column("file"), entry.path))
        person = dict(
            zip(
                sub.column("record_id").to_pylist(),
                sub.column("person_id").to_pylist(),
                strict=True,
            )
        )
        for ref, flag in zip(
            table.column("Pupil ID").to_pylist(), table.column("FSM").to_pylist(), strict=True
        ):
            key = (person[ref], entry.period)
            if key in truth_reg:
                total += 1
                agree += (flag == "Yes") == truth_reg[key]
    assert total > 1000 and agree / total > 0.98, (agree, total)


def _sql(out, query: str) -> list[tuple]:
    con = duckdb.connect()
    for name in ("people", "pairs", "households", "moves"):
        path = (out / "truth" / f"{name}.parquet").as_posix()
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return con.execute(query).fetchall()


def test_twins_junior_senior_and_common_names(region):
    out, _, _ = region
    ((twins, same_dob, same_family, diff_given),) = _sql(
        out,
        """
        SELECT count(*), sum((a.dob = b.dob)::INT), sum((a.family_name = b.family_name)::INT),
               sum((a.given_name <> b.given_name)::INT)
        FROM pairs p JOIN people a ON a.person_id = p.person_a
                     JOIN people b ON b.person_id = p.person_b
        WHERE p.kind = 'twin'""",
    )
    assert twins > 50 and same_dob == twins and same_family == twins and diff_given == twins
    ((juniors, same_given, older),) = _sql(
        out,
        """
        SELECT count(*), sum((a.given_name = b.given_name)::INT), sum((a.dob < b.dob)::INT)
        FROM pairs p JOIN people a ON a.person_id = p.person_a
                     JOIN people b ON b.person_id = p.person_b
        WHERE p.kind = 'junior_senior'""",
    )
    assert juniors > 30 and same_given == juniors and older == juniors
    ((most_common,),) = _sql(
        out,
        """SELECT max(n) FROM (SELECT count(*) n FROM people
                                   GROUP BY given_name, family_name)""",
    )
    assert most_common >= 10  # common names are shared by many people
    groups = _sql(out, "SELECT origin_group, count(*) FROM people GROUP BY 1")
    total = sum(n for _, n in groups)
    assert len(groups) >= 12 and max(n for _, n in groups) / total < 0.45
    ((married, hyphenated),) = _sql(
        out,
        """
        SELECT sum((family_name <> birth_family_name)::INT),
               sum((family_name LIKE '%-%' AND family_name NOT LIKE 'Al-%')::INT) FROM people""",
    )
    assert married > 500 and hyphenated > 100


def test_moves_deaths_births(region):
    out, _, config = region
    years = config.months / 12
    ((expected, households),) = _sql(
        out,
        f"""
        SELECT avg(1 - pow(1 - CASE tenure_start
                   WHEN 'owner occupied' THEN {config.move_rate_owner}
                   WHEN 'private rent' THEN {config.move_rate_private_rent}
                   ELSE {config.move_rate_social_rent} END, {years})), count(*)
        FROM households""",
    )
    ((moved, between, same),) = _sql(
        out,
        """
        SELECT count(*), avg((from_borough <> to_borough)::INT), sum((from_uprn = to_uprn)::INT)
        FROM moves""",
    )
    assert abs(moved / households - expected) < 0.02, (moved / households, expected)
    assert abs(between - (1 - config.move_within_borough_share)) < 0.05, between
    assert same == 0
    # nobody moves into an address another household still occupies
    ((clash,),) = _sql(
        out,
        """
        SELECT count(*) FROM moves m JOIN households h ON h.uprn_start = m.to_uprn
        WHERE h.move_date IS NULL OR h.move_date > m.move_date""",
    )
    assert clash == 0
    ((born, died),) = _sql(out, "SELECT sum(born_in_window::INT), count(dod) FROM people")
    assert 0.01 < born / config.residents < 0.06, born
    assert 0.003 < died / config.residents < 0.03, died


def test_gazetteer_areas_and_postcodes(region):
    out, manifest, config = region
    from joinedup.standards.identifiers import is_valid_gss_code, normalise_postcode

    (entry,) = manifest.files_for("address-gazetteer")
    gaz = read_source(out, entry).to_pydict()
    uprns = gaz["UPRN"]
    assert len(set(uprns)) == len(uprns) and all(len(u) == 12 for u in uprns)
    districts = {b.gss_code: {d for d, _ in b.districts} for b in config.boroughs}
    for pc_, la in zip(gaz["POSTCODE"], gaz["LA_GSS_CODE"], strict=True):
        assert normalise_postcode(pc_) == pc_
        assert pc_.split(" ")[0] in districts[la]
    assert all(is_valid_gss_code(c, "E05") for c in gaz["WARD_GSS_CODE"])
    assert all(is_valid_gss_code(c, "E01") for c in gaz["LSOA_GSS_CODE"])
    areas = pq.read_table(out / "truth" / "areas.parquet").to_pydict()
    kind = np.array(areas["type"])
    size = np.array(areas["residents_start"])
    assert 1000 < size[kind == "lsoa"].mean() < 2200 and size[kind == "lsoa"].min() > 300
    assert 1000 < size[kind == "ward"].mean() < 20000


def test_layout_record_ids_and_references_do_not_leak_identity(region):
    out, manifest, _ = region
    layouts = all_layouts()
    lambeth = read_source(out, manifest.files_for("school-census", "lambeth")[0])
    southwark = read_source(out, manifest.files_for("school-census", "southwark")[0])
    assert not (
        set(lambeth.column("Pupil ID").to_pylist()) & set(southwark.column("PUPIL_ID").to_pylist())
    )
    assert layouts[("school-census", "lambeth")].mapping == "synth/school-census-lambeth.yaml"
