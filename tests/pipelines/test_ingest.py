"""The training snapshot of the live stores: streamed in chunks of families, limited to the window."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from pipelines.ingest import Snapshot, SnapshotError, ingest
from recsys.events import Dataset, dataset_hash, read_dataset, read_manifest
from recsys.simulate.history import simulate_history
from tests.pipelines.conftest import PipelineWorld, new_world
from woorizip.settings import get_settings

pytestmark = pytest.mark.slow

WINDOW = 10


@dataclass(frozen=True)
class Seeded:
    world: PipelineWorld
    history: Dataset  # the simulated history the live families were given (live event id: `<family>:<its id>`)
    day: date  # the snapshot day: the history's last day, still in progress

    @property
    def since(self) -> date:
        return self.day - timedelta(days=WINDOW)

    @property
    def snapshots(self) -> Path:
        return self.world.root / "var" / "snapshots"


@pytest.fixture(scope="module")
def seeded(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    dataset = simulate_history(n_families=9, days=20, seed=5).dataset
    world = new_world(tmp_path_factory.mktemp("ingest"), mongo_url)
    world.seed_live(dataset)
    with content_of(world) as content:
        # Stored in no useful order, as a live log written by many processes is: the export must order it.
        documents = list(content["events"].find())
        random.Random(5).shuffle(documents)
        content["events"].delete_many({})
        content["events"].insert_many(documents)
    return Seeded(world, dataset, dataset.last_day)


@contextmanager
def content_of(world: PipelineWorld) -> Iterator[Database[dict[str, Any]]]:
    with MongoClient(world.mongo_url, tz_aware=True) as client:
        yield client[world.database]


def export(seeded: Seeded, monkeypatch: pytest.MonkeyPatch, *, day: date | None = None, chunk: int = 2) -> Snapshot:
    monkeypatch.setenv("WOORIZIP_TRAINING_WINDOW_DAYS", str(WINDOW))
    monkeypatch.setenv("WOORIZIP_TRAINING_CHUNK_FAMILIES", str(chunk))
    with seeded.world.use():
        return ingest(day=day or seeded.day)


def one_shot(seeded: Seeded) -> Dataset:
    """Every live family at once, as the export read them before it streamed."""
    from woorizip.backends import Backends
    from woorizip.recommender.service import households_in_chunks
    from woorizip.recommender.store import live_dataset

    with seeded.world.use():
        backends = Backends(get_settings())
        try:
            households = [family for chunk in households_in_chunks(backends=backends) for family in chunk]
            return live_dataset(content=backends.content, households=households, since=seeded.since, until=seeded.day)
        finally:
            backends.close()


def leftovers(seeded: Seeded) -> list[str]:
    return sorted(path.name for path in seeded.snapshots.glob(".*"))


def test_chunks_of_two_families_read_back_as_the_one_shot_export_of_the_window(
    prefect_harness: None, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = export(seeded, monkeypatch, chunk=2)
    stored = read_dataset(snapshot.path)
    expected = one_shot(seeded)
    for name in ("events", "families", "members"):
        pd.testing.assert_frame_equal(getattr(stored, name), getattr(expected, name))
    assert stored.bank.ids.tolist() == expected.bank.ids.tolist()
    assert len(stored.families) == 9 and len(stored.members) == len(seeded.history.members)

    # The window, from the simulated history itself: days before it and the day in progress are left out.
    days = seeded.history.events["day"]
    assert (days < seeded.since).any() and (days == seeded.day).any()
    inside = seeded.history.events[(days >= seeded.since) & (days < seeded.day)]
    assert snapshot.events == len(stored.events) == len(inside) > 0
    assert set(stored.events["event_id"].str.split(":", n=1).str[1]) == set(inside["event_id"])
    assert (snapshot.first_day, snapshot.last_day) == (seeded.since, seeded.day - timedelta(days=1))
    manifest = read_manifest(snapshot.path)
    assert manifest["since"] == seeded.since.isoformat() and manifest["snapshot_day"] == seeded.day.isoformat()
    assert manifest["events"] == snapshot.events and manifest["content_hash"] == snapshot.content_hash
    assert leftovers(seeded) == []


def test_events_are_grouped_by_family_in_id_order_each_family_by_time(
    prefect_harness: None, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = read_dataset(export(seeded, monkeypatch, chunk=4).path).events
    families = events["family_id"].tolist()
    assert families == sorted(families)
    for _, family in events.groupby("family_id", sort=False):
        assert family["ts"].is_monotonic_increasing


def test_the_content_hash_does_not_depend_on_chunks_and_changes_with_one_event(
    prefect_harness: None, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = export(seeded, monkeypatch, chunk=2)
    again = export(seeded, monkeypatch, chunk=5)
    assert again == first  # same content: the same name, and the folder already there is kept
    assert first.content_hash == dataset_hash(read_dataset(first.path))
    assert [path.name for path in seeded.snapshots.iterdir()] == [first.name]

    with content_of(seeded.world) as content:
        opened = content["events"].find_one({"type": "opened", "day": (seeded.day - timedelta(days=2)).isoformat()})
        assert opened is not None
        extra = {**opened, "_id": "one-more", "ts": opened["ts"] + timedelta(seconds=1)}
        content["events"].insert_one(extra)
        try:
            changed = export(seeded, monkeypatch, chunk=2)
        finally:
            content["events"].delete_one({"_id": "one-more"})
    assert changed.content_hash != first.content_hash and changed.events == first.events + 1
    assert changed.content_hash == dataset_hash(read_dataset(changed.path))


def test_events_of_members_who_left_are_not_exported(
    prefect_harness: None, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from woorizip.backends import Backends
    from woorizip.family.models import FamilyMember

    events = one_shot(seeded).events
    member = events.loc[events["type"] == "answered", "member_id"].iloc[0]
    with seeded.world.use():
        backends = Backends(get_settings())
        left = sa.update(FamilyMember).where(FamilyMember.id == member)
        try:
            with backends.engine.begin() as connection:
                connection.execute(left.values(removed_at=sa.func.now()))
            snapshot = export(seeded, monkeypatch, chunk=2)
        finally:
            with backends.engine.begin() as connection:
                connection.execute(left.values(removed_at=None))
            backends.close()
    stored = read_dataset(snapshot.path)
    assert member not in set(stored.members["member_id"]) and member not in set(stored.events["member_id"].dropna())
    assert len(stored.events) == len(events) - int((events["member_id"] == member).sum())


def test_a_bad_event_names_its_chunk_row_and_field_and_leaves_no_partial_folder(
    prefect_harness: None, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    with content_of(seeded.world) as content:
        served = content["events"].find_one({"type": "served", "day": (seeded.day - timedelta(days=1)).isoformat()})
        assert served is not None
        content["events"].update_one({"_id": served["_id"]}, {"$set": {"type": "exploded"}})
        try:
            with pytest.raises(SnapshotError, match=r"events \(live, families \S+ to \S+\) row \d+, field 'type'"):
                export(seeded, monkeypatch, chunk=2)
        finally:
            content["events"].update_one({"_id": served["_id"]}, {"$set": {"type": "served"}})
    assert leftovers(seeded) == []


def test_a_window_without_served_questions_is_refused_and_leaves_no_partial_folder(
    prefect_harness: None, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = min(seeded.history.events["day"])
    with pytest.raises(SnapshotError, match="no served questions"):
        export(seeded, monkeypatch, day=first)
    assert leftovers(seeded) == []
