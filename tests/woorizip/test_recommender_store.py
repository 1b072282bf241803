"""Datasets in the live content store (SecantusDB over the MongoDB wire protocol)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pymongo import MongoClient

from recsys.events import DatasetError
from recsys.simulate.history import simulate_history
from tests.woorizip.test_cli import run
from woorizip.recommender.store import load_dataset, save_dataset


def test_round_trip_through_the_store(mongo_url: str) -> None:
    dataset = simulate_history(n_families=25, days=8, seed=4).dataset
    with MongoClient(mongo_url, tz_aware=True) as client:
        content = client[f"wz_{uuid.uuid4().hex[:8]}"]
        counts = save_dataset(content=content, dataset=dataset)
        assert counts["events"] == len(dataset.events)
        save_dataset(content=content, dataset=dataset)  # idempotent: same ids replace
        loaded = load_dataset(content=content)
    assert len(loaded.events) == len(dataset.events)
    assert loaded.events["event_id"].tolist() == dataset.events["event_id"].astype(str).tolist()
    assert (loaded.events["ts"].to_numpy() == dataset.events["ts"].to_numpy()).all()
    assert loaded.events["propensity"].fillna(-1).tolist() == dataset.events["propensity"].fillna(-1).tolist()
    assert loaded.families["interests"].map(list).tolist() == dataset.families["interests"].map(list).tolist()
    assert loaded.bank.ids.tolist() == dataset.bank.ids.tolist()


def test_bad_documents_are_named(mongo_url: str) -> None:
    dataset = simulate_history(n_families=10, days=5, seed=4).dataset
    with MongoClient(mongo_url, tz_aware=True) as client:
        content = client[f"wz_{uuid.uuid4().hex[:8]}"]
        save_dataset(content=content, dataset=dataset)
        content["events"].update_one({"_id": "e000000000"}, {"$set": {"type": "exploded"}})
        with pytest.raises(DatasetError, match=r"events \(content store\) row 0, field 'type': unknown event type"):
            load_dataset(content=content)
        client.drop_database(content.name)
        with pytest.raises(DatasetError, match="no questions"):
            load_dataset(content=content)


@pytest.mark.slow
def test_simulate_to_store_then_evaluate_from_store(data_dir: Path, tmp_path: Path, mongo_url: str) -> None:
    env = {"WOORIZIP_MONGO_URL": mongo_url, "WOORIZIP_MONGO_DATABASE": f"wz_{uuid.uuid4().hex[:8]}"}
    out = tmp_path / "sim"
    simulated = run(
        "simulate", "--families", "60", "--days", "21", "--out", str(out), "--to-store", data_dir=data_dir, **env
    )
    assert simulated.returncode == 0, simulated.stderr
    evaluated = run("evaluate", "--from-store", "--report", str(tmp_path / "r"), data_dir=data_dir, **env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "skipping the online A/B" in evaluated.stderr
    assert "ndcg@10" in evaluated.stdout
    both = run("evaluate", "--from-store", "--data", str(out), data_dir=data_dir, **env)
    assert both.returncode == 2


def test_a_chunk_reads_its_own_families_events_and_no_one_elses_in_its_id_range(mongo_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    import pandas as pd

    from woorizip.recommender.online import _event_documents
    from woorizip.recommender.service import active
    from woorizip.recommender.store import family_ids_filter

    now = datetime.now(UTC)
    ids = ["fam-a", "fam-b", "fam-c", "fam-d"]  # b lies between a and c, d outside their range
    with MongoClient(mongo_url, tz_aware=True) as client:
        content = client[f"wz_{uuid.uuid4().hex[:8]}"]
        content["events"].insert_many([
            {"_id": f"served:{family}", "family_id": family, "type": "served", "ts": now - timedelta(hours=3),
             "day": now.date().isoformat(), "question_id": "q-1"}
            for family in ids
        ])  # fmt: skip
        found = _event_documents(content, ["fam-c", "fam-a"], since=None, until=pd.Timestamp(now))
        assert sorted(d["family_id"] for d in found) == ["fam-a", "fam-c"]
        assert family_ids_filter(["fam-c", "fam-a"]) == {"$gte": "fam-a", "$lte": "fam-c"}
        assert family_ids_filter(["fam-b"]) == "fam-b"

        class Backends:  # the one store `active` reads
            def __init__(self) -> None:
                self.content = content

        households = [_household(family, created=now - timedelta(days=100)) for family in ("fam-a", "fam-c")]
        chosen = active(backends=Backends(), families=households, now=now)  # type: ignore[arg-type]
        assert [h.family_id for h in chosen] == ["fam-a", "fam-c"]
        assert active(backends=Backends(), families=[], now=now) == []  # type: ignore[arg-type]
        client.drop_database(content.name)


def _household(family_id: str, *, created: object) -> object:
    from woorizip.family.schemas import Household

    return Household(family_id=family_id, created_at=created, timezone="Asia/Seoul", interests=[],
                     blocked_categories=[], members=[])  # fmt: skip
