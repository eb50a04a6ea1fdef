"""Text files (CSV, JSON): one streaming byte scan, encoding detection, and transcoding.

Everything here works on large chunks with C-speed ``bytes``/``str`` operations, never per row:

1. :func:`scan_file` hashes the file and, in the same pass, finds what the parsers need to know
   up front: a byte-order mark, the first byte that is not UTF-8, the first NUL byte, which line
   endings occur, whether the file has an empty line before its last content, and whether it
   holds anything but whitespace.
2. :func:`prepare_text` picks the encoding (BOM → valid UTF-8 → charset-normalizer restricted to
   the Western single-byte code pages UK systems export: cp1252, ISO 8859-15, Latin-1) and, when
   the file is not UTF-8 or mixes line endings, transcodes it to a UTF-8 temporary file with
   LF line endings, streaming.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from joinedup.ingest.errors import IngestError
from joinedup.ingest.readers.context import ReadContext

CHUNK = 4 * 1024 * 1024
SAMPLE = 1024 * 1024
WESTERN = ("cp1252", "iso8859_15", "latin_1")
WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
UTF8_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_CONTROL_BYTES_RE = re.compile(b"[" + re.escape(_CONTROL_BYTES) + b"]")
BINARY_CONTROL_RATIO = 0.005


@dataclass
class Scan:
    """Facts about a file's bytes, from one pass."""

    size: int
    sha256: str
    bom: str | None = None
    """The codec that consumes the file's byte-order mark (``utf-8-sig``, ``utf-16``,
    ``utf-32``), or ``None``."""
    bad_utf8_at: int | None = None
    nul_at: int | None = None
    has_content: bool = False
    crlf: bool = False
    lone_cr: bool = False
    lone_lf: bool = False
    blank_at: int | None = None
    last_content_at: int = -1

    @property
    def interior_blank_line(self) -> bool:
        """An empty line before the last content (trailing empty lines do not count)."""
        return self.blank_at is not None and self.blank_at < self.last_content_at

    @property
    def mixed_endings(self) -> bool:
        return sum((self.crlf, self.lone_cr, self.lone_lf)) > 1

    def endings(self) -> str:
        kinds = [
            n for n, on in (("CRLF", self.crlf), ("LF", self.lone_lf), ("CR", self.lone_cr)) if on
        ]
        return ", ".join(kinds)


def detect_bom(head: bytes) -> str | None:
    for mark, codec in WIDE_BOMS:
        if head.startswith(mark):
            return codec
    if head.startswith(UTF8_BOM):
        return "utf-8-sig"
    return None


def scan_file(path: Path, *, text: bool = True, digest: bool = True) -> Scan:
    """Hash ``path`` and (when ``text``) gather the text facts, in one streaming pass."""
    sha = hashlib.sha256()
    size = 0
    scan = Scan(size=0, sha256="")
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending_cr = False
    prev_last = b""
    start = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            base = size
            size += len(chunk)
            if digest:
                sha.update(chunk)
            if not text:
                continue
            if base == 0:
                scan.bom = detect_bom(chunk[:4])
                if scan.bom == "utf-8-sig":
                    start = len(UTF8_BOM)
                elif scan.bom is not None:  # UTF-16/32: the byte facts below do not apply
                    text = False
                    continue
                if chunk[start : start + 1] in (b"\r", b"\n"):
                    scan.blank_at = start
            body = chunk if base else chunk[start:]
            offset = base if base else start
            if not scan.has_content and body.strip():
                scan.has_content = True
            if scan.nul_at is None and (i := body.find(b"\x00")) >= 0:
                scan.nul_at = offset + i
            if scan.bad_utf8_at is None:
                pending = decoder.getstate()[0]
                if pending or not body.isascii():
                    try:
                        decoder.decode(body)
                    except UnicodeDecodeError as exc:
                        scan.bad_utf8_at = max(0, offset - len(pending) + exc.start)
            stripped = body.rstrip(b"\r\n")
            if stripped:
                scan.last_content_at = offset + len(stripped) - 1
            # line endings, with a CR at the end of one chunk and LF at the start of the next
            lf_from = 0
            if pending_cr:
                if body[:1] == b"\n":
                    scan.crlf = True
                    lf_from = 1
                else:
                    scan.lone_cr = True
            has_cr = b"\r" in body
            if not has_cr:
                if not scan.lone_lf and body.find(b"\n", lf_from) >= 0:
                    scan.lone_lf = True
            else:
                n_cr = body.count(b"\r")
                n_crlf = body.count(b"\r\n")
                ends_cr = body.endswith(b"\r")
                scan.crlf = scan.crlf or n_crlf > 0
                if n_cr - n_crlf - (1 if ends_cr else 0) > 0:
                    scan.lone_cr = True
                if not scan.lone_lf and body.count(b"\n") - lf_from > n_crlf:
                    scan.lone_lf = True
            pending_cr = body.endswith(b"\r")
            # the first empty line: two line terminators with nothing between them
            if scan.blank_at is None:
                if prev_last and (prev_last + body[:1]) in (b"\n\n", b"\r\r", b"\n\r"):
                    scan.blank_at = offset - 1
                else:
                    hits = [body.find(b"\n\n")]
                    if has_cr:
                        hits += [body.find(b"\r\r"), body.find(b"\n\r")]
                    hits = [h for h in hits if h >= 0]
                    if hits:
                        scan.blank_at = offset + min(hits)
            prev_last = body[-1:]
    if text and scan.bad_utf8_at is None:
        pending = decoder.getstate()[0]
        if pending:
            scan.bad_utf8_at = size - len(pending)
    if pending_cr:
        scan.lone_cr = True
    scan.size = size
    scan.sha256 = sha.hexdigest() if digest else ""
    return scan


