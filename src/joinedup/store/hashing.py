"""sha256 of files, read in chunks (snapshots, backups and source files all use it)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

CHUNK = 4 * 1024 * 1024


def stream_sha256(fh: BinaryIO) -> tuple[str, int]:
    """sha256 and byte count of the rest of an open binary file."""
    digest = hashlib.sha256()
    size = 0
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return stream_sha256(fh)[0]
