"""Jobs: long work recorded in the control plane with status and progress.

Job functions are registered by kind (:func:`joinedup.jobs.registry.job`). They run in-process
by default (:func:`run_inline`, or a background thread for the web app), or in separate
``joinedup worker`` processes that claim queued jobs from the database.
"""

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
