"""Stable resident ids: map a new clustering onto the ids an earlier index gave.

Clustering names each cluster provisionally (``r-`` + 16 hex digits of the sha256 of its
smallest record key). When an earlier index exists, every new cluster instead takes the
earlier id that shares most of its records, each earlier id going to at most one cluster
(greedy, largest overlap first; ties by id, so the result is deterministic):

* a cluster whose records all had one earlier id keeps it (*kept*);
* a cluster holding records of several earlier ids keeps the id it shares most with, and the
  others are retired into it (*merge*);
* an earlier id whose records now lie in several clusters stays with its largest part; the
  other parts get new ids (*split*);
* an earlier id none of whose records is still indexed is *retired*;
* a cluster with no earlier records gets a new id (*new*).

New ids never reuse an id that an earlier run issued. Each merge, split and retirement is
returned as an :class:`IdMove` with the pair evidence behind it, for ``linkage_id_event``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from joinedup.linkage.cluster import cannot_link_sql


@dataclass
class IdMove:
    """One ``linkage_id_event``: ``kind`` is merge, split or retire."""

    kind: str
    resident_id: str
    related: list[str]
    records: int
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class IdReport:
    """How ids moved between two indexes (counts, and the events)."""

    kept: int = 0
    new: int = 0
    merged: int = 0
    split: int = 0
    retired: int = 0
    records_moved: int = 0
    moves: list[IdMove] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "kept": self.kept,
            "new": self.new,
            "merged": self.merged,
            "split": self.split,
            "retired": self.retired,
            "records_moved": self.records_moved,
        }


#: The evidence of a split whose parts no scored pair connects.
NOT_COMPARED = {"verdict": "not compared: no blocking rule put the parts' records together"}


def fresh_id(key: str, reserved: set[str]) -> str:
    """``r-`` + 16 hex digits from ``key``, never one of ``reserved`` (which it joins)."""
    salt = 0
    while True:
        text = key if salt == 0 else f"{key}#{salt}"
        candidate = f"r-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
        if candidate not in reserved:
            reserved.add(candidate)
            return candidate
        salt += 1


def greedy_assignment(overlaps: Iterable[tuple[str, str, int, int]]) -> dict[str, str]:
    """cluster -> earlier id, from (cluster, earlier id, shared anchored records, shared
    records) rows: anchored records (unchanged since the earlier index) count first."""
    ordered = sorted(overlaps, key=lambda row: (-row[2], -row[3], row[1], row[0]))
    assigned: dict[str, str] = {}
    used: set[str] = set()
    for cluster, earlier, _, _ in ordered:
        if cluster in assigned or earlier in used:
            continue
        assigned[cluster] = earlier
        used.add(earlier)
    return assigned


def stabilise_ids(
    con: duckdb.DuckDBPyConnection,
    clusters: str,
    previous: str | None,
    pairs: str | None,
    threshold: float,
    reserved: set[str],
    anchored: str = "TRUE",
) -> IdReport:
    """Rewrite ``clusters(rid, record_key, resident_id)`` in place so that its ids follow the
    earlier index ``previous`` (a SQL source with ``record_key, resident_id``).

    ``pairs`` (a predictions table with ``rid_l, rid_r``) supplies the evidence for merges
    and splits. ``reserved`` is every id issued before (earlier indexes and events).
    ``anchored`` (SQL over the clusters table as ``c``) marks the records that did not
    change: an id stays with the records that kept their details (a record that changed
    and moved away leaves its id behind).
    """
    report = IdReport()
    if previous is None:
        report.new = int(
            con.execute(f"SELECT count(DISTINCT resident_id) FROM {clusters}").fetchall()[0][0]
        )
        return report
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __prev AS
        SELECT record_key, resident_id AS earlier FROM {previous}"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __overlap AS
        SELECT c.resident_id AS cluster, p.earlier,
               count(*) FILTER ({anchored})::BIGINT AS anchored, count(*)::BIGINT AS n
        FROM {clusters} c JOIN __prev p USING (record_key) GROUP BY ALL"""
    )
    # A cluster whose records had one earlier id, which no other cluster holds, keeps it
    # whatever the greedy order: only the rest (merges, splits) go through Python.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __simple AS
        WITH c AS (SELECT cluster FROM __overlap GROUP BY cluster HAVING count(*) = 1),
             e AS (SELECT earlier FROM __overlap GROUP BY earlier HAVING count(*) = 1)
        SELECT o.cluster, o.earlier AS final
        FROM __overlap o SEMI JOIN c USING (cluster) SEMI JOIN e USING (earlier)"""
    )
    overlaps = con.execute(
        "SELECT cluster, earlier, anchored, n FROM __overlap ANTI JOIN __simple USING (cluster)"
    ).fetchall()
    firsts = dict(
        con.execute(
            f"""SELECT resident_id, min(record_key) FROM {clusters}
            WHERE resident_id NOT IN (SELECT cluster FROM __simple) GROUP BY resident_id"""
        ).fetchall()
    )
    sizes = dict(
        con.execute(
            f"""SELECT resident_id, count(*) FROM {clusters}
            WHERE resident_id IN (SELECT cluster FROM __overlap ANTI JOIN __simple USING (cluster))
            GROUP BY ALL"""
        ).fetchall()
    )
    simple = int(con.execute("SELECT count(*) FROM __simple").fetchall()[0][0])
    assigned = greedy_assignment((str(c), str(e), int(a), int(n)) for c, e, a, n in overlaps)
    reserved = set(reserved)
    final: dict[str, str] = {}
    for cluster in sorted(firsts):
        final[cluster] = assigned.get(cluster) or fresh_id(str(firsts[cluster]), reserved)
    report.kept = simple + len(assigned)
    report.new = len(final) - len(assigned)

    by_cluster: dict[str, set[str]] = defaultdict(set)
    by_earlier: dict[str, set[str]] = defaultdict(set)
    for cluster, earlier, _, _ in overlaps:
        by_cluster[str(cluster)].add(str(earlier))
        by_earlier[str(earlier)].add(str(cluster))

    con.register(
        "__final",
        pa.table(
            {
                "cluster": pa.array(list(final), pa.string()),
                "final": pa.array(list(final.values()), pa.string()),
            }
        ),
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {clusters} AS
        SELECT c.rid, c.record_key, f.final AS resident_id
        FROM {clusters} c
        JOIN (SELECT cluster, final FROM __simple UNION ALL SELECT cluster, final FROM __final) f
          ON f.cluster = c.resident_id
        ORDER BY c.rid"""
    )
    con.unregister("__final")
    report.records_moved = int(
        con.execute(
            f"""SELECT count(*) FROM {clusters} c JOIN __prev p USING (record_key)
            WHERE c.resident_id <> p.earlier"""
        ).fetchall()[0][0]
    )
    evidence = _evidence(con, clusters, pairs, threshold) if pairs else {}
    taken = set(assigned.values())  # earlier ids kept by some cluster
    for cluster, earliers in sorted(by_cluster.items()):
        kept = final[cluster]
        absorbed = sorted(e for e in earliers if e != kept and e not in taken)
        if absorbed:
            report.merged += 1
            report.moves.append(
                IdMove(
                    "merge",
                    kept,
                    absorbed,
                    int(sizes[cluster]),
                    evidence.get(("merge", kept), {}),
                )
            )
    for earlier, parts in sorted(by_earlier.items()):
        if len(parts) < 2:
            continue
        others = sorted(final[c] for c in parts if final[c] != earlier)
        if earlier in {final[c] for c in parts}:
            report.split += 1
            report.moves.append(
                IdMove(
                    "split",
                    earlier,
                    others,
                    len(parts),
                    evidence.get(("split", earlier), NOT_COMPARED),
                )
            )
    # an earlier id still holding records under other ids is recorded by a merge instead
    gone = con.execute(
        f"""SELECT earlier, count(*) FROM __prev
        WHERE earlier NOT IN (SELECT resident_id FROM {clusters})
          AND record_key NOT IN (SELECT record_key FROM {clusters})
          AND earlier NOT IN (SELECT earlier FROM __overlap)
        GROUP BY earlier ORDER BY earlier"""
    ).fetchall()
    for earlier, count in gone:
        report.retired += 1
        report.moves.append(IdMove("retire", str(earlier), [], int(count), {}))
    for table in ("__prev", "__overlap", "__simple"):
        con.execute(f"DROP TABLE {table}")
    return report


