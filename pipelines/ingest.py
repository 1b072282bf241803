"""`ingest`: export the live stores (or a dataset folder) into a dated, content-hashed Parquet snapshot.

The live export streams, so memory holds a chunk of families at a time, never the snapshot: the
families come from the relational store a chunk at a time, and a task per chunk reads their events
of the training window from the content store in one query and writes them as a part; the parts are
then merged, in chunk order, a row group at a time. On a Dask cluster (`WOORIZIP_DASK_ADDRESS`) the
chunks are exported by its workers, which must see the snapshots directory; locally by two threads.
Everything is written into a hidden `.partial` folder renamed `<day>-<hash12>` at the end, so
readers never see half a snapshot.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.states import State

from pipelines import resources
from pipelines.batch_score import family_id_chunks
from recsys.catalog import QuestionBank
from recsys.events import (
    Dataset,
    DatasetError,
    DatasetWriter,
    EventType,
    read_dataset,
    read_manifest,
    write_dataset,
    write_part,
)

SNAPSHOT_FILES = ("events.parquet", "families.parquet", "members.parquet", "questions.parquet", "manifest.json")
EXPORT_THREADS = 2  # without a cluster: the content store answers one chunk's query while the other is written


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


@dataclass(frozen=True)
class Part:
    """One exported chunk of families: where its rows are, and the counts checked before merging."""

    folder: Path
    families: int
    events: int
    served: int


def _unless_invalid(_task: Any, _run: Any, state: State[Any]) -> bool:
    """Retry what may pass next time (a store not answering), not data that breaks the format."""
    return not isinstance(state.data, DatasetError)


@task(retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_unless_invalid, cache_policy=NO_CACHE)
def open_export() -> QuestionBank:
    """The question bank every chunk is checked against (and the index the chunks' queries use)."""
    from woorizip.recommender.store import bank_of, ensure_family_days_index

    with resources.backends() as opened:
        ensure_family_days_index(opened.content)
        return bank_of(opened.content)


@task(retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_unless_invalid, cache_policy=NO_CACHE)
def export_chunk(family_ids: list[str], folder: Path, bank: QuestionBank, since: date, until: date) -> Part:
    """These families (relational store) and their events with since <= day < until, written as one part."""
    from woorizip.family import service as family_service
    from woorizip.recommender.store import live_dataset

    label = f" (live, families {family_ids[0]} to {family_ids[-1]})"
    with resources.backends() as opened:
        with opened.session_factory() as session:
            households = family_service.households(session=session, family_ids=family_ids)
        dataset = live_dataset(
            content=opened.content, households=households, bank=bank, since=since, until=until, label=label
        )
    shutil.rmtree(folder, ignore_errors=True)  # a retry starts its part over
    write_part(dataset, folder)
    return Part(folder=folder, families=len(dataset.families), events=len(dataset.events), served=_served(dataset))


@task(cache_policy=NO_CACHE)
def merge_parts(parts: list[Part], *, partial: Path, bank: QuestionBank, extra: dict[str, Any]) -> dict[str, Any]:
    """The parts, in chunk order, into the snapshot's files a row group at a time; returns the manifest."""
    with DatasetWriter(partial) as writer:
        for part in parts:
            writer.append_part(part.folder)
            shutil.rmtree(part.folder)  # the disk holds the snapshot about once, not twice
        manifest = writer.close(bank, extra=extra)
    shutil.rmtree(partial / "parts", ignore_errors=True)
    return manifest


@flow(name="export_live_stores", log_prints=True)
def export_live_stores(root: Path, day: date, window_days: int, chunk_families: int) -> Snapshot:
    """The live families and their events of the `window_days` days before `day`, a chunk of families per task."""
    since = day - timedelta(days=window_days)
    partial = _partial_folder(root, day)
    try:
        bank = open_export()
        futures = [
            export_chunk.submit(ids, partial / "parts" / f"{number:06d}", bank, since, day)
            for number, ids in enumerate(family_id_chunks(chunk_families))
        ]
        wait(futures)  # all settled before a failure removes the folder they write into
        parts = [future.result() for future in futures]
        _check_trainable(served=sum(p.served for p in parts), families=sum(p.families for p in parts))
        extra = {"source": "content store", "since": since.isoformat(), "snapshot_day": day.isoformat()}
        manifest = merge_parts(parts, partial=partial, bank=bank, extra=extra)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return _publish(partial, root=root, day=day, manifest=manifest)


@task(cache_policy=NO_CACHE)
def read_folder(folder: Path) -> tuple[Dataset, dict[str, Any]]:
    return read_dataset(folder), read_manifest(folder)


@task(cache_policy=NO_CACHE)
def write_snapshot(dataset: Dataset, *, root: Path, day: date, extra: dict[str, Any]) -> Snapshot:
    """Validate and write the snapshot of a dataset folder; an unusable one fails here, before anything is trained.

    Only days before `day` are kept: the day in progress has questions served but not yet answered,
    which training would otherwise read as families that did not answer.
    """
    if len(dataset.events):
        dataset = Dataset(dataset.events[dataset.events["day"] < day], dataset.families, dataset.members, dataset.bank)
    _check_trainable(served=_served(dataset), families=len(dataset.families))
    partial = _partial_folder(root, day)
    try:
        manifest = write_dataset(dataset, partial, extra={**extra, "snapshot_day": day.isoformat()})
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return _publish(partial, root=root, day=day, manifest=manifest)


def _served(dataset: Dataset) -> int:
    events = dataset.events
    return int((events["type"] == EventType.SERVED).sum()) if len(events) else 0


def _check_trainable(*, served: int, families: int) -> None:
    if served == 0:
        raise SnapshotError("the snapshot has no served questions: there is nothing to train on")
    if families == 0:
        raise SnapshotError("the snapshot has no families")


def _partial_folder(root: Path, day: date) -> Path:
    """Hidden, and unique: two runs of one day never write into each other's folder."""
    return root / f".{day.isoformat()}-{uuid.uuid4().hex[:8]}.partial"


def _publish(partial: Path, *, root: Path, day: date, manifest: dict[str, Any]) -> Snapshot:
    """The finished folder renamed `<day>-<hash12>`; the same content already there is kept instead."""
    digest = str(manifest["content_hash"])
    name = f"{day.isoformat()}-{digest[:12]}"
    path = root / name
    if (path / "manifest.json").is_file():
        shutil.rmtree(partial)
    else:
        partial.replace(path)
    return Snapshot(
        path=path,
        name=name,
        content_hash=digest,
        day=day,
        events=int(manifest["events"]),
        families=int(manifest["families"]),
        first_day=date.fromisoformat(manifest["first_day"]),
        last_day=date.fromisoformat(manifest["last_day"]),
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
    """Snapshot the live stores (the training window's days before `day`), or the dataset folder `data`
    (all of its days before `day`), under `<data dir>/snapshots/`."""
    logger = get_run_logger()
    config = resources.settings()
    day = day or datetime.now(ZoneInfo(config.schedule_timezone)).date()
    if data is not None:
        try:
            dataset, manifest = read_folder(Path(data))
        except DatasetError as error:
            raise SnapshotError(f"cannot read {data}: {error}") from error
        extra = {key: value for key, value in manifest.items() if key == "simulation"} | {"source": str(data)}
        snapshot = write_snapshot(dataset, root=config.snapshots_dir, day=day, extra=extra)
    else:
        export = export_live_stores.with_options(
            task_runner=resources.task_runner(config.dask_address, threads=EXPORT_THREADS)
        )
        try:
            snapshot = export(
                root=config.snapshots_dir, day=day, window_days=config.training_window_days,
                chunk_families=config.training_chunk_families,
            )  # fmt: skip
        except DatasetError as error:
            raise SnapshotError(f"cannot export the content store: {error}") from error
    if config.s3_bucket:
        snapshot = Snapshot(**{**asdict(snapshot), "object_prefix": upload_snapshot(snapshot)})
    logger.info("snapshot %s: %d events, %d families", snapshot.name, snapshot.events, snapshot.families)
    return snapshot
