"""`/v1/recommender`: the served model, a family's daily question and its ranking (support preview).

Families are addressed by their id in the recommender's snapshots (support, pipelines); the app's
own daily-question route, behind the families module's `FamilyMember` check, comes with the
daily-question step.
"""

from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from recsys.events import DatasetError
from recsys.serving import Recommender
from woorizip.backends import Backends
from woorizip.health import get_backends
from woorizip.problems import ProblemError
from woorizip.recommender.assignments import find_assignment, save_assignments
from woorizip.recommender.serving import ChampionHolder, HistoryHolder, ServingModel
from woorizip.state import app_state


def require_internal(request: Request) -> None:
    """Support and pipeline callers only: a shared token, when the installation sets one."""
    expected = request.app.state.settings.internal_api_token
    if expected is None:
        return
    given = request.headers.get("x-internal-token", "")
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise ProblemError(status=401, slug="internal-token-required", detail="send X-Internal-Token")


router = APIRouter(prefix="/v1/recommender", tags=["recommender"], dependencies=[Depends(require_internal)])

FamilyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the family's id")]
Day = Annotated[date | None, Query(description="the family-local day (today or tomorrow; default today)")]


class ModelInfo(BaseModel):
    name: str
    source: Literal["registry", "heuristic"]
    version: str | None
    policy: str
    loaded_at: datetime
    problem: str | None


class QuestionOut(BaseModel):
    id: str
    text: str
    category: str
    difficulty: int
    wordings: dict[str, str]


class DailyQuestion(BaseModel):
    family_id: str
    day: date
    question: QuestionOut
    alternatives: list[str]
    policy: str
    model_version: str | None
    propensity: float
    source: Literal["precomputed", "on_demand"]


class RankedQuestion(BaseModel):
    question_id: str
    category: str
    difficulty: int
    score: float


class Ranking(BaseModel):
    family_id: str
    day: date
    model_version: str | None
    policy: str
    questions: list[RankedQuestion]


Champion = Annotated[ChampionHolder, Depends(app_state("champion"))]
History = Annotated[HistoryHolder, Depends(app_state("history"))]


def _day(request: Request, day: date | None) -> date:
    today = datetime.now(ZoneInfo(request.app.state.settings.schedule_timezone)).date()
    day = day or today
    if day not in (today, today + timedelta(days=1)):
        raise ProblemError(status=422, slug="day-out-of-range", detail=f"day must be {today} or the day after")
    return day


def _recommender(history: HistoryHolder, day: date, family_id: str) -> Recommender:
    try:
        recommender = history.for_day(day)
    except DatasetError as error:
        raise ProblemError(status=404, slug="family-not-found", detail=f"no history to decide from: {error}") from None
    if not recommender.knows(family_id):
        raise ProblemError(status=404, slug="family-not-found", detail=f"no family {family_id!r}")
    return recommender


@router.get("/model", response_model=ModelInfo, summary="The model questions are served with now")
async def model_info(champion: Champion) -> ModelInfo:
    current: ServingModel = champion.current
    return ModelInfo(
        name=champion.registry.model_name,
        source="registry" if current.version else "heuristic",
        version=current.version,
        policy=current.policy.name,
        loaded_at=current.loaded_at,
        problem=current.problem,
    )


@router.get(
    "/families/{family_id}/ranking",
    response_model=Ranking,
    summary="The family's best eligible questions for a day, with scores (support preview; serves nothing)",
    responses={404: {"description": "Unknown family"}, 422: {"description": "Malformed id or day out of range"}},
)
async def ranking(
    request: Request,
    family_id: FamilyId,
    champion: Champion,
    history: History,
    day: Day = None,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Ranking:
    day = _day(request, day)
    current = champion.current
    recommender = await run_in_threadpool(_recommender, history, day, family_id)
    frame = await run_in_threadpool(lambda: recommender.rank(family_id=family_id, policy=current.policy, k=k))
    return Ranking(
        family_id=family_id,
        day=day,
        model_version=current.version,
        policy=current.policy.name,
        questions=[RankedQuestion(**row) for row in frame.to_dict("records")],
    )


@router.get(
    "/families/{family_id}/daily-question",
    response_model=DailyQuestion,
    summary="The family's question for a day: the precomputed assignment, or decided now and recorded",
    responses={404: {"description": "Unknown family"}, 422: {"description": "Malformed id or day out of range"}},
)
async def daily_question(
    request: Request,
    family_id: FamilyId,
    champion: Champion,
    history: History,
    backends: Annotated[Backends, Depends(get_backends)],
    day: Day = None,
) -> DailyQuestion:
    day = _day(request, day)
    return await run_in_threadpool(_daily_question, backends, champion, history, family_id, day)


def _daily_question(
    backends: Backends, champion: ChampionHolder, history: HistoryHolder, family_id: str, day: date
) -> DailyQuestion:
    source: Literal["precomputed", "on_demand"] = "precomputed"
    payload = find_assignment(backends=backends, family_id=family_id, day=day)
    if payload is None:
        recommender = _recommender(history, day, family_id)
        assignment = recommender.assign(family_ids=[family_id], policy=champion.current.policy)[0]
        if assignment.question_id is None:
            raise ProblemError(status=404, slug="no-question-left", detail="every suitable question was asked already")
        written, _ = save_assignments(backends=backends, assignments=[assignment])
        # When another request or the batch assigned the day first, theirs is served: never two questions.
        source = "on_demand" if written else "precomputed"
        payload = find_assignment(backends=backends, family_id=family_id, day=day) or dict(assignment.as_document())
    question = backends.content["questions"].find_one({"_id": payload["question_id"]}) or {}
    return DailyQuestion(
        family_id=family_id,
        day=day,
        question=QuestionOut(
            id=str(payload["question_id"]),
            text=str(question.get("text", "")),
            category=str(question.get("category", "")),
            difficulty=int(question.get("difficulty", 0)),
            wordings={str(k): str(v) for k, v in (question.get("wordings") or {}).items()},
        ),
        alternatives=list(payload.get("alternatives", [])),
        policy=str(payload["policy"]),
        model_version=payload.get("model_version"),
        propensity=float(payload["propensity"]),
        source=source,
    )
