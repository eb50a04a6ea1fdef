from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from joinedup.catalog import migrate
from joinedup.catalog.db import get_engine, session_scope
from joinedup.catalog.models import Base, Dataset, Organisation, User
from joinedup.config import Settings
from joinedup.home import init_home
from tests.support import make_settings


def test_init_is_idempotent_and_reaches_head(db_settings: Settings) -> None:
    with session_scope(db_settings) as session:
        session.add(Organisation(code="lambeth", name="Lambeth", gss_code="E09000022"))
    report = init_home(db_settings)
    init_home(db_settings)
    assert report.revision == migrate.head_revision()
    assert migrate.current_revision(db_settings) == migrate.head_revision()
    with session_scope(db_settings) as session:
        assert session.scalars(select(Organisation.code)).all() == ["lambeth"]


def test_migrations_match_the_models(db_settings: Settings) -> None:
    with get_engine(db_settings).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_entities_round_trip_with_aware_utc_times(db_settings: Settings) -> None:
    with session_scope(db_settings) as session:
        org = Organisation(code="lewisham", name="Lewisham", gss_code="E09000023")
        session.add(org)
        session.flush()
        session.add(User(username="ana", display_name="Ana", organisation_id=org.id, role="dpo"))
        session.add(Dataset(organisation_id=org.id, name="council-tax", standard="council_tax"))
    with session_scope(db_settings) as session:
        user = session.scalars(select(User)).one()
        assert user.organisation.code == "lewisham"
        assert user.created_at.tzinfo is not None
        assert abs((datetime.now(UTC) - user.created_at).total_seconds()) < 60


def test_dataset_names_are_unique_per_organisation(db_settings: Settings) -> None:
    with session_scope(db_settings) as session:
        org = Organisation(code="southwark", name="Southwark")
        session.add(org)
        session.flush()
        session.add(Dataset(organisation_id=org.id, name="tenancies", standard="tenancy"))
    with pytest.raises(IntegrityError), session_scope(db_settings) as session:
        session.add(Dataset(organisation_id=org.id, name="tenancies", standard="tenancy"))


def test_naive_datetimes_are_refused(db_settings: Settings) -> None:
    with pytest.raises(Exception, match="naive datetimes"), session_scope(db_settings) as session:
        session.add(Organisation(code="x", name="X", created_at=datetime(2026, 1, 1)))


def test_a_migration_that_rebuilds_a_referenced_table_keeps_its_rows(tmp_path: Path) -> None:
    """SQLite rebuilds a table to alter it; rows other tables point at must survive, and
    foreign keys be on again afterwards."""
    settings = make_settings(tmp_path / "home")
    settings.home.mkdir(parents=True)
    migrate.upgrade(settings, "0011_insight_areas")
    sha, when = "a" * 64, "2026-12-01 00:00:00.000000"
    with get_engine(settings).begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO snapshot (sha256, path, row_count, size_bytes, schema_json, created_at) "
            f"VALUES ('{sha}', 'snapshots/aa/{sha}.parquet', 0, 0, '[]', '{when}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO linkage_run (id, model_version, model_path, threshold, records, "
            "residents, households, pairs, index_sha256, pairs_sha256, inputs, details, "
            f"created_at, kind, records_sha256) VALUES (1, 1, 'm/1.json', 0.9, 0, 0, 0, 0, "
            f"'{sha}', '{sha}', '[]', '{{}}', '{when}', 'full', '{sha}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO linkage_id_event (run_id, kind, resident_id, related, records, "
            f"evidence, created_at) VALUES (1, 'merge', 'r-1', '[]', 1, '{{}}', '{when}')"
        )
    migrate.upgrade(settings)
    assert migrate.current_revision(settings) == migrate.head_revision()
    with get_engine(settings).connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT id, records_sha256, tombstones_sha256 FROM linkage_run"
        ).fetchall() == [(1, sha, None)]
        assert conn.exec_driver_sql("SELECT count(*) FROM linkage_id_event").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
