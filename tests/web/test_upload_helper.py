"""The streaming upload helper (``joinedup.web.uploads``) on its own, over a fake ASGI body."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import tracemalloc
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from joinedup.config import Settings
from joinedup.processes import pid_alive
from joinedup.web import uploads
from joinedup.web.uploads import (
    MIB,
    UploadError,
    UploadLimits,
    UploadTooLarge,
    human_size,
    receive_upload,
    remove_stale_uploads,
    safe_suffix,
    sanitise_filename,
)

BOUNDARY = "----joinedup-test-boundary"


def run_coroutine(coroutine: Any) -> Any:
    """Run ``coroutine`` to completion on a fresh event loop in its own thread: the browser
    tests' Playwright session keeps an event loop running in the main thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def part_header(name: str, filename: str | None = None, raw: str | None = None) -> bytes:
    disposition = raw or f'form-data; name="{name}"' + (
        f'; filename="{filename}"' if filename is not None else ""
    )
    lines = [f"--{BOUNDARY}", f"Content-Disposition: {disposition}"]
    if filename is not None or raw:
        lines.append("Content-Type: text/csv")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(
    fields: dict[str, str],
    file: tuple[str, str, Iterable[bytes]] | None = None,
    *,
    file_first: bool = False,
    close: bool = True,
) -> Iterator[bytes]:
    """A multipart body, yielded in pieces (the file's own pieces are passed through)."""

    def field_parts() -> Iterator[bytes]:
        for name, value in fields.items():
            yield part_header(name) + value.encode() + b"\r\n"

    def file_parts() -> Iterator[bytes]:
        if file is not None:
            name, filename, chunks = file
            yield part_header(name, filename)
            yield from chunks
            yield b"\r\n"

    if file_first:
        yield from file_parts()
        yield from field_parts()
    else:
        yield from field_parts()
        yield from file_parts()
    if close:
        yield f"--{BOUNDARY}--\r\n".encode()


class FakeBody:
    """An ASGI ``receive`` over an iterator of chunks; counts what was read."""

    def __init__(self, chunks: Iterable[bytes], disconnect: bool = False) -> None:
        self.chunks = iter(chunks)
        self.disconnect = disconnect
        self.reads = 0
        self.bytes = 0
        self.on_read: Any = None

    async def __call__(self) -> dict[str, Any]:
        if self.on_read is not None:
            self.on_read()
        try:
            chunk = next(self.chunks)
        except StopIteration:
            if self.disconnect:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": b"", "more_body": False}
        self.reads += 1
        self.bytes += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}


def make_request(
    body: FakeBody,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
    content_length: int | None = None,
) -> Request:
    headers = [(b"content-type", content_type.encode())]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": headers,
        "query_string": b"",
    }
    return Request(scope, body)


def receive(request: Request, settings: Settings, **kw: Any) -> uploads.UploadedForm:
    return run_coroutine(receive_upload(request, settings, **kw))


