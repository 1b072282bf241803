"""What every pipeline command sets up before Prefect is imported."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.cli import _pipeline_environment
from woorizip.settings import get_settings


@pytest.fixture
def fresh_environment(tmp_path: Path) -> Iterator[Path]:
    saved = dict(os.environ)  # the function under test writes os.environ itself
    for name in ("PREFECT_HOME", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
        os.environ.pop(name, None)
    data_dir = tmp_path / "new" / "var"
    os.environ["WOORIZIP_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    try:
        yield data_dir
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def test_prefect_home_is_created_under_the_data_dir(fresh_environment: Path) -> None:
    _pipeline_environment()
    home = Path(os.environ["PREFECT_HOME"])
    assert home.is_dir() and home.is_relative_to(fresh_environment.resolve())


def test_temporary_prefect_server_gets_time_to_migrate_on_a_slow_machine(fresh_environment: Path) -> None:
    from prefect.settings import Settings

    default = Settings().server.ephemeral.startup_timeout_seconds
    _pipeline_environment()
    assert int(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]) >= 6 * default
    # Prefect reads its settings from the environment when first imported, as a fresh Settings() does here.
    assert Settings().server.ephemeral.startup_timeout_seconds >= 6 * default

    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "45"  # an operator's choice stays
    _pipeline_environment()
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "45"
