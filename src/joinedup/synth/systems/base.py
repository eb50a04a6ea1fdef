"""Shared plumbing for the system exporters: write a file, record it in the manifest and truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import ErrorLog, shown_fields
from ..layouts import Layout, all_layouts
from ..manifest import FileEntry, Manifest
from ..records import World
from ..render import build_table, write_table
from ..truth import TruthWriter

LAYOUTS = all_layouts()
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "json": "json"}


@dataclass
class Segments:
    """Household occupancy of one address: [start, end) with end = NO_DAY while ongoing."""

    household: npt.NDArray[np.int64]
    address: npt.NDArray[np.int64]
    start: npt.NDArray[np.int32]
    end: npt.NDArray[np.int32]
    index: npt.NDArray[np.int64]  # stable id: household * 2 + (0 before a move, 1 after)


class Output:
    def __init__(
        self,
        world: World,
        out_dir: Path,
        manifest: Manifest,
        truth: TruthWriter,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.world = world
        self.out_dir = out_dir
        self.manifest = manifest
        self.truth = truth
        self.progress = progress

    def layout(self, dataset: str, organisation: str) -> Layout:
        return LAYOUTS[(dataset, organisation)]

    def path_for(self, layout: Layout, stem: str) -> str:
        return f"{layout.organisation}/{stem}.{EXTENSIONS[layout.format]}"

    def emit(
        self,
        layout: Layout,
        stem: str,
        period: str | None,
        cols: dict[str, Any],
        record_ids: pa.Array | None = None,
        person: npt.NDArray[np.int64] | None = None,
        joint: npt.NDArray[np.int64] | None = None,
        log: ErrorLog | None = None,
    ) -> FileEntry:
        rel = self.path_for(layout, stem)
        table = build_table(layout, cols, self.world.gazetteer)
        write_table(self.out_dir / rel, layout, table)
        if record_ids is not None and person is not None:
            hh = self.world.people.household[person]
            self.truth.add_records(rel, record_ids, person, hh, joint)
            if log is not None:
                shown = shown_fields({c.field for c in layout.columns})
                self.truth.add_errors(log.table(record_ids, rel, shown))
        entry = FileEntry(
            path=rel,
            organisation=layout.organisation,
            dataset=layout.dataset,
            system=layout.system,
            standard=layout.standard,
            mapping=layout.mapping,
            period=period,
            format=layout.format,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            rows=table.num_rows,
        )
        self.manifest.files.append(entry)
        if self.progress is not None:
            self.progress(rel)
        return entry


def occupancy_segments(world: World) -> Segments:
    """Each household's stay at its first address and, after a move, at its second."""
    tl = world.timeline
    hh_n = world.households.size
    people = world.people
    # a household ends when all its members have died
    last_alive = np.zeros(hh_n, dtype=np.int64)
    np.maximum.at(last_alive, people.household, people.dod.astype(np.int64))
    gone = np.where(last_alive < tl.end, last_alive, np.iinfo(np.int32).max).astype(np.int32)
    hh = np.arange(hh_n, dtype=np.int64)
    moved = tl.move_day != np.iinfo(np.int32).max
    end0 = np.minimum(np.where(moved, tl.move_day, np.iinfo(np.int32).max), gone)
    seg_hh = np.concatenate([hh, hh[moved]])
    address = np.concatenate([tl.address0, tl.address1[moved]])
    start = np.concatenate([world.households.occupied_since, tl.move_day[moved]])
    end = np.concatenate([end0, gone[moved]])
    index = np.concatenate([hh * 2, hh[moved] * 2 + 1])
    keep = start < end
    return Segments(
        seg_hh[keep],
        address[keep],
        start[keep].astype(np.int32),
        end[keep].astype(np.int32),
        index[keep],
    )
