"""The api serving the registry's champion for live families over real HTTP: assignments, rankings, swaps
without a restart, and decisions that follow every change of the family at once."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
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
from tests.woorizip.family_client import Api, Person
from tests.woorizip.live import serve
from tests.woorizip.recommender_world import graft, mirror_families
from woorizip.app import create_app
from woorizip.auth.passwords import PasswordHasher
from woorizip.db import migrate
from woorizip.recommender.bank import load_question_bank

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Installation:
    base: str
    registry: ModelRegistry
    families: list[str]  # live families with a simulated history grafted on
    content: str  # database name
    mongo_url: str
    api: Api
    owners: dict[str, Person]


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
    trained_registry: tuple[ModelRegistry, object], make_settings: SettingsFactory, mongo_url: str, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Installation]:  # fmt: skip
    """The api on embedded defaults; `postgresql` as the indirect parameter puts its relational store there."""
    relational = {"database_url": request.getfixturevalue("postgres_url")} if _param(request) == "postgresql" else {}
    registry, dataset = trained_registry
    registry.promote("1")
    database = f"wz_{uuid.uuid4().hex[:10]}"
    with MongoClient(mongo_url, tz_aware=True) as client:
        load_question_bank(content=client[database], bank=dataset.bank)  # type: ignore[arg-type, attr-defined]
    settings = make_settings(
        mongo_database=database,
        mlflow_tracking_uri=registry.tracking_uri,
        models_dir=tmp_path / "models",
        model_refresh_seconds=0.2,
        limit_signup_per_ip="100000/hour",
        **relational,
    )
    migrate.upgrade(url=settings.resolved_database_url)
    app = create_app(settings)
    app.state.hasher = PasswordHasher(time_cost=1, memory_cost_kib=1024)
    with serve(app) as base:
        api = Api(base, app)
        live, members = mirror_families(api, dataset, 6)  # type: ignore[arg-type]
        graft(mongo_url, database, dataset, live, members)  # type: ignore[arg-type]
        yield Installation(base, registry, [f.id for f in live], database, mongo_url, api,
                           {f.id: f.owner for f in live})  # fmt: skip
        api.http.close()


def _param(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


# The paths that write the relational store run on both of its engines.
BOTH_STORES = pytest.mark.parametrize("installation", ["sqlite", "postgresql"], indirect=True)


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


@BOTH_STORES
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
        ("/families/f-unknown/daily-question", {}, 422, "validation-error"),
        ("/families/" + "0" * 32 + "/daily-question", {}, 404, "unknown-family"),
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


def _ranking(installation: Installation, family_id: str, **params: object) -> dict[str, Any]:
    url = f"{installation.base}/v1/recommender/families/{family_id}/ranking"
    response = httpx.get(url, params={"k": 50, **params}, timeout=30)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@BOTH_STORES
def test_a_family_created_over_http_gets_a_question_on_its_first_request(installation: Installation) -> None:
    api = installation.api
    mom = api.sign_up()
    family_id = api.family(mom)
    url = f"{installation.base}/v1/recommender/families/{family_id}/daily-question"
    first = httpx.get(url, timeout=30)
    assert first.status_code == 200, first.text
    assert first.json()["source"] == "on_demand" and first.json()["question"]["id"]


@BOTH_STORES
def test_adding_a_child_removes_what_the_child_is_too_young_for_at_once(installation: Installation) -> None:
    from recsys.catalog import load_bank

    min_age = {question.id: question.min_age for question in load_bank()}
    api = installation.api
    mom = api.sign_up()
    family_id = api.family(mom)
    adults_only = _ranking(installation, family_id)["questions"]
    assert any(min_age[q["question_id"]] > 7 for q in adults_only)
    child = {"nickname": "막내", "birth_year": _today().year - 6, "guardian_consent": True}
    api.ok(mom, "POST", f"/v1/families/{family_id}/members", child, status=201)
    with_child = _ranking(installation, family_id)["questions"]
    assert with_child and all(min_age[q["question_id"]] <= 6 for q in with_child)


def test_a_blocked_category_is_never_ranked(installation: Installation) -> None:
    family_id = installation.families[4]
    before = {q["category"] for q in _ranking(installation, family_id)["questions"]}
    blocked = sorted(before)[0]
    owner = installation.owners[family_id]
    installation.api.ok(owner, "PATCH", f"/v1/families/{family_id}", {"interests": [], "blocked_categories": [blocked]})
    after = {q["category"] for q in _ranking(installation, family_id)["questions"]}
    assert blocked not in after and after


def test_the_time_zone_moves_the_day_boundary(installation: Installation) -> None:
    api = installation.api
    mom = api.sign_up()
    family_id = api.family(mom)
    days = {}
    # At any moment the two ends of the date line are on different days.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        api.ok(mom, "PATCH", f"/v1/families/{family_id}", {"timezone": zone})
        url = f"{installation.base}/v1/recommender/families/{family_id}/daily-question"
        days[zone] = httpx.get(url, timeout=30).json()["day"]
        assert days[zone] == datetime.now(ZoneInfo(zone)).date().isoformat()
    assert days["Pacific/Kiritimati"] != days["Pacific/Pago_Pago"]


@BOTH_STORES
def test_two_members_answering_at_once_both_land_in_the_family_state(installation: Installation) -> None:
    from datetime import UTC

    from woorizip.backends import Backends
    from woorizip.recommender import online
    from woorizip.recommender.service import household

    family_id = installation.families[5]
    owner = installation.owners[family_id]
    members = [m["id"] for m in installation.api.ok(owner, "GET", f"/v1/families/{family_id}/members")["items"]]
    url = f"{installation.base}/v1/recommender/families/{family_id}/daily-question"
    question = httpx.get(url, timeout=30).json()["question"]["id"]  # today's question; its state is stored
    app = installation.api.app
    assert app is not None
    backends: Backends = app.state.backends
    content = backends.content
    with backends.session_factory() as session:
        stored = online.load_state(session, family_id)
    assert stored is not None
    today = _today()

    def answer(member: str) -> None:
        event = {"_id": f"answer:{member}:{today}", "ts": datetime.now(UTC), "day": today.isoformat(),
                 "family_id": family_id, "member_id": member, "type": "answered", "question_id": question,
                 "answer_length": 12}  # fmt: skip
        content["events"].insert_one(event)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(answer, members[:2]))
    # Tomorrow's state, as a decision after tomorrow's midnight would fold and store it.
    serving = app.state.global_state.current
    with backends.session_factory() as session, session.begin():
        family = household(session=session, family_id=family_id)
        until = online.day_cutoff(family, today + timedelta(days=1))
        online.current_state(session=session, content=content, global_state=serving.global_state,
                             bank=serving.bank, household=family, until=until,
                             now=until.to_pydatetime() + timedelta(minutes=2))  # fmt: skip
    with backends.session_factory() as session:
        after = online.load_state(session, family_id)
    assert after is not None and after.version == stored.version + 1 and after.state.folded_until == until

    def answered(state: online.FamilyState) -> dict[str, float]:
        counts = state.member_arrays["answered_category"].sum(axis=1)
        return dict(zip(state.member_ids.tolist(), counts.tolist(), strict=True))

    before_counts, after_counts = answered(stored.state), answered(after.state)
    assert [after_counts[m] - before_counts[m] for m in members[:2]] == [1.0, 1.0]


@BOTH_STORES
def test_the_rebuild_command_restores_a_deleted_family_state_exactly(
    installation: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa
    from typer.testing import CliRunner

    from woorizip.cli import app as cli
    from woorizip.recommender.models import FamilyStateRow
    from woorizip.recommender.online import load_state
    from woorizip.settings import get_settings

    family_id = installation.families[2]
    _ranking(installation, family_id)  # a decision stores the family's state as of today's midnight
    app = installation.api.app
    assert app is not None
    backends = app.state.backends
    with backends.session_factory() as session, session.begin():
        stored = load_state(session, family_id)
        assert stored is not None
        session.execute(sa.delete(FamilyStateRow).where(FamilyStateRow.family_id == family_id))
    settings = app.state.settings
    variables = {"DATA_DIR": settings.data_dir, "DATABASE_URL": settings.resolved_database_url,
                 "MONGO_URL": installation.mongo_url, "MONGO_DATABASE": installation.content}  # fmt: skip
    for name, value in variables.items():
        monkeypatch.setenv(f"WOORIZIP_{name}", str(value))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["rebuild-state", "--family", family_id])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "rebuilt 1 family states" in result.output
    with backends.session_factory() as session:
        rebuilt = load_state(session, family_id)
    assert rebuilt is not None and rebuilt.state.equals(stored.state)


@BOTH_STORES
def test_family_state_writes_are_compare_and_set(installation: Installation) -> None:
    from woorizip.recommender import online

    family_id = installation.families[3]
    _ranking(installation, family_id)  # a decision stores the family's state
    app = installation.api.app
    assert app is not None
    backends = app.state.backends
    with backends.session_factory() as session:
        stored = online.load_state(session, family_id)
        assert stored is not None
        assert not online.save_state(session, stored.state, replacing=None)  # a second first insert does nothing
        assert online.save_state(session, stored.state, replacing=stored)
        assert not online.save_state(session, stored.state, replacing=stored)  # read before the write above
        session.rollback()
    with backends.session_factory() as session:
        after = online.load_state(session, family_id)
    assert after is not None and after.version == stored.version  # the rolled-back writes left nothing
