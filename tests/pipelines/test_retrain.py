"""ingest → train → register → promote on a small simulated snapshot, checked in the MLflow registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest import SnapshotError
from pipelines.retrain import RetrainResult, retrain
from recsys.events import dataset_hash, read_dataset, write_dataset
from recsys.features.build import FEATURE_NAMES
from recsys.ranking.training import RankerParams
from tests.pipelines.conftest import PipelineWorld, new_world

pytestmark = pytest.mark.slow

# Cannot split anything (every leaf needs more rows than exist): a constant model, ranking by ties.
WORSE = RankerParams(n_estimators=1, num_leaves=2, min_child_samples=10_000_000)


@dataclass(frozen=True)
class Trained:
    world: PipelineWorld
    first: RetrainResult
    worse: RetrainResult


@pytest.fixture(scope="module")
def trained(
    prefect_harness: None, small_snapshot: Path, mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Trained:
    world = new_world(tmp_path_factory.mktemp("retrain"), mongo_url)
    with world.use():
        first = retrain(data=small_snapshot)
        worse = retrain(data=small_snapshot, params=WORSE)
    return Trained(world, first, worse)


def test_the_first_run_registers_version_1_as_champion(trained: Trained, small_snapshot: Path) -> None:
    registry = trained.world.registry()
    assert trained.first.version == "1" and trained.first.promoted
    assert registry.alias_version("champion") == "1"
    info = registry.version("1")
    assert info.tags["snapshot_hash"] == dataset_hash(read_dataset(small_snapshot)) == trained.first.content_hash
    assert info.tags["promotion"] == "promoted"
    run = registry.client.get_run(info.run_id)
    assert {"ndcg_at_10", "snips_completion", "coverage", "baseline.popularity.ndcg_at_10"} <= set(run.data.metrics)
    assert run.data.params["objective"] == "binary"
    artifacts = {item.path for item in registry.client.list_artifacts(info.run_id)}
    assert {"model_card.md", "evaluation.json", "plots"} <= artifacts
    plots = {item.path for item in registry.client.list_artifacts(info.run_id, "plots")}
    assert plots == {"plots/calibration.png", "plots/feature_importance.png", "plots/ndcg_by_policy.png"}
    assert "# Model card: daily-question-ranker" in registry.model_card("1")


def test_the_registered_model_is_a_native_lightgbm_booster_with_the_feature_signature(trained: Trained) -> None:
    registry = trained.world.registry()
    # Contract: MLflow's signature enforcement drops unknown columns silently, so pin the exact list.
    assert registry.signature_columns("1") == FEATURE_NAMES
    loaded = registry.load("1")
    assert type(loaded.scorer.booster).__name__ == "Booster" and loaded.scorer.version == "1"
    assert loaded.scorer.booster.feature_name() == FEATURE_NAMES


def test_a_worse_configuration_becomes_challenger_and_is_not_promoted(trained: Trained) -> None:
    registry = trained.world.registry()
    assert trained.worse.version == "2" and not trained.worse.promoted
    assert registry.alias_version("champion") == "1"
    assert registry.alias_version("challenger") == "2"
    tags = registry.version("2").tags
    assert tags["promotion"] == "kept" and "does not beat" in tags["promotion_reasons"]
    assert tags["compared_champion"] == "1"
    evidence = registry.evaluation("2")
    assert evidence["champion_version"] == "1"
    # The evidence backs the decision on the metric the gate used (SNIPS, or NDCG@10 when SNIPS rests
    # on too few matching decisions, as it does for a constant model on a small snapshot).
    metric = "ndcg_at_10" if "compared on ndcg_at_10 instead" in tags["promotion_reasons"] else "snips_completion"
    assert evidence["champion"][metric] > evidence["challenger"][metric]


def test_promotion_writes_the_champion_card_next_to_the_registry(trained: Trained) -> None:
    card = (trained.world.root / "models" / "CHAMPION.md").read_text(encoding="utf-8")
    assert "champion is version 1" in card and "## Test-window results" in card


@pytest.mark.parametrize("damage", ["no served questions", "corrupt events file"])
def test_a_bad_snapshot_fails_the_flow_clearly_and_moves_no_alias(
    trained: Trained, small_snapshot: Path, tmp_path: Path, damage: str
) -> None:
    registry = trained.world.registry()
    before = [(v.version, tuple(sorted(v.aliases))) for v in registry.versions()]
    folder = tmp_path / "bad"
    dataset = read_dataset(small_snapshot)
    if damage == "no served questions":
        events = dataset.events[dataset.events["type"] != "served"]
        write_dataset(type(dataset)(events, dataset.families, dataset.members, dataset.bank), folder)
        expected = "no served questions"
    else:
        write_dataset(dataset, folder)
        (folder / "events.parquet").write_bytes(b"PAR1 this is not parquet")
        expected = "events.parquet"
    with trained.world.use(), pytest.raises(SnapshotError, match=expected):
        retrain(data=folder)
    assert [(v.version, tuple(sorted(v.aliases))) for v in registry.versions()] == before


def woorizip(world: PipelineWorld, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("woorizip")), *args]
    from prefect.settings import PREFECT_API_URL

    # The session's Prefect server (the test harness's): starting a temporary one per command is
    # covered by the schedule and demo tests and only costs time here.
    environment = {**os.environ, **world.environment, "WOORIZIP_LOG_JSON": "false"}
    environment["PREFECT_API_URL"] = PREFECT_API_URL.value()
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=180)


def test_rollback_restores_the_previous_champion(trained: Trained) -> None:
    registry = trained.world.registry()
    registry.promote("2")  # as if version 2 had won: version 1 is now the previous champion
    assert registry.alias_version("champion") == "2"
    status = woorizip(trained.world, "model", "status")
    assert status.returncode == 0, status.stderr
    assert any(line.startswith("v2") and "champion" in line for line in status.stdout.splitlines())

    rolled = woorizip(trained.world, "model", "rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert "from version 2 to version 1" in rolled.stdout
    assert registry.alias_version("champion") == "1"
    assert "champion is version 1" in (trained.world.root / "models" / "CHAMPION.md").read_text(encoding="utf-8")

    again = woorizip(trained.world, "model", "rollback")
    assert again.returncode == 1 and "first champion" in again.stderr
    assert registry.alias_version("champion") == "1"


def test_train_command_prints_the_version_and_verdict(trained: Trained, small_snapshot: Path) -> None:
    result = woorizip(trained.world, "train", "--data", str(small_snapshot), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    # Same data, same recipe as the champion: not better by the margin, so it stays a challenger.
    assert printed["version"] == "3" and printed["promoted"] is False and printed["champion"] == "1"
    refused = woorizip(trained.world, "train", "--data", str(trained.world.root / "missing"))
    assert refused.returncode == 2 and "training refused" in refused.stderr


def test_snapshots_are_named_by_day_and_content_hash(trained: Trained) -> None:
    snapshots = sorted((trained.world.root / "var" / "snapshots").iterdir())
    assert [path.name for path in snapshots] == [f"{trained.first.snapshot}"]  # same content: one snapshot
    manifest = json.loads((snapshots[0] / "manifest.json").read_text())
    assert manifest["content_hash"] == trained.first.content_hash
    assert trained.first.snapshot.endswith(trained.first.content_hash[:12])
    assert pd.read_parquet(snapshots[0] / "events.parquet").shape[0] == manifest["events"]