def line_at(path: Path, offset: int) -> int:
    """The 1-based physical line (CRLF, LF or CR terminated) holding byte ``offset``."""
    terminators = 0
    read = 0
    pending_cr = False
    with path.open("rb") as fh:
        while read < offset:
            chunk = fh.read(min(CHUNK, offset - read))
            if not chunk:
                break
            if pending_cr and chunk[:1] == b"\n":
                terminators -= 1  # the CR already counted was half of a CRLF
            terminators += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            pending_cr = chunk.endswith(b"\r")
            read += len(chunk)
    return terminators + 1


@dataclass
class Prepared:
    """A UTF-8 text file ready for the parsers (the source itself, or a transcoded temp)."""

    path: Path
    codec: str
    """How to open ``path``: ``utf-8``, or ``utf-8-sig`` for the source with its BOM."""
    encoding: str
    """The source's encoding, as reported in :class:`SourceInfo`."""
    scan: Scan


def _codec_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def _detect_single_byte(ctx: ReadContext, scan: Scan) -> str:
    """cp1252, ISO 8859-15 or Latin-1, as charset-normalizer judges a sample (cp1252 — the
    Windows default in the UK — when the sample is too small to judge)."""
    bad = scan.bad_utf8_at or 0
    with ctx.path.open("rb") as fh:
        sample = fh.read(SAMPLE)
        if bad > len(sample) - 1024:
            fh.seek(max(0, bad - SAMPLE // 4))
            sample += b"\n" + fh.read(SAMPLE // 2)
    best = from_bytes(sample, cp_isolation=list(WESTERN)).best()
    return best.encoding if best is not None else "cp1252"


def _utf16_without_bom(ctx: ReadContext) -> str | None:
    """``utf-16-le``/``-be`` when NULs sit in every other byte, as in BOM-less UTF-16 text."""
    with ctx.path.open("rb") as fh:
        head = fh.read(4096)
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _transcode(src: Path, dst: Path, codec: str, normalise: bool) -> None:
    """Decode ``src`` strictly with ``codec`` and write UTF-8 (LF line endings if ``normalise``).

    Raises ``UnicodeDecodeError`` whose ``start`` is the absolute byte offset of the bad byte.
    """
    decoder = codecs.getincrementaldecoder(codec)("strict")
    carry = ""
    read = 0
    with src.open("rb") as fi, dst.open("wb") as fo:
        while True:
            chunk = fi.read(CHUNK)
            final = not chunk
            pending = len(decoder.getstate()[0])
            try:
                text = carry + decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                exc.start = read - pending + exc.start
                raise
            read += len(chunk)
            carry = ""
            if normalise:
                if not final and text.endswith("\r"):
                    carry, text = "\r", text[:-1]
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            fo.write(text.encode("utf-8"))
            if final:
                return


def _check_control_bytes(ctx: ReadContext) -> None:
    """Binary data without NUL bytes: many C0 control bytes, whatever the single-byte encoding."""
    with ctx.path.open("rb") as fh:
        sample = fh.read(SAMPLE)
    count = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if count >= 8 and count > BINARY_CONTROL_RATIO * len(sample):
        first = _CONTROL_BYTES_RE.search(sample)
        line = sample[: first.start()].count(b"\n") + 1 if first else None
        raise ctx.error(
            "binary_content", "the file holds binary data (control characters), not text", line
        )


def _check_control_characters(ctx: ReadContext, path: Path, codec: str) -> None:
    with path.open("r", encoding=codec, errors="replace", newline="") as fh:
        sample = fh.read(SAMPLE)
    hits = _CONTROL.findall(sample)
    if len(hits) >= 8 and len(hits) > BINARY_CONTROL_RATIO * len(sample):
        first = _CONTROL.search(sample)
        line = sample[: first.start()].count("\n") + 1 if first else None
        raise ctx.error(
            "binary_content",
            "the file holds binary data (control characters), not text",
            row=line,
        )


def prepare_text(ctx: ReadContext, *, normalise_newlines: bool, suffix: str) -> Prepared:
    """Scan the source, settle its encoding, and give back a UTF-8 file to parse."""
    path = ctx.path
    with path.open("rb") as fh:
        head = fh.read(4)
    bom = detect_bom(head)
    declared = _codec_name(ctx.options.encoding) if ctx.options.encoding else None
    if ctx.options.encoding and not declared:
        raise ctx.error("encoding", f"unknown encoding {ctx.options.encoding!r}")
    wide = bom if bom in ("utf-16", "utf-32") else None
    if declared and declared.startswith(("utf-16", "utf-32")):
        wide = declared
    scan = scan_file(path, text=wide is None)
    ctx.sha256, ctx.size = scan.sha256, scan.size
    if wide is None and scan.nul_at is not None and declared is None:
        wide = _utf16_without_bom(ctx)
    if wide is None:
        if scan.nul_at is not None:
            raise _binary(ctx, scan)
        _check_control_bytes(ctx)
    if wide is not None:
        codec = wide
        how = "no byte-order mark" if codec.endswith(("-le", "-be")) else "byte-order mark"
        if declared is None:
            ctx.warn("encoding", f"read as {codec.upper()} ({how}) and converted to UTF-8")
    elif declared in ("utf-8", "utf-8-sig") or (declared is None and scan.bad_utf8_at is None):
        if scan.bad_utf8_at is not None:
            line = line_at(path, scan.bad_utf8_at)
            raise ctx.error(
                "encoding", f"the file is not valid UTF-8 (first bad byte on line {line})", line
            )
        codec = "utf-8-sig" if bom else "utf-8"
        if bom:
            ctx.warn("bom", "a UTF-8 byte-order mark at the start was ignored")
    else:
        if declared is not None:
            codec = declared
        else:
            codec = _detect_single_byte(ctx, scan)
            line = line_at(path, scan.bad_utf8_at or 0)
            ctx.warn(
                "encoding",
                f"the file is not UTF-8 (first non-UTF-8 byte on line {line}); "
                f"read as {codec} and converted to UTF-8",
            )
    if wide is None and not scan.has_content:
        raise ctx.error("empty_file", "the file is empty or holds only whitespace")

    mixed = normalise_newlines and wide is None and scan.mixed_endings
    if codec in ("utf-8", "utf-8-sig") and not mixed:
        prepared = Prepared(path, codec, codec, scan)
    else:
        prepared = _transcoded(ctx, scan, codec, declared is not None, normalise_newlines, suffix)
    if mixed:
        ctx.warn("line_endings", f"mixed line endings ({scan.endings()}) were normalised to LF")
    _check_control_characters(ctx, prepared.path, prepared.codec)
    return prepared


def _binary(ctx: ReadContext, scan: Scan) -> IngestError:
    line = line_at(ctx.path, scan.nul_at or 0)
    return ctx.error("binary_content", f"the file holds NUL bytes (first on line {line})", line)


def _transcoded(
    ctx: ReadContext, scan: Scan, codec: str, strict: bool, normalise: bool, suffix: str
) -> Prepared:
    tmp = ctx.temp_path(suffix)
    try:
        _transcode(ctx.path, tmp, codec, normalise)
    except UnicodeDecodeError as exc:
        if strict or codec == "latin_1" or codec.startswith(("utf-16", "utf-32")):
            line = line_at(ctx.path, exc.start)
            raise ctx.error(
                "encoding", f"the bytes on line {line} are not valid {codec}", line
            ) from None
        ctx.warn("encoding", f"{codec} did not fit every byte; read as latin_1 instead")
        codec = "latin_1"
        _transcode(ctx.path, tmp, codec, normalise)
    out = scan_file(tmp, digest=False)
    if out.nul_at is not None:
        line = line_at(tmp, out.nul_at)
        raise ctx.error(
            "binary_content", f"the file holds NUL characters (first on line {line})", line
        )
    if not out.has_content:
        raise ctx.error("empty_file", "the file is empty or holds only whitespace")
    return Prepared(tmp, "utf-8", codec, out)
