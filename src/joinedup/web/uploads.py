"""Streaming ``multipart/form-data`` uploads: file parts go to disk as they arrive.

:func:`receive_upload` reads the request body chunk by chunk (``request.stream()``) through
python-multipart's callback parser. File bytes are buffered at most :data:`FLUSH_BYTES` at a
time and written, off the event loop, to ``settings.uploads_dir`` under a random name
(``.tmp-<pid>-<hex>`` while writing, renamed to ``<hex><ext>`` once the part is complete), so an
upload never sits whole in memory. Text fields are small and capped.

Limits are enforced twice: upfront from ``Content-Length``, and while reading, on the bytes
actually received (a client may omit or understate the length). Passing a limit raises
:class:`UploadTooLarge` (HTTP 413) at once and deletes whatever was written. Any other failure
(malformed body, client gone) deletes the partial files too.

The client's file name is kept only as display metadata (:func:`sanitise_filename`); it never
becomes part of a path. The file on disk keeps the original extension, because the readers
choose a format by extension (and confirm it from the content).
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.ingest.service import UPLOAD_ROLES, Uploader, authorise_upload_for
from joinedup.ingest.suggest import DraftMapping, suggest_for_file
from joinedup.processes import pid_alive
from joinedup.standards.registry import list_standards
from joinedup.web.auth import require_roles

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

FLUSH_BYTES = 1 * MIB
"""File bytes held in memory before they are written out (per file part)."""
FORM_ALLOWANCE = 64 * KIB
"""Bytes a request may carry beyond the file limit: multipart framing and the text fields."""
DRAIN_LIMIT = 64 * MIB
"""How much of an over-limit body :func:`drain` reads (and discards) so a browser sees the 413."""
TMP_PREFIX = ".tmp-"
_TMP_NAME = re.compile(r"^\.tmp-(\d+)-[0-9a-f]{32}(\.[a-z0-9]{1,10})?$")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")
MAX_FILENAME_CHARS = 200


def human_size(size: int) -> str:
    """``536870912`` → ``512 MB``, ``1536`` → ``1.5 KB``, ``900`` → ``900 bytes``."""
    for unit, name in ((GIB, "GB"), (MIB, "MB"), (KIB, "KB")):
        if size >= unit:
            return f"{size / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{size} bytes"


class UploadError(JoinedupError):
    """An upload that cannot be accepted; ``message`` is safe to show to the person."""

    status = 400

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message, status=status_code)
        self.fields: dict[str, str] = {}
        """The text fields read before the failure (a form can show them again)."""


class UploadTooLarge(UploadError):
    """The body (or the file in it) is larger than allowed: HTTP 413."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than the {human_size(limit)} limit")
        self.limit = limit


@dataclass(frozen=True)
class UploadLimits:
    """What one upload request may carry."""

    max_file_bytes: int
    max_field_bytes: int = 1 * KIB
    max_fields: int = 16
    max_files: int = 1

    @property
    def max_body_bytes(self) -> int:
        return self.max_file_bytes * self.max_files + FORM_ALLOWANCE

    @classmethod
    def for_settings(cls, settings: Settings) -> UploadLimits:
        return cls(max_file_bytes=settings.max_upload_bytes)


@dataclass
class UploadedFile:
    """A complete file part on disk. ``filename`` is for display only: never a path."""

    field_name: str
    path: Path
    filename: str
    size: int
    content_type: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class UploadedForm:
    """The text fields and file parts of one request. Call :meth:`discard` when done."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def field(self, name: str) -> str:
        """A text field, stripped; ``""`` when absent."""
        return self.fields.get(name, "").strip()

    def discard(self) -> None:
        for upload in self.files.values():
            upload.discard()


def sanitise_filename(raw: str) -> str:
    """A client-supplied file name made safe to display and to record.

    Keeps the last path component (browsers on Windows may send ``C:\\...\\name.csv``), removes
    control and formatting characters, collapses white space, drops leading dots, and keeps at
    most :data:`MAX_FILENAME_CHARS` characters (the extension survives truncation).
    """
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    name = re.sub(r"\s+", " ", name).strip().lstrip(". ")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip()
    return name or "upload"


def safe_suffix(filename: str) -> str:
    """The file's extension, lower case, if it is short and plain (``.csv``); else ``""``."""
    suffix = Path(filename).suffix.lower()
    return suffix if _SUFFIX.match(suffix) else ""


def remove_stale_uploads(settings: Settings) -> int:
    """Delete partial uploads (``.tmp-<pid>-…``) left by processes that no longer run."""
    folder = settings.uploads_dir
    if not folder.is_dir():
        return 0
    removed = 0
    for entry in folder.iterdir():
        match = _TMP_NAME.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


@dataclass
class _FilePart:
    field_name: str
    filename: str
    content_type: str
    tmp_path: Path
    final_path: Path
    handle: IO[bytes]
    size: int = 0
    buffer: bytearray = field(default_factory=bytearray)
    ended: bool = False


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: _FilePart | None = None


