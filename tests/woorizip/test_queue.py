"""Jobs cross a real worker process, on SQLite (embedded) and Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.woorizip.conftest import SettingsFactory
from woorizip.queue import JobQueue, build_queue
from woorizip.settings import Settings


@pytest.fixture(params=["sqlite", "redis"])
def queue_settings(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Settings:
    if request.param == "redis":
        return make_settings(queue_url=request.getfixturevalue("redis_url"))
    return make_settings()


@pytest.fixture
def worker(queue_settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "WOORIZIP_DATA_DIR": str(queue_settings.data_dir), "WOORIZIP_LOG_JSON": "false"}
    if queue_settings.queue_url:
        env["WOORIZIP_QUEUE_URL"] = queue_settings.queue_url
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("woorizip")), "worker", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_a_worker_process_runs_the_job(queue_settings: Settings, worker: subprocess.Popen[bytes]) -> None:
    queue: JobQueue = build_queue(queue_settings)
    try:
        result = queue.tasks["ping"]("가족")
        value = result.get(blocking=True, timeout=30)
        assert value["echo"] == "가족"
        assert value["worker_pid"] == worker.pid
        queue.ping()
        assert queue.huey.pending_count() == 0
    finally:
        queue.close()


def test_jobs_wait_in_the_queue_until_a_worker_comes(queue_settings: Settings) -> None:
    queue = build_queue(queue_settings)
    try:
        queue.tasks["ping"]("a")
        queue.tasks["ping"]("b")
        assert queue.huey.pending_count() == 2
        assert queue.backend == ("redis" if queue_settings.queue_url else "sqlite")
    finally:
        queue.close()