def left(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.uploads_dir.iterdir())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The helper needs only the uploads folder: no database."""
    return Settings(home=tmp_path / "home", max_upload_bytes=1000)


def test_fields_and_file(settings: Settings) -> None:
    content = [b"a,b\n", b"1,2\n" * 10]
    body = FakeBody(
        multipart({"dataset": "people", "period": "2026-10"}, ("file", "x.CSV", content))
    )
    form = receive(make_request(body), settings)
    assert form.fields == {"dataset": "people", "period": "2026-10"}
    upload = form.files["file"]
    assert upload.filename == "x.CSV"
    assert upload.size == 44
    assert upload.content_type == "text/csv"
    assert upload.path.parent == settings.uploads_dir
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", upload.path.name)
    assert upload.path.read_bytes() == b"".join(content)
    assert form.field("dataset") == "people" and form.field("absent") == ""
    form.discard()
    assert left(settings) == []


def test_written_under_a_temporary_name_then_renamed(settings: Settings) -> None:
    seen: list[str] = []
    body = FakeBody(multipart({}, ("file", "x.csv", [b"a\n"] * 5)))
    body.on_read = lambda: seen.extend(left(settings) if settings.uploads_dir.exists() else [])
    form = receive(make_request(body), settings)
    final = form.files["file"].path.name
    temporary = {n for n in seen if re.fullmatch(rf"\.tmp-{os.getpid()}-[0-9a-f]{{32}}\.csv", n)}
    assert len(temporary) == 1, seen
    assert set(seen) <= temporary | {final}
    assert temporary.pop().endswith(final)  # the same random name, without the prefix
    assert left(settings) == [final]


def test_file_over_the_limit_stops_reading_and_leaves_nothing(settings: Settings) -> None:
    chunks = (b"x" * 512 for _ in range(10_000))  # 5 MB, the limit is 1000 bytes
    body = FakeBody(multipart({"dataset": "people"}, ("file", "big.csv", chunks)))
    with pytest.raises(UploadTooLarge) as caught:
        receive(make_request(body), settings)
    assert caught.value.status_code == 413
    assert caught.value.message == "The file is larger than the 1000 bytes limit"
    assert caught.value.fields == {"dataset": "people"}  # read before the file: shown again
    assert body.bytes < 2000  # stopped as soon as the limit was passed
    assert left(settings) == []


def test_a_file_of_exactly_the_limit_is_accepted(settings: Settings) -> None:
    body = FakeBody(multipart({}, ("file", "x.csv", [b"x" * 600, b"y" * 400])))
    form = receive(make_request(body), settings)
    assert form.files["file"].size == settings.max_upload_bytes == 1000
    form.discard()


def test_declared_length_over_the_limit_is_refused_before_reading(settings: Settings) -> None:
    body = FakeBody(multipart({}, ("file", "x.csv", [b"a\n"])))
    limits = UploadLimits.for_settings(settings)
    request = make_request(body, content_length=limits.max_body_bytes + 1)
    with pytest.raises(UploadTooLarge):
        receive(request, settings)
    assert body.reads == 0
    assert not settings.uploads_dir.exists() or left(settings) == []


def test_body_over_the_limit_without_a_length(settings: Settings) -> None:
    """Fields alone can make a body too large (a client may not send Content-Length)."""
    limits = UploadLimits(max_file_bytes=1000, max_field_bytes=10**9, max_fields=10**6)
    big_field = (part_header(f"f{i}") + b"y" * 1000 + b"\r\n" for i in range(1000))
    body = FakeBody(big_field)
    with pytest.raises(UploadTooLarge):
        receive(make_request(body), settings, limits=limits)
    assert body.bytes <= limits.max_body_bytes + 2000


def test_the_512_mb_message() -> None:
    assert UploadTooLarge(512 * MIB).message == "The file is larger than the 512 MB limit"
    default = UploadLimits.for_settings(Settings())
    assert default.max_file_bytes == 512 * MIB


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (multipart({"dataset": "x" * 2000}), "The form field 'dataset' is longer than 1 KB"),
        (multipart({f"f{i}": "1" for i in range(17)}), "The form has too many fields"),
        (multipart({}, ("other", "x.csv", [b"1"])), "Unexpected file in the form field 'other'"),
        (
            iter([part_header("", raw="form-data"), b"x\r\n", f"--{BOUNDARY}--\r\n".encode()]),
            "Each part of the form must have a Content-Disposition name",
        ),
    ],
)
def test_malformed_forms(settings: Settings, body: Iterator[bytes], message: str) -> None:
    with pytest.raises(UploadError) as caught:
        receive(make_request(FakeBody(body)), settings)
    assert caught.value.status_code == 400
    assert caught.value.message == message
    assert not settings.uploads_dir.exists() or left(settings) == []


def test_invalid_utf8_field(settings: Settings) -> None:
    body = iter([part_header("dataset") + b"\xff\xfe\r\n", f"--{BOUNDARY}--\r\n".encode()])
    with pytest.raises(UploadError, match="not valid utf-8"):
        receive(make_request(FakeBody(body)), settings)


def test_two_files_are_refused(settings: Settings) -> None:
    body = iter(
        [
            *multipart({}, ("file", "a.csv", [b"1"]), close=False),
            *multipart({}, ("file", "b.csv", [b"2"])),
        ]
    )
    with pytest.raises(UploadError, match="too many files"):
        receive(make_request(FakeBody(body)), settings)
    assert left(settings) == []


def test_truncated_body_leaves_nothing(settings: Settings) -> None:
    body = FakeBody(multipart({}, ("file", "x.csv", [b"a\n" * 100]), close=False))
    with pytest.raises(UploadError, match="ended before the form was complete"):
        receive(make_request(body), settings)
    assert left(settings) == []


def test_client_gone_leaves_nothing(settings: Settings) -> None:
    chunks = multipart({}, ("file", "x.csv", [b"a\n" * 100]), close=False)
    with pytest.raises(UploadError, match="interrupted"):
        receive(make_request(FakeBody(chunks, disconnect=True)), settings)
    assert left(settings) == []


def test_garbage_body(settings: Settings) -> None:
    with pytest.raises(UploadError) as caught:
        receive(make_request(FakeBody([b"\x00\x01garbage" * 100])), settings)
    assert caught.value.status_code == 400
    assert not settings.uploads_dir.exists() or left(settings) == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("text/csv", 415), ("application/x-www-form-urlencoded", 415), ("multipart/form-data", 400)],
)
def test_not_a_multipart_body(settings: Settings, content_type: str, status: int) -> None:
    with pytest.raises(UploadError) as caught:
        receive(make_request(FakeBody([b"a,b\n"]), content_type=content_type), settings)
    assert caught.value.status_code == status


def test_an_empty_file_input_is_no_file(settings: Settings) -> None:
    body = FakeBody(multipart({"dataset": "people"}, ("file", "", [])))
    form = receive(make_request(body), settings)
    assert form.files == {}
    assert left(settings) == []


def test_an_empty_named_file_is_kept(settings: Settings) -> None:
    form = receive(make_request(FakeBody(multipart({}, ("file", "e.csv", [])))), settings)
    assert form.files["file"].size == 0
    form.discard()


def test_extended_filename(settings: Settings) -> None:
    raw = "form-data; name=\"file\"; filename*=UTF-8''%C3%A9t%C3%A9%202026.csv"
    body = iter([part_header("file", raw=raw), b"a\n\r\n", f"--{BOUNDARY}--\r\n".encode()])
    form = receive(make_request(FakeBody(body)), settings)
    assert form.files["file"].filename == "été 2026.csv"
    assert form.files["file"].path.suffix == ".csv"
    form.discard()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("people.csv", "people.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\Council Tax.xlsx", "Council Tax.xlsx"),
        ("..hidden.csv", "hidden.csv"),
        ("tab\tand\nnewline.csv", "tab and newline.csv"),
        ("bidi\u202eabc.csv", "bidiabc.csv"),
        ("zero\x00byte.csv", "zerobyte.csv"),
        ("", "upload"),
        ("...", "upload"),
        ("  spaced   out  .csv", "spaced out .csv"),
        ("a" * 300 + ".csv", "a" * 196 + ".csv"),
    ],
)
def test_sanitise_filename(raw: str, clean: str) -> None:
    assert sanitise_filename(raw) == clean


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("x.CSV", ".csv"),
        ("x.tar.gz", ".gz"),
        ("x", ""),
        ("x.csv;rm -rf", ""),
        ("x.über", ""),
        ("x." + "a" * 11, ""),
    ],
)
def test_safe_suffix(name: str, suffix: str) -> None:
    assert safe_suffix(name) == suffix


def test_human_size() -> None:
    assert human_size(512 * MIB) == "512 MB"
    assert human_size(1536) == "1.5 KB"
    assert human_size(1000) == "1000 bytes"
    assert human_size(3 * 1024**3) == "3 GB"


def test_stale_partial_uploads_are_removed(settings: Settings) -> None:
    settings.uploads_dir.mkdir(parents=True)
    dead = next(pid for pid in range(4_000_000, 4_100_000) if not pid_alive(pid))
    names = {
        "dead": f".tmp-{dead}-{'a' * 32}.csv",
        "ours": f".tmp-{os.getpid()}-{'b' * 32}.csv",
        "complete": f"{'c' * 32}.csv",
        "other": ".tmp-something-else",
    }
    for name in names.values():
        (settings.uploads_dir / name).write_text("x")
    assert remove_stale_uploads(settings) == 1
    assert left(settings) == sorted(n for k, n in names.items() if k != "dead")


def test_memory_stays_flat_for_a_large_upload(tmp_path: Path) -> None:
    """50 MB through the helper with tracemalloc: the peak stays a small fraction of it."""
    size = 50 * MIB
    settings = replace(Settings(home=tmp_path / "home"), max_upload_bytes=size + MIB)
    piece = b"0123456789abcdef" * 4096  # 64 KiB, reused: the body itself costs nothing

    def chunks() -> Iterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    body = FakeBody(multipart({"dataset": "people"}, ("file", "big.csv", chunks())))
    request = make_request(body)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        form = run_coroutine(receive_upload(request, settings))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert form.files["file"].size == size
    assert form.files["file"].path.stat().st_size == size
    form.discard()
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB for a {size / MIB:.0f} MiB upload"