class _Receiver:
    """python-multipart callbacks. They only buffer; the async loop does the disk writes."""

    def __init__(
        self, folder: Path, limits: UploadLimits, file_fields: frozenset[str], charset: str
    ) -> None:
        self.folder = folder
        self.limits = limits
        self.file_fields = file_fields
        self.charset = charset
        self.form = UploadedForm()
        self.parts: list[_FilePart] = []
        self.fields_seen = 0
        self.ended = False
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def _decode(self, raw: bytes, what: str) -> str:
        try:
            return raw.decode(self.charset)
        except UnicodeDecodeError:
            raise UploadError(f"The {what} is not valid {self.charset} text") from None

    def on_part_begin(self) -> None:
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        part = self._part
        disposition = part.headers.get(b"content-disposition")
        _, options = parse_options_header(disposition)
        if disposition is None or b"name" not in options:
            raise UploadError("Each part of the form must have a Content-Disposition name")
        part.name = self._decode(options[b"name"], "field name")
        self.fields_seen += 1
        if self.fields_seen > self.limits.max_fields:
            raise UploadError("The form has too many fields")
        raw_name = _filename(disposition, options, self.charset)
        if raw_name is None:
            return  # a text field
        if part.name not in self.file_fields:
            raise UploadError(f"Unexpected file in the form field {part.name!r}")
        if len(self.parts) >= self.limits.max_files:
            raise UploadError("The form has too many files")
        hex_id = uuid.uuid4().hex
        suffix = safe_suffix(sanitise_filename(raw_name))
        content_type = part.headers.get(b"content-type", b"application/octet-stream")
        tmp_path = self.folder / f"{TMP_PREFIX}{os.getpid()}-{hex_id}{suffix}"
        file_part = _FilePart(
            field_name=part.name,
            filename=sanitise_filename(raw_name) if raw_name.strip() else "",
            content_type=content_type.decode("latin-1")[:200],
            tmp_path=tmp_path,
            final_path=self.folder / f"{hex_id}{suffix}",
            # Exclusive create: a random name, so it never exists; never follow a link.
            handle=open(tmp_path, "xb"),  # noqa: SIM115 (closed by finish/abort)
        )
        self.parts.append(file_part)
        part.file = file_part

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        size = end - start
        if part.file is None:
            if len(part.data) + size > self.limits.max_field_bytes:
                raise UploadError(
                    f"The form field {part.name!r} is longer than "
                    f"{human_size(self.limits.max_field_bytes)}"
                )
            part.data += data[start:end]
            return
        part.file.size += size
        if part.file.size > self.limits.max_file_bytes:
            raise UploadTooLarge(self.limits.max_file_bytes)
        part.file.buffer += data[start:end]

    def on_part_end(self) -> None:
        part = self._part
        if part.file is not None:
            part.file.ended = True
        else:
            self.form.fields[part.name] = self._decode(bytes(part.data), f"field {part.name!r}")

    def on_end(self) -> None:
        self.ended = True

    async def flush(self, final: bool = False) -> None:
        """Write buffered file bytes; close and rename parts that have ended."""
        for part in self.parts:
            if part.buffer and (final or part.ended or len(part.buffer) >= FLUSH_BYTES):
                data, part.buffer = bytes(part.buffer), bytearray()
                await run_in_threadpool(part.handle.write, data)
            if part.ended and not part.handle.closed:
                await run_in_threadpool(_close_and_rename, part)
                if part.filename or part.size:
                    self.form.files[part.field_name] = UploadedFile(
                        field_name=part.field_name,
                        path=part.final_path,
                        filename=part.filename or "upload",
                        size=part.size,
                        content_type=part.content_type,
                    )
                else:  # an empty file input: the browser sends a nameless, empty part
                    part.final_path.unlink(missing_ok=True)

    def abort(self) -> None:
        for part in self.parts:
            part.handle.close()
            part.tmp_path.unlink(missing_ok=True)
            part.final_path.unlink(missing_ok=True)


_EXTENDED_FILENAME = re.compile(rb"filename\*\s*=\s*([^;]+)", re.IGNORECASE)


def _filename(disposition: bytes, options: dict[bytes, bytes], charset: str) -> str | None:
    """The part's file name, or ``None`` for a text field (RFC 7578 ``filename``, or the
    RFC 5987 ``filename*=UTF-8''…`` form that python-multipart does not decode)."""
    if b"filename" in options:
        return options[b"filename"].decode(charset, errors="replace")
    match = _EXTENDED_FILENAME.search(disposition)
    if match is None:
        return None
    value = match.group(1).strip().strip(b'"').decode("latin-1")
    encoding, _, rest = value.partition("'")
    _language, _, quoted = rest.partition("'")
    try:
        return unquote(quoted, encoding=encoding or "utf-8", errors="replace")
    except LookupError:
        return unquote(quoted, errors="replace")


def _close_and_rename(part: _FilePart) -> None:
    part.handle.close()
    os.replace(part.tmp_path, part.final_path)


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise UploadError("The Content-Length header is not a number")
    return int(raw)


