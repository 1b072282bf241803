"""`ingest`: export the live stores (or a dataset folder) into a dated, content-hashed Parquet snapshot."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipelines import resources
from recsys.events import Dataset, DatasetError, EventType, dataset_hash, read_dataset, read_manifest, write_dataset

SNAPSHOT_FILES = ("events.parquet", "families.parquet", "members.parquet", "questions.parquet", "manifest.json")


class SnapshotError(ValueError):
    """The snapshot cannot be trained on; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    """A dataset folder frozen for one training run, named by day and content hash."""

    path: Path
    name: str
    content_hash: str
    day: date
    events: int
    families: int
    first_day: date
    last_day: date
    object_prefix: str | None = None  # where it was uploaded, when an object store bucket is configured

    def as_dict(self) -> dict[str, Any]:
        return {key: str(value) if value is not None else None for key, value in asdict(self).items()}


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def export_live_stores() -> Dataset:
    """The live families (relational store), their events and the question bank (content store)."""
    from woorizip.recommender.service import households_in_chunks
    from woorizip.recommender.store import live_dataset

    with resources.backends() as opened:
        households = [family for chunk in households_in_chunks(backends=opened) for family in chunk]
        return live_dataset(content=opened.content, households=households)


@task(cache_policy=NO_CACHE)
def read_folder(folder: Path) -> tuple[Dataset, dict[str, Any]]:
    return read_dataset(folder), read_manifest(folder)


@task(cache_policy=NO_CACHE)
def write_snapshot(dataset: Dataset, *, root: Path, day: date, extra: dict[str, Any]) -> Snapshot:
    """Validate and write the snapshot; an unusable one fails here, before anything is trained.

    Only days before `day` are kept: the day in progress has questions served but not yet answered,
    which training would otherwise read as families that did not answer.
    """
    if len(dataset.events):
        dataset = Dataset(dataset.events[dataset.events["day"] < day], dataset.families, dataset.members, dataset.bank)
    events = dataset.events
    served = int((events["type"] == EventType.SERVED).sum()) if len(events) else 0
    if served == 0:
        raise SnapshotError("the snapshot has no served questions: there is nothing to train on")
    if len(dataset.families) == 0:
        raise SnapshotError("the snapshot has no families")
    digest = dataset_hash(dataset)
    name = f"{day.isoformat()}-{digest[:12]}"
    path = root / name
    if not (path / "manifest.json").is_file():
        partial = root / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        write_dataset(dataset, partial, extra={**extra, "content_hash": digest, "snapshot_day": day.isoformat()})
        partial.replace(path)  # readers never see a half-written snapshot
    return Snapshot(
        path=path,
        name=name,
        content_hash=digest,
        day=day,
        events=len(events),
        families=len(dataset.families),
        first_day=dataset.first_day,
        last_day=dataset.last_day,
    )


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def upload_snapshot(snapshot: Snapshot) -> str:
    """Copy the snapshot's files to the object store (S3 in production) under `snapshots/<name>/`."""
    prefix = f"snapshots/{snapshot.name}"
    with resources.backends() as opened:
        store = opened.object_store
        for file_name in SNAPSHOT_FILES:
            store.put(f"{prefix}/{file_name}", (snapshot.path / file_name).read_bytes())
    return prefix


@flow(name="ingest", log_prints=True)
def ingest(data: Path | None = None, day: date | None = None) -> Snapshot:
    """Snapshot the live stores, or the dataset folder `data`, under `<data dir>/snapshots/`."""
    logger = get_run_logger()
    config = resources.settings()
    day = day or datetime.now(ZoneInfo(config.schedule_timezone)).date()
    if data is not None:
        try:
            dataset, manifest = read_folder(Path(data))
        except DatasetError as error:
            raise SnapshotError(f"cannot read {data}: {error}") from error
        extra = {key: value for key, value in manifest.items() if key == "simulation"} | {"source": str(data)}
    else:
        try:
            dataset = export_live_stores()
        except DatasetError as error:
            raise SnapshotError(f"cannot export the content store: {error}") from error
        extra = {"source": "content store"}
    snapshot = write_snapshot(dataset, root=config.snapshots_dir, day=day, extra=extra)
    if config.s3_bucket:
        snapshot = Snapshot(**{**asdict(snapshot), "object_prefix": upload_snapshot(snapshot)})
    logger.info("snapshot %s: %d events, %d families", snapshot.name, snapshot.events, snapshot.families)
    return snapshot
