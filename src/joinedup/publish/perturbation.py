"""ONS-style cell-key perturbation, with ONS's ``cell-key-perturbation`` package.

Every counted unit (a resident) gets a record key from 0 to 255, derived from a hash of its
id, so the same resident always has the same key. A cell's key is the sum of its units' keys
modulo 256, and the perturbation table (*ptable*) maps (cell value, cell key) to the noise
added, so the same cell is always perturbed the same way, in every release and every table.

The package ships a ptable that implements the 10-5 rule; this module builds one with noise:
counts under the threshold become 0 (then suppressed), other counts move by at most
:data:`MAX_NOISE`, symmetric around zero, chosen by the cell key. Margins are cells of their
own (the package perturbs each independently), so totals do not add up exactly — which is the
point — and secondary suppression still runs on top.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import pandas as pd
from cell_key_perturbation.create_perturbed_table import create_perturbed_table

KEY_RANGE = 255
MAX_CELL_VALUE = 750  # the package reuses rows 501-750 for larger counts
MAX_NOISE = 2
#: cell-key cut points (out of 256) for noise -2, -1, 0, +1, +2: 10%, 15%, 50%, 15%, 10%
_NOISE_CUTS = ((26, -2), (64, -1), (192, 0), (230, 1), (256, 2))


def record_key(unit_id: str) -> int:
    """A unit's record key, 0-255, stable for its id."""
    return hashlib.sha256(unit_id.encode()).digest()[0]


@lru_cache(maxsize=4)
def ptable(threshold: int = 10) -> pd.DataFrame:
    """The perturbation table: ``pcv``, ``ckey``, ``pvalue`` (do not modify the result)."""
    rows = []
    for pcv in range(1, MAX_CELL_VALUE + 1):
        for ckey in range(KEY_RANGE + 1):
            noise = -pcv if pcv < threshold else next(n for cut, n in _NOISE_CUTS if ckey < cut)
            rows.append((pcv, ckey, noise))
    return pd.DataFrame(rows, columns=["pcv", "ckey", "pvalue"])


def perturb(
    memberships: Iterable[tuple[Any, str]],
    cells: Iterable[Any],
    threshold: int = 10,
) -> dict[Any, int]:
    """Perturbed counts for ``cells`` from ``(cell, unit_id)`` memberships (a unit belongs to
    each cell it is counted in, margins included). Cells with no units count 0."""
    index: dict[str, Any] = {}
    rows = []
    for cell, unit in memberships:
        label = repr(cell)
        index[label] = cell
        rows.append({"cell": label, "record_key": record_key(unit)})
    out: dict[Any, int] = dict.fromkeys(cells, 0)
    if not rows:
        return out
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints its checks
        table = create_perturbed_table(
            data=pd.DataFrame(rows),
            ptable=ptable(threshold),
            geog=[],
            tab_vars=["cell"],
            record_key="record_key",
            use_existing_ons_id=False,
            threshold=0,  # suppression is decided by joinedup.publish.disclosure
        )
    perturbed: Mapping[str, Any] = dict(zip(table["cell"], table["count"], strict=True))
    for label, value in perturbed.items():
        out[index[label]] = max(0, int(value))
    return out
