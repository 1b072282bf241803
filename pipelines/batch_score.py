"""`batch_score`: tomorrow's question for every active family, precomputed in chunks.

Assignments go to the content store (`assignments`, one document per family and day, never
re-rolled once written) with their `served` events, and into the cache for the api. On a Dask
cluster (`WOORIZIP_DASK_ADDRESS`) the chunks are scored by its workers; locally by threads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from recsys.events import Dataset
from recsys.registry import LoadedModel, RegistryError
from recsys.serving import Assignment, Recommender, serving_policy
from woorizip.recommender.assignments import save_assignments


@dataclass(frozen=True)
class BatchResult:
    days: list[str]
    families: int
    written: int
    already_assigned: int
    model_version: str | None


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def load_history() -> Dataset:
    from woorizip.recommender.store import load_dataset

    with resources.backends() as opened:
        return load_dataset(content=opened.content)


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def load_champion() -> LoadedModel | None:
    try:
        return resources.model_registry().load_alias("champion")
    except RegistryError as error:
        get_run_logger().warning("champion unusable, scoring with the heuristic: %s", error)
        return None


def tomorrow_by_family(dataset: Dataset, *, now: datetime) -> dict[date, list[str]]:
    """Families grouped by their own local tomorrow (their timezone, Asia/Seoul by default)."""
    groups: dict[date, list[str]] = defaultdict(list)
    for family_id, zone in zip(dataset.families["family_id"], dataset.families["timezone"], strict=True):
        local = now.astimezone(ZoneInfo(str(zone) if isinstance(zone, str) and zone else "Asia/Seoul"))
        groups[local.date() + timedelta(days=1)].append(str(family_id))
    return groups


@task(cache_policy=NO_CACHE)
def score_chunk(
    recommender: Recommender, family_ids: list[str], model: LoadedModel | None, epsilon: float
) -> list[Assignment]:
    policy = serving_policy(None if model is None else model.scorer, epsilon=epsilon)
    return recommender.assign(family_ids=family_ids, policy=policy)


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def store_assignments(assignments: list[Assignment]) -> tuple[int, int]:
    """Save assignments and their served events; ones already there are kept (reruns never re-roll)."""
    with resources.backends() as opened:
        return save_assignments(backends=opened, assignments=assignments)


@flow(name="batch_score", log_prints=True)
def batch_score(now: datetime | None = None) -> BatchResult:
    """Assign tomorrow's question (family-local date) to every active family."""
    logger = get_run_logger()
    config = resources.settings()
    now = now or datetime.now(UTC)
    dataset = load_history()
    model = load_champion()
    written = kept = families = 0
    days = []
    for day, family_ids in sorted(tomorrow_by_family(dataset, now=now).items()):
        recommender = Recommender.from_dataset(dataset, day=day)
        active = sorted(set(recommender.active_families()) & set(family_ids))
        size = config.batch_chunk_families
        chunks = [active[i : i + size] for i in range(0, len(active), size)]
        futures = [score_chunk.submit(recommender, chunk, model, config.recommender_epsilon) for chunk in chunks]
        for future in futures:
            new, existing = store_assignments(future.result())
            written += new
            kept += existing
        families += len(active)
        days.append(day.isoformat())
    version = None if model is None else model.version
    logger.info("assigned %d families (%d new, %d kept) with model %s", families, written, kept, version or "heuristic")
    return BatchResult(days=days, families=families, written=written, already_assigned=kept, model_version=version)


def with_configured_runner(settings_dask_address: str | None) -> Any:
    """The batch flow on the configured Dask cluster, or as it is (local threads)."""
    if not settings_dask_address:
        return batch_score
    from prefect_dask import DaskTaskRunner

    return batch_score.with_options(task_runner=DaskTaskRunner(address=settings_dask_address))  # type: ignore[arg-type]
