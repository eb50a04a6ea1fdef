"""The stage registry: every job module, command, API module, page and demo step is declared
in exactly one stage's record, and everything that registers them reads the records."""

from __future__ import annotations

import importlib
import pkgutil

from joinedup import stages
from joinedup.cli import app
from joinedup.jobs.registry import known_kinds, load_job_modules
from joinedup.web import api, pages
from joinedup.web.api import api_modules
from joinedup.web.pages import all_sections


def _declared(kind: str) -> list[str]:
    return [name for stage in stages.all_stages() for name in getattr(stage, kind)]


def _package_modules(package: object, marker: str) -> set[str]:
    """The modules of a package that define ``marker`` (a router module, a page section)."""
    found = set()
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):  # type: ignore[attr-defined]
        if hasattr(importlib.import_module(info.name), marker):
            found.add(info.name)
    return found


def test_each_stage_is_declared_once_with_its_record() -> None:
    records = stages.all_stages()
    names = [stage.name for stage in records]
    assert len(names) == len(set(names)) == len(stages.STAGES) + 1
    for kind in ("jobs", "api", "pages"):
        declared = _declared(kind)
        assert len(declared) == len(set(declared)), f"a {kind} module is declared twice"


def test_every_api_module_and_page_is_in_a_stage_record() -> None:
    assert set(_declared("api")) == _package_modules(api, "tag") - {"joinedup.web.api.ckan"}
    assert set(_declared("pages")) == _package_modules(pages, "section")
    assert [m.__name__ for m in api_modules()] == _declared("api")
    assert len(all_sections()) == len(_declared("pages"))


def test_jobs_commands_and_demo_steps_come_from_the_records() -> None:
    load_job_modules()
    kinds = set(known_kinds())
    steps = stages.demo_steps()
    assert [s.kind for s in steps][:4] == [
        "synth",
        "ingest.region",
        "governance.demo",
        "linkage.build",
    ]
    assert {s.kind for s in steps} <= kinds
    commands = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    # one command or group of each stage that has a command line
    assert {"synth", "org", "linkage", "match", "insight", "areas", "publish", "rights"} <= commands
    assert len(stages.cli_registrars()) == sum(1 for s in stages.all_stages() if s.cli)
