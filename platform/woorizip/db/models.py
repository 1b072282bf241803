"""Imports every domain's table module so Alembic and tests see the whole metadata."""

from __future__ import annotations

import importlib

# Domains add their `models` module here as they land (auth, family, ...).
MODEL_MODULES: tuple[str, ...] = (
    "woorizip.auth.models",
    "woorizip.auth.social.models",
    "woorizip.family.models",
    "woorizip.recommender.models",
)


def import_all_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
