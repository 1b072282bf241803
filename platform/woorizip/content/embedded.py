"""The embedded content server: one SecantusDB daemon per data directory, shared by all processes.

SecantusDB (GPL) runs as its own process and is spoken to over the MongoDB wire protocol only.
A storage directory can be opened by one server at a time, so the first process to need it
starts the daemon and records its pid and port in `server.json`; every later process (api,
worker, pipelines, notebooks) finds that record and reuses the running server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from pymongo import MongoClient
from pymongo.errors import PyMongoError

logger = logging.getLogger(__name__)

STATE_FILE = "server.json"
START_TIMEOUT_SECONDS = 60.0


class EmbeddedServerError(RuntimeError):
    """The embedded content server could not be started or reached."""


@dataclass(frozen=True)
class ServerRecord:
    pid: int
    port: int

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(uri: str, timeout_seconds: float = 1.0) -> bool:
    """True when a MongoDB wire server at `uri` replies to ping."""
    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=int(timeout_seconds * 1000), connectTimeoutMS=int(timeout_seconds * 1000)
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _read_record(state_path: Path) -> ServerRecord | None:
    try:
        raw = json.loads(state_path.read_text())
        return ServerRecord(pid=int(raw["pid"]), port=int(raw["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_server(storage_dir: Path) -> ServerRecord | None:
    """The live server recorded for `storage_dir`, if any."""
    record = _read_record(storage_dir / STATE_FILE)
    if record and _pid_alive(record.pid) and answers(record.uri):
        return record
    return None


def ensure_server(storage_dir: Path) -> ServerRecord:
    """Return the running server for `storage_dir`, starting a detached one if none answers."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    state_path = storage_dir / STATE_FILE
    with FileLock(str(storage_dir / "server.lock"), timeout=START_TIMEOUT_SECONDS + 30):
        record = running_server(storage_dir)
        if record:
            return record
        stale = _read_record(state_path)
        if stale and _pid_alive(stale.pid):
            # The process exists but does not answer yet (still opening WiredTiger): wait for it.
            if _wait_until_answering(stale, timeout=START_TIMEOUT_SECONDS):
                return stale
            raise EmbeddedServerError(f"content server pid {stale.pid} does not answer on port {stale.port}")
        record = _start(storage_dir)
        state_path.write_text(json.dumps({"pid": record.pid, "port": record.port}))
        return record


def _start(storage_dir: Path) -> ServerRecord:
    port = _free_port()
    daemon = Path(sys.executable).with_name("secantusd-py")
    command = [
        str(daemon) if daemon.exists() else "secantusd-py",
        "--host", "127.0.0.1", "--port", str(port),
        "--storage-path", str((storage_dir / "data").resolve()),
        "--cache-size", "256M", "--log-level", "WARNING",
    ]  # fmt: skip
    log = (storage_dir / "server.log").open("ab")
    # A new session keeps the daemon alive after the process that started it exits.
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    record = ServerRecord(pid=process.pid, port=port)
    if not _wait_until_answering(record, timeout=START_TIMEOUT_SECONDS, process=process):
        process.kill()
        raise EmbeddedServerError(f"content server did not start; see {storage_dir / 'server.log'}")
    logger.info("started embedded content server", extra={"pid": record.pid, "port": port})
    return record


def _wait_until_answering(
    record: ServerRecord, *, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        if answers(record.uri, timeout_seconds=0.5):
            return True
        time.sleep(0.1)
    return False


def stop_server(storage_dir: Path, timeout: float = 30.0) -> bool:
    """Stop the recorded server and wait until it has closed its storage; False if none ran."""
    record = _read_record(storage_dir / STATE_FILE)
    if record is None or not _pid_alive(record.pid):
        return False
    os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(record.pid):
        # Reap it when it is our own child, so it does not linger as a zombie.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(record.pid, os.WNOHANG)
        time.sleep(0.1)
    if _pid_alive(record.pid):
        os.kill(record.pid, signal.SIGKILL)
    (storage_dir / STATE_FILE).unlink(missing_ok=True)
    return True
