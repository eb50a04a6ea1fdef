"""Which reader a file needs: the extension says, the first bytes confirm."""

from __future__ import annotations

import struct

from joinedup.ingest.readers.context import ReadContext
from joinedup.ingest.readers.options import Format

EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
}
UNSUPPORTED = {
    ".xls": "a legacy Excel 97-2003 workbook; save it as .xlsx or CSV UTF-8",
    ".xlsb": "an Excel binary workbook; save it as .xlsx or CSV UTF-8",
    ".ods": "an OpenDocument spreadsheet; save it as .xlsx or CSV UTF-8",
    ".zip": "a ZIP archive; upload the files inside it one by one",
    ".gz": "a compressed file; upload it uncompressed",
}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (OLE2, "ole2"),
    (b"PAR1", "parquet"),
    (b"\x1f\x8b", "gzip"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"7z\xbc\xaf", "7z"),
    (b"Rar!", "rar"),
    (b"BZh", "bzip2"),
)
KINDS = {
    "zip": "a ZIP archive (an .xlsx workbook is one: is it a renamed Excel file?)",
    "ole2": "a legacy Office document (.xls, or a password-protected workbook)",
    "parquet": "a Parquet file",
    "gzip": "a gzip-compressed file",
    "pdf": "a PDF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "7z": "a 7-Zip archive",
    "rar": "a RAR archive",
    "bzip2": "a bzip2-compressed file",
}
EXPECTED = {
    "csv": "CSV text",
    "json": "JSON text",
    "ndjson": "JSON text",
    "parquet": "a Parquet file",
    "xlsx": "an Excel workbook",
}


def kind_of(head: bytes) -> str | None:
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _ole2_streams(ctx: ReadContext) -> bytes:
    """Raw bytes of the first directory sector of a CFB file (stream names are UTF-16LE)."""
    with ctx.path.open("rb") as fh:
        header = fh.read(512)
        if len(header) < 512:
            return header
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        first_dir = struct.unpack_from("<I", header, 0x30)[0]
        size = 1 << shift if 7 <= shift <= 16 else 512
        fh.seek((first_dir + 1) * size)
        directory = fh.read(size)
        fh.seek(0)
        return directory + fh.read(1024 * 1024)


def detect_format(ctx: ReadContext) -> Format:
    opts = ctx.options
    size = ctx.path.stat().st_size
    if size > opts.max_file_bytes:
        raise ctx.error(
            "file_too_large",
            f"the file is {size:,} bytes; the limit is {opts.max_file_bytes:,}",
        )
    if size == 0:
        raise ctx.error("empty_file", "the file is empty (0 bytes)")
    suffix = ctx.suffix
    fmt = opts.format or EXTENSIONS.get(suffix)
    if fmt is None:
        why = UNSUPPORTED.get(suffix, f"files named {suffix or '(no extension)'} are not read")
        raise ctx.error(
            "unsupported_format",
            f"{why} (the hub reads CSV, XLSX, JSON, NDJSON and Parquet)",
        )
    with ctx.path.open("rb") as fh:
        head = fh.read(8)
    kind = kind_of(head)
    if fmt == "xlsx":
        if kind == "ole2":
            streams = _ole2_streams(ctx)
            if any(
                n.encode("utf-16-le") in streams for n in ("EncryptionInfo", "EncryptedPackage")
            ):
                raise ctx.error(
                    "encrypted_xlsx",
                    "the workbook is password-protected; remove the password in Excel and "
                    "upload it again",
                )
            if "Workbook".encode("utf-16-le") in streams:
                raise ctx.error(
                    "unsupported_format",
                    "the file is a legacy Excel 97-2003 workbook named .xlsx; save it as .xlsx",
                )
            raise ctx.error(
                "encrypted_xlsx",
                "the file is an encrypted or legacy Office document, not an .xlsx workbook; "
                "remove any password and save it as .xlsx",
            )
        if kind != "zip":
            raise ctx.error(
                "not_a_zip",
                "an .xlsx workbook is a ZIP archive but this file is not one"
                + (f" (it looks like {KINDS[kind]})" if kind else ""),
            )
    elif fmt == "parquet":
        if kind != "parquet":
            raise ctx.error(
                "format_mismatch",
                "the file is not a Parquet file"
                + (f"; it looks like {KINDS[kind]}" if kind else ""),
            )
    elif kind is not None:
        raise ctx.error(
            "format_mismatch",
            f"the file should be {EXPECTED[fmt]} but it is {KINDS[kind]}",
        )
    return fmt
