"""Batch scoring into the content store and Redis, and the deployments' schedules."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import redis
from prefect.task_runners import ProcessPoolTaskRunner
from pymongo import MongoClient

from pipelines.batch_score import batch_score, with_configured_runner
from pipelines.deployments import BATCH_SCORE, RETRAIN, build_deployments
from recsys.events import read_dataset
from recsys.features.build import FEATURE_NAMES
from recsys.ranking.training import RankerParams, fit_ranker, replay
from recsys.simulate.history import simulate_history
from recsys.simulate.params import SimulationParams
from tests.pipelines.conftest import new_world
from woorizip.settings import Settings

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.slow
@pytest.mark.redis
def test_batch_scoring_assigns_tomorrow_once_per_active_family(
    prefect_harness: None, mongo_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = simulate_history(n_families=80, days=20, seed=8)
    dataset = history.dataset
    world = new_world(tmp_path, mongo_url)
    monkeypatch.setenv("WOORIZIP_REDIS_URL", redis_url)
    live = world.seed_live(dataset)
    rows, _ = replay(dataset)
    registry = world.registry()
    version = registry.log_candidate(
        scorer=fit_ranker(rows, params=RankerParams(n_estimators=30)), params={}, metrics={}, tags={},
        evaluation={}, model_card="# card", input_example=pd.DataFrame(rows.features[:3], columns=FEATURE_NAMES),
    ).version  # fmt: skip
    registry.promote(version)
    # 22:00 in Seoul on the history's last day: "tomorrow" is the day after it.
    now = datetime.combine(dataset.last_day, datetime.min.time(), tzinfo=SEOUL) + timedelta(hours=22)
    tomorrow = dataset.last_day + timedelta(days=1)

    with world.use():
        first = with_configured_runner(None, workers=2)(now=now)  # chunks in two worker processes
        again = batch_score(now=now)

    assert first.days == [tomorrow.isoformat()] and first.model_version == version
    assert first.families > 0 and first.written == first.families and first.already_assigned == 0
    assert again.written == 0 and again.already_assigned == first.written  # a rerun never re-rolls
    with MongoClient(mongo_url, tz_aware=True) as client:
        content = client[world.database]
        assignments = list(content["assignments"].find({"day": tomorrow.isoformat()}))
        served = list(content["events"].find({"type": "served", "day": tomorrow.isoformat()}))
    assert len(assignments) == first.written == len(served)
    assert {a["model_version"] for a in assignments} == {version} == {e["model_version"] for e in served}
    by_family = {a["family_id"]: a["question_id"] for a in assignments}
    assert by_family == {e["family_id"]: e["question_id"] for e in served}
    assert set(by_family) <= set(live.values())
    # No family gets a question it was asked before.
    asked = dataset.events[dataset.events["type"] == "served"].groupby("family_id")["question_id"].apply(set)
    simulated = {live_id: simulated_id for simulated_id, live_id in live.items()}
    assert all(question not in asked.get(simulated[family], set()) for family, question in by_family.items())
    cached = redis.Redis.from_url(redis_url).get(f"wz:assignment:{assignments[0]['_id']}")
    assert cached is not None and json.loads(cached)["question_id"] == assignments[0]["question_id"]


def test_the_schedules_run_daily_in_seoul_one_at_a_time() -> None:
    deployments = {d.name: d for d in build_deployments(Settings(_env_file=None))}  # type: ignore[call-arg]
    assert set(deployments) == {RETRAIN, BATCH_SCORE}
    expected = {RETRAIN: "0 3 * * *", BATCH_SCORE: "0 4 * * *"}
    for name, deployment in deployments.items():
        (schedule,) = deployment.schedules
        assert schedule.schedule.cron == expected[name] and schedule.schedule.timezone == "Asia/Seoul"
        assert schedule.active
        assert deployment.concurrency_limit == 1
    assert deployments[RETRAIN].flow_name == "retrain" and deployments[BATCH_SCORE].flow_name == "batch_score"


def test_a_dask_address_runs_batch_scoring_on_dask() -> None:
    from prefect_dask import DaskTaskRunner

    from pipelines.batch_score import with_configured_runner

    flow = with_configured_runner("tcp://10.0.0.5:8786", workers=2)
    assert isinstance(flow.task_runner, DaskTaskRunner) and flow.task_runner.address == "tcp://10.0.0.5:8786"
    assert with_configured_runner(None) is batch_score
    processes = with_configured_runner(None, workers=3).task_runner
    assert isinstance(processes, ProcessPoolTaskRunner) and processes._max_workers == 3


@pytest.mark.slow
def test_with_a_dask_scheduler_training_and_batch_scoring_run_on_the_cluster(
    prefect_harness: None, mongo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster

    from pipelines.batch_score import with_configured_runner
    from pipelines.retrain import retrain

    # A history ending yesterday: the live export keeps the training window's days before today.
    params = SimulationParams(start_day=date.today() - timedelta(days=30))
    dataset = simulate_history(n_families=120, days=30, seed=9, params=params).dataset
    world = new_world(tmp_path, mongo_url)
    world.seed_live(dataset)
    monkeypatch.setenv("WOORIZIP_TRAINING_CHUNK_FAMILIES", "40")
    now = datetime.combine(dataset.last_day, datetime.min.time(), tzinfo=SEOUL) + timedelta(hours=22)
    # The workers start inside the installation's settings: every process of it sees the same stores.
    with (
        world.use(),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as observer,
    ):
        monkeypatch.setenv("WOORIZIP_DASK_ADDRESS", cluster.scheduler_address)
        trained = retrain()  # from the live stores
        scored = with_configured_runner(cluster.scheduler_address)(now=now)
        # The scheduler saw the snapshot's export chunks, LightGBM's training tasks and the scoring chunks.
        keys = set(observer.run_on_scheduler(_task_prefixes))
    assert trained.version == "1" and trained.promoted, trained
    assert {"export_chunk", "train_part", "score_chunk"} <= keys, sorted(keys)
    snapshot = read_dataset(world.root / "var" / "snapshots" / trained.snapshot)
    assert len(snapshot.families) == 120 and len(snapshot.events) > 0
    assert scored.model_version == "1" and scored.written == scored.families > 0


def _task_prefixes(dask_scheduler: object) -> list[str]:
    return sorted(dask_scheduler.task_prefixes)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_schedule_serves_both_deployments_from_a_fresh_data_dir(tmp_path: Path) -> None:
    command = [str(Path(sys.executable).with_name("woorizip")), "schedule"]
    environment = {**os.environ, "WOORIZIP_DATA_DIR": str(tmp_path / "new" / "var"), "WOORIZIP_LOG_JSON": "false"}
    environment.pop("PREFECT_API_URL", None)  # its own temporary Prefect server, as on a fresh machine
    # A session of its own, so stopping it also stops the temporary Prefect server it started.
    process = subprocess.Popen(
        command, env=environment, cwd=tmp_path, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
            lines.append(line)
            if "batch_score/daily-batch-score" in line:
                break
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own: the output says why
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    printed = "".join(lines)
    assert "Your deployments are being served" in printed, printed
    assert "retrain/daily-retrain" in printed and "batch_score/daily-batch-score" in printed
