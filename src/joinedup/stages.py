"""The stage registry: each stage of the flow declares, in one record, everything it adds to
joinedup, and :data:`STAGES` lists the stages in the order of the flow.

A record (:class:`Stage`, in ``<stage>/stage.py``) names

* ``jobs``: the modules whose import registers the stage's job kinds (``@job``);
* ``cli``: ``"module:function"``, the function that adds the stage's commands to the
  ``joinedup`` Typer app;
* ``api``: the JSON API modules (each a ``router`` and a ``tag``), served under ``/api/v1``;
* ``pages``: the page modules (each a ``section``: router and navigation item);
* ``demo``: the steps ``joinedup demo`` runs for the stage, in order.

The job registry, the command line, the app factory (API routers and pages) and the demo read
these records and nothing else, so adding a stage means writing its record and adding it to
:data:`STAGES`. Modules are named, not imported, so the command line starts without importing
the web app, and this module imports no stage.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joinedup.config import Settings
    from joinedup.demo import DemoOptions


@dataclass(frozen=True)
class DemoStep:
    """One step of ``joinedup demo``: a job kind and how to build its parameters."""

    name: str
    kind: str
    params: Callable[[Settings, DemoOptions], dict[str, Any]]


@dataclass(frozen=True)
class Stage:
    """What one stage adds to joinedup (see the module's docstring)."""

    name: str
    jobs: tuple[str, ...] = ()
    cli: str | None = None
    api: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    demo: tuple[DemoStep, ...] = ()


#: The service itself: built-in jobs, the service and jobs APIs, the shell's pages.
CORE = Stage(
    "core",
    jobs=("joinedup.jobs.builtin",),
    api=("joinedup.web.api.status", "joinedup.web.api.jobs"),
    pages=(
        "joinedup.web.pages.home",
        "joinedup.web.pages.jobs",
        "joinedup.web.pages.api_docs",
        "joinedup.web.pages.accessibility",
        "joinedup.web.pages.account",
        "joinedup.web.pages.brand",
    ),
)

#: The stages, in the order of the flow (their demo steps run in this order).
STAGES: tuple[str, ...] = (
    "joinedup.synth.stage",
    "joinedup.ingest.stage",
    "joinedup.governance.stage",
    "joinedup.linkage.stage",
    "joinedup.insight.stage",
    "joinedup.publish.stage",
    "joinedup.rights.stage",
    "joinedup.toolkit.stage",
)


@cache
def all_stages() -> tuple[Stage, ...]:
    """The core and every stage's record."""
    records = [CORE]
    for name in STAGES:
        record = getattr(importlib.import_module(name), "STAGE", None)
        if not isinstance(record, Stage):
            raise TypeError(f"{name} must define STAGE, a joinedup.stages.Stage")
        records.append(record)
    return tuple(records)


def modules(kind: str) -> list[ModuleType]:
    """The modules every stage names under ``kind`` (``jobs``, ``api`` or ``pages``)."""
    return [importlib.import_module(m) for stage in all_stages() for m in getattr(stage, kind)]


def cli_registrars() -> list[Callable[[Any], None]]:
    """Each stage's function that adds its commands to the Typer app."""
    found = []
    for stage in all_stages():
        if stage.cli:
            module, _, function = stage.cli.partition(":")
            found.append(getattr(importlib.import_module(module), function))
    return found


def demo_steps() -> list[DemoStep]:
    return [step for stage in all_stages() for step in stage.demo]
