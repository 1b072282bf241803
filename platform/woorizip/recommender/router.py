"""`/v1/recommender`: the served model, a family's daily question and its ranking (support preview).

For support staff and the pipelines (behind `X-Internal-Token` when the installation sets one); the
app's own daily-question route sits behind the families module's membership check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from woorizip.dependencies import BackendsDep
from woorizip.openapi import ContractRoute, problems
from woorizip.recommender import service
from woorizip.recommender.dependencies import Champion, DecisionDay, History, require_internal
from woorizip.recommender.errors import NO_QUESTION_LEFT, UNKNOWN_FAMILY
from woorizip.recommender.schemas import DailyQuestion, ModelInfo, Ranking

router = APIRouter(
    prefix="/v1/recommender", tags=["recommender"], dependencies=[Depends(require_internal)],
    route_class=ContractRoute,
)  # fmt: skip

FamilyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the family's id")]


@router.get("/model", response_model=ModelInfo)
def get_served_model(champion: Champion) -> ModelInfo:
    """The model questions are served with now."""
    return service.model_info(champion=champion)


@router.get("/families/{family_id}/ranking", response_model=Ranking, responses=problems(UNKNOWN_FAMILY))
def get_family_ranking(
    family_id: FamilyId, champion: Champion, history: History, day: DecisionDay,
    k: Annotated[int, Query(ge=1, le=50, description="how many questions")] = 10,
) -> Ranking:  # fmt: skip
    """The family's best eligible questions for a day, with scores (support preview; serves nothing)."""
    return service.ranking(champion=champion, history=history, family_id=family_id, day=day, k=k)


@router.get(
    "/families/{family_id}/daily-question", response_model=DailyQuestion,
    responses=problems(UNKNOWN_FAMILY, NO_QUESTION_LEFT),
)  # fmt: skip
def get_daily_question(
    family_id: FamilyId, champion: Champion, history: History, backends: BackendsDep, day: DecisionDay
) -> DailyQuestion:
    """The family's question for a day: the precomputed assignment, or decided now and recorded."""
    return service.daily_question(backends=backends, champion=champion, history=history, family_id=family_id, day=day)
