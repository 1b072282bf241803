"""`batch_score`: tomorrow's question for every active family, precomputed in chunks.

Families stream from the relational store a chunk at a time; each chunk reads its families' own
states and the published global state, never the whole event log. Assignments go to the content
store (`assignments`, one document per family and day, never re-rolled once written) with their
`served` events, and into the cache for the api. On a Dask cluster (`WOORIZIP_DASK_ADDRESS`) the
chunks are scored by its workers; locally by threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from recsys.ranking.compiled import compiled
from recsys.registry import LoadedModel, RegistryError
from recsys.serving import serving_policy
from woorizip.heap import freeze_long_lived_objects
from woorizip.recommender.assignments import save_assignments


@dataclass(frozen=True)
class BatchResult:
    days: list[str]
    families: int
    written: int
    already_assigned: int
    model_version: str | None


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def load_champion() -> LoadedModel | None:
    try:
        return resources.model_registry().load_alias("champion")
    except RegistryError as error:
        get_run_logger().warning("champion unusable, scoring with the heuristic: %s", error)
        return None


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def score_chunk(family_ids: list[str], model: LoadedModel | None, epsilon: float, now: datetime) -> ChunkResult:
    """Tomorrow's questions for the active families among `family_ids`: their own states, decided together,
    saved with their served events (ones already there are kept: reruns never re-roll)."""
    from woorizip.family import service as family_service
    from woorizip.recommender.online import GlobalStateHolder
    from woorizip.recommender.service import active, assign_tomorrow

    scorer = None if model is None else compiled(model.scorer, cache_dir=resources.settings().compiled_models_dir)
    policy = serving_policy(scorer, epsilon=epsilon)
    freeze_long_lived_objects()  # a worker's first chunk: its libraries and model are loaded by now
    with resources.backends() as opened:
        with opened.session_factory() as session:
            households = family_service.households(session=session, family_ids=family_ids)
            chosen = active(backends=opened, families=households, now=now)
            assignments = assign_tomorrow(
                backends=opened, session=session, globals_=GlobalStateHolder(backends=opened), families=chosen,
                policy=policy, now=now,
            )  # fmt: skip
        written, kept = save_assignments(backends=opened, assignments=assignments)
    return ChunkResult(families=len(chosen), written=written, kept=kept, days={a.day.isoformat() for a in assignments})


@dataclass(frozen=True)
class ChunkResult:
    families: int
    written: int
    kept: int
    days: set[str]


def family_id_chunks(size: int) -> Iterator[list[str]]:
    """Every family id of the relational store, `size` at a time, in id order."""
    from woorizip.recommender.service import family_id_chunks as chunks

    with resources.backends() as opened:
        yield from chunks(opened, None, size)


@flow(name="batch_score", log_prints=True)
def batch_score(now: datetime | None = None) -> BatchResult:
    """Assign tomorrow's question (family-local date) to every active family, a chunk of families per task."""
    logger = get_run_logger()
    config = resources.settings()
    now = now or datetime.now(UTC)
    model = load_champion()
    futures = [
        score_chunk.submit(chunk, model, config.recommender_epsilon, now)
        for chunk in family_id_chunks(config.batch_chunk_families)
    ]
    results = [future.result() for future in futures]
    written, kept = sum(r.written for r in results), sum(r.kept for r in results)
    families = sum(r.families for r in results)
    days = sorted(set().union(*(r.days for r in results))) if results else []
    version = None if model is None else model.version
    logger.info("assigned %d families (%d new, %d kept) with model %s", families, written, kept, version or "heuristic")
    return BatchResult(days=days, families=families, written=written, already_assigned=kept, model_version=version)


def with_configured_runner(settings_dask_address: str | None, *, workers: int = 1) -> Any:
    """The batch flow on the configured Dask cluster, on `workers` local processes, or as it is (local threads).

    Deciding a chunk is mostly Python: threads of one process share one core, processes use them all.
    """
    if not settings_dask_address and workers <= 1:
        return batch_score
    runner = resources.task_runner(settings_dask_address, processes=workers)
    return batch_score.with_options(task_runner=runner)
