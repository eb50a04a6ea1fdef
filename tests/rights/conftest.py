"""Rights tests work on private copies of the session's demo region (they record disputes and
objections and re-run the rules)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import InsightRun, LinkageRun, User
from joinedup.governance.access import Actor
from joinedup.linkage.chain import records_source
from joinedup.store import SnapshotStore, duckdb_session
from tests.regions import Region


@pytest.fixture(scope="module")
def rights_home(private_demo: Region) -> Region:
    return private_demo


def actor_for(home: Region, username: str, purpose: str | None = "subject-access") -> Actor:
    with session_scope(home.settings) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return Actor(user.id, user.username, user.organisation_id, user.role, purpose)


@pytest.fixture(scope="module")
def dpo(rights_home: Region) -> Actor:
    return actor_for(rights_home, "hub.dpo")


def query(home: Region, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """SQL over the latest run's snapshots: ``{index}``, ``{records}``, ``{flags}``."""
    with session_scope(home.settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc())).first()
        insight = session.scalars(select(InsightRun).order_by(InsightRun.id.desc())).first()
        assert run is not None and insight is not None
        store = SnapshotStore(home.settings)
        sources = {
            "index": store.sql_source(run.index_sha256),
            "records": records_source(home.settings, run),
            "flags": store.sql_source(insight.flags_sha256),
        }
    with duckdb_session(home.settings) as con:
        return con.execute(sql.format(**sources), list(params)).fetchall()


def flagged_resident(home: Region, rule: str) -> str:
    """A resident with a flag of ``rule`` whose records are in several organisations."""
    rows = query(
        home,
        """SELECT f.resident_id, count(DISTINCT i.organisation) AS orgs FROM {flags} f
        JOIN {index} i USING (resident_id) WHERE f.rule_id = ?
        GROUP BY 1 ORDER BY orgs DESC, 1 LIMIT 1""",
        rule,
    )
    assert rows, f"the demo raised no {rule} flag"
    return str(rows[0][0])


def details_of(home: Region, resident: str) -> tuple[str, str, str, str | None]:
    """A resident's given name, family name, date of birth (ISO) and postcode, from one of
    their records with a date of birth: what they would give a DPO."""
    given, family, dob, postcode = query(
        home,
        """SELECT r.given_name, r.family_name, CAST(r.dob AS VARCHAR), r.postcode
        FROM {records} r JOIN {index} i USING (record_key)
        WHERE i.resident_id = ? AND r.dob IS NOT NULL ORDER BY r.record_key LIMIT 1""",
        resident,
    )[0]
    return str(given), str(family), str(dob), postcode
