"""Orchestration: build the synthetic world, then let every system write its exports.

``generate_region(config, out_dir)`` is the Python API (the CLI and the demo call it). Output:

* ``manifest.json`` — see :mod:`joinedup.synth.manifest`;
* ``<organisation>/…`` — each organisation's source files;
* ``gazetteer/synthetic-gazetteer.csv`` — the address gazetteer (synthetic);
* ``boundaries/{lad,ward,lsoa}.geojson`` — generated area boundaries that nest (manifest
  key ``boundaries``; loaded with `joinedup areas load-boundaries`, never ingested);
* ``truth/…`` — ground truth, never to be ingested (see :mod:`joinedup.synth.truth`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import SynthConfig
from .geography import TENURE_NAMES, boundary_collections, build_gazetteer
from .layouts import GAZETTEER_LAYOUT
from .manifest import FileEntry, Manifest, Organisation
from .names import GROUPS, NameBank
from .population import HOUSEHOLD_TYPES, ROLES, generate_population, household_plan
from .records import World
from .render import write_table
from .schools import assign_pupils, build_schools, pupils_on
from .systems import SYSTEMS
from .systems.base import Output
from .timeline import add_births, apply_deaths, build_timeline
from .truth import TruthWriter
from .util import NO_DAY, day_to_date, month_label, month_starts, stream

Progress = Callable[[str, float], None]
FOODBANK = Organisation("foodbank", "South London Food Bank Network (synthetic)", "voluntary")
HUB = Organisation("hub", "South London Regional Data Hub", "hub")
# rough share of generation time per stage, for the progress bar
_STAGE_WEIGHTS = {
    "world": 0.05,
    "school-census": 0.085,
    "revenues": 0.14,
    "benefits": 0.3,
    "housing": 0.065,
    "adult-social-care": 0.05,
    "childrens-social-care": 0.035,
    "electoral": 0.055,
    "foodbank": 0.02,
    "finance": 0.08,
    "truth": 0.12,
}


def build_world(config: SynthConfig) -> World:
    """Generate the region: gazetteer, people, timeline, schools and pupils."""
    config.validate()
    bank = NameBank.build()
    kind, size, kids = household_plan(config)
    weights = np.array([b.population_weight for b in config.boroughs], dtype=np.float64)
    rng = stream(config.seed, "household-borough")
    hh_borough = rng.choice(len(weights), size=kind.size, p=weights / weights.sum()).astype(np.int8)
    households_per_borough = np.bincount(hh_borough, minlength=len(weights))
    people_per_borough = np.bincount(hh_borough, weights=size, minlength=len(weights)).astype(
        np.float64
    )
    gazetteer = build_gazetteer(config, households_per_borough, people_per_borough)
    people, households, spare = generate_population(
        config, bank, gazetteer, kind, size, kids, hh_borough
    )
    months = month_starts(config.start_date, config.months)
    start, end = int(months[0]), int(months[-1])
    apply_deaths(config, people, start, end)
    people = add_births(config, bank, people, spare, start, end)
    timeline = build_timeline(config, people, households, gazetteer)
    schools = build_schools(config, people_per_borough)
    pupils = assign_pupils(config, people, timeline, schools)
    return World(config, bank, gazetteer, people, households, timeline, schools, pupils)


def _prepare(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / "manifest.json").exists():
            raise FileExistsError(
                f"{out_dir} is not empty and holds no synthetic region: choose an empty folder"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def generate_region(
    config: SynthConfig, out_dir: Path, progress: Progress | None = None
) -> Manifest:
    """Generate a synthetic region into ``out_dir`` and return its manifest."""
    out_dir = Path(out_dir)
    done = 0.0

    def step(stage: str) -> None:
        nonlocal done
        done += _STAGE_WEIGHTS.get(stage, 0.0)
        if progress is not None:
            progress(stage, min(done, 1.0))

    config.validate()
    _prepare(out_dir)
    if progress is not None:
        progress("world", 0.0)
    world = build_world(config)
    step("world")
    manifest = Manifest(
        seed=config.seed,
        residents=config.residents,
        months=config.months,
        start_month=config.start_month,
        error_rate=config.error_rate,
        organisations=[Organisation(b.code, b.name, "council", b.gss_code) for b in config.boroughs]
        + [FOODBANK, HUB],
    )
    truth = TruthWriter(out_dir)
    output = Output(world, out_dir, manifest, truth)
    _write_gazetteer(world, out_dir, manifest)
    boundaries = _write_boundaries(world, out_dir)
    for system in SYSTEMS:
        system.export(world, output)
        step(_system_stage(system.__name__))
    _write_truth(world, truth)
    truth.close()
    manifest.truth = dict(sorted(truth.paths.items()))
    manifest.extra = {
        "description": "A synthetic region: every person, address and identifier is invented.",
        "period": {
            "start": config.start_month,
            "end": month_label(day_to_date(int(world.timeline.end) - 1)),
        },
        "intervention": {
            "organisation": config.intervention_borough,
            "start_month": config.intervention_month if config.intervention_borough else None,
        },
        "boundaries": boundaries,
    }
    if config.profile != "default":
        manifest.extra["profile"] = config.profile
    manifest.write(out_dir)
    step("truth")
    if progress is not None:
        progress("done", 1.0)
    return manifest


def _system_stage(module_name: str) -> str:
    return {
        "census": "school-census",
        "council_tax": "revenues",
        "benefits": "benefits",
        "housing": "housing",
        "adult_social_care": "adult-social-care",
        "childrens_social_care": "childrens-social-care",
        "electoral": "electoral",
        "foodbank": "foodbank",
        "spend": "finance",
    }[module_name.rsplit(".", 1)[-1]]


def _write_gazetteer(world: World, out_dir: Path, manifest: Manifest) -> None:
    config = world.config
    table = world.gazetteer.table(
        [b.name for b in config.boroughs], [b.gss_code for b in config.boroughs]
    )
    rel = "gazetteer/synthetic-gazetteer.csv"
    write_table(out_dir / rel, GAZETTEER_LAYOUT, table)
    manifest.files.append(
        FileEntry(
            path=rel,
            organisation="hub",
            dataset="address-gazetteer",
            system="gazetteer",
            standard="address",
            mapping=GAZETTEER_LAYOUT.mapping,
            period=None,
            format="csv",
            encoding="utf-8",
            delimiter=",",
            rows=table.num_rows,
        )
    )


def _write_boundaries(world: World, out_dir: Path) -> dict[str, str]:
    """Generated boundary GeoJSON per level (``boundaries/<level>.geojson``; not ingested:
    `joinedup areas load-boundaries` loads them, as it would ONS files)."""
    config = world.config
    collections = boundary_collections(
        world.gazetteer, [b.name for b in config.boroughs], [b.gss_code for b in config.boroughs]
    )
    (out_dir / "boundaries").mkdir(parents=True, exist_ok=True)
    paths = {}
    for level, collection in collections.items():
        rel = f"boundaries/{level}.geojson"
        (out_dir / rel).write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
        paths[level] = rel
    return paths


def _dates(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    ok = (days != NO_DAY) & (days > -100000) & (days < 100000)
    return pa.array(np.where(ok, days, 0).astype(np.int32), mask=~ok).cast(pa.date32())


def _write_truth(world: World, truth: TruthWriter) -> None:
    config = world.config
    people = world.people
    hh = world.households
    tl = world.timeline
    gaz = world.gazetteer
    codes = pa.array(config.borough_codes())
    names = world.names
    n = people.size
    truth.table(
        "people",
        pa.table(
            {
                "person_id": pa.array(np.arange(n, dtype=np.int64)),
                "household_id": pa.array(people.household),
                "role": pc.take(pa.array(ROLES), pa.array(people.role)),
                "sex": pc.take(pa.array(["F", "M"]), pa.array(people.sex)),
                "dob": _dates(people.dob),
                "dod": _dates(people.dod),
                "origin_group": pc.take(pa.array([g.key for g in GROUPS]), pa.array(people.origin)),
                "given_name": pc.take(names, pa.array(people.given)),
                "middle_name": pc.if_else(
                    pa.array(people.middle >= 0),
                    pc.take(names, pa.array(np.maximum(people.middle, 0))),
                    pa.scalar(None, pa.string()),
                ),
                "family_name": pc.take(names, pa.array(people.family)),
                "birth_family_name": pc.take(names, pa.array(people.birth_family)),
                "nhs_number": pc.cast(pa.array(people.nhs), pa.string()),
                "ni_number": _ni(people),
                "upn": world.upn(np.arange(n, dtype=np.int64)),
                "twin_of": pa.array(people.twin_of, mask=people.twin_of < 0),
                "junior_of": pa.array(people.junior_of, mask=people.junior_of < 0),
                "student": pa.array(people.student),
                "born_in_window": pa.array(people.born_in_window),
            }
        ),
    )
    h = np.arange(hh.size, dtype=np.int64)
    moved = tl.move_day != NO_DAY
    truth.table(
        "households",
        pa.table(
            {
                "household_id": pa.array(h),
                "type": pc.take(pa.array(HOUSEHOLD_TYPES), pa.array(hh.kind)),
                "origin_group": pc.take(pa.array([g.key for g in GROUPS]), pa.array(hh.origin)),
                "head_person_id": pa.array(hh.first_member),
                "uprn_start": pa.array(gaz.uprn[tl.address0]),
                "borough_start": pc.take(codes, pa.array(gaz.borough[tl.address0])),
                "uprn_end": pa.array(gaz.uprn[tl.address1]),
                "borough_end": pc.take(codes, pa.array(gaz.borough[tl.address1])),
                "tenure_start": pc.take(pa.array(TENURE_NAMES), pa.array(gaz.tenure[tl.address0])),
                "occupied_since": _dates(hh.occupied_since),
                "move_date": _dates(tl.move_day),
                "income_start": pa.array(np.round(tl.income0, 2)),
                "income_change_date": _dates(tl.change_day),
                "income_after_change": pa.array(np.round(tl.income1, 2)),
                "legacy_benefits": pa.array(tl.legacy),
                "asylum_support": pa.array(tl.asylum),
                "pension_credit": pa.array(tl.pension_credit),
                "claims_ctr_when_eligible": pa.array(tl.ctr_claimant),
                "fsm_underclaims": pa.array(tl.fsm_underclaim),
                "spd_fraud": pa.array(tl.spd_fraud),
            }
        ),
    )
    m = np.flatnonzero(moved)
    truth.table(
        "moves",
        pa.table(
            {
                "household_id": pa.array(m),
                "move_date": _dates(tl.move_day[m]),
                "from_uprn": pa.array(gaz.uprn[tl.address0[m]]),
                "to_uprn": pa.array(gaz.uprn[tl.address1[m]]),
                "from_borough": pc.take(codes, pa.array(gaz.borough[tl.address0[m]])),
                "to_borough": pc.take(codes, pa.array(gaz.borough[tl.address1[m]])),
                "members": pa.array(np.bincount(people.household, minlength=hh.size)[m]),
            }
        ),
    )
    twins = np.flatnonzero(people.twin_of >= 0)
    juniors = np.flatnonzero(people.junior_of >= 0)
    truth.table(
        "pairs",
        pa.table(
            {
                "person_a": pa.array(
                    np.concatenate([people.twin_of[twins], people.junior_of[juniors]])
                ),
                "person_b": pa.array(np.concatenate([twins, juniors]).astype(np.int64)),
                "kind": pa.array(
                    ["twin"] * twins.size + ["junior_senior"] * juniors.size, pa.string()
                ),
            }
        ),
    )
    schools = world.schools
    truth.table("schools", schools.table(config))
    truth.table(
        "areas",
        pa.table(
            {
                "type": pa.array(["ward"] * len(gaz.ward_codes) + ["lsoa"] * len(gaz.lsoa_codes)),
                "gss_code": pa.array(gaz.ward_codes + gaz.lsoa_codes),
                "name": pa.array(gaz.ward_names + gaz.lsoa_names),
                "residents_start": pa.array(
                    np.concatenate(
                        [
                            np.bincount(
                                gaz.ward[tl.address0[people.household[~people.born_in_window]]],
                                minlength=len(gaz.ward_codes),
                            ),
                            np.bincount(
                                gaz.lsoa[tl.address0[people.household[~people.born_in_window]]],
                                minlength=len(gaz.lsoa_codes),
                            ),
                        ]
                    )
                ),
            }
        ),
    )
    _write_fsm(world, truth)
    truth.json(
        "fsm_rules",
        [
            {
                "version": r.version,
                "effective_from": r.effective_from.isoformat(),
                "uc_income_threshold": r.uc_income_threshold,
                "description": r.description,
            }
            for r in config.fsm_rules
        ],
    )
    truth.json("intervention", _intervention(config))


def _ni(people: object) -> pa.Array:
    from .ids import ni_strings

    return ni_strings(people.ni_prefix, people.ni_rest)  # type: ignore[attr-defined]


def _write_fsm(world: World, truth: TruthWriter) -> None:
    config = world.config
    tl = world.timeline
    pupils = world.pupils
    codes = np.array(config.borough_codes(), dtype=object)
    parts = []
    for m in range(config.months):
        day = int(tl.months[m]) + 14
        state = pupils_on(config, world.people, tl, world.schools, pupils, day)
        sel = np.flatnonzero(state.on_roll)
        label = month_label(day_to_date(day))
        parts.append(
            pa.table(
                {
                    "person_id": pa.array(pupils.person[sel]),
                    "month": pa.array(np.full(sel.size, label, dtype=object), pa.string()),
                    "household_id": pa.array(world.people.household[pupils.person[sel]]),
                    "home_borough": pa.array(codes[state.home_borough[sel]], pa.string()),
                    "school_urn": pa.array(world.schools.urn[state.school[sel]]),
                    "school_borough": pa.array(
                        codes[world.schools.borough[state.school[sel]]], pa.string()
                    ),
                    "nc_year": pa.array(state.nc[sel]),
                    "rule_version": pa.array(
                        np.full(sel.size, state.rule, dtype=object), pa.string()
                    ),
                    "eligible": pa.array(state.eligible[sel]),
                    "registered": pa.array(state.registered[sel]),
                    "auto_enrolled": pa.array(state.auto_enrolled[sel]),
                }
            )
        )
    truth.table("fsm_eligibility", pa.concat_tables(parts))


def _intervention(config: SynthConfig) -> dict[str, object]:
    if config.intervention_borough is None:
        return {"organisation": None}
    spec = next(b for b in config.boroughs if b.code == config.intervention_borough)
    return {
        "organisation": spec.code,
        "name": spec.name,
        "gss_code": spec.gss_code,
        "start_month": config.intervention_month,
        "mechanism": (
            "Auto-enrolment for free school meals: the council matches its council tax "
            "reduction claims against its own schools' census and registers eligible children "
            "whose families had not applied."
        ),
        "reaches_children_at_other_boroughs_schools": (
            config.intervention_reaches_other_boroughs_schools
        ),
        "comparison_organisations": [b.code for b in config.boroughs if b.code != spec.code],
        "outcome": "share of FSM-eligible pupils who are not registered (under-claiming)",
        "baseline_underclaim_rate": config.fsm_underclaim_rate,
        "expected_effect": (
            "Under-claiming among children who live in the borough and attend its schools falls "
            "to roughly (1 - ctr_takeup) of its former level; children attending schools in "
            "other boroughs are not reached, which is the gap regional linkage can close."
        ),
        "fsm_rule_change": f"{config.fsm_rules[-1].version} from "
        f"{config.fsm_rules[-1].effective_from.isoformat()} applies to all "
        "boroughs (a confounder that comparison boroughs control for)",
    }
