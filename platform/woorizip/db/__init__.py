"""Relational store: SQLAlchemy 2 engine and sessions, Alembic migrations."""
