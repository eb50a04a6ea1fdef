"""Jobs: long work recorded in the control plane with status and progress.

Job functions are registered by kind (:func:`joinedup.jobs.registry.job`). They run in-process
by default (:func:`run_inline`, or a background thread for the web app), or in separate
``joinedup worker`` processes that claim queued jobs from the database.

The names are imported on first use, so that importing :mod:`joinedup.jobs.registry` (every
command line module does) does not load the runner and the catalogue.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from joinedup.jobs.registry import JobContext, job
    from joinedup.jobs.runner import (
        get_job,
        list_jobs,
        run_in_thread,
        run_inline,
        run_job,
        submit,
    )

__all__ = [
    "JobContext",
    "get_job",
    "job",
    "list_jobs",
    "run_in_thread",
    "run_inline",
    "run_job",
    "submit",
]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    where = "registry" if name in ("JobContext", "job") else "runner"
    value = getattr(importlib.import_module(f"joinedup.jobs.{where}"), name)
    globals()[name] = value
    return value
