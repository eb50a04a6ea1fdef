"""A run's pairs and records as a chain of snapshots: the last whole one, then deltas.

A full build writes its scored pairs and prepared records whole. An incremental run changes
a few thousand of a million records, so rewriting both snapshots would cost more than the
scoring itself. It writes instead, on top of its parent's:

* ``pairs_sha256``: only the pairs it scored (new and changed records);
* ``records_sha256``: only the records it added or rewrote (new, changed, or taking a new
  dataset version);
* ``tombstones_sha256``: ``(record_key, pairs)`` for every record whose parent row no longer
  holds: removed, changed or rewritten; ``pairs`` is true when the parent's pairs of the
  record go too (removed or changed details, not a mere new version number).

Reading a run means reading its chain newest first: each layer's rows, less those whose
record keys a newer layer tombstoned. A chain stops at a run without tombstones (whole
snapshots). An update writes whole snapshots again (compaction) once the chain would be
longer than :data:`MAX_DELTAS`, or when its delta is more than :data:`MAX_DELTA_SHARE` of the
index, so reads stay cheap. Nothing here holds personal values beyond what the snapshots
themselves hold; readers go through the same governed paths as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageRun
from joinedup.config import Settings
from joinedup.errors import Missing
from joinedup.store import SnapshotStore

#: The longest chain of deltas an update builds on before it writes whole snapshots.
MAX_DELTAS = 8
#: An update whose delta records are more than this share of the index writes them whole.
MAX_DELTA_SHARE = 0.25


@dataclass(frozen=True)
class Layer:
    """One run's snapshots in a chain (``tombstones`` is None for the whole one)."""

    run_id: int
    pairs: str
    records: str | None
    tombstones: str | None


def _layer(run: LinkageRun) -> Layer:
    return Layer(int(run.id), run.pairs_sha256, run.records_sha256, run.tombstones_sha256)


def layers(settings: Settings, run: LinkageRun) -> list[Layer]:
    """The chain of ``run``, newest first, ending with the run holding whole snapshots."""
    chain = [_layer(run)]
    if run.tombstones_sha256 is None:
        return chain
    with session_scope(settings) as session:
        parent_id = run.parent_run_id
        while parent_id is not None:
            parent = session.get(LinkageRun, parent_id)
            if parent is None:  # pragma: no cover - a foreign key keeps the parent
                raise Missing(f"linkage run {parent_id} is missing from the catalogue")
            chain.append(_layer(parent))
            if parent.tombstones_sha256 is None:
                break
            parent_id = parent.parent_run_id
    return chain


def deltas(chain: list[Layer]) -> int:
    """How many delta layers the chain has (0: whole snapshots)."""
    return len(chain) - 1


def _read(
    store: SnapshotStore,
    chain: list[Layer],
    snapshot: Callable[[Layer], str],
    keys: tuple[str, ...],
    *,
    pairs_only: bool,
    positions: bool = False,
) -> str:
    """The chain's rows of one kind as a table expression: each layer's snapshot
    (``snapshot``) less the rows whose ``keys`` a newer layer tombstoned. ``positions`` adds
    ``__layer`` (0 for the oldest) and ``__row`` (the row's place in its file)."""
    parts = []
    for i, layer in enumerate(chain):
        source = store.sql_source(snapshot(layer), row_numbers=positions)
        extra = (
            f" EXCLUDE (file_row_number), {len(chain) - 1 - i} AS __layer, file_row_number AS __row"
            if positions
            else ""
        )
        sql = f"SELECT s.*{extra} FROM {source} s"
        shas = [newer.tombstones for newer in chain[:i] if newer.tombstones is not None]
        if shas:
            files = ", ".join("'" + str(store.path_of(t)).replace("'", "''") + "'" for t in shas)
            gone = f"SELECT record_key FROM read_parquet([{files}])"
            gone += " WHERE pairs" if pairs_only else ""
            sql += "".join(
                f" ANTI JOIN ({gone}) g{n} ON g{n}.record_key = s.{key}"
                for n, key in enumerate(keys)
            )
        parts.append(sql)
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def pairs_source(settings: Settings, run: LinkageRun, chain: list[Layer] | None = None) -> str:
    """A table expression of every pair of ``run`` (columns of the pairs snapshot)."""
    chain = chain if chain is not None else layers(settings, run)
    return _read(
        SnapshotStore(settings),
        chain,
        lambda layer: layer.pairs,
        ("record_key_l", "record_key_r"),
        pairs_only=True,
    )


def records_source(
    settings: Settings,
    run: LinkageRun,
    chain: list[Layer] | None = None,
    *,
    positions: bool = False,
) -> str:
    """A table expression of every prepared record of ``run``. ``positions`` adds
    ``__layer`` and ``__row``: ordering by them gives the records in the order the run
    numbered them (older layers first, each in its file's order)."""
    chain = chain if chain is not None else layers(settings, run)

    def records(layer: Layer) -> str:
        if layer.records is None:
            raise Missing(f"linkage run {layer.run_id} stored no prepared records")
        return layer.records

    return _read(
        SnapshotStore(settings),
        chain,
        records,
        ("record_key",),
        pairs_only=False,
        positions=positions,
    )
