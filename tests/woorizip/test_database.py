"""Migrations and the engine on SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.woorizip.conftest import SettingsFactory
from woorizip.db import migrate
from woorizip.db.base import Base
from woorizip.db.engine import build_engine, ping
from woorizip.db.models import import_all_models


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return make_settings().resolved_database_url


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        ping(engine)
        assert migrate.current_revision(engine) is None
        migrate.upgrade(url=database_url)
        assert migrate.current_revision(engine) == migrate.head_revision()
        migrate.downgrade(url=database_url, revision="base")
        assert migrate.current_revision(engine) is None
        migrate.upgrade(url=database_url)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    import_all_models()
    migrate.upgrade(url=database_url)
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_single_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
