"""Clustering scored pairs into residents, and residents into households.

**Residents.** Connected components of the pairs at or above the threshold, with one guard:
two records whose personal details conflict (given names or dates of birth that no typo,
variant, shift or swap explains) and that the model scored below the threshold are a
*cannot-link*. Plain connected components would still join them through a third record that
agrees with both, typically one without a date of birth (a council tax account or an elector
``JOHN SMITH`` at the address of a father and son both called John Smith). Two records of one
source listing (one assessment of a benefit claim lists each member once) are a cannot-link at
any probability: twins on one claim are two people. Components that
hold a cannot-link are rebuilt greedily: links are taken strongest first, and a link that would
put a cannot-link pair into one resident is left out. Everything else is plain connected
components (vectorised in numpy).

**Reviewers' decisions** override the model: :func:`cluster_predictions` takes forced links
(pairs a reviewer said are the same person: linked as if at probability 1, and taken before
any model link when a component is rebuilt) and forced cannot-links (pairs a reviewer said are
different people: never in one resident, whatever the model scored). They are passed in by
record key, so the caller decides where they come from (:mod:`joinedup.linkage.review`).

``resident_id`` is provisional here: ``r-`` and 16 hex digits of the sha256 of the smallest
record key in the cluster, so a rebuild over the same records gives the same ids.
``linkage/ids.py`` then maps clusters onto the ids of the earlier index, so ids are stable.

**Households.** Each resident's address is the UPRN seen most often on their records (else the
normalised address line 1 and postcode, else the postcode alone is not used: a postcode is a
street, not a home). Residents sharing an address, or named together under one source
household reference (a claim, an account, a tenancy, a family id), form one household;
``household_id`` is ``h-`` and 16 hex digits of the sha256 of its smallest address key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from joinedup.linkage.comparisons import (
    CONFLICT_LABEL,
    conflict_from_gammas,
    same_listing_from_gammas,
)

IntArray = npt.NDArray[np.int64]


def connected_components(n: int, left: IntArray, right: IntArray) -> IntArray:
    """Component label (smallest node index in it) for each of ``n`` nodes."""
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    while True:
        low = np.minimum(labels[left], labels[right])
        before = labels.copy()
        np.minimum.at(labels, left, low)
        np.minimum.at(labels, right, low)
        labels = labels[labels]  # pointer jumping
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def forbid(self, a: int, b: int) -> None:
        self.cannot.setdefault(a, set()).add(b)
        self.cannot.setdefault(b, set()).add(a)

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ca, cb = self.cannot.get(ra, set()), self.cannot.get(rb, set())
        if any(self.find(x) == rb for x in ca) or any(self.find(x) == ra for x in cb):
            return False
        if len(ca) < len(cb):
            ra, rb, ca, cb = rb, ra, cb, ca
        self.parent[rb] = ra
        if cb:
            self.cannot[ra] = ca | cb
            self.cannot.pop(rb, None)
        return True


@dataclass
class ClusterResult:
    labels: IntArray  # cluster label (a node index) per record
    links_used: int
    links_refused: int
    conflicted_components: int


def cluster_records(
    n: int,
    links: tuple[IntArray, IntArray, npt.NDArray[np.float64]],
    cannot: tuple[IntArray, IntArray],
) -> ClusterResult:
    """Cluster ``n`` records from links (left, right, probability) and cannot-link pairs."""
    left, right, prob = links
    labels = connected_components(n, left, right)
    c_left, c_right = cannot
    inside = labels[c_left] == labels[c_right]
    conflicted = np.unique(labels[c_left[inside]])
    refused = 0
    if len(conflicted):
        in_conflict = np.isin(labels, conflicted)
        link_mask = in_conflict[left]
        order = np.lexsort((right[link_mask], left[link_mask], -prob[link_mask]))
        l_sub, r_sub = left[link_mask][order], right[link_mask][order]
        uf = _UnionFind()
        for a, b in zip(c_left[inside].tolist(), c_right[inside].tolist(), strict=True):
            uf.forbid(a, b)
        for a, b in zip(l_sub.tolist(), r_sub.tolist(), strict=True):
            if not uf.union(a, b):
                refused += 1
        nodes = np.flatnonzero(in_conflict)
        roots = np.array([uf.find(int(x)) for x in nodes], dtype=np.int64)
        # relabel each rebuilt cluster by its smallest node
        smallest: dict[int, int] = {}
        for node, root in zip(nodes.tolist(), roots.tolist(), strict=True):
            smallest[root] = min(smallest.get(root, node), node)
        labels = labels.copy()
        labels[nodes] = np.array([smallest[r] for r in roots.tolist()], dtype=np.int64)
    return ClusterResult(labels, len(left) - refused, refused, len(conflicted))


def provisional_id(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


#: A pair the model scores at or below this match weight is a cannot-link whatever its
#: reason: the model is confident the two records are different people.
CANNOT_LINK_WEIGHT = -10.0


def cannot_link_sql(
    threshold: float,
    weight: float = CANNOT_LINK_WEIGHT,
    *,
    with_source: bool = True,
    conflicts: bool = True,
    present: Collection[str] | None = None,
) -> str:
    """SQL condition over a predictions table: the pair must not end up in one resident.

    Below the threshold, conflicting personal details (with ``conflicts``: data with
    households of different people, see :func:`has_households`); at any probability, a
    weight at or below ``weight``; and with the source comparison (``with_source``), two
    people of one source listing. ``present``: the predictions' columns, when the model left
    out comparisons of absent fields."""
    listing = f" OR {same_listing_from_gammas()}" if with_source else ""
    conflict = (
        f"(match_probability < {float(threshold)} AND {conflict_from_gammas(present)}) OR "
        if conflicts
        else ""
    )
    return f"({conflict}match_weight <= {float(weight)}{listing})"


def has_households(settings: dict[str, Any]) -> bool:
    """The model found households of different people in its data (it holds the
    household-conflict level): conflicting pairs below the threshold are cannot-links. In a
    file of duplicates they are one person's mistyped records, and a cannot-link would keep
    a duplicate out of the cluster its other records agree on."""
    return any(
        lv.get("label_for_charts") == CONFLICT_LABEL
        for c in settings["comparisons"]
        for lv in c["comparison_levels"]
    )


#: Bits by which the odds of a link are moved in a standalone dedupe, by what its file shows
#: (:func:`link_threshold`).
LOOK_ALIKE_BITS = 1.0


def link_threshold(threshold: float, households: bool, bits: float = LOOK_ALIKE_BITS) -> float:
    """The probability at which a standalone dedupe links two records, for the analyst's
    ``threshold``: the odds it stands for doubled (``bits`` = 1) where the file shows
    households of different people (:func:`has_households`), halved where it does not.

    Fellegi-Sunter adds each comparison's evidence as if independent. Among people who are
    related or live together (one family name, one address, names from one culture) the
    details agree together, so a look-alike pair's evidence is counted more than once and its
    probability is too high; in a file of one person's repeated registrations the different
    people are unrelated, and the pairs in doubt are mostly one person's records with several
    details mistyped at once, whose probability is too low. Measured on the issue 14 suite,
    pairs scored 0.5-0.95 were one person 20-40% of the time in every region profile (model
    0.70-0.75) and 86-100% in FEBRL 1-3 and fake_1000 (model 0.80-0.90); one bit is less
    than either gap. The hub's build keeps its threshold: its blocking admits few look-alike
    pairs, and its threshold is judged on the demo region (twins and juniors)."""
    if not 0 < threshold < 1:
        return threshold
    odds = threshold / (1 - threshold) * 2.0 ** (bits if households else -bits)
    return odds / (1 + odds)


#: Ordering key of a forced link in :func:`cluster_records` (above any probability), so a
#: rebuilt component takes reviewers' links first.
FORCED_LINK_ORDER = 2.0

KeyPairs = Sequence[tuple[str, str]]


def forced_rids(
    con: duckdb.DuckDBPyConnection, records: str, pairs: KeyPairs
) -> tuple[IntArray, IntArray]:
    """Record-key pairs as (smaller rid, larger rid) arrays; keys not in ``records`` drop out."""
    if not pairs:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    keys = {
        "a": np.array([p[0] for p in pairs], dtype=object),
        "b": np.array([p[1] for p in pairs], dtype=object),
    }
    con.register("__forced", keys)
    rows = _fetch(
        con,
        f"""SELECT least(x.rid, y.rid) AS a, greatest(x.rid, y.rid) AS b FROM __forced f
        JOIN {records} x ON x.record_key = f.a JOIN {records} y ON y.record_key = f.b
        WHERE x.rid <> y.rid""",
    )
    con.unregister("__forced")
    return _ints(rows["a"]), _ints(rows["b"])


def _without(
    n: int, left: IntArray, right: IntArray, drop: tuple[IntArray, IntArray]
) -> npt.NDArray[np.bool_]:
    """Mask of the pairs (left, right) that are not in ``drop`` (either order)."""
    if len(drop[0]) == 0 or len(left) == 0:
        return np.ones(len(left), dtype=bool)
    codes = np.minimum(left, right) * n + np.maximum(left, right)
    return ~np.isin(codes, drop[0] * n + drop[1])


def cluster_predictions(
    con: duckdb.DuckDBPyConnection,
    records: str,
    predictions: str,
    threshold: float,
    out: str = "linkage_clusters",
    *,
    forced_links: KeyPairs = (),
    forced_cannot: KeyPairs = (),
    conflicts: bool = True,
) -> ClusterResult:
    """Cluster ``records`` (``rid`` 0..n-1 in ``record_key`` order) from the scored pairs in
    ``predictions`` into table ``out(rid, record_key, resident_id)``.

    Links: pairs with ``match_probability >= threshold``. Cannot-links: see
    :func:`cannot_link_sql`. ``forced_links`` and ``forced_cannot`` (record-key pairs, from
    reviewers' decisions) override both: a forced link is a link (and no cannot-link) whatever
    the model scored, a forced cannot-link a cannot-link (and no link).
    """
    n = con.execute(f"SELECT count(*) FROM {records}").fetchall()[0][0]
    link_rows = _fetch(
        con,
        f"SELECT rid_l, rid_r, match_probability FROM {predictions} "
        f"WHERE match_probability >= {float(threshold)}",
    )
    columns = {r[0] for r in con.execute(f"DESCRIBE {predictions}").fetchall()}
    refused = cannot_link_sql(
        threshold, with_source="gamma_source" in columns, conflicts=conflicts, present=columns
    )
    cannot_rows = _fetch(con, f"SELECT rid_l, rid_r FROM {predictions} WHERE {refused}")
    links = (
        _ints(link_rows["rid_l"]),
        _ints(link_rows["rid_r"]),
        np.asarray(link_rows["match_probability"], dtype=np.float64),
    )
    cannot = (_ints(cannot_rows["rid_l"]), _ints(cannot_rows["rid_r"]))
    if forced_links or forced_cannot:
        links, cannot = with_forced(
            int(n),
            links,
            cannot,
            forced_rids(con, records, forced_links),
            forced_rids(con, records, forced_cannot),
        )
    result = cluster_records(int(n), links, cannot)
    write_clusters(con, records, result.labels, out)
    return result


def write_clusters(
    con: duckdb.DuckDBPyConnection, records: str, labels: IntArray, out: str
) -> None:
    """Table ``out(rid, record_key, resident_id)`` from a cluster label per ``rid``, each
    cluster named provisionally by its smallest record key (see the module docstring)."""
    con.register(
        "__labels", {"rid": np.arange(len(labels), dtype=np.int64), "label": np.asarray(labels)}
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {out} AS
        WITH l AS (
            SELECT l.rid, r.record_key, min(r.record_key) OVER (PARTITION BY l.label) AS first
            FROM __labels l JOIN {records} r ON r.rid = l.rid
        )
        SELECT rid, record_key, 'r-' || left(sha256(first), 16) AS resident_id
        FROM l ORDER BY rid"""
    )
    con.unregister("__labels")


