"""Build the huey instance and register the tasks on it; nothing runs at import time."""

from __future__ import annotations

from dataclasses import dataclass

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper

from woorizip.queue import tasks
from woorizip.settings import Settings

QUEUE_NAME = "woorizip"


@dataclass
class JobQueue:
    """The huey instance and the tasks registered on it."""

    huey: Huey
    backend: str
    tasks: dict[str, TaskWrapper]

    def ping(self) -> None:
        self.huey.pending_count()

    def close(self) -> None:
        storage = self.huey.storage
        if hasattr(storage, "close"):
            storage.close()


def build_queue(settings: Settings, *, immediate: bool = False) -> JobQueue:
    """The queue for this installation; `immediate` runs tasks inline (scripts, not tests)."""
    if settings.queue_url:
        huey: Huey = RedisHuey(QUEUE_NAME, url=settings.queue_url, immediate=immediate)
        backend = "redis"
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(QUEUE_NAME, filename=str(settings.queue_file.resolve()), immediate=immediate)
        backend = "sqlite"
    return JobQueue(huey=huey, backend=backend, tasks=tasks.register(huey))
