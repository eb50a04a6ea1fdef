from datetime import UTC, datetime

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