def with_forced(
    n: int,
    links: tuple[IntArray, IntArray, npt.NDArray[np.float64]],
    cannot: tuple[IntArray, IntArray],
    forced_links: tuple[IntArray, IntArray],
    forced_cannot: tuple[IntArray, IntArray],
) -> tuple[tuple[IntArray, IntArray, npt.NDArray[np.float64]], tuple[IntArray, IntArray]]:
    """The model's links and cannot-links with reviewers' decisions applied."""
    left, right, prob = links
    keep = _without(n, left, right, forced_cannot)
    left = np.concatenate([left[keep], forced_links[0]])
    right = np.concatenate([right[keep], forced_links[1]])
    prob = np.concatenate([prob[keep], np.full(len(forced_links[0]), FORCED_LINK_ORDER)])
    c_keep = _without(n, cannot[0], cannot[1], forced_links)
    c_left = np.concatenate([cannot[0][c_keep], forced_cannot[0]])
    c_right = np.concatenate([cannot[1][c_keep], forced_cannot[1]])
    return (left, right, prob), (c_left, c_right)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    """A query's columns as NumPy arrays (DuckDB's own conversion: no pyarrow, whose
    conversions import pandas, a second of a standalone command's start)."""
    return dict(con.execute(sql).fetchnumpy())


