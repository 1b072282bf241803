"""Settings for the app shell's tests: embedded defaults and the real-backend variants."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from woorizip.settings import Settings

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(data_dir: Path, mongo_url: str) -> SettingsFactory:
    """Embedded defaults under a temporary data dir; content on the session's SecantusDB."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": data_dir, "mongo_url": mongo_url, "environment": "test"}
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build
