"""The backing services of one process, built lazily from settings, probed for readiness."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from pymongo import MongoClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from woorizip.cache import Cache, build_cache
from woorizip.content import client as content_client
from woorizip.content.client import ContentDatabase
from woorizip.db import engine as db_engine
from woorizip.db import migrate
from woorizip.queue import JobQueue, build_queue
from woorizip.settings import Settings
from woorizip.storage import ObjectStore, build_object_store


@dataclass(frozen=True)
class BackendStatus:
    """One concern's backend and whether it answered."""

    concern: str
    backend: str
    ok: bool
    detail: str
    latency_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Backends:
    """Adapters to every backing service; each connects on first use, never at construction."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return db_engine.build_engine(self.settings.resolved_database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return db_engine.build_session_factory(self.engine)

    @cached_property
    def mongo(self) -> MongoClient[dict[str, Any]]:
        return content_client.build_client(self.settings)

    @property
    def content(self) -> ContentDatabase:
        return self.mongo[self.settings.mongo_database]

    @cached_property
    def cache(self) -> Cache:
        return build_cache(self.settings)

    @cached_property
    def object_store(self) -> ObjectStore:
        return build_object_store(self.settings)

    @cached_property
    def queue(self) -> JobQueue:
        return build_queue(self.settings)

    def backend_names(self) -> dict[str, str]:
        """Which backend each concern uses, from settings alone (no connection)."""
        s = self.settings
        return {
            "database": db_engine.make_url_backend(s.resolved_database_url),
            "content": content_client.backend_name(s),
            "cache": "redis" if s.redis_url else "memory",
            "queue": "redis" if s.queue_url else "sqlite",
            "object_store": "s3" if s.s3_bucket else "local",
        }

    def _probe_database(self) -> str:
        db_engine.ping(self.engine)
        current = migrate.current_revision(self.engine)
        head = migrate.head_revision()
        if current != head:
            raise RuntimeError(f"schema at {current}, head is {head}: run `woorizip db upgrade`")
        return f"schema at head {head}"

    def _probe_content(self) -> str:
        self.mongo.admin.command("ping")
        return f"database {self.settings.mongo_database!r}"

    def _probe_cache(self) -> str:
        self.cache.ping()
        return "answers"

    def _probe_queue(self) -> str:
        self.queue.ping()
        return f"{self.queue.huey.pending_count()} pending"

    def _probe_object_store(self) -> str:
        self.object_store.ping()
        return "answers"

    def check(self, *, timeout_seconds: float | None = None) -> list[BackendStatus]:
        """Probe every concern in parallel; a probe that hangs counts as down after the timeout."""
        timeout = timeout_seconds or self.settings.backend_timeout_seconds
        probes: dict[str, Callable[[], str]] = {
            "database": self._probe_database,
            "content": self._probe_content,
            "cache": self._probe_cache,
            "queue": self._probe_queue,
            "object_store": self._probe_object_store,
        }
        names = self.backend_names()
        pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="probe")
        started = time.perf_counter()
        futures = {concern: pool.submit(_timed, probe) for concern, probe in probes.items()}
        results = []
        for concern, future in futures.items():
            remaining = max(0.05, timeout - (time.perf_counter() - started))
            try:
                detail, elapsed = future.result(timeout=remaining)
                results.append(BackendStatus(concern, names[concern], True, detail, elapsed))
            except FutureTimeout:
                results.append(
                    BackendStatus(concern, names[concern], False, f"no answer in {timeout}s", timeout * 1000)
                )
            except Exception as error:  # a probe reports any failure, it never raises
                results.append(BackendStatus(concern, names[concern], False, _describe(error), 0.0))
        pool.shutdown(wait=False, cancel_futures=True)
        return results

    def close(self) -> None:
        for name, closer in (("engine", "dispose"), ("mongo", "close"), ("cache", "close"), ("queue", "close")):
            if name in self.__dict__:
                getattr(self.__dict__[name], closer)()


def _timed(probe: Callable[[], str]) -> tuple[str, float]:
    started = time.perf_counter()
    detail = probe()
    return detail, round((time.perf_counter() - started) * 1000, 2)


def _describe(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:300]