def _ints(column: Any) -> IntArray:
    return np.asarray(column, dtype=np.int64)


#: A source household reference shared by more residents than this is not a household (a
#: placeholder value, a block account): it is ignored.
MAX_HOUSEHOLD_REF = 20


def households(
    con: duckdb.DuckDBPyConnection,
    records: str,
    clusters: str,
    out: str = "linkage_households",
) -> int:
    """Assign ``household_id`` to each resident (table ``out(resident_id, household_id,
    address_key)``); returns the number of households."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __addr AS
        WITH a AS (
            SELECT c.resident_id,
                   coalesce('uprn:' || r.uprn,
                            'addr:' || r.address || '|' || r.postcode) AS address_key
            FROM {records} r JOIN {clusters} c USING (rid)
        )
        SELECT resident_id, address_key FROM (
            SELECT resident_id, address_key, count(*) AS n
            FROM a WHERE address_key IS NOT NULL GROUP BY ALL
        ) QUALIFY row_number() OVER (PARTITION BY resident_id ORDER BY n DESC, address_key) = 1
        """
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __res AS
        SELECT resident_id, (row_number() OVER (ORDER BY resident_id) - 1)::BIGINT AS i
        FROM (SELECT DISTINCT resident_id FROM {clusters})"""
    )
    edges = _fetch(
        con,
        f"""
        WITH by_address AS (
            SELECT x.i AS a, min(x.i) OVER (PARTITION BY d.address_key) AS b
            FROM __addr d JOIN __res x USING (resident_id)
        ), refs AS (
            SELECT DISTINCT c.resident_id,
                   r.organisation || '/' || r.dataset || '/' || r.household_ref AS ref
            FROM {records} r JOIN {clusters} c USING (rid)
            WHERE r.household_ref IS NOT NULL
        ), small AS (
            SELECT ref FROM refs GROUP BY ref HAVING count(*) <= {MAX_HOUSEHOLD_REF}
        ), by_ref AS (
            SELECT x.i AS a, min(x.i) OVER (PARTITION BY f.ref) AS b
            FROM refs f SEMI JOIN small USING (ref) JOIN __res x USING (resident_id)
        )
        SELECT a, b FROM by_address WHERE a <> b
        UNION ALL SELECT a, b FROM by_ref WHERE a <> b
        """,
    )
    n = con.execute("SELECT count(*) FROM __res").fetchall()[0][0]
    labels = connected_components(int(n), _ints(edges["a"]), _ints(edges["b"]))
    con.register("__hh", {"i": np.arange(n, dtype=np.int64), "label": np.asarray(labels)})
    con.execute(
        f"""CREATE OR REPLACE TABLE {out} AS
        WITH m AS (
            SELECT x.resident_id, h.label, d.address_key
            FROM __res x JOIN __hh h USING (i) LEFT JOIN __addr d USING (resident_id)
        ), named AS (
            SELECT label, coalesce(min(address_key), min(resident_id)) AS key
            FROM m GROUP BY label
        )
        SELECT m.resident_id, 'h-' || left(sha256(named.key), 16) AS household_id,
               m.address_key
        FROM m JOIN named USING (label) ORDER BY m.resident_id"""
    )
    con.unregister("__hh")
    count = con.execute(f"SELECT count(DISTINCT household_id) FROM {out}").fetchall()[0][0]
    con.execute("DROP TABLE __addr")
    con.execute("DROP TABLE __res")
    return int(count)
