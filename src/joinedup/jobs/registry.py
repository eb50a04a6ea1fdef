"""The registry of job kinds and the context a job function receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from joinedup.config import Settings

ProgressListener = Callable[[float, str], None]
JobFunction = Callable[["JobContext"], dict[str, Any] | None]

_REGISTRY: dict[str, JobFunction] = {}


@dataclass
class JobContext:
    """What a running job sees: its settings, parameters and a progress callback."""

    job_id: str
    settings: Settings
    params: dict[str, Any]
    report: ProgressListener = field(repr=False)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress between 0 and 1 with a short message (never personal data)."""
        self.report(min(max(fraction, 0.0), 1.0), message)


def job(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the implementation of a job kind."""

    def decorate(fn: JobFunction) -> JobFunction:
        if kind in _REGISTRY and _REGISTRY[kind] is not fn:
            raise ValueError(f"job kind {kind!r} is already registered")
        _REGISTRY[kind] = fn
        return fn

    return decorate


def load_job_modules() -> None:
    """Import every stage's job modules (:mod:`joinedup.stages`), which registers their kinds;
    done lazily so the command line starts fast."""
    from joinedup.stages import modules

    modules("jobs")


def get_function(kind: str) -> JobFunction:
    load_job_modules()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise KeyError(
            f"unknown job kind {kind!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def known_kinds() -> list[str]:
    load_job_modules()
    return sorted(_REGISTRY)
