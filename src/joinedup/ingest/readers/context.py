"""State shared by the readers for one call of :func:`read_source`."""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from joinedup.ingest.errors import IngestError, base_name
from joinedup.ingest.readers.options import ReadOptions

TMP_PREFIX = ".tmp-"


def temp_name(suffix: str) -> str:
    """``.tmp-<pid>-<hex><suffix>``: the pattern the store's stale-temp cleanup attributes to a
    process (see ``joinedup.store.snapshots``)."""
    return f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}{suffix}"


@dataclass
class ReadContext:
    con: duckdb.DuckDBPyConnection
    path: Path
    options: ReadOptions
    tmp_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)
    temps: list[Path] = field(default_factory=list)
    sha256: str = ""
    size: int = 0
    display_name: str | None = None

    @property
    def name(self) -> str:
        """The file name shown in errors: the name the user gave, never a full path."""
        return base_name(self.display_name) if self.display_name else self.path.name

    @property
    def suffix(self) -> str:
        return (Path(self.name).suffix or self.path.suffix).lower()

    def error(
        self, rule: str, message: str, row: int | None = None, column: str | None = None
    ) -> IngestError:
        return IngestError(self.name, row, rule, message, column=column)

    def warn(self, rule: str, message: str) -> None:
        self.warnings.append(f"{rule}: {message}")

    def temp_path(self, suffix: str) -> Path:
        """A fresh temporary file path, removed by :meth:`cleanup` (always called)."""
        folder = self.tmp_dir if self.tmp_dir is not None else Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / temp_name(suffix)
        self.temps.append(path)
        return path

    def cleanup(self) -> None:
        for path in self.temps:
            path.unlink(missing_ok=True)
        self.temps.clear()