def check_content_length(request: Request, limits: UploadLimits) -> None:
    """Reject upfront (413) a request that declares a body over the limit."""
    length = _content_length(request)
    if length is not None and length > limits.max_body_bytes:
        raise UploadTooLarge(limits.max_file_bytes)


async def receive_upload(
    request: Request,
    settings: Settings,
    *,
    file_fields: Iterable[str] = ("file",),
    limits: UploadLimits | None = None,
) -> UploadedForm:
    """Stream a ``multipart/form-data`` body: files to ``settings.uploads_dir``, fields to str.

    Raises :class:`UploadTooLarge` (413) or :class:`UploadError` (400/415) having deleted any
    partial file. On success the caller owns the files and must :meth:`UploadedForm.discard`
    them (or hand them to something that will).
    """
    limits = limits or UploadLimits.for_settings(settings)
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise UploadError("Send the form as multipart/form-data", 415)
    boundary = params.get(b"boundary")
    if not boundary:
        raise UploadError("The multipart/form-data body has no boundary")
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        "".encode(charset)
    except LookupError:
        raise UploadError(f"Unknown charset {charset!r}") from None
    check_content_length(request, limits)

    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_uploads(settings)
    receiver = _Receiver(folder, limits, frozenset(file_fields), charset)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limits.max_body_bytes:
                # Parse what fits (so the fields before the file are known), then refuse.
                parser.write(chunk[: len(chunk) - (received - limits.max_body_bytes)])
                raise UploadTooLarge(limits.max_file_bytes)
            parser.write(chunk)
            await receiver.flush()
        parser.finalize()
        await receiver.flush(final=True)
        if not receiver.ended:
            raise UploadError("The upload ended before the form was complete")
    except FormParserError:
        receiver.abort()
        raise UploadError("The form data is malformed") from None
    except ClientDisconnect:
        receiver.abort()
        raise UploadError("The upload was interrupted") from None
    except UploadError as exc:
        receiver.abort()
        exc.fields = dict(receiver.form.fields)
        raise
    except BaseException:
        receiver.abort()
        raise
    return receiver.form


async def drain(request: Request, limit: int = DRAIN_LIMIT) -> None:
    """Read and discard the rest of the body (up to ``limit`` bytes).

    After a 413 a browser that is still sending may report a reset connection instead of the
    page, if the server closes with unread data. Draining a bounded amount lets it see the
    error page for moderate overshoots; beyond ``limit`` we stop reading and let it close.
    """
    length = _content_length_or_none(request)
    if length is not None and length > limit:
        return
    discarded = 0
    try:
        async for chunk in request.stream():
            discarded += len(chunk)
            if discarded > limit:
                return
    except (ClientDisconnect, RuntimeError):  # gone, or the stream was already consumed
        return


def _content_length_or_none(request: Request) -> int | None:
    try:
        return _content_length(request)
    except UploadError:
        return None


# --- who may upload: shared by the datasets API and the upload page ---------------------------

#: Who may add versions: a data owner (of the organisation itself), or a hub admin loading a
#: file on an organisation's behalf (:data:`joinedup.ingest.service.UPLOAD_ROLES`).
require_uploader = require_roles(*UPLOAD_ROLES)


def authorise_upload(request: Request, organisation: str) -> Uploader:
    """The permission check for adding a version to ``organisation``'s datasets.

    The API calls this before reading the body (the organisation is in the path); the upload
    page after reading the form (the organisation is a form field) and before the ingest starts.
    Either way nothing is kept or started for a caller this refuses. Both routes already
    require a signed-in uploader before any body is read. It reads the database: call it from a
    thread.
    """
    principal = require_uploader(request)
    return authorise_upload_for(request.app.state.settings, principal, organisation)


def form_values(form: UploadedForm) -> dict[str, str]:
    """The text fields :func:`joinedup.ingest.service.check_submission` reads (stripped)."""
    return {name: form.field(name) for name in ("mapping", "standard", "period")}


def suggest_upload(settings: Settings, form: UploadedForm, standard: str) -> DraftMapping:
    """Shared by the API and the page: draft a mapping for the uploaded sample file."""
    upload = form.files.get("file")
    if upload is None:
        raise UploadError("Select a sample file", 422)
    return suggest_for_file(settings, upload.path, standard, name=upload.filename)


#: The ``file`` part of an upload form, as the OpenAPI document describes it.
FILE_PART: dict[str, Any] = {
    "type": "string",
    "format": "binary",
    "description": "CSV, XLSX, JSON, NDJSON or Parquet. The file name's extension says which; "
    "the size limit is the hub's max_upload_bytes.",
}


def standard_part(description: str, *, blank: bool = False) -> dict[str, Any]:
    """A form part naming a shipped standard (``blank``: or empty, for none)."""
    names = list_standards()
    return {"type": "string", "enum": ["", *names] if blank else names, "description": description}


def multipart_body(fields: dict[str, dict[str, Any]], required: Iterable[str]) -> dict[str, Any]:
    """An OpenAPI ``requestBody`` for a route that reads its form with :func:`receive_upload`
    (FastAPI cannot see it): ``multipart/form-data`` with these parts."""
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": list(required), "properties": fields}
            }
        },
    }