def _evidence(
    con: duckdb.DuckDBPyConnection, clusters: str, pairs: str, threshold: float
) -> dict[tuple[str, str], dict[str, Any]]:
    """The strongest pair behind each merge (a link across earlier ids inside one resident)
    and each split (a pair between the parts of one earlier id), with why it did or did not
    link. No personal values: record keys, probability, weight and the verdict."""
    rows = con.execute(
        f"""
        WITH p AS (
            SELECT x.rid_l, x.rid_r, x.match_probability, x.match_weight,
                   {cannot_link_sql(threshold)} AS refused
            FROM {pairs} x
        ), j AS (
            SELECT p.*, a.record_key AS key_l, b.record_key AS key_r,
                   a.resident_id AS res_l, b.resident_id AS res_r,
                   pa.earlier AS old_l, pb.earlier AS old_r
            FROM p
            JOIN {clusters} a ON a.rid = p.rid_l
            JOIN {clusters} b ON b.rid = p.rid_r
            LEFT JOIN __prev pa ON pa.record_key = a.record_key
            LEFT JOIN __prev pb ON pb.record_key = b.record_key
        ), merges AS (
            SELECT 'merge' AS kind, res_l AS id, key_l, key_r, match_probability,
                   match_weight, refused
            FROM j
            WHERE res_l = res_r AND old_l IS DISTINCT FROM old_r
        ), splits AS (
            SELECT 'split' AS kind, old_l AS id, key_l, key_r, match_probability,
                   match_weight, refused
            FROM j
            WHERE old_l = old_r AND res_l <> res_r
        )
        SELECT kind, id, key_l, key_r, match_probability, match_weight, refused
        FROM (SELECT * FROM merges UNION ALL SELECT * FROM splits)
        QUALIFY row_number() OVER (
            PARTITION BY kind, id ORDER BY match_weight DESC, key_l, key_r
        ) = 1
        """
    ).fetchall()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, rid, key_l, key_r, prob, weight, refused in rows:
        if kind == "merge":
            verdict = "linked at or above the threshold"
        elif refused:
            verdict = "a cannot-link: personal details conflict"
        else:
            verdict = "scored below the threshold"
        out[(str(kind), str(rid))] = {
            "record_key_l": key_l,
            "record_key_r": key_r,
            "match_probability": round(float(prob), 6),
            "match_weight": round(float(weight), 3),
            "verdict": verdict,
        }
    return out
