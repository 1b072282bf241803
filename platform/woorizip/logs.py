"""Structured JSON logs on stderr, each line carrying the request id."""

from __future__ import annotations

import logging
import sys

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter


def configure_logging(*, level: str = "INFO", json_lines: bool = True) -> None:
    """Configure the root logger once per process (CLI entry points call this, never imports)."""
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces its dialect on every readiness probe; keep the migrations' own lines only.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    for noisy in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(noisy).handlers.clear()
        logging.getLogger(noisy).propagate = True
