"""Running the web app under uvicorn (used by ``joinedup serve`` and ``joinedup demo``)."""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.logs import configure_logging
from joinedup.metrics import start_listener

log = logging.getLogger(__name__)

#: Seconds an idle HTTP/1.1 connection is kept open (uvicorn's default is 5). Longer than a
#: person reads a page and than a reverse proxy keeps its idle upstream connections (nginx 60 s,
#: most load balancers 60 s), so the client or the proxy closes an idle connection before the
#: server does. With the server closing first, a request sent on a connection just as the
#: server closes it gets no response: at 5 s that hit clients that paused about 5 s between
#: requests (docs/benchmarks.md, "Load: 50 caseworkers").
KEEP_ALIVE_SECONDS = 75
#: With ``--workers``, seconds a worker may take to answer the supervisor's health check
#: before it is killed and replaced (uvicorn's default is 5). The answer comes from a thread of
#: the worker, which needs the interpreter: a worker importing the app or busy with requests on
#: a loaded machine missed 5 s, and was killed with its requests in flight (seen at load
#: average 40 on 2 cores). A worker that is truly hung is still replaced, a minute later.
WORKER_HEALTHCHECK_SECONDS = 60


class ServeError(JoinedupError):
    """The server cannot start as asked; the message says why."""


def serve_app(
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    keep_alive: int = KEEP_ALIVE_SECONDS,
) -> None:
    """Serve the app in the foreground until interrupted, logging in ``settings.log_format``
    (uvicorn's access log, which carries raw paths, is off: the app logs each request by its
    route template) and, with ``metrics_bind``, serving the metrics on that address too.

    ``workers`` > 1 runs that many server processes (uvicorn's supervisor) sharing the socket.
    Each builds the app from the environment (``JOINEDUP_*``, as :func:`create_app` does), so
    the settings must come from there; everything they share is in the database and the home
    (sessions, sign-in throttling, the audit log, whose appends lock the chain's head in the
    database and whose checkpoints are appended with one write each). Metrics are counted per
    process: ``/metrics`` shows the process that answers it, and the metrics listener, which
    would run in the supervisor (which serves no request), is refused. ``keep_alive``: the
    seconds an idle connection is kept open (:data:`KEEP_ALIVE_SECONDS`)."""
    from joinedup.web.app import create_app

    configure_logging(settings.log_format)
    if workers > 1 and settings.metrics_bind:
        raise ServeError(
            "the metrics listener (JOINEDUP_METRICS_BIND) serves one process: unset it to "
            "serve with several workers, or serve with one"
        )
    if settings.metrics_bind:
        where = start_listener(settings.metrics_bind)
        log.info("metrics listener", extra={"metrics_address": f"{where[0]}:{where[1]}"})
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": keep_alive,
        # Forwarded headers are handled by the app itself, from trusted proxies only
        # (settings.trusted_proxies): uvicorn's own default would believe any local peer.
        "proxy_headers": False,
    }
    if workers > 1:
        options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_SECONDS
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)


def worker_app() -> Any:
    """The app of one worker process (``serve --workers``): settings from the environment,
    logging configured as the supervisor's is."""
    from joinedup.config import load_settings
    from joinedup.web.app import create_app

    settings = load_settings()
    configure_logging(settings.log_format)
    return create_app(settings)
