"""What every flow opens: settings, the backing services and the model registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from recsys.registry import ModelRegistry
from woorizip.backends import Backends
from woorizip.settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()


def model_registry(config: Settings | None = None) -> ModelRegistry:
    config = config or settings()
    return ModelRegistry(
        tracking_uri=config.resolved_mlflow_tracking_uri, artifact_location=config.mlflow_artifacts_dir
    )


@contextmanager
def backends(config: Settings | None = None) -> Iterator[Backends]:
    opened = Backends(config or settings())
    try:
        yield opened
    finally:
        opened.close()


def task_runner(dask_address: str | None, *, threads: int = 1, processes: int = 1) -> Any:
    """A flow's tasks on the Dask cluster at `dask_address` when one is configured, else on `processes`
    local processes when more than one, else on `threads` local threads."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if processes > 1:
        return ProcessPoolTaskRunner(max_workers=processes)
    return ThreadPoolTaskRunner(max_workers=threads)
