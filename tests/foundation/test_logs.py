"""Structured logs: one JSON object a line, ``extra=`` fields kept, exceptions by type and
location only (their messages can quote a row), uvicorn's raw-path access log off."""

from __future__ import annotations

import io
import json
import logging

from joinedup.logs import JsonFormatter, TextFormatter, configure_logging


def _record(exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord("joinedup.jobs", logging.WARNING, __file__, 7, "job", (), exc_info)
    record.kind = "ingest"
    record.duration_ms = 12.5
    return record


def _failure() -> ValueError:
    try:
        raise ValueError("row 4: date of birth 1980-01-02 for Katarzyna Mazur")
    except ValueError as exc:
        return exc


def test_a_line_is_json_with_its_fields_and_no_exception_message() -> None:
    line = json.loads(JsonFormatter().format(_record(_failure())))
    assert line["message"] == "job" and line["level"] == "warning"
    assert line["logger"] == "joinedup.jobs"
    assert (line["kind"], line["duration_ms"]) == ("ingest", 12.5)
    assert line["exception"] == "ValueError"
    assert line["stack"] and line["stack"][-1].endswith("in _failure")
    text = json.dumps(line)
    assert "Katarzyna" not in text and "1980-01-02" not in text


def test_the_text_format_keeps_fields_and_drops_messages_too() -> None:
    text = TextFormatter().format(_record(_failure()))
    assert "kind=ingest" in text and "exception=ValueError" in text
    assert "Katarzyna" not in text


def test_configure_logging_routes_everything_through_one_handler() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        handler = configure_logging("json", stream=stream)
        logging.getLogger("uvicorn.error").info("started")
        logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /residents/r-1?dob=x"')
        logging.getLogger("httpx").info("HTTP Request: GET http://x/?name=y")
        handler.flush()
    finally:
        for current in list(root.handlers):
            root.removeHandler(current)
        for old in saved[0]:
            root.addHandler(old)
        root.setLevel(saved[1])
        logging.getLogger("uvicorn.access").disabled = False
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.error"]
