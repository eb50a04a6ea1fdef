"""The fairness check: each rule's flag rate by sex, age band and area, against everyone else.

For each rule, at the latest month of an area run (:mod:`joinedup.insight.trends`), the
population is every resident the flagging councils hold a record of under the rule's
purpose, and the flagged are those the rule fired on. For each group (a sex, an age band, a
local authority, a ward) the **rate ratio** is the group's flag rate over the rate of
everyone outside it, with a 95% confidence interval on the log scale (Katz:
``se = sqrt(1/a - 1/n1 + 1/c - 1/n2)``; 0.5 is added to every cell when a count is zero). A
group is **marked** when the interval lies wholly above 1 and the ratio is at least 1.5, or
wholly below 1 and the ratio at most 1/1.5: a difference both clear and large. A marked
group is a prompt for the DPO to ask why (a rule about children hits children by design),
not a verdict. Only counts leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joinedup.config import Settings
from joinedup.store import SnapshotStore, duckdb_session

#: The ratio a marked group's rate must reach (or fall below the inverse of).
MARKED_RATIO = 1.5
DIMENSIONS = ("sex", "age_band", "lad", "ward")
#: The columns of the fairness CSV (API and CLI).
FAIRNESS_COLUMNS = (
    "rule_id",
    "month",
    "dimension",
    "group",
    "flags",
    "residents",
    "rate",
    "overall_rate",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "marked",
)

FAIRNESS_SQL = """
WITH fl AS (
    SELECT DISTINCT ON (rule_id, resident_id) rule_id, resident_id FROM __mflags
    WHERE month = {month}
),
pp AS (
    SELECT DISTINCT ON (r.rule_id, p.resident_id) r.rule_id, p.resident_id, p.sex,
           p.age_band, coalesce(g.lad, c.gss, 'unplaced') AS lad,
           coalesce(g.ward, 'unplaced') AS ward
    FROM __population p JOIN __rules r USING (purpose)
    LEFT JOIN __gazetteer g ON g.uprn = p.uprn
    LEFT JOIN __councils c ON c.code = p.organisation
    WHERE p.month = {month}
    ORDER BY r.rule_id, p.resident_id, g.ward NULLS LAST, p.organisation, p.uprn, p.sex,
             p.age_band
),
pf AS (
    SELECT pp.*, fl.resident_id IS NOT NULL AS flagged
    FROM pp LEFT JOIN fl USING (rule_id, resident_id)
),
long AS (
    SELECT rule_id, flagged, 'sex' AS dimension, sex AS grp FROM pf
    UNION ALL SELECT rule_id, flagged, 'age_band', age_band FROM pf
    UNION ALL SELECT rule_id, flagged, 'lad', lad FROM pf
    UNION ALL SELECT rule_id, flagged, 'ward', ward FROM pf
),
g AS (
    SELECT rule_id, dimension, grp, count(*) FILTER (WHERE flagged) AS a, count(*) AS n1
    FROM long GROUP BY ALL
),
t AS (SELECT rule_id, count(*) FILTER (WHERE flagged) AS fa, count(*) AS fn FROM pf GROUP BY ALL),
cells AS (
    SELECT g.*, t.fa - g.a AS c, t.fn - g.n1 AS n2, t.fa, t.fn,
           CASE WHEN g.a = 0 OR t.fa - g.a = 0 THEN 0.5 ELSE 0 END AS k
    FROM g JOIN t USING (rule_id)
),
ratios AS (
    SELECT *,
           CASE WHEN n2 > 0 AND fa > 0 THEN ((a + k) / (n1 + k)) / ((c + k) / (n2 + k)) END AS rr,
           CASE WHEN n2 > 0 AND fa > 0
                THEN sqrt(1 / (a + k) - 1 / (n1 + k) + 1 / (c + k) - 1 / (n2 + k)) END AS se
    FROM cells
)
SELECT rule_id, {month} AS month, dimension, grp AS "group", a::BIGINT AS flags,
       n1::BIGINT AS residents, round(a / n1, 6) AS rate, round(fa / fn, 6) AS overall_rate,
       round(rr, 4) AS rate_ratio, round(exp(ln(rr) - 1.96 * se), 4) AS ci_low,
       round(exp(ln(rr) + 1.96 * se), 4) AS ci_high,
       grp NOT IN ('unknown', 'unplaced')
       AND coalesce((exp(ln(rr) - 1.96 * se) > 1 AND rr >= {ratio})
                    OR (exp(ln(rr) + 1.96 * se) < 1 AND rr <= 1 / {ratio}), FALSE) AS marked
FROM ratios
ORDER BY rule_id, dimension, grp
""".replace("{ratio}", str(MARKED_RATIO))


@dataclass(frozen=True)
class FairnessRow:
    rule_id: str
    month: str
    dimension: str
    group: str
    flags: int
    residents: int
    rate: float
    overall_rate: float
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    marked: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_fairness(
    settings: Settings, sha256: str, rule: str | None = None, dimension: str | None = None
) -> list[FairnessRow]:
    """The rows of a fairness snapshot (counts and ratios only), optionally one rule/dimension."""
    where, params = ["TRUE"], []
    if rule:
        where.append("rule_id = ?")
        params.append(rule)
    if dimension:
        where.append("dimension = ?")
        params.append(dimension)
    with duckdb_session(settings) as con:
        rows = con.execute(
            f"SELECT * FROM {SnapshotStore(settings).sql_source(sha256)} "
            f'WHERE {" AND ".join(where)} ORDER BY rule_id, dimension, "group"',
            params,
        ).fetchall()
    return [FairnessRow(*r) for r in rows]
