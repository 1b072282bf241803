"""Alembic driven from code, so `woorizip db upgrade` needs no alembic.ini on disk."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(*, url: str, revision: str = "head") -> None:
    """Bring the schema at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(*, url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration shipped with this code (read once per process)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def current_revision_at(url: str) -> str | None:
    """The revision a database is at, opening and closing its own engine."""
    from woorizip.db.engine import build_engine

    engine = build_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()
