"""Alembic environment: the URL comes from the config set by woorizip.db.migrate."""

from alembic import context

from woorizip.db.base import Base
from woorizip.db.engine import build_engine
from woorizip.db.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = build_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            # render_as_batch lets ALTER TABLE migrations run on SQLite too.
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
