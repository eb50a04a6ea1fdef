"""Structured logs: one JSON object a line on standard error, for ``serve`` and ``worker``.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, and the fields
a call passes in ``extra=`` (``log.info("request", extra={"route": ..., "status": ...})``).
The web app writes one line per request (:mod:`joinedup.web.observe`) and the job runner one
per job (:mod:`joinedup.jobs.runner`).

What a line may hold is kept free of personal data by construction: a request is logged by its
route *template*, never its path or query string (uvicorn's own access log, which logs the
raw path, is turned off), and an exception is logged by its type and the code locations of
its traceback, never its message (messages can quote a value from a row). Everything else
logged is written by joinedup's code from ids, kinds, counts and statuses.
``tests/web/test_observability.py`` runs real flows and scans the lines for personal data.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import IO, Any

#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
#: uvicorn's copy of its message with terminal colours: the plain ``message`` is kept.
_STANDARD |= {"color_message"}
#: Loggers whose lines would carry raw paths (uvicorn's access log): not written.
SILENCED = ("uvicorn.access",)
#: HTTP clients log every URL they fetch at INFO, query strings included: warnings only.
QUIETENED = ("httpx", "httpcore")


def _stack(exc_info: Any) -> list[str]:
    """Where an exception was raised, frame by frame, without its message."""
    _type, _value, tb = exc_info
    return [f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
            line["stack"] = _stack(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The same content for people reading a terminal: extras as ``key=value``, exceptions
    by type and location only."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_")
        )
        text = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()} {extras}"
        if record.exc_info and record.exc_info[0] is not None:
            where = _stack(record.exc_info)
            text += f" exception={record.exc_info[0].__name__} at {where[-1] if where else '?'}"
        return text.rstrip()


class _StandardError(logging.StreamHandler[IO[str]]):
    """A handler writing to whatever ``sys.stderr`` is when a record is emitted, never to a
    stream bound once (a test runner or an embedding program may swap and close it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _: IO[str]) -> None:
        pass


def configure_logging(
    fmt: str = "json", level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's records at ``level`` and above to ``stream`` (standard error) in
    ``fmt`` (``json`` or ``text``), replacing the root logger's handlers; returns the handler."""
    handler: logging.StreamHandler[IO[str]] = (
        logging.StreamHandler(stream) if stream is not None else _StandardError()
    )
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        # uvicorn's loggers write through the root handler at its level, not their own
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
        logging.getLogger(name).setLevel(logging.NOTSET)
    for name in SILENCED:
        logging.getLogger(name).disabled = True
    for name in QUIETENED:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
