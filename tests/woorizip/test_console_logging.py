"""What a person at the console sees: plain warnings by default, more with -v; services keep JSON lines."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter

from woorizip import cli
from woorizip.logs import CONSOLE_FORMAT, configure_console_logging, console_level
from woorizip.settings import get_settings

TOUCHED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "alembic.runtime.migration",
                   "alembic.runtime.plugins", "httpx", "prefect.flow_runs", "tests.flow_runs")  # fmt: skip


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The functions under test configure the process's logging: put it back for the next tests."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate) for name in TOUCHED_LOGGERS if (lg := logging.getLogger(name))
    }
    try:
        yield
    finally:
        root.handlers[:], root.level = saved_root
        for name, (handlers, level, propagate) in saved.items():
            named = logging.getLogger(name)
            named.handlers[:], named.level, named.propagate = handlers, level, propagate


@pytest.fixture
def verbosity(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The global -v count as the Typer callback leaves it; set [0] to pretend `-v`."""
    count = [0]
    monkeypatch.setattr(cli, "_verbosity", count)
    get_settings.cache_clear()
    yield count
    get_settings.cache_clear()


def test_verbosity_levels() -> None:
    assert [console_level(count) for count in (0, 1, 2, 3)] == [
        logging.WARNING, logging.INFO, logging.DEBUG, logging.DEBUG
    ]  # fmt: skip


@pytest.mark.usefixtures("restored_logging")
def test_console_shows_warnings_as_plain_lines_and_info_only_with_v(capsys: pytest.CaptureFixture[str]) -> None:
    flow_runs = logging.getLogger("tests.flow_runs")
    flow_runs.setLevel(logging.INFO)  # as Prefect leaves its flow-run logger, whatever the root level

    configure_console_logging(verbosity=0)
    flow_runs.info("Finished in state Completed()")
    flow_runs.warning("a retry")
    assert capsys.readouterr().err == "WARNING tests.flow_runs: a retry\n"

    configure_console_logging(verbosity=1)
    flow_runs.info("Finished in state Completed()")
    logging.getLogger("woorizip.anything").debug("not yet")
    assert capsys.readouterr().err == "INFO tests.flow_runs: Finished in state Completed()\n"


@pytest.mark.usefixtures("restored_logging")
def test_configured_settings_is_plain_for_commands_and_json_for_services(
    verbosity: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WOORIZIP_DATA_DIR", str(tmp_path))
    root = logging.getLogger()

    cli.configured_settings()
    (handler,) = root.handlers
    assert handler.formatter is not None and handler.formatter._fmt == CONSOLE_FORMAT
    assert root.level == handler.level == logging.WARNING

    cli.configured_settings(service=True)
    (handler,) = root.handlers
    assert isinstance(handler.formatter, JsonFormatter)
    assert root.level == logging.INFO and handler.level == logging.NOTSET

    verbosity[0] = 2  # `woorizip -vv serve`: lower than WOORIZIP_LOG_LEVEL
    cli.configured_settings(service=True)
    assert root.level == logging.DEBUG


@pytest.mark.usefixtures("restored_logging")
def test_pipeline_commands_keep_flow_run_info_off_prefects_console(
    verbosity: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pipelines.cli import _pipeline_environment

    saved = dict(os.environ)  # the function under test writes os.environ itself
    try:
        os.environ.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", None)
        os.environ.pop("PREFECT_LOGGING_LEVEL", None)
        os.environ["WOORIZIP_DATA_DIR"] = str(tmp_path / "var")
        _pipeline_environment()
        assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "WARNING"
        # Prefect reads it into its logging config (the flow-run processes of `schedule` use that one).
        code = (
            "from prefect.logging.configuration import DEFAULT_LOGGING_SETTINGS_PATH, load_logging_config;"
            "print(load_logging_config(DEFAULT_LOGGING_SETTINGS_PATH)['handlers']['console']['level'])"
        )
        prefect = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert prefect.stdout.strip() == "WARNING", prefect.stderr[-2000:]

        os.environ.pop("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL")
        verbosity[0] = 1
        _pipeline_environment()
        assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "INFO"
        assert "PREFECT_LOGGING_LEVEL" not in os.environ
    finally:
        os.environ.clear()
        os.environ.update(saved)
