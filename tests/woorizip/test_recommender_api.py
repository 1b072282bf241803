"""The api serving the registry's champion over real HTTP: assignments, rankings, swaps without a restart."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pandas as pd
import pytest
from pymongo import MongoClient

from recsys.features.build import FEATURE_NAMES
from recsys.ranking.training import RankerParams, fit_ranker, replay
from recsys.registry import ModelRegistry
from recsys.simulate.history import simulate_history
from recsys.simulate.params import SimulationParams
from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.live import serve
from woorizip.app import create_app
from woorizip.db import migrate
from woorizip.recommender.store import save_dataset

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Installation:
    base: str
    registry: ModelRegistry
    families: list[str]
    content: str  # database name
    mongo_url: str


def _today() -> date:
    return datetime.now(SEOUL).date()


@pytest.fixture(scope="module")
def trained_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelRegistry, object]:
    """Two registered versions (40 and 5 trees) trained on a history that ends yesterday."""
    folder = tmp_path_factory.mktemp("registry")
    history = simulate_history(
        n_families=60, days=21, seed=5, params=SimulationParams(start_day=_today() - timedelta(days=21))
    )
    rows, _ = replay(history.dataset)
    registry = ModelRegistry(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}", artifact_location=folder / "mlruns")
    for trees in (40, 5):
        registry.log_candidate(
            scorer=fit_ranker(rows, params=RankerParams(n_estimators=trees)), params={"trees": trees}, metrics={},
            tags={}, evaluation={}, model_card="# card",
            input_example=pd.DataFrame(rows.features[:3], columns=FEATURE_NAMES),
        )  # fmt: skip
    return registry, history.dataset


@pytest.fixture
def installation(
    trained_registry: tuple[ModelRegistry, object], make_settings: SettingsFactory, mongo_url: str, tmp_path: Path
) -> Iterator[Installation]:
    registry, dataset = trained_registry
    registry.promote("1")
    database = f"wz_{uuid.uuid4().hex[:10]}"
    with MongoClient(mongo_url, tz_aware=True) as client:
        save_dataset(content=client[database], dataset=dataset)  # type: ignore[arg-type]
    settings = make_settings(
        mongo_database=database,
        mlflow_tracking_uri=registry.tracking_uri,
        models_dir=tmp_path / "models",
        model_refresh_seconds=0.2,
    )
    migrate.upgrade(url=settings.resolved_database_url)
    families = dataset.families["family_id"].astype(str).tolist()  # type: ignore[attr-defined]
    with serve(create_app(settings)) as base:
        yield Installation(base, registry, families, database, mongo_url)


def test_the_champion_is_served_and_readiness_says_so(installation: Installation) -> None:
    model = httpx.get(f"{installation.base}/v1/recommender/model").json()
    assert model | {"loaded_at": None} == {
        "name": "daily-question-ranker", "source": "registry", "version": "1", "policy": "lightgbm",
        "loaded_at": None, "problem": None,
    }  # fmt: skip
    ready = httpx.get(f"{installation.base}/readyz", timeout=10).json()
    assert ready["status"] == "ready" and ready["model"]["version"] == "1"


def test_a_daily_question_is_decided_once_and_recorded_with_the_model_version(installation: Installation) -> None:
    family = installation.families[0]
    url = f"{installation.base}/v1/recommender/families/{family}/daily-question"
    first = httpx.get(url, timeout=30)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["source"] == "on_demand" and body["model_version"] == "1" and body["policy"] == "lightgbm"
    assert body["day"] == _today().isoformat() and body["question"]["text"] and len(body["alternatives"]) == 3
    again = httpx.get(url).json()
    assert again["source"] == "precomputed" and again["question"] == body["question"]
    with MongoClient(installation.mongo_url, tz_aware=True) as client:
        event = client[installation.content]["events"].find_one({"_id": f"served:{family}:{_today().isoformat()}"})
    assert event is not None
    assert event["model_version"] == "1" and event["question_id"] == body["question"]["id"]
    assert event["propensity"] == body["propensity"] and event["policy"] == "lightgbm"


def test_simultaneous_first_requests_get_one_question(installation: Installation) -> None:
    url = f"{installation.base}/v1/recommender/families/{installation.families[1]}/daily-question"
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: httpx.get(url, timeout=30), range(6)))
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert len({answer.json()["question"]["id"] for answer in answers}) == 1
    assert sum(answer.json()["source"] == "on_demand" for answer in answers) == 1


def test_the_ranking_preview_lists_the_best_questions(installation: Installation) -> None:
    family = installation.families[2]
    response = httpx.get(f"{installation.base}/v1/recommender/families/{family}/ranking", params={"k": 5}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    scores = [item["score"] for item in body["questions"]]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True) and body["model_version"] == "1"


@pytest.mark.parametrize(
    ("path", "params", "status", "slug"),
    [
        ("/families/not%20an%20id!/daily-question", {}, 422, "validation-error"),
        ("/families/f-unknown/daily-question", {}, 404, "unknown-family"),
        ("/families/{family}/daily-question", {"day": "2020-01-01"}, 422, "validation-error"),
        ("/families/{family}/ranking", {"day": "yesterday"}, 422, "validation-error"),
        ("/families/{family}/ranking", {"k": 0}, 422, "validation-error"),
    ],
)
def test_bad_requests_get_problem_details(
    installation: Installation, path: str, params: dict[str, object], status: int, slug: str
) -> None:
    url = installation.base + "/v1/recommender" + path.format(family=installation.families[0])
    response = httpx.get(url, params=params, timeout=30)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(slug)


def test_a_new_champion_is_served_without_a_restart_or_a_failed_request(installation: Installation) -> None:
    family = installation.families[3]
    url = f"{installation.base}/v1/recommender/families/{family}/ranking"
    seen: list[str | None] = []
    failures: list[str] = []
    stop = threading.Event()

    def keep_requesting() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                response = client.get(url, params={"k": 3})
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    seen.append(response.json()["model_version"])

    worker = threading.Thread(target=keep_requesting)
    worker.start()
    try:
        time.sleep(0.5)
        installation.registry.promote("2")
        deadline = time.monotonic() + 20
        while (not seen or seen[-1] != "2") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert failures == []
    assert seen[0] == "1" and seen[-1] == "2"
    # Each request saw one whole model: once version 2 answered, version 1 never came back.
    assert "1" not in seen[seen.index("2") :]


def test_with_an_internal_token_set_the_support_routes_want_it(
    trained_registry: tuple[ModelRegistry, object], make_settings: SettingsFactory
) -> None:
    registry, _ = trained_registry
    settings = make_settings(mlflow_tracking_uri=registry.tracking_uri, internal_api_token="s3cret-support")
    migrate.upgrade(url=settings.resolved_database_url)
    with serve(create_app(settings)) as base:
        missing = httpx.get(f"{base}/v1/recommender/model")
        wrong = httpx.get(f"{base}/v1/recommender/model", headers={"X-Internal-Token": "guess"})
        right = httpx.get(f"{base}/v1/recommender/model", headers={"X-Internal-Token": "s3cret-support"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["type"].endswith("internal-token-required")
    assert right.status_code == 200
