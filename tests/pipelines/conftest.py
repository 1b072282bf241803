"""Pipelines under Prefect's test harness, MLflow on SQLite and the session's SecantusDB.

A `PipelineWorld` is one installation (data dir, models dir, content database); `use()` points
the process's settings at it for the duration of a block (flows read `get_settings()`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from recsys.events import Dataset, write_dataset
from recsys.registry import ModelRegistry
from recsys.simulate.history import simulate_history
from woorizip.settings import get_settings


@dataclass(frozen=True)
class PipelineWorld:
    root: Path
    mongo_url: str
    database: str

    @property
    def environment(self) -> dict[str, str]:
        return {
            "WOORIZIP_DATA_DIR": str(self.root / "var"),
            "WOORIZIP_MODELS_DIR": str(self.root / "models"),
            "WOORIZIP_MONGO_URL": self.mongo_url,
            "WOORIZIP_MONGO_DATABASE": self.database,
            "WOORIZIP_ENVIRONMENT": "test",
        }

    @contextmanager
    def use(self) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in self.environment.items():
                patch.setenv(key, value)
            get_settings.cache_clear()
            try:
                yield
            finally:
                get_settings.cache_clear()

    def seed_live(self, dataset: Dataset) -> dict[str, str]:
        """The dataset's families as live families of this installation, their history in its event log."""
        from woorizip.auth.passwords import PasswordHasher
        from woorizip.backends import Backends
        from woorizip.db import migrate
        from woorizip.recommender.bank import load_question_bank
        from woorizip.recommender.seeding import seed_live_families

        with self.use():
            settings = get_settings()
            migrate.upgrade(url=settings.resolved_database_url)
            backends = Backends(settings)
            try:
                load_question_bank(content=backends.content, bank=dataset.bank)
                hasher = PasswordHasher(time_cost=1, memory_cost_kib=1024)
                return seed_live_families(backends=backends, dataset=dataset, hasher=hasher).family_ids
            finally:
                backends.close()

    def registry(self) -> ModelRegistry:
        with self.use():
            settings = get_settings()
            return ModelRegistry(
                tracking_uri=settings.resolved_mlflow_tracking_uri, artifact_location=settings.mlflow_artifacts_dir
            )


def new_world(root: Path, mongo_url: str) -> PipelineWorld:
    (root / "var").mkdir(parents=True, exist_ok=True)
    return PipelineWorld(root=root, mongo_url=mongo_url, database=f"wz_{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server (SQLite) for the session: flows record their runs in it."""
    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def small_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated dataset folder small enough to train on in seconds."""
    folder = tmp_path_factory.mktemp("snapshot") / "sim"
    write_dataset(simulate_history(n_families=200, days=40, seed=3).dataset, folder)
    return folder
