"""Task definitions, registered onto a huey instance by `register`."""

from __future__ import annotations

import os
import socket
from typing import Any

from huey import Huey
from huey.api import TaskWrapper


def ping(payload: str) -> dict[str, Any]:
    """Round-trip check: proves a worker picked the job up (and which one)."""
    return {"echo": payload, "worker_pid": os.getpid(), "host": socket.gethostname()}


def register(huey: Huey) -> dict[str, TaskWrapper]:
    """Register every task on `huey` and return them by name."""
    return {
        "ping": huey.task(retries=2, retry_delay=1, name="ping")(ping),
    }
