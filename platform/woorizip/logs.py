"""Logging for the two kinds of process: services (JSON lines with the request id) and the console.

`woorizip serve` and `woorizip worker` are services: one JSON object per line on stderr (plain text
with WOORIZIP_LOG_JSON=false), at the configured level, for a log collector. Every other command is
a person at a terminal: `LEVEL name: message` lines, warnings and errors only unless `-v`.
"""

from __future__ import annotations

import logging
import os
import sys

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"

# Loggers that libraries (Prefect, uvicorn) give their own handlers or levels; ours go to the root handler.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi")


def console_level(verbosity: int) -> int:
    """WARNING by default, INFO with -v, DEBUG with -vv (or more)."""
    if verbosity <= 0:
        return logging.WARNING
    return logging.INFO if verbosity == 1 else logging.DEBUG


def configure_logging(*, level: str | int = "INFO", json_lines: bool = True) -> None:
    """A service's logging: the root logger writes every record at `level` to stderr, JSON by default."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationIdFilter(uuid_length=32, default_value="-"))
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
                rename_fields={
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                    "correlation_id": "request_id",
                },
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"))
    _install(handler, level=level.upper() if isinstance(level, str) else level)
    # Alembic announces its dialect on every readiness probe, and its plugins when first imported.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.NOTSET)  # the calls to social sign-in providers


def configure_console_logging(*, verbosity: int = 0) -> None:
    """A command's logging for a person: `LEVEL name: message` on stderr from `console_level(verbosity)` up.

    The handler itself filters too: libraries whose loggers carry their own level (Prefect's flow and
    task runs log at INFO whatever the root level) would otherwise fill the console.
    """
    level = console_level(verbosity)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    _install(handler, level=level)
    # -v shows the migrations being applied; Alembic's plugin registrations and every HTTP request of
    # the Prefect client only come with -vv.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.NOTSET)
    for chatty in ("alembic.runtime.plugins", "httpx"):
        logging.getLogger(chatty).setLevel(logging.NOTSET if verbosity >= 2 else logging.WARNING)


def _install(handler: logging.Handler, *, level: str | int) -> None:
    # When first imported, MLflow gives its own loggers (and Alembic's and huey's) a handler of its own
    # that bypasses this one, unless this variable says not to; MLflow's records then come here too.
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python's warnings (a library's deprecation) become log records too: one format on stderr.
    logging.captureWarnings(True)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)
