"""Prometheus metrics of one process (``prometheus-client``), in one registry, :data:`REGISTRY`.

What is measured, and where:

* ``joinedup_http_request_duration_seconds{method,route,status}`` — every request, by the
  route's *template* (``/residents/{resident_id}``), never the raw path: labels carry no ids,
  names or query strings (:mod:`joinedup.web.observe`).
* ``joinedup_job_duration_seconds{kind,outcome}`` — every job run by this process, by kind
  and ``succeeded``/``failed`` (its ``_count`` is the number of jobs); ``joinedup_jobs_running``
  (:mod:`joinedup.jobs.runner`).
* ``joinedup_policy_decisions_total{outcome,acting}`` — every policy decision, ``allow`` or
  ``deny``, for a ``user`` or an ``organisation`` acting with no user
  (:mod:`joinedup.governance.policy`).
* ``joinedup_audit_append_duration_seconds`` — appending one event to the audit chain inside
  its transaction: waiting for the chain's lock, reading its head, inserting
  (:mod:`joinedup.governance.audit`).
* the process's CPU, memory, open files and garbage collector (prometheus-client's own).

Served by the web app at ``/metrics`` when a token is set, and on a separate listener when a
bind address is set (:func:`start_listener`); docs/operations.md, "Monitoring".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import start_http_server as _start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from joinedup.errors import InvalidInput

__all__ = ["CONTENT_TYPE_LATEST", "REGISTRY", "exposition", "start_listener"]

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

#: Web requests: most answer in milliseconds, a few (uploads, exports) take seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: Jobs: from a second (a small ingest) to an hour (linkage of a large region).
JOB_BUCKETS = (0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
#: Audit appends: a lock, a read of the head and an insert.
AUDIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

HTTP_REQUEST_SECONDS = Histogram(
    "joinedup_http_request_duration_seconds",
    "Time to answer a web request, by method, route template and status code.",
    ("method", "route", "status"),
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "joinedup_job_duration_seconds",
    "Time a job ran, by kind and outcome (succeeded or failed).",
    ("kind", "outcome"),
    buckets=JOB_BUCKETS,
    registry=REGISTRY,
)
JOBS_RUNNING = Gauge(
    "joinedup_jobs_running",
    "Jobs this process is running now, by kind.",
    ("kind",),
    registry=REGISTRY,
)
POLICY_DECISIONS = Counter(
    "joinedup_policy_decisions",
    "Policy decisions on reads of personal data, by outcome (allow or deny) and who acts "
    "(a user, or an organisation's service with no user).",
    ("outcome", "acting"),
    registry=REGISTRY,
)
AUDIT_APPEND_SECONDS = Histogram(
    "joinedup_audit_append_duration_seconds",
    "Time to append one event to the audit chain (lock, read the head, insert).",
    buckets=AUDIT_BUCKETS,
    registry=REGISTRY,
)

#: Methods kept as labels; anything else is counted as ``other`` (labels stay bounded).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    label = method if method in METHODS else "other"
    HTTP_REQUEST_SECONDS.labels(label, route, str(status)).observe(seconds)


@contextmanager
def timed_job(kind: str) -> Iterator[dict[str, str]]:
    """Time a job; the caller sets ``outcome`` in the yielded dict (default ``failed``)."""
    outcome = {"outcome": "failed"}
    JOBS_RUNNING.labels(kind).inc()
    started = time.perf_counter()
    try:
        yield outcome
    finally:
        JOBS_RUNNING.labels(kind).dec()
        JOB_SECONDS.labels(kind, outcome["outcome"]).observe(time.perf_counter() - started)


def count_decision(allow: bool, acting: str) -> None:
    POLICY_DECISIONS.labels("allow" if allow else "deny", acting).inc()


def exposition() -> bytes:
    """The registry in Prometheus's text format."""
    return generate_latest(REGISTRY)


def parse_bind(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6; port 0: any free port) as a pair; InvalidInput
    naming what is wrong."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise InvalidInput(
            f"JOINEDUP_METRICS_BIND {address!r} is not host:port, e.g. 127.0.0.1:9464"
        )
    return host.strip("[]"), int(port)


def start_listener(address: str) -> tuple[str, int]:
    """Serve :data:`REGISTRY` on its own HTTP listener at ``host:port`` (a daemon thread);
    returns the address it listens on."""
    host, port = parse_bind(address)
    server, _thread = _start_http_server(port, addr=host, registry=REGISTRY)
    bound = server.server_address
    return str(bound[0]), int(bound[1])
